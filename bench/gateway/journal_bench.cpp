// Journal benchmarks: append+commit throughput for batch sizes 1..1000 in
// both sync modes, the latency of one durable single-command commit, and
// how fast a journal reads back (decode only).
//
// Run (results in docs/benchmarks.md, section "Journal"):
//   build/bin/journal_bench --benchmark_min_time=1
// The journal lives under $TMPDIR (default /tmp): that file system's fsync is
// what the durable figures measure.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "carbonex/gateway/journal.h"

namespace carbonex::gateway {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = fs::temp_directory_path() / "journal_bench.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::abort();
    }
    root_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string Journal() const { return root_ / "journal"; }

 private:
  fs::path root_;
};

// A typical order: a limit PlaceOrder (the most common and largest record).
engine::Command Order(std::uint64_t seq) {
  engine::PlaceOrder p;
  p.cl_ord_id = ClientOrderId("BRK1-" + std::to_string(seq));
  p.account = AccountId(static_cast<std::uint32_t>(seq % 1000));
  p.instrument = InstrumentId(static_cast<std::uint32_t>(seq % 4));
  p.side = seq % 2 == 0 ? Side::kBuy : Side::kSell;
  p.price = Price(static_cast<std::int64_t>(500'000 + seq % 1000));
  p.qty = Quantity(static_cast<std::int64_t>(1 + seq % 100));
  engine::Command cmd;
  cmd.header.seq = SequenceNumber(seq);
  cmd.header.time = Timestamp(static_cast<std::int64_t>(seq) * 1000);
  cmd.header.broker = BrokerId(1);
  cmd.body = p;
  return cmd;
}

std::unique_ptr<JournalWriter> MustOpen(const JournalOptions& options,
                                        benchmark::State& state) {
  auto writer = JournalWriter::Open(options);
  if (!writer.ok()) {
    state.SkipWithError(writer.status().message().c_str());
    return nullptr;
  }
  return std::move(*writer);
}

// Args: batch size, sync mode (0 durable, 1 async).
void AppendCommit(benchmark::State& state) {
  const auto batch = static_cast<std::uint64_t>(state.range(0));
  const SyncMode mode =
      state.range(1) == 0 ? SyncMode::kDurable : SyncMode::kAsync;
  TempDir tmp;
  auto writer = MustOpen({.dir = tmp.Journal(), .sync = mode}, state);
  if (writer == nullptr) {
    return;
  }
  // Commands are built outside the timed region's hot path: one ring of
  // prepared commands whose seqs are rewritten.
  std::vector<engine::Command> ring;
  for (std::uint64_t i = 0; i < 1024; ++i) {
    ring.push_back(Order(i + 1));
  }
  std::uint64_t seq = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    for (std::uint64_t i = 0; i < batch; ++i) {
      engine::Command& cmd = ring[seq % ring.size()];
      cmd.header.seq = SequenceNumber(++seq);
      if (!writer->Append(cmd).ok()) {
        state.SkipWithError("append failed");
        return;
      }
    }
    if (!writer->Commit().ok()) {
      state.SkipWithError("commit failed");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(seq));
  state.counters["commits/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(AppendCommit)
    ->ArgNames({"batch", "async"})
    ->ArgsProduct({{1, 10, 100, 1000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// One command, one durable commit: the latency a lone order waits for its
// acknowledgement. Reports percentiles of the per-commit wall time. Arg:
// JournalOptions::reserve_bytes (0: every commit appends to the file; the
// server's: commits overwrite zeros written ahead).
void DurableCommitLatency(benchmark::State& state) {
  TempDir tmp;
  auto writer =
      MustOpen({.dir = tmp.Journal(),
                .reserve_bytes = static_cast<std::size_t>(state.range(0))},
               state);
  if (writer == nullptr) {
    return;
  }
  std::vector<double> micros;
  std::uint64_t seq = 0;
  engine::Command cmd = Order(1);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    cmd.header.seq = SequenceNumber(++seq);
    const auto start = std::chrono::steady_clock::now();
    const bool ok = writer->Append(cmd).ok() && writer->Commit().ok();
    const auto end = std::chrono::steady_clock::now();
    if (!ok) {
      state.SkipWithError("append or commit failed");
      return;
    }
    micros.push_back(
        std::chrono::duration<double, std::micro>(end - start).count());
  }
  std::sort(micros.begin(), micros.end());
  const auto at = [&](double q) {
    return micros[static_cast<std::size_t>(
        q * static_cast<double>(micros.size() - 1))];
  };
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
  state.counters["max_us"] = micros.back();
}
BENCHMARK(DurableCommitLatency)
    ->ArgName("reserve")
    ->Arg(0)
    ->Arg(static_cast<std::int64_t>(kServerJournalReserveBytes))
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Reading back: open, verify and decode every record of a journal of
// range(0) commands (the decode half of recovery).
void ReadAll(benchmark::State& state) {
  const auto count = static_cast<std::uint64_t>(state.range(0));
  TempDir tmp;
  {
    auto writer =
        MustOpen({.dir = tmp.Journal(), .sync = SyncMode::kAsync}, state);
    if (writer == nullptr) {
      return;
    }
    for (std::uint64_t seq = 1; seq <= count; ++seq) {
      if (!writer->Append(Order(seq)).ok()) {
        state.SkipWithError("append failed");
        return;
      }
    }
    if (!writer->Commit().ok()) {
      state.SkipWithError("commit failed");
      return;
    }
  }
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    auto reader = JournalReader::Open(tmp.Journal());
    if (!reader.ok()) {
      state.SkipWithError(reader.status().message().c_str());
      return;
    }
    std::uint64_t read = 0;
    while (true) {
      auto next = (*reader)->Next();
      if (!next.ok()) {
        state.SkipWithError(next.status().message().c_str());
        return;
      }
      if (!next->has_value()) {
        break;
      }
      ++read;
      benchmark::DoNotOptimize(next->value().header.seq);
    }
    if (read != count) {
      state.SkipWithError("read back a different number of commands");
      return;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(count));
}
BENCHMARK(ReadAll)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace carbonex::gateway

BENCHMARK_MAIN();
