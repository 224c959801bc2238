// Crash test: a child process commits write transactions one after another
// and reports each committed trade id through a pipe; the parent SIGKILLs it
// at a random point. After reopening, the registry verifies and every
// reported trade (its commit returned) is present.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <set>

#include "carbonex/ledger/registry.h"
#include "test_util.h"

namespace carbonex::ledger {
namespace {

using testing::OpenFresh;
using testing::TempDir;

// The child: settles trades first_id, first_id+1, … forever, alternating the
// direction so balances never run out; every fifth also deposits cash.
[[noreturn]] void Child(const std::string& db, std::uint64_t first_id,
                        int out_fd) {
  RegistryOptions options;
  options.path = db;
  options.durable = false;  // a killed process loses nothing LMDB committed
  auto opened = Registry::Open(options);
  if (!opened.ok()) {
    _exit(3);
  }
  Registry& r = **opened;
  for (std::uint64_t id = first_id;; ++id) {
    ServerBatch batch;
    const bool even = id % 2 == 0;
    batch.trades.push_back(TradeRecord{
        TradeId(id), InstrumentId(1), Price(7), Quantity(3),
        AccountId(even ? 1 : 2), AccountId(even ? 2 : 1), OrderId(id),
        OrderId(id + 1), Timestamp(static_cast<std::int64_t>(id))});
    batch.journal_position = id;
    if (!r.ApplyServerBatch(batch).ok()) {
      _exit(4);
    }
    if (id % 5 == 0 && !r.DepositCash("A", Cash(1)).ok()) {
      _exit(5);
    }
    if (write(out_fd, &id, sizeof(id)) != sizeof(id)) {
      _exit(6);
    }
  }
}

TEST_CASE("Committed transactions survive SIGKILL at random points",
          "[crash][slow]") {
  const std::uint64_t seed = testing::TestSeed();
  std::mt19937_64 rng(seed);
  TempDir dir;
  {
    auto r = OpenFresh(dir.Db());
    REQUIRE(r->AddInstrument({"KZQ-2019", InstrumentKind::kAllowance, 2019,
                              Price(1), Quantity(1'000'000)})
                .ok());
    REQUIRE(r->AddCompany({.id = "A", .name = "Alpha"}).ok());
    REQUIRE(r->AddCompany({.id = "B", .name = "Beta"}).ok());
    for (const char* a : {"A", "B"}) {
      REQUIRE(r->IssueUnits("KZQ-2019", a, Quantity(1'000'000),
                            IssueReason::kAllocation)
                  .ok());
      REQUIRE(r->DepositCash(a, Cash(100'000'000)).ok());
    }
  }
  std::set<std::uint64_t> committed;
  std::uint64_t next_id = 1;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      Child(dir.Db(), next_id, fds[1]);
    }
    close(fds[1]);
    // Kill after a random number of reported commits, so the kill lands at
    // an arbitrary point of the next transaction.
    const std::uint64_t kill_after = 20 + rng() % 400;
    std::uint64_t seen = 0;
    std::uint64_t id = 0;
    while (read(fds[0], &id, sizeof(id)) == sizeof(id)) {
      committed.insert(id);
      next_id = std::max(next_id, id + 1);
      if (++seen == kill_after) {
        // A random extra delay moves the kill inside the next commit.
        usleep(static_cast<useconds_t>(rng() % 500));
        kill(pid, SIGKILL);
      }
    }
    close(fds[0]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    INFO("round " << round << " status " << status);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);

    auto r = OpenFresh(dir.Db());
    auto audit = r->AuditVerify();
    REQUIRE(audit.ok());
    INFO((audit->problems.empty() ? "" : audit->problems.front()));
    REQUIRE(audit->ok());
    auto trades = r->Trades({});
    REQUIRE(trades.ok());
    std::set<std::uint64_t> present;
    for (const auto& t : *trades) {
      present.insert(t.record.trade_id.value());
    }
    for (std::uint64_t c : committed) {
      INFO("trade " << c);
      REQUIRE(present.count(c) == 1);
    }
    // A trade may have committed without being reported; continue after it.
    if (!present.empty()) {
      next_id = std::max(next_id, *present.rbegin() + 1);
    }
    REQUIRE(*r->AppliedJournalPosition() == next_id - 1);
  }
  CHECK(committed.size() >= std::size_t{100});  // 5 rounds × at least 20
}

}  // namespace
}  // namespace carbonex::ledger
