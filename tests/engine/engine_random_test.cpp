// Randomised tests: long seeded command sequences through the Engine (and
// the bare OrderBook) and the ReferenceBook, which must agree on every fill,
// cancellation, expiry and replace, and on the final books; market-data
// events must equal the depth difference of each command; invariants hold
// after every step. Also determinism (same commands → byte-identical events
// and equal StateHash) and snapshot + replay = straight execution.
//
// The seed is printed; CARBONEX_SEED=<n> reruns one.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "carbonex/engine/engine.h"
#include "carbonex/engine/order_book.h"
#include "engine_harness.h"
#include "reference_book.h"

namespace carbonex::engine::testing {
namespace {

constexpr std::uint32_t kAccounts[] = {10, 11, 12};
constexpr std::uint32_t kInstruments[] = {1, 2};

AccountState RandomState() {
  // Balances large enough that risk never refuses an order: the reference
  // has no risk rules. Reservation and settlement still run and are checked
  // by CheckInvariants.
  AccountState s = TestState(1'000'000'000'000, 1'000'000'000);
  s.entitlements.push_back({BrokerId{1}, AccountId{12}});
  return s;
}

const char* CancelReasonText(CancelReason r) {
  switch (r) {
    case CancelReason::kRequested:
      return "requested";
    case CancelReason::kMassCancel:
      return "mass_cancel";
    case CancelReason::kImmediateOrCancel:
      return "ioc";
    case CancelReason::kFillOrKill:
      return "fok";
    case CancelReason::kMarketNoLiquidity:
      return "market_no_liquidity";
    case CancelReason::kMarketCashLimit:
      return "market_cash_limit";
    case CancelReason::kSelfTrade:
      return "self_trade";
  }
  return "?";
}

// The engine's events in the reference's outcome language.
std::vector<std::string> Outcomes(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) {
    if (const auto* t = std::get_if<TradeExecuted>(&e.body)) {
      const bool buy_aggr = t->aggressor == Side::kBuy;
      out.push_back(
          "F " +
          std::to_string((buy_aggr ? t->buy_order : t->sell_order).value()) +
          " " +
          std::to_string((buy_aggr ? t->sell_order : t->buy_order).value()) +
          " " + std::to_string(t->price.value()) + " " +
          std::to_string(t->qty.value()));
    } else if (const auto* c = std::get_if<OrderCanceled>(&e.body)) {
      out.push_back("C " + std::to_string(c->order.order_id.value()) + " " +
                    CancelReasonText(c->reason));
    } else if (const auto* x = std::get_if<OrderExpired>(&e.body)) {
      out.push_back("E " + std::to_string(x->order.order_id.value()));
    } else if (const auto* r = std::get_if<OrderReplaced>(&e.body)) {
      out.push_back("R " + std::to_string(r->order.order_id.value()) + " " +
                    (r->priority_kept ? "1" : "0"));
    } else if (std::holds_alternative<CancelRejected>(e.body)) {
      out.push_back("X");
    } else if (std::holds_alternative<OrderRejected>(e.body)) {
      out.push_back("REJECTED " + FormatEvent(e));
    }
  }
  return out;
}

// Generates random commands and applies each to the reference books,
// producing the expected outcomes.
class Driver {
 public:
  explicit Driver(std::uint64_t seed) : rng_(seed) {
    for (std::uint32_t i : kInstruments) {
      refs_.emplace(i, std::make_unique<ReferenceBook>(&expected_));
    }
  }

  std::uint64_t Below(std::uint64_t n) { return rng_() % n; }

