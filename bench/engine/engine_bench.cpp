// Engine micro-benchmarks (Google Benchmark). Fixed seeds; figures and the
// commands that produced them are in docs/benchmarks.md, "Engine
// micro-benchmarks".
//
//   BM_BookAddPassive      OrderBook::AddLimit of a non-crossing order into
//                          a book of ~10k orders over ~150 levels
//   BM_BookCancel          OrderBook::Cancel of a random resting order
//   BM_BookReduce          OrderBook::ReduceOpen (replace keeping priority)
//   BM_BookSweep3Levels    an aggressive order taking 3 levels × 4 orders
//   BM_BookCanonicalStream the canonical 1M order stream (if present)
//                          through the bare book; also per-event p50/p99
//   BM_EnginePlaceCancel   Engine::Execute of PlaceOrder + CancelOrder with
//                          risk checks (market data on/off); a day ends
//                          every 65,536 orders (untimed)
//   BM_EngineReplace       Engine::Execute of ReplaceOrder, keeping or losing
//                          priority
//   BM_EngineMixedFlow     Engine::Execute on a generated 70/20/10
//                          passive/aggressive/cancel flow
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "carbonex/engine/engine.h"
#include "carbonex/engine/order_book.h"

namespace carbonex::engine {
namespace {

constexpr std::int64_t kMid = 10'000;

struct NullFill {
  std::uint64_t fills = 0;
  void operator()(const BookFill& f) {
    fills += static_cast<std::uint64_t>(f.qty.value());
  }
};

// A book of `n` resting orders: bids below kMid, asks above, ~150 levels.
void Fill(OrderBook& book, std::uint64_t* next_id, int n,
          std::mt19937_64& rng) {
  NullFill sink;
  for (int i = 0; i < n; ++i) {
    const bool buy = (rng() & 1) == 0;
    const auto d = static_cast<std::int64_t>(rng() % 75);
    const Price px{buy ? kMid - 1 - d : kMid + d};
    book.AddLimit(OrderId{(*next_id)++}, buy ? Side::kBuy : Side::kSell, px,
                  Quantity{static_cast<std::int64_t>(1 + rng() % 100)}, sink);
  }
}

void BM_BookAddPassive(benchmark::State& state) {
  std::mt19937_64 rng(1);
  OrderBook book(1 << 16);
  std::uint64_t next_id = 1;
  Fill(book, &next_id, 10'000, rng);
  constexpr int kBatch = 4096;
  std::vector<std::uint64_t> added;
  added.reserve(kBatch);
  std::vector<std::pair<bool, std::int64_t>> plan(kBatch);
  for (auto& p : plan) {
    p = {(rng() & 1) == 0, static_cast<std::int64_t>(rng() % 75)};
  }
  NullFill sink;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& [buy, d] = plan[i];
    const std::uint64_t id = next_id++;
    book.AddLimit(OrderId{id}, buy ? Side::kBuy : Side::kSell,
                  Price{buy ? kMid - 1 - d : kMid + d}, Quantity{10}, sink);
    added.push_back(id);
    if (++i == kBatch) {
      state.PauseTiming();
      for (std::uint64_t a : added) book.Cancel(OrderId{a});
      added.clear();
      i = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BookAddPassive);

void BM_BookCancel(benchmark::State& state) {
  std::mt19937_64 rng(2);
  OrderBook book(1 << 16);
  std::uint64_t next_id = 1;
  Fill(book, &next_id, 10'000, rng);
  constexpr int kBatch = 4096;
  std::vector<std::uint64_t> victims;
  auto refill = [&] {
    victims.clear();
    const std::uint64_t first = next_id;
    Fill(book, &next_id, kBatch, rng);
    for (std::uint64_t id = first; id < next_id; ++id) victims.push_back(id);
    std::shuffle(victims.begin(), victims.end(), rng);
  };
  refill();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(book.Cancel(OrderId{victims[i]}));
    if (++i == victims.size()) {
      state.PauseTiming();
      refill();
      i = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BookCancel);

void BM_BookReduce(benchmark::State& state) {
  std::mt19937_64 rng(3);
  OrderBook book(1 << 16);
  std::uint64_t next_id = 1;
  NullFill sink;
  // Large open quantities so that reductions never reach zero.
  for (int i = 0; i < 10'000; ++i) {
    const bool buy = (rng() & 1) == 0;
    const auto d = static_cast<std::int64_t>(rng() % 75);
    book.AddLimit(OrderId{next_id++}, buy ? Side::kBuy : Side::kSell,
                  Price{buy ? kMid - 1 - d : kMid + d}, Quantity{1'000'000'000},
                  sink);
  }
  std::vector<std::uint64_t> ids(4096);
  for (auto& id : ids) id = 1 + rng() % 10'000;
  std::size_t i = 0;
  for (auto _ : state) {
    const OrderId id{ids[i++ & 4095]};
    benchmark::DoNotOptimize(
        book.ReduceOpen(id, book.Find(id)->open - Quantity{1}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BookReduce);

void BM_BookSweep3Levels(benchmark::State& state) {
  // Asks: 4 orders of 10 at each of many levels; each taker takes exactly
  // three levels. The book is rebuilt (untimed) when it runs low.
  constexpr int kLevels = 3000;
  OrderBook book(1 << 15);
  std::uint64_t next_id = 1;
  NullFill sink;
  auto rebuild = [&] {
    for (int l = 0; l < kLevels; ++l) {
      for (int k = 0; k < 4; ++k) {
        book.AddLimit(OrderId{next_id++}, Side::kSell, Price{kMid + l},
                      Quantity{10}, sink);
      }
    }
  };
  rebuild();
  std::int64_t best = kMid;
  for (auto _ : state) {
    book.AddLimit(OrderId{next_id++}, Side::kBuy, Price{best + 2},
                  Quantity{120}, sink);
    best += 3;
    if (best + 3 > kMid + kLevels) {
      state.PauseTiming();
      while (book.BestAsk()) {
        // Drop what is left and start again.
        MatchRequest clear;
        clear.taker = OrderId{next_id++};
        clear.side = Side::kBuy;
        clear.qty = Quantity{1'000'000'000};
        book.Match(clear, sink);
      }
      rebuild();
      best = kMid;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["fills_per_op"] = 12;
}
BENCHMARK(BM_BookSweep3Levels);

// ---- The canonical order stream through the bare book. ----

struct StreamEvent {
  bool add;
  bool buy;
  std::uint64_t id;
  std::int64_t price;
  std::int64_t qty;
};

const std::vector<StreamEvent>* CanonicalStream() {
  static std::unique_ptr<std::vector<StreamEvent>> events = [] {
    auto out = std::make_unique<std::vector<StreamEvent>>();
    const std::string path =
        std::string(CARBONEX_STREAM_DIR) + "/stream_1m_s42.txt.gz";
    const std::string cmd = "gzip -dc '" + path + "' 2>/dev/null";
    FILE* f = popen(cmd.c_str(), "r");  // NOLINT(cert-env33-c): fixed path
    if (f == nullptr) return out;
    char line[128];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      StreamEvent e{};
      unsigned long long id = 0;
      long long px = 0;
      long long qty = 0;
      char side = 0;
      // The reference tool's own output: fields are in range by construction.
      // NOLINTNEXTLINE(cert-err34-c)
      if (line[0] == 'A' && std::sscanf(line + 2, "%llu %c %lld %lld", &id,
                                        &side, &px, &qty) == 4) {
        e = {true, side == 'B', id, px, qty};
        // NOLINTNEXTLINE(cert-err34-c)
      } else if (line[0] == 'X' && std::sscanf(line + 2, "%llu", &id) == 1) {
        e = {false, false, id, 0, 0};
      } else {
        continue;
      }
      out->push_back(e);
    }
    pclose(f);
    return out;
  }();
  return events.get();
}

void BM_BookCanonicalStream(benchmark::State& state) {
  const auto* events = CanonicalStream();
  if (events->empty()) {
    state.SkipWithError(
        "canonical stream not found under " CARBONEX_STREAM_DIR);
    return;
  }
  std::vector<std::int64_t> latency;
  const bool measure = state.range(0) != 0;
  if (measure) latency.resize(events->size());
  std::uint64_t fills = 0;
  for (auto _ : state) {
    OrderBook book(1 << 15);
    NullFill sink;
    for (std::size_t i = 0; i < events->size(); ++i) {
      const StreamEvent& e = (*events)[i];
      std::chrono::steady_clock::time_point t0;
      if (measure) t0 = std::chrono::steady_clock::now();
      if (e.add) {
        book.AddLimit(OrderId{e.id}, e.buy ? Side::kBuy : Side::kSell,
                      Price{e.price}, Quantity{e.qty}, sink);
      } else {
        book.Cancel(OrderId{e.id});
      }
      if (measure) {
        latency[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now() - t0)
                         .count();
      }
    }
    fills = sink.fills;
    benchmark::DoNotOptimize(book.RestingOrders());
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<std::int64_t>(events->size()));
  state.counters["volume"] = static_cast<double>(fills);
  if (measure) {
    std::sort(latency.begin(), latency.end());
    state.counters["p50_ns"] = static_cast<double>(latency[latency.size() / 2]);
    state.counters["p99_ns"] =
        static_cast<double>(latency[latency.size() * 99 / 100]);
    state.counters["p999_ns"] =
        static_cast<double>(latency[latency.size() * 999 / 1000]);
  }
}
BENCHMARK(BM_BookCanonicalStream)
    ->Arg(0)
    ->Arg(1)
    ->ArgNames({"per_event_timing"})
    ->Unit(benchmark::kMillisecond);

// ---- The full Engine path. ----

class CountingSink : public EventSink {
 public:
  void OnEvent(const Event& event) override {
    ++count;
    benchmark::DoNotOptimize(&event);
  }
  std::uint64_t count = 0;
};

AccountState BenchState(int accounts) {
  AccountState s;
  InstrumentState ins;
  ins.id = InstrumentId{1};
  ins.symbol = "KZQ-2026";
  ins.max_order_qty = Quantity{1'000'000};
  s.instruments.push_back(ins);
  for (int a = 1; a <= accounts; ++a) {
    const AccountId id{static_cast<std::uint32_t>(a)};
    s.accounts.push_back({id, "A" + std::to_string(a),
                          Cash{1'000'000'000'000'000}, std::nullopt});
    s.holdings.push_back({id, InstrumentId{1}, Quantity{1'000'000'000'000}});
    s.entitlements.push_back({BrokerId{1}, id});
  }
  return s;
}

Command Cmd(std::uint64_t seq, CommandBody body) {
  return Command{
      CommandHeader{SequenceNumber{seq},
                    Timestamp{static_cast<std::int64_t>(seq)}, BrokerId{1}},
      body};
}

PlaceOrder Limit(std::uint32_t account, Side side, std::int64_t px,
                 std::int64_t qty) {
  PlaceOrder p;
  p.account = AccountId{account};
  p.instrument = InstrumentId{1};
  p.side = side;
  p.price = Price{px};
  p.qty = Quantity{qty};
  p.tif = TimeInForce::kGtc;
  return p;
}

void BM_EnginePlaceCancel(benchmark::State& state) {
  EngineOptions options;
  options.expected_orders = 1 << 16;
  options.emit_market_data = state.range(0) != 0;
  CountingSink sink;
  Engine engine(options, BenchState(64), &sink);
  std::mt19937_64 rng(4);
  std::uint64_t seq = 0;
  // A resting book of 10k orders to place into.
  for (int i = 0; i < 10'000; ++i) {
    const bool buy = (rng() & 1) == 0;
    const auto d = static_cast<std::int64_t>(rng() % 75);
    engine.Execute(Cmd(++seq, Limit(static_cast<std::uint32_t>(1 + rng() % 64),
                                    buy ? Side::kBuy : Side::kSell,
                                    buy ? kMid - 1 - d : kMid + d, 10)));
  }
  std::uint64_t next_order = 10'001;
  for (auto _ : state) {
    const bool buy = (rng() & 1) == 0;
    const auto d = static_cast<std::int64_t>(rng() % 75);
    const auto account = static_cast<std::uint32_t>(1 + rng() % 64);
    const Side side = buy ? Side::kBuy : Side::kSell;
    engine.Execute(
        Cmd(++seq, Limit(account, side, buy ? kMid - 1 - d : kMid + d, 10)));
    CancelOrder c;
    c.order_id = OrderId{next_order++};
    c.account = AccountId{account};
    c.instrument = InstrumentId{1};
    c.side = side;
    engine.Execute(Cmd(++seq, c));
    // Done orders stay queryable until the end of the day; end a "day"
    // every 2^16 orders (untimed) so the benchmark measures the steady
    // state, where done-order records are reused, not a day that grows
    // without bound.
    if ((next_order & 0xFFFF) == 0) {
      state.PauseTiming();
      engine.Execute(Cmd(++seq, ExpireDayOrders{}));
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * 2);
  state.counters["events_per_op"] =
      static_cast<double>(sink.count) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_EnginePlaceCancel)->Arg(0)->Arg(1)->ArgNames({"market_data"});

void BM_EngineReplace(benchmark::State& state) {
  const bool keep = state.range(0) != 0;
  EngineOptions options;
  options.expected_orders = 1 << 16;
  options.emit_market_data = false;
  CountingSink sink;
  Engine engine(options, BenchState(64), &sink);
  std::mt19937_64 rng(5);
  std::uint64_t seq = 0;
  constexpr int kOrders = 10'000;
  std::vector<PlaceOrder> placed;
  for (int i = 0; i < kOrders; ++i) {
    const bool buy = (rng() & 1) == 0;
    const auto d = static_cast<std::int64_t>(rng() % 75);
    placed.push_back(Limit(static_cast<std::uint32_t>(1 + rng() % 64),
                           buy ? Side::kBuy : Side::kSell,
                           buy ? kMid - 1 - d : kMid + d, 1'000'000));
    engine.Execute(Cmd(++seq, placed.back()));
  }
  std::vector<std::int64_t> qty(kOrders, 1'000'000);
  std::uint64_t i = 0;
  for (auto _ : state) {
    const std::size_t k = rng() % kOrders;
    const PlaceOrder& p = placed[k];
    ReplaceOrder r;
    r.order_id = OrderId{k + 1};
    r.account = p.account;
    r.instrument = p.instrument;
    r.side = p.side;
    r.price = *p.price;
    // Keep: lower the quantity by one. Lose: alternate the quantity up and
    // down by one, so that every other replace raises it.
    qty[k] += keep ? -1 : ((i++ & 1) != 0 ? 1 : -1);
    r.qty = Quantity{qty[k]};
    engine.Execute(Cmd(++seq, r));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EngineReplace)->Arg(1)->Arg(0)->ArgNames({"keep_priority"});

// 70% passive, 20% aggressive (through up to 4 ticks), 10% cancels of a
// random live order; 256 accounts (self-trade prevention is rare). The flow
// depends on the book, so it is generated once (untimed) by running it
// through an engine, then replayed.
const std::vector<Command>& MixedFlow() {
  static const std::vector<Command> kFlow = [] {
    constexpr int kCommands = 200'000;
    EngineOptions options;
    options.expected_orders = 1 << 16;
    options.emit_market_data = false;
    CountingSink sink;
    Engine engine(options, BenchState(256), &sink);
    std::mt19937_64 rng(6);
    std::vector<Command> out;
    std::vector<PlaceOrder> orders;  // by order id - 1
    std::vector<std::uint64_t> live;
    std::uint64_t seq = 0;
    while (out.size() < kCommands) {
      const std::uint64_t r = rng() % 100;
      if (r >= 90 && !live.empty()) {
        const std::size_t k = rng() % live.size();
        const std::uint64_t id = live[k];
        live[k] = live.back();
        live.pop_back();
        const auto view = engine.FindOrder(OrderId{id});
        if (!view || view->leaves_qty.value() == 0) continue;
        CancelOrder c;
        c.order_id = OrderId{id};
        c.account = view->account;
        c.instrument = view->instrument;
        c.side = view->side;
        out.push_back(Cmd(++seq, c));
        engine.Execute(out.back());
        continue;
      }
      const auto depth = engine.Depth(InstrumentId{1}, 1);
      const bool buy = (rng() & 1) == 0;
      const std::int64_t best_bid =
          depth.bids.empty() ? kMid - 1 : depth.bids[0].price.value();
      const std::int64_t best_ask =
          depth.asks.empty() ? kMid : depth.asks[0].price.value();
      const auto d = static_cast<std::int64_t>(rng() % 20);
      std::int64_t px;
      if (r < 70) {
        px = buy ? best_ask - 1 - d : best_bid + 1 + d;
      } else {
        const auto k = static_cast<std::int64_t>(rng() % 5);
        px = buy ? best_ask + k : best_bid - k;
      }
      px = std::max<std::int64_t>(1, px);
      orders.push_back(Limit(static_cast<std::uint32_t>(1 + rng() % 256),
                             buy ? Side::kBuy : Side::kSell, px,
                             static_cast<std::int64_t>(10 * (1 + rng() % 10))));
      out.push_back(Cmd(++seq, orders.back()));
      engine.Execute(out.back());
      live.push_back(orders.size());
    }
    return out;
  }();
  return kFlow;
}

void BM_EngineMixedFlow(benchmark::State& state) {
  const std::vector<Command>& flow = MixedFlow();
  EngineOptions options;
  options.expected_orders = 1 << 16;
  options.emit_market_data = state.range(0) != 0;
  CountingSink sink;
  auto engine = std::make_unique<Engine>(options, BenchState(256), &sink);
  std::size_t i = 0;
  for (auto _ : state) {
    engine->Execute(flow[i]);
    if (++i == flow.size()) {
      state.PauseTiming();
      engine = std::make_unique<Engine>(options, BenchState(256), &sink);
      i = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["events_per_cmd"] =
      static_cast<double>(sink.count) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_EngineMixedFlow)->Arg(0)->Arg(1)->ArgNames({"market_data"});

}  // namespace
}  // namespace carbonex::engine

BENCHMARK_MAIN();
