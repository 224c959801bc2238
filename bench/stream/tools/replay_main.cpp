// carbonex-replay: replays an ets-stream v1 file through the order book or
// the full engine and reports results and speed (docs/order-stream.md).
//
//   carbonex-replay stream.txt [--json] [--mode book|engine] [--no-market-data]
//   carbonex-replay --journal DIR [--json]
//
// --journal replays a server command journal (docs/journal.md) through the
// engine from an empty AccountState (no engine snapshot format exists yet)
// and reports the read+decode time, the recovery (read+decode+execute) time
// and the state hash.
//
// Exit status: 0 on success; 1 on a bad option, an unreadable or malformed
// stream, or a replay failure (one line on standard error).
#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <iostream>
#include <map>
#include <string>

#include "carbonex/engine/engine.h"
#include "carbonex/gateway/journal.h"
#include "carbonex/stream/replay.h"
#include "carbonex/stream/report.h"
#include "carbonex/stream/stream.h"

namespace {

// Counts what a journal replay produced.
class CountingSink final : public carbonex::engine::EventSink {
 public:
  void OnEvent(const carbonex::engine::Event& event) override {
    using namespace carbonex::engine;  // NOLINT: event type names only
    ++events;
    if (std::holds_alternative<TradeExecuted>(event.body)) {
      ++trades;
    } else if (std::holds_alternative<OrderRejected>(event.body) ||
               std::holds_alternative<CancelRejected>(event.body) ||
               std::holds_alternative<OperatorCommandRejected>(event.body)) {
      ++rejects;
    }
  }
  std::uint64_t events = 0;
  std::uint64_t trades = 0;
  std::uint64_t rejects = 0;
};

// Reads the whole journal in order, calling `execute` on every command.
// Returns the number of commands, or the reader's error.
template <typename Execute>
carbonex::Result<std::uint64_t> ReadJournal(const std::string& dir,
                                            std::uint64_t* torn_tail_bytes,
                                            Execute execute) {
  auto reader = carbonex::gateway::JournalReader::Open(dir);
  if (!reader.ok()) {
    return reader.status();
  }
  std::uint64_t count = 0;
  while (true) {
    auto next = (*reader)->Next();
    if (!next.ok()) {
      return next.status();
    }
    if (!next->has_value()) {
      break;
    }
    execute(**next);
    ++count;
  }
  *torn_tail_bytes = (*reader)->torn_tail_bytes();
  return count;
}

// CPU time of this process: on a shared machine the wall time of a replay
// says more about the other processes than about the replay.
double CpuSeconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// --journal DIR: recovery as the server does it. Pass 1 only reads and
// decodes (timed); pass 2 reads, decodes and executes every command on a
// fresh engine (timed: the recovery time).
int RunJournal(const std::string& dir, bool json,
               const carbonex::stream::ReplayOptions& options) {
  std::uint64_t torn = 0;
  std::uint64_t last_seq = 0;
  auto start = std::chrono::steady_clock::now();
  auto decoded = ReadJournal(
      dir, &torn, [&](const auto& cmd) { last_seq = cmd.header.seq.value(); });
  const double decode_seconds = SecondsSince(start);
  if (!decoded.ok()) {
    std::cerr << "carbonex-replay: " << decoded.status().message() << '\n';
    return 1;
  }
  CountingSink sink;
  carbonex::engine::EngineOptions engine_options;
  engine_options.expected_orders = options.expected_orders;
  engine_options.emit_market_data = false;
  const double cpu_start = CpuSeconds();
  start = std::chrono::steady_clock::now();
  carbonex::engine::Engine engine(engine_options, carbonex::AccountState{},
                                  &sink);
  auto executed =
      ReadJournal(dir, &torn, [&](const auto& cmd) { engine.Execute(cmd); });
  const double total_seconds = SecondsSince(start);
  const double total_cpu_seconds = CpuSeconds() - cpu_start;
  if (!executed.ok()) {
    std::cerr << "carbonex-replay: " << executed.status().message() << '\n';
    return 1;
  }
  if (carbonex::Status s = engine.CheckInvariants(); !s.ok()) {
    std::cerr << "carbonex-replay: engine invariant violated after replay: "
              << s.message() << '\n';
    return 1;
  }
  const std::uint64_t commands = *executed;
  const double per_sec =
      total_seconds > 0 ? static_cast<double>(commands) / total_seconds : 0;
  if (json) {
    std::cout << "{\"mode\":\"journal\",\"commands\":" << commands
              << ",\"last_seq\":" << last_seq << ",\"torn_tail_bytes\":" << torn
              << ",\"decode_seconds\":" << decode_seconds
              << ",\"recovery_seconds\":" << total_seconds
              << ",\"recovery_cpu_seconds\":" << total_cpu_seconds
              << ",\"commands_per_sec\":" << per_sec
              << ",\"events\":" << sink.events << ",\"trades\":" << sink.trades
              << ",\"rejects\":" << sink.rejects
              << ",\"resting_orders\":" << engine.RestingOrderCount()
              << ",\"state_hash\":\"" << std::hex << engine.StateHash()
              << std::dec << "\"}\n";
  } else {
    std::cout << "mode:            journal\n"
              << "commands:        " << commands << " (last seq " << last_seq
              << ", torn tail " << torn << " bytes)\n"
              << "read+decode:     " << decode_seconds << " s\n"
              << "recovery:        " << total_seconds
              << " s (read+decode+execute, " << per_sec << " commands/s; "
              << total_cpu_seconds << " s CPU)\n"
              << "events:          " << sink.events << '\n'
              << "trades:          " << sink.trades << '\n'
              << "rejects:         " << sink.rejects << '\n'
              << "resting orders:  " << engine.RestingOrderCount() << '\n'
              << "state hash:      " << std::hex << engine.StateHash()
              << std::dec << '\n';
  }
  return 0;
}

int Run(int argc, char** argv) {
  using carbonex::stream::ReplayMode;
  std::string path;
  std::string journal_dir;
  bool json = false;
  bool no_latency = false;
  bool no_market_data = false;
  carbonex::stream::ReplayOptions options;
  CLI::App app{"Replays an ets-stream v1 order stream and reports results."};
  auto* file_opt =
      app.add_option("file", path, "stream file ('-' for standard input)");
  app.add_option("--journal", journal_dir,
                 "replay a command journal directory through the engine "
                 "instead of a stream")
      ->excludes(file_opt);
  app.add_flag("--json", json, "print one JSON object");
  app.add_option("--mode", options.mode, "book (OrderBook alone) or engine")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, ReplayMode>{{"book", ReplayMode::kBook},
                                            {"engine", ReplayMode::kEngine}},
          CLI::ignore_case));
  app.add_option("--expected-orders", options.expected_orders,
                 "orders to reserve room for up front")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 28));
  app.add_flag("--no-latency", no_latency,
               "skip the per-event timed pass (latency figures become 0)");
  app.add_flag("--no-market-data", no_market_data,
               "engine mode: do not emit market data (BookLevelChanged "
               "events); by default they are emitted and counted, as a "
               "server hands them on");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  options.measure_latency = !no_latency;
  options.market_data = !no_market_data;
  if (!journal_dir.empty()) {
    return RunJournal(journal_dir, json, options);
  }
  if (path.empty()) {
    std::cerr << "carbonex-replay: give a stream file or --journal DIR\n";
    return 1;
  }

  carbonex::Result<carbonex::stream::Stream> stream =
      carbonex::stream::ReadStreamFile(path);
  if (!stream.ok()) {
    std::cerr << "carbonex-replay: " << stream.status().message() << '\n';
    return 1;
  }
  carbonex::Result<carbonex::stream::ReplayReport> report =
      carbonex::stream::ReplayStream(*stream, options);
  if (!report.ok()) {
    std::cerr << "carbonex-replay: " << report.status().message() << '\n';
    return 1;
  }
  if (json) {
    std::cout << carbonex::stream::ReportToJson(*report) << '\n';
  } else {
    std::cout << "mode:           "
              << (options.mode == ReplayMode::kBook ? "book" : "engine")
              << '\n';
    if (options.mode == ReplayMode::kEngine) {
      std::cout << "market_data:    "
                << (options.market_data
                        ? "on, " + std::to_string(report->market_data_events) +
                              " BookLevelChanged events"
                        : std::string("off"))
                << '\n';
    }
    std::cout << carbonex::stream::ReportToText(
        *report, carbonex::stream::ClockOverheadNs());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
