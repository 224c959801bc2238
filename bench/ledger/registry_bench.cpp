// Registry benchmarks: durable DvP settlement in batches, single-trade
// durable commit latency (p50/p99), and importing the 2018-2020 plan.
//
// Every benchmark works in a fresh registry under $TMPDIR (or /tmp) with
// durable commits (fsync per commit). Fixed seeds; nothing random beyond
// them. Run: build/bin/ledger_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "carbonex/ledger/registry.h"

namespace carbonex::ledger {
namespace {

constexpr int kAccounts = 100;

class BenchDir {
 public:
  BenchDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "carbonex-bench-XXXXXX")
            .string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::abort();
    }
    path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;
  [[nodiscard]] std::string Db() const { return path_ + "/db"; }

 private:
  std::string path_;
};

std::unique_ptr<Registry> Open(const std::string& db, bool durable = true) {
  RegistryOptions options;
  options.path = db;
  options.create_if_missing = true;
  options.durable = durable;
  auto r = Registry::Open(options);
  if (!r.ok()) {
    std::abort();
  }
  return std::move(*r);
}

void Must(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    std::abort();
  }
}

// 100 accounts, each with 10^12 units and 10^14 tiyn.
std::unique_ptr<Registry> TradingRegistry(const std::string& db,
                                          bool durable = true) {
  auto r = Open(db, durable);
  Must(r->AddInstrument({"KZQ-2026", InstrumentKind::kAllowance, 2026, Price(1),
                         Quantity(1'000'000)}));
  for (int i = 0; i < kAccounts; ++i) {
    const std::string id = "ACC-" + std::to_string(i);
    Must(r->AddCompany({.id = id, .name = id}));
    Must(r->IssueUnits("KZQ-2026", id, Quantity(1'000'000'000'000),
                       IssueReason::kAuction));
    Must(r->DepositCash(id, Cash(100'000'000'000'000)));
  }
  return r;
}

std::vector<TradeRecord> MakeTrades(std::mt19937_64& rng, std::uint64_t* next,
                                    std::size_t n) {
  std::vector<TradeRecord> trades;
  trades.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto buyer = static_cast<std::uint32_t>(1 + rng() % kAccounts);
    auto seller = static_cast<std::uint32_t>(1 + rng() % kAccounts);
    if (seller == buyer) {
      seller = buyer % kAccounts + 1;
    }
    const std::uint64_t id = (*next)++;
    trades.push_back(TradeRecord{
        TradeId(id), InstrumentId(1),
        Price(static_cast<std::int64_t>(150'000 + rng() % 1000)),
        Quantity(static_cast<std::int64_t>(1 + rng() % 100)), AccountId(buyer),
        AccountId(seller), OrderId(2 * id), OrderId(2 * id + 1),
        Timestamp(static_cast<std::int64_t>(id))});
  }
  return trades;
}

// Settlement of batches of `range(0)` trades, one transaction per batch;
// range(1) = 1: durable (fsync per commit), 0: MDB_NOSYNC (the CPU cost
// alone). Wall-clock time; items_per_second = trades settled per second.
void BmSettleBatch(benchmark::State& state) {
  BenchDir dir;
  auto r = TradingRegistry(dir.Db(), state.range(1) != 0);
  std::mt19937_64 rng(42);
  std::uint64_t next = 1;
  std::uint64_t position = 0;
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    state.PauseTiming();
    ServerBatch batch;
    batch.trades = MakeTrades(rng, &next, n);
    batch.journal_position = ++position;
    state.ResumeTiming();
    Must(r->ApplyServerBatch(batch));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BmSettleBatch)
    ->ArgNames({"batch", "durable"})
    ->Args({1000, 1})
    ->Args({10000, 1})
    ->Args({1000, 0})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime();

// One trade per durable commit; reports the latency percentiles.
void BmSettleSingleTradeDurable(benchmark::State& state) {
  BenchDir dir;
  auto r = TradingRegistry(dir.Db());
  std::mt19937_64 rng(7);
  std::uint64_t next = 1;
  std::uint64_t position = 0;
  std::vector<double> micros;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    ServerBatch batch;
    batch.trades = MakeTrades(rng, &next, 1);
    batch.journal_position = ++position;
    const auto t0 = std::chrono::steady_clock::now();
    Must(r->ApplyServerBatch(batch));
    const auto t1 = std::chrono::steady_clock::now();
    micros.push_back(
        std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(micros.begin(), micros.end());
  auto pct = [&](double p) {
    return micros[static_cast<std::size_t>(
        p * static_cast<double>(micros.size() - 1))];
  };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = micros.back();
}
BENCHMARK(BmSettleSingleTradeDurable)
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(3.0);

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Importing the 129-company plan with its 225 installations and verified
// emissions into a fresh registry (one durable transaction).
void BmImportPlan(benchmark::State& state) {
  const std::string companies =
      ReadText(std::string(CARBONEX_DATA_DIR) + "/nap-2018-2020/companies.csv");
  const std::string installations = ReadText(
      std::string(CARBONEX_DATA_DIR) + "/nap-2018-2020/installations.csv");
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    state.PauseTiming();
    auto dir = std::make_unique<BenchDir>();
    auto r = Open(dir->Db());
    state.ResumeTiming();
    PlanImportOptions options;
    options.with_emissions = true;
    auto s = r->ImportPlan(companies, "companies.csv", installations,
                           "installations.csv", options);
    if (!s.ok() || s->companies_created != 129) {
      std::abort();
    }
    state.PauseTiming();
    r.reset();
    dir.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BmImportPlan)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace carbonex::ledger

BENCHMARK_MAIN();