  // The next command; its expected outcomes are in expected().
  Command Next() {
    expected_.clear();
    Command cmd;
    cmd.header.seq = SequenceNumber{++seq_};
    cmd.header.time = Timestamp{static_cast<std::int64_t>(seq_)};
    cmd.header.broker = BrokerId{1};
    const std::uint32_t inst = kInstruments[Below(2)];
    const std::uint32_t acct = kAccounts[Below(3)];
    ReferenceBook& ref = *refs_.at(inst);
    const std::uint64_t r = Below(1000);
    std::vector<std::uint64_t> live = ref.LiveIds();
    if (r < 560 || live.empty()) {
      PlaceOrder p;
      p.cl_ord_id = ClientOrderId("o" + std::to_string(next_id_));
      p.account = AccountId{acct};
      p.instrument = InstrumentId{inst};
      p.side = Below(2) == 0 ? Side::kBuy : Side::kSell;
      p.qty = Quantity{static_cast<std::int64_t>(1 + Below(40))};
      const std::uint64_t t = Below(100);
      ReferenceBook::Tif tif = ReferenceBook::Tif::kDay;
      if (t < 40) {
        p.tif = TimeInForce::kDay;
      } else if (t < 80) {
        p.tif = TimeInForce::kGtc;
        tif = ReferenceBook::Tif::kGtc;
      } else if (t < 90) {
        p.tif = TimeInForce::kIoc;
        tif = ReferenceBook::Tif::kIoc;
      } else {
        p.tif = TimeInForce::kFok;
        tif = ReferenceBook::Tif::kFok;
      }
      std::optional<std::int64_t> px;
      if (Below(100) < 10) {
        p.type = OrderType::kMarket;
      } else {
        // Buyers centred a little below sellers so books build up and
        // cross now and then.
        const std::int64_t base = p.side == Side::kBuy ? 97 : 103;
        px = base + static_cast<std::int64_t>(Below(13)) - 6;
        p.price = Price{*px};
      }
      ref.Place(next_id_, acct, p.side == Side::kBuy, px, p.qty.value(), tif);
      ++next_id_;
      cmd.body = p;
    } else if (r < 760) {
      // Cancel a live order (sometimes a dead or unknown one).
      std::uint64_t id = live[Below(live.size())];
      if (Below(10) == 0) id = 1 + Below(next_id_ + 5);
      const ReferenceBook::Order* o = FindAny(id);
      CancelOrder c;
      c.order_id = OrderId{id};
      if (o != nullptr) {
        c.account = AccountId{o->owner};
        c.instrument = InstrumentId{InstrumentOf(id)};
        c.side = o->buy ? Side::kBuy : Side::kSell;
        refs_.at(InstrumentOf(id))->Cancel(id);
      } else {
        c.account = AccountId{acct};
        c.instrument = InstrumentId{inst};
        expected_.push_back("X");
      }
      cmd.body = c;
    } else if (r < 970) {
      const std::uint64_t id = live[Below(live.size())];
      const ReferenceBook::Order* o = ref.Find(id);
      ReplaceOrder c;
      c.order_id = OrderId{id};
      c.cl_ord_id = ClientOrderId("r" + std::to_string(seq_));
      c.account = AccountId{o->owner};
      c.instrument = InstrumentId{inst};
      c.side = o->buy ? Side::kBuy : Side::kSell;
      std::int64_t px = o->price;
      std::int64_t qty = o->qty;
      switch (Below(4)) {
        case 0:  // lower the quantity (maybe to or below the filled part)
          qty = std::max<std::int64_t>(
              1, qty - 1 -
                     static_cast<std::int64_t>(
                         Below(static_cast<std::uint64_t>(qty))));
          break;
        case 1:  // raise it
          qty += 1 + static_cast<std::int64_t>(Below(10));
          break;
        case 2:  // move the price (may cross)
          px = std::max<std::int64_t>(
              1, px + static_cast<std::int64_t>(Below(9)) - 4);
          break;
        default:  // same price and quantity
          break;
      }
      c.price = Price{px};
      c.qty = Quantity{qty};
      if (!ref.Replace(id, px, qty)) expected_.push_back("X");
      cmd.body = c;
    } else if (r < 990) {
      MassCancel m;
      m.scope = MassCancelScope::kAccount;
      m.account = AccountId{acct};
      std::vector<std::uint64_t> ids;
      for (auto& [i, book] : refs_) {
        for (std::uint64_t id : book->LiveIds()) {
          if (book->Find(id)->owner == acct) ids.push_back(id);
        }
      }
      std::sort(ids.begin(), ids.end());
      for (std::uint64_t id : ids) {
        refs_.at(InstrumentOf(id))->Cancel(id, "mass_cancel");
      }
      cmd.body = m;
    } else {
      std::vector<std::uint64_t> ids;
      for (auto& [i, book] : refs_) {
        for (std::uint64_t id : book->LiveIds()) {
          if (book->Find(id)->tif == ReferenceBook::Tif::kDay)
            ids.push_back(id);
        }
      }
      std::sort(ids.begin(), ids.end());
      for (std::uint64_t id : ids) refs_.at(InstrumentOf(id))->Expire(id);
      cmd.body = ExpireDayOrders{};
    }
    return cmd;
  }

  const std::vector<std::string>& expected() const { return expected_; }
  ReferenceBook& ref(std::uint32_t inst) { return *refs_.at(inst); }

