// carbonex-journal-from-stream: writes an ets-stream v1 order stream as a
// self-contained command journal, for recovery measurements with
// `carbonex-replay --journal DIR`.
//
//   carbonex-journal-from-stream stream.txt DIR
//
// The journal starts with the operator commands that build engine mode's
// registry state (carbonex::stream::MakeReplayAccountState: the instrument,
// the funded accounts, their units and entitlements), then holds the
// stream's orders and cancels exactly as engine mode translates them
// (StreamToCommands), renumbered to follow the setup. Replaying it from an
// empty AccountState therefore gives engine mode's results.
//
// Exit status: 0 on success; 1 on a bad argument, an unreadable stream or a
// journal error (one line on standard error). DIR must not hold a journal.
#include <iostream>
#include <string>
#include <vector>

#include "carbonex/gateway/journal.h"
#include "carbonex/stream/replay.h"
#include "carbonex/stream/stream.h"

namespace {

using carbonex::Status;
using carbonex::engine::Command;

std::vector<Command> SetupCommands(const carbonex::AccountState& state) {
  std::vector<Command> out;
  auto add = [&out](carbonex::engine::CommandBody body) {
    Command cmd;
    cmd.header.broker = carbonex::engine::kOperatorBroker;
    cmd.body = body;
    out.push_back(cmd);
  };
  for (const auto& ins : state.instruments) {
    add(carbonex::engine::AddInstrument{ins.id, ins.tick, ins.max_order_qty,
                                        ins.status});
  }
  for (const auto& acc : state.accounts) {
    add(carbonex::engine::AddAccount{acc.id, acc.holding_limit});
    add(carbonex::engine::AdjustCash{acc.id, acc.cash});
  }
  for (const auto& h : state.holdings) {
    add(carbonex::engine::AdjustUnits{h.account, h.instrument, h.units});
  }
  for (const auto& e : state.entitlements) {
    add(carbonex::engine::SetEntitlement{e.broker, e.account, true});
  }
  return out;
}

int Run(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: carbonex-journal-from-stream STREAM DIR\n";
    return 1;
  }
  const std::string dir = argv[2];
  auto existing = carbonex::gateway::ListJournalSegments(dir);
  if (!existing.ok() || !existing->empty()) {
    std::cerr << "carbonex-journal-from-stream: " << dir
              << (existing.ok() ? " already holds a journal"
                                : ": " + existing.status().message())
              << '\n';
    return 1;
  }
  auto stream = carbonex::stream::ReadStreamFile(argv[1]);
  if (!stream.ok()) {
    std::cerr << "carbonex-journal-from-stream: " << stream.status().message()
              << '\n';
    return 1;
  }
  const carbonex::stream::SyntheticAccounts accounts;
  std::vector<Command> commands =
      SetupCommands(carbonex::stream::MakeReplayAccountState(accounts));
  const std::vector<Command> orders =
      carbonex::stream::StreamToCommands(*stream, accounts);
  commands.insert(commands.end(), orders.begin(), orders.end());

  auto writer = carbonex::gateway::JournalWriter::Open(
      {.dir = dir, .sync = carbonex::gateway::SyncMode::kDurable});
  if (!writer.ok()) {
    std::cerr << "carbonex-journal-from-stream: " << writer.status().message()
              << '\n';
    return 1;
  }
  std::uint64_t seq = 0;
  for (Command& cmd : commands) {
    ++seq;
    cmd.header.seq = carbonex::SequenceNumber(seq);
    cmd.header.time = carbonex::Timestamp(static_cast<std::int64_t>(seq));
    if (Status s = (*writer)->Append(cmd); !s.ok()) {
      std::cerr << "carbonex-journal-from-stream: " << s.message() << '\n';
      return 1;
    }
  }
  if (Status s = (*writer)->Commit(); !s.ok()) {
    std::cerr << "carbonex-journal-from-stream: " << s.message() << '\n';
    return 1;
  }
  std::cout << "wrote " << commands.size() << " commands ("
            << commands.size() - orders.size() << " setup, " << orders.size()
            << " from the stream) to " << dir << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