 private:
  std::uint32_t InstrumentOf(std::uint64_t id) const {
    for (const auto& [i, book] : refs_) {
      if (book->Find(id) != nullptr) return i;
    }
    return 0;
  }
  const ReferenceBook::Order* FindAny(std::uint64_t id) const {
    for (const auto& [i, book] : refs_) {
      if (const auto* o = book->Find(id)) return o;
    }
    return nullptr;
  }

  std::mt19937_64 rng_;
  std::map<std::uint32_t, std::unique_ptr<ReferenceBook>> refs_;
  std::vector<std::string> expected_;
  std::uint64_t next_id_ = 1;
  std::uint64_t seq_ = 0;
};

// The level events a command should emit: the depth difference.
std::vector<std::string> DepthDiff(
    const std::map<std::uint32_t, DepthSnapshot>& before,
    const std::map<std::uint32_t, DepthSnapshot>& after) {
  std::vector<std::string> out;
  for (const auto& [inst, b] : before) {
    const DepthSnapshot& a = after.at(inst);
    for (Side side : {Side::kBuy, Side::kSell}) {
      const auto& bl = side == Side::kBuy ? b.bids : b.asks;
      const auto& al = side == Side::kBuy ? a.bids : a.asks;
      std::map<std::int64_t, std::pair<std::int64_t, std::uint32_t>> bm;
      std::map<std::int64_t, std::pair<std::int64_t, std::uint32_t>> am;
      for (const auto& l : bl)
        bm[l.price.value()] = {l.total_qty.value(), l.order_count};
      for (const auto& l : al)
        am[l.price.value()] = {l.total_qty.value(), l.order_count};
      std::vector<std::int64_t> prices;
      for (const auto& [p, v] : bm) prices.push_back(p);
      for (const auto& [p, v] : am) {
        if (bm.count(p) == 0) prices.push_back(p);
      }
      std::sort(prices.begin(), prices.end());
      if (side == Side::kBuy) std::reverse(prices.begin(), prices.end());
      for (std::int64_t p : prices) {
        const auto bv =
            bm.count(p) ? bm[p] : std::pair<std::int64_t, std::uint32_t>{0, 0};
        const auto av =
            am.count(p) ? am[p] : std::pair<std::int64_t, std::uint32_t>{0, 0};
        if (bv == av) continue;
        out.push_back("level inst=" + std::to_string(inst) +
                      " side=" + (side == Side::kBuy ? "buy" : "sell") +
                      " px=" + std::to_string(p) +
                      " qty=" + std::to_string(av.first) +
                      " count=" + std::to_string(av.second));
      }
    }
  }
  return out;
}

std::map<std::uint32_t, DepthSnapshot> AllDepth(const Engine& engine) {
  std::map<std::uint32_t, DepthSnapshot> out;
  for (std::uint32_t i : kInstruments) {
    out[i] = engine.Depth(InstrumentId{i}, 100000);
  }
  return out;
}

void CompareBooks(const Engine& engine, Driver& driver) {
  for (std::uint32_t inst : kInstruments) {
    ReferenceBook& ref = driver.ref(inst);
    std::map<std::pair<bool, std::int64_t>,
             std::pair<std::int64_t, std::uint32_t>>
        want;
    for (const auto& [id, buy, px, open] : ref.Resting()) {
      auto& lv = want[{buy, px}];
      lv.first += open;
      lv.second += 1;
      const auto view = engine.FindOrder(OrderId{id});
      INFO("order " << id);
      REQUIRE(view.has_value());
      REQUIRE(view->leaves_qty.value() == open);
      REQUIRE(view->price->value() == px);
    }
    const DepthSnapshot d = engine.Depth(InstrumentId{inst}, 100000);
    std::map<std::pair<bool, std::int64_t>,
             std::pair<std::int64_t, std::uint32_t>>
        got;
    for (const auto& l : d.bids)
      got[{true, l.price.value()}] = {l.total_qty.value(), l.order_count};
    for (const auto& l : d.asks)
      got[{false, l.price.value()}] = {l.total_qty.value(), l.order_count};
    REQUIRE(got == want);
  }
}

TEST_CASE("Engine agrees with the reference book on random commands",
          "[engine][random]") {
  const std::uint64_t seed = SeedFromEnv(20261126);
  std::cout << "engine random test seed " << seed
            << " (set CARBONEX_SEED to rerun)\n";
  EngineOptions options;
  options.expected_orders = 4096;
  RecordingSink sink;
  auto engine =
      std::move(Engine::Create(options, RandomState(), &sink).value());
  Driver driver(seed);
  std::map<std::string, int> seen;  // outcome kinds, to show coverage
  constexpr int kSteps = 20000;
  for (int step = 0; step < kSteps; ++step) {
    const Command cmd = driver.Next();
    const auto before = AllDepth(*engine);
    sink.events.clear();
    sink.lines.clear();
    engine->Execute(cmd);
    INFO("seed " << seed << " step " << step);
    const Status inv = engine->CheckInvariants();
    INFO("invariant: " << inv.message());
    REQUIRE(inv.ok());
    REQUIRE(Outcomes(sink.events) == driver.expected());
    for (const std::string& o : driver.expected()) {
      const auto space = o.rfind(' ');
      ++seen[o[0] == 'C' || o[0] == 'R' ? o.substr(0, 1) + o.substr(space)
                                        : o.substr(0, 1)];
    }
    std::vector<std::string> levels;
    for (const std::string& l : sink.lines) {
      if (l.rfind("level ", 0) == 0)
        levels.push_back(l.substr(0, l.find(" seq=")));
    }
    REQUIRE(levels == DepthDiff(before, AllDepth(*engine)));
    if (step % 500 == 0) CompareBooks(*engine, driver);
  }
  CompareBooks(*engine, driver);
  for (const auto& [kind, n] : seen)
    std::cout << "  " << kind << ": " << n << "\n";
  // The sequence must have exercised every path it is meant to compare.
  for (const char* kind :
       {"F", "E", "X", "C requested", "C mass_cancel", "C ioc", "C fok",
        "C self_trade", "C market_no_liquidity", "R 0", "R 1"}) {
    INFO(kind);
    CHECK(seen[kind] > 0);
  }
}

TEST_CASE(
    "OrderBook agrees with the reference book on random adds and "
    "cancels",
    "[order_book][random]") {
  const std::uint64_t seed = SeedFromEnv(777);
  std::cout << "order book random test seed " << seed << "\n";
  std::mt19937_64 rng(seed);
  OrderBook book(64);  // small: forces pool growth
  std::vector<std::string> expected;
  ReferenceBook ref(&expected);
  std::uint64_t next_id = 1;
  for (int step = 0; step < 20000; ++step) {
    expected.clear();
    std::vector<std::string> got;
    const auto live = ref.LiveIds();
    if (rng() % 100 < 70 || live.empty()) {
      const bool buy = rng() % 2 == 0;
      const std::int64_t px =
          (buy ? 98 : 102) + static_cast<std::int64_t>(rng() % 11) - 5;
      const std::int64_t qty = 1 + static_cast<std::int64_t>(rng() % 50);
      const std::uint64_t id = next_id++;
      // Distinct owners: no self-trade prevention on AddLimit.
      ref.Place(id, static_cast<std::uint32_t>(id), buy, px, qty,
                ReferenceBook::Tif::kGtc);
      REQUIRE(book.AddLimit(OrderId{id}, buy ? Side::kBuy : Side::kSell,
                            Price{px}, Quantity{qty}, [&](const BookFill& f) {
                              got.push_back(
                                  "F " + std::to_string(f.taker.value()) + " " +
                                  std::to_string(f.maker.value()) + " " +
                                  std::to_string(f.price.value()) + " " +
                                  std::to_string(f.qty.value()));
                            }));
    } else {
      const std::uint64_t id = live[rng() % live.size()];
      ref.Cancel(id);
      REQUIRE(book.Cancel(OrderId{id}));
      got.push_back("C " + std::to_string(id) + " requested");
    }
    INFO("seed " << seed << " step " << step);
    REQUIRE(got == expected);
    REQUIRE(book.CheckInvariants().empty());
  }
  std::vector<std::tuple<std::uint64_t, bool, std::int64_t, std::int64_t>>
      resting;
  book.ForEachResting([&](OrderId id, Side side, Price px, Quantity open) {
    resting.emplace_back(id.value(), side == Side::kBuy, px.value(),
                         open.value());
  });
  CHECK(resting == ref.Resting());
}

// ---- Determinism and snapshots ----------------------------------------------

std::vector<Command> RandomCommands(std::uint64_t seed, int n) {
  Driver driver(seed);
  std::vector<Command> out;
  for (int i = 0; i < n; ++i) out.push_back(driver.Next());
  return out;
}

std::string Run(Engine& engine, RecordingSink& sink,
                const std::vector<Command>& cmds, std::size_t from,
                std::size_t to) {
  sink.lines.clear();
  for (std::size_t i = from; i < to; ++i) engine.Execute(cmds[i]);
  std::string bytes;
  for (const std::string& l : sink.lines) bytes += l + "\n";
  return bytes;
}

TEST_CASE("The same commands give byte-identical events and state hash",
          "[engine][determinism]") {
  const std::uint64_t seed = SeedFromEnv(4242);
  std::cout << "determinism test seed " << seed << "\n";
  const auto cmds = RandomCommands(seed, 5000);
  EngineOptions options;
  options.expected_orders = 256;  // different growth history, same result
  RecordingSink s1;
  RecordingSink s2;
  auto e1 =
      std::move(Engine::Create(EngineOptions{}, RandomState(), &s1).value());
  auto e2 = std::move(Engine::Create(options, RandomState(), &s2).value());
  const std::string a = Run(*e1, s1, cmds, 0, cmds.size());
  const std::string b = Run(*e2, s2, cmds, 0, cmds.size());
  CHECK(a.size() > 100000);
  CHECK(a == b);
  CHECK(e1->StateHash() == e2->StateHash());
  CHECK(e1->SaveSnapshot() == e2->SaveSnapshot());
  // The hash does depend on the state.
  RecordingSink s3;
  auto e3 =
      std::move(Engine::Create(EngineOptions{}, RandomState(), &s3).value());
  Run(*e3, s3, cmds, 0, cmds.size() - 1);
  CHECK(e3->StateHash() != e1->StateHash());
}

TEST_CASE("Snapshot then replay equals straight execution",
          "[engine][snapshot]") {
  const std::uint64_t seed = SeedFromEnv(99);
  std::cout << "snapshot test seed " << seed << "\n";
  const auto cmds = RandomCommands(seed, 4000);
  EngineOptions options;
  options.expected_orders = 1024;
  for (std::size_t cut :
       {std::size_t{0}, std::size_t{1234}, std::size_t{3999}}) {
    RecordingSink straight_sink;
    auto straight = std::move(
        Engine::Create(options, RandomState(), &straight_sink).value());
    Run(*straight, straight_sink, cmds, 0, cut);
    const std::uint64_t hash_at_cut = straight->StateHash();
    const std::vector<std::uint8_t> snap = straight->SaveSnapshot();
    const std::string rest =
        Run(*straight, straight_sink, cmds, cut, cmds.size());

    RecordingSink restored_sink;
    auto loaded = Engine::LoadSnapshot(options, snap, &restored_sink);
    REQUIRE(loaded.ok());
    auto& restored = *loaded.value();
    CHECK(restored.StateHash() == hash_at_cut);
    CHECK(restored.SaveSnapshot() == snap);
    REQUIRE(restored.CheckInvariants().ok());
    CHECK(Run(restored, restored_sink, cmds, cut, cmds.size()) == rest);
    CHECK(restored.StateHash() == straight->StateHash());
  }
}

TEST_CASE("A damaged snapshot is refused", "[engine][snapshot]") {
  const auto cmds = RandomCommands(5, 500);
  RecordingSink sink;
  EngineOptions options;
  options.expected_orders = 256;
  auto engine =
      std::move(Engine::Create(options, RandomState(), &sink).value());
  Run(*engine, sink, cmds, 0, cmds.size());
  const std::vector<std::uint8_t> good = engine->SaveSnapshot();
  REQUIRE(Engine::LoadSnapshot(options, good, &sink).ok());
  auto refused = [&](std::vector<std::uint8_t> bytes) {
    auto r = Engine::LoadSnapshot(options, bytes, &sink);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
  };
  refused({});
  refused({good.begin(), good.begin() + 20});
  std::vector<std::uint8_t> flipped = good;
  flipped[good.size() / 2] ^= 0x40;
  refused(flipped);
  std::vector<std::uint8_t> longer = good;
  longer.push_back(0);
  refused(longer);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200; ++i) {
    std::vector<std::uint8_t> junk = good;
    junk[rng() % junk.size()] = static_cast<std::uint8_t>(rng());
    auto r = Engine::LoadSnapshot(options, junk, &sink);
    if (junk != good) CHECK_FALSE(r.ok());
  }
}

}  // namespace
}  // namespace carbonex::engine::testing
