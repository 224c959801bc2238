// Engine contract tests: order types, time in force, replace rules, every
// reject and cancel reason, mass cancel, expiry, status, self-trade
// prevention, risk reservations and operator commands. Commands and events
// use the harness's text form (engine_harness.h); expected lines list the
// fields that matter, in emission order.
#include "carbonex/engine/engine.h"

#include <catch2/catch.hpp>
#include <initializer_list>
#include <string>
#include <vector>

#include "engine_harness.h"

namespace carbonex::engine::testing {
namespace {

EngineOptions NoMarketData() {
  EngineOptions o;
  o.expected_orders = 1024;
  o.emit_market_data = false;
  return o;
}

EngineOptions WithMarketData() {
  EngineOptions o;
  o.expected_orders = 1024;
  return o;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "  " + l + "\n";
  return out;
}

void Expect(const std::vector<std::string>& actual,
            std::initializer_list<std::string> expected) {
  INFO("actual events:\n" << Join(actual));
  REQUIRE(actual.size() == expected.size());
  std::size_t i = 0;
  for (const std::string& e : expected) {
    std::string why;
    INFO("event " << i << " expected: " << e);
    const bool ok = Matches(actual[i], e, &why);
    INFO(why);
    CHECK(ok);
    ++i;
  }
}

// ---- Limit orders and matching ------------------------------------------

TEST_CASE("A limit order rests, then trades at the maker's price", "[engine]") {
  Harness h(TestState(), NoMarketData());
  Expect(h.Run("place b=1 cl=S1 acct=10 side=sell px=100 qty=10 tif=gtc"),
         {"accepted id=1 cl=S1 status=new leaves=10 cum=0"});
  Expect(h.Run("place b=2 cl=B1 acct=12 side=buy px=105 qty=4"),
         {"accepted id=2 cl=B1 leaves=4",
          "trade trade=1 px=100 qty=4 buy=2 sell=1 buyer=12 seller=10 "
          "buy_b=2 sell_b=1 aggressor=buy",
          "filled id=1 maker=1 trade=1 last_px=100 last_qty=4 cum=4 leaves=6 "
          "status=partial notional=400",
          "filled id=2 maker=0 trade=1 last_px=100 last_qty=4 cum=4 leaves=0 "
          "status=filled notional=400"});
  CHECK(h.engine().RestingOrderCount() == 1);
  CHECK(h.engine().FindOrder(OrderId{1})->leaves_qty == Quantity{6});
}

TEST_CASE("An aggressive order sweeps levels in price-time order", "[engine]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place cl=S1 acct=10 side=sell px=101 qty=5");
  h.Run("place cl=S2 acct=11 side=sell px=100 qty=5");
  h.Run("place cl=S3 acct=10 side=sell px=100 qty=5");
  h.Run("place cl=S4 acct=11 side=sell px=103 qty=5");
  Expect(h.Run("place b=2 cl=B acct=12 side=buy px=102 qty=12"),
         {"accepted id=5", "trade trade=1 px=100 qty=5 sell=2",
          "filled id=2 status=filled", "filled id=5 cum=5 status=partial",
          "trade trade=2 px=100 qty=5 sell=3", "filled id=3 status=filled",
          "filled id=5 cum=10", "trade trade=3 px=101 qty=2 sell=1",
          "filled id=1 leaves=3 status=partial",
          "filled id=5 cum=12 leaves=0 status=filled notional=1202"});
  auto depth = h.engine().Depth(InstrumentId{1}, 10);
  REQUIRE(depth.asks.size() == 2);
  CHECK(depth.asks[0].price == Price{101});
  CHECK(depth.asks[0].total_qty == Quantity{3});
  CHECK(depth.bids.empty());
}

TEST_CASE("The remainder of a crossing limit order rests", "[engine]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place cl=S1 acct=10 side=sell px=100 qty=5");
  Expect(h.Run("place b=2 cl=B acct=12 side=buy px=100 qty=8 tif=gtc"),
         {"accepted id=2", "trade qty=5", "filled id=1 status=filled",
          "filled id=2 leaves=3 status=partial"});
  auto depth = h.engine().Depth(InstrumentId{1}, 10);
  REQUIRE(depth.bids.size() == 1);
  CHECK(depth.bids[0].total_qty == Quantity{3});
}

// ---- Time in force ---------------------------------------------------------

TEST_CASE("IOC fills what it can and cancels the rest", "[engine][tif]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place cl=S1 acct=10 side=sell px=100 qty=5");
  Expect(h.Run("place b=2 cl=I acct=12 side=buy px=100 qty=8 tif=ioc"),
         {"accepted id=2 tif=ioc", "trade qty=5", "filled id=1",
          "filled id=2 leaves=3",
          "canceled id=2 reason=ioc leaves=0 cum=5 status=canceled"});
  Expect(h.Run("place b=2 cl=I2 acct=12 side=buy px=100 qty=8 tif=ioc"),
         {"accepted id=3", "canceled id=3 reason=ioc cum=0"});
  CHECK(h.engine().RestingOrderCount() == 0);
}

TEST_CASE("FOK fills completely or not at all", "[engine][tif]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place cl=S1 acct=10 side=sell px=100 qty=5");
  h.Run("place cl=S2 acct=11 side=sell px=101 qty=5");
  Expect(h.Run("place b=2 cl=F1 acct=12 side=buy px=101 qty=11 tif=fok"),
         {"accepted id=3 tif=fok", "canceled id=3 reason=fok cum=0"});
  CHECK(h.engine().RestingOrderCount() == 2);
  Expect(h.Run("place b=2 cl=F2 acct=12 side=buy px=100 qty=6 tif=fok"),
         {"accepted id=4", "canceled id=4 reason=fok"});
  Expect(h.Run("place b=2 cl=F3 acct=12 side=buy px=101 qty=10 tif=fok"),
         {"accepted id=5", "trade px=100 qty=5", "filled id=1", "filled id=5",
          "trade px=101 qty=5", "filled id=2", "filled id=5 status=filled"});
  // FOK cash and units are released when it is killed.
  CHECK(h.engine().CashOf(AccountId{12}).reserved == Cash{0});
}

TEST_CASE("Day orders expire at the end of the day, GTC orders do not",
          "[engine][tif]") {
  Harness h(TestState(), WithMarketData());
  h.Run("place cl=D acct=10 side=buy px=90 qty=5 tif=day");
  h.Run("place cl=G acct=10 side=buy px=90 qty=7 tif=gtc");
  h.Run("place cl=D2 acct=11 side=sell px=110 qty=5");
  h.Run("place b=2 cl=X acct=12 side=sell px=90 qty=5 tif=ioc");  // fills D
  Expect(h.Run("expire"), {"expired id=3 cl=D2 status=expired leaves=0",
                           "level inst=1 side=sell px=110 qty=0 count=0"});
  CHECK(h.engine().RestingOrderCount() == 1);
  CHECK(h.engine().FindOrder(OrderId{2})->leaves_qty == Quantity{7});
  // Done orders of the day are forgotten at expiry.
  CHECK_FALSE(h.engine().FindOrder(OrderId{1}).has_value());
  CHECK_FALSE(h.engine().FindOrder(OrderId{3}).has_value());
  CHECK(h.engine().Position(AccountId{11}, InstrumentId{1}).reserved ==
        Quantity{0});
}

// ---- Market orders ---------------------------------------------------------

TEST_CASE("Market orders never rest", "[engine][market]") {
  Harness h(TestState(), NoMarketData());
  Expect(h.Run("place b=2 cl=M1 acct=12 side=buy type=market qty=5"),
         {"accepted id=1 type=market px=-",
          "canceled id=1 reason=market_no_liquidity"});
  h.Run("place cl=S1 acct=10 side=sell px=100 qty=3");
  Expect(
      h.Run("place b=2 cl=M2 acct=12 side=buy type=market qty=5 tif=gtc"),
      {"accepted id=3", "trade px=100 qty=3", "filled id=2",
       "filled id=3 cum=3", "canceled id=3 reason=market_no_liquidity cum=3"});
  h.Run("place b=2 cl=B1 acct=12 side=buy px=99 qty=4");
  Expect(h.Run("place cl=M3 acct=10 side=sell type=market qty=4"),
         {"accepted id=5 side=sell", "trade px=99 qty=4 aggressor=sell",
          "filled id=4 status=filled", "filled id=5 status=filled"});
  CHECK(h.engine().RestingOrderCount() == 0);
}

TEST_CASE("A market buy spends at most the free cash", "[engine][market]") {
  AccountState state = TestState();
  state.accounts[2].cash = Cash{1'000};  // account 12
  Harness h(state, NoMarketData());
  h.Run("place cl=S1 acct=10 side=sell px=100 qty=3");
  h.Run("place cl=S2 acct=11 side=sell px=150 qty=10");
  // 3 × 100 = 300, then 700 / 150 = 4 more (600); 100 tiyn left over.
  Expect(h.Run("place b=2 cl=M acct=12 side=buy type=market qty=20"),
         {"accepted id=3", "trade px=100 qty=3", "filled id=1",
          "filled id=3 cum=3", "trade px=150 qty=4", "filled id=2 leaves=6",
          "filled id=3 cum=7 notional=900",
          "canceled id=3 reason=market_cash_limit cum=7"});
  CHECK(h.engine().CashOf(AccountId{12}).held == Cash{100});
  CHECK(h.engine().CashOf(AccountId{12}).reserved == Cash{0});
  CHECK(h.engine().Position(AccountId{12}, InstrumentId{1}).held ==
        Quantity{1'000'007});
  // Cash too little for even one unit: cancelled with no trade.
  Expect(h.Run("place b=2 cl=M2 acct=12 side=buy type=market qty=1"),
         {"accepted id=4", "canceled id=4 reason=market_cash_limit cum=0"});
  // Reserved cash is not free: a limit buy ties it up.
  h.Run("adjust_cash acct=12 delta=-100");
  Expect(h.Run("place b=2 cl=M3 acct=12 side=buy type=market qty=1"),
         {"rejected cl=M3 reason=insufficient_cash"});
}

TEST_CASE("A market sell needs free units for its whole quantity",
          "[engine][market]") {
  AccountState state = TestState();
  state.holdings[0].units = Quantity{5};  // account 10, instrument 1
  Harness h(state, NoMarketData());
  Expect(h.Run("place cl=M acct=10 side=sell type=market qty=6"),
         {"rejected reason=insufficient_units"});
  h.Run("place b=2 cl=B acct=12 side=buy px=100 qty=10");
  Expect(h.Run("place cl=M2 acct=10 side=sell type=market qty=5"),
         {"accepted id=2", "trade qty=5", "filled id=1", "filled id=2"});
  CHECK(h.engine().Position(AccountId{10}, InstrumentId{1}).held ==
        Quantity{0});
}

// ---- Cancel ---------------------------------------------------------------

TEST_CASE("Cancel by ClOrdID or order id, rejects say why", "[engine]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place cl=A acct=10 side=buy px=100 qty=5");
  h.Run("place cl=B acct=10 side=buy px=100 qty=5");
  Expect(h.Run("cancel cl=C1 orig=A acct=10 side=buy"),
         {"canceled id=1 cl=A cancel_cl=C1 reason=requested status=canceled "
          "leaves=0"});
  Expect(h.Run("cancel cl=C2 id=2 acct=10 side=buy"),
         {"canceled id=2 cancel_cl=C2"});
  Expect(h.Run("cancel cl=C3 orig=A acct=10 side=buy"),
         {"cancel_rejected to=cancel reason=too_late_to_cancel known=1 "
          "ord_status=canceled"});
  Expect(h.Run("cancel cl=C4 orig=NOPE acct=10 side=buy"),
         {"cancel_rejected reason=unknown_order known=0"});
  h.Run("place cl=D acct=10 side=buy px=100 qty=5");
  Expect(h.Run("cancel cl=C5 orig=D acct=10 side=sell"),
         {"cancel_rejected reason=unknown_order known=0"});
  Expect(h.Run("cancel cl=C6 orig=D acct=11 side=buy"),
         {"cancel_rejected reason=unknown_order"});
  Expect(h.Run("cancel cl=C7 orig=D acct=10 inst=2 side=buy"),
         {"cancel_rejected reason=unknown_order"});
  // Another broker cannot address it, by ClOrdID or by order id.
  Expect(h.Run("cancel b=2 cl=C8 orig=D acct=10 side=buy"),
         {"cancel_rejected b=2 reason=unknown_order"});
  Expect(h.Run("cancel b=2 cl=C9 id=3 acct=10 side=buy"),
         {"cancel_rejected reason=unknown_order"});
  // The operator can, by order id.
  Expect(h.Run("cancel b=0 cl=OP id=3 acct=10 side=buy"),
         {"canceled id=3 cancel_cl=OP"});
  CHECK(h.engine().CashOf(AccountId{10}).reserved == Cash{0});
}

TEST_CASE("A ClOrdID freed by a replace or a done order can be used again",
          "[engine]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place cl=A acct=10 side=buy px=100 qty=5");
  Expect(h.Run("replace cl=A2 orig=A acct=10 side=buy px=100 qty=4"),
         {"replaced id=1 cl=A2 orig=A kept=1"});
  // A no longer addresses order 1, so a new order may take it.
  Expect(h.Run("place cl=A acct=10 side=buy px=99 qty=5"),
         {"accepted id=2 cl=A"});
  Expect(h.Run("cancel cl=C1 orig=A2 acct=10 side=buy"),
         {"canceled id=1 cl=A2 cancel_cl=C1"});
  // A2 belongs to a done order: a new order takes the key over, and the
  // ClOrdID then addresses the new order.
  Expect(h.Run("place cl=A2 acct=10 side=buy px=98 qty=5"),
         {"accepted id=3 cl=A2"});
  Expect(h.Run("cancel cl=C2 orig=A2 acct=10 side=buy"),
         {"canceled id=3 cl=A2 cancel_cl=C2"});
  Expect(h.Run("cancel cl=C3 orig=A acct=10 side=buy"),
         {"canceled id=2 cl=A cancel_cl=C3"});
  CHECK(h.engine().CheckInvariants().ok());
  // Expiry forgets the done orders and their keys.
  h.Run("expire");
  CHECK(h.engine().CheckInvariants().ok());
  Expect(h.Run("cancel cl=C4 orig=A2 acct=10 side=buy"),
         {"cancel_rejected reason=unknown_order known=0"});
  Expect(h.Run("place cl=A2 acct=10 side=buy px=98 qty=5"),
         {"accepted id=4 cl=A2"});
  CHECK(h.engine().CheckInvariants().ok());
}

TEST_CASE("A ClOrdID released by a replace addresses no done order",
          "[engine]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place cl=A acct=10 side=buy px=100 qty=5");
  h.Run("cancel cl=C1 orig=A acct=10 side=buy");  // order 1 done, holds A
  Expect(h.Run("query cl=A acct=10 side=buy"),
         {"status found=1 id=1 status=canceled"});
  // Order 2 takes A over from the done order 1, then gives it up.
  Expect(h.Run("place cl=A acct=10 side=buy px=99 qty=5"), {"accepted id=2"});
  Expect(h.Run("query cl=A acct=10 side=buy"), {"status found=1 id=2"});
  Expect(h.Run("replace cl=B orig=A acct=10 side=buy px=99 qty=4"),
         {"replaced id=2 cl=B orig=A"});
  // A now addresses nothing: neither order 2 nor the done order 1.
  Expect(h.Run("query cl=A acct=10 side=buy"), {"status found=0"});
  Expect(h.Run("cancel cl=C2 orig=A acct=10 side=buy"),
         {"cancel_rejected reason=unknown_order known=0"});
  // Both stay reachable by order id, and order 2 by its new ClOrdID, also
  // once done.
  Expect(h.Run("query cl=q id=1 acct=10 side=buy"),
         {"status found=1 id=1 cl=A status=canceled"});
  h.Run("cancel cl=C3 orig=B acct=10 side=buy");
  Expect(h.Run("cancel cl=C4 orig=B acct=10 side=buy"),
         {"cancel_rejected reason=too_late_to_cancel known=1 ord_id=2"});
  Expect(h.Run("replace cl=B2 orig=B acct=10 side=buy px=99 qty=4"),
         {"cancel_rejected to=replace reason=too_late_to_cancel ord_id=2"});
  REQUIRE(h.engine().FindOrder(OrderId{1}).has_value());
  CHECK(h.engine().FindOrder(OrderId{1})->status == OrderStatus::kCanceled);
  CHECK(h.engine().FindOrder(OrderId{2})->cl_ord_id == ClientOrderId("B"));
  CHECK_FALSE(h.engine().FindOrder(OrderId{3}).has_value());
  // A third order with A, done: A addresses it.
  h.Run("place cl=A acct=10 side=buy px=98 qty=1 tif=ioc");
  Expect(h.Run("query cl=A acct=10 side=buy"),
         {"status found=1 id=3 status=canceled"});
  // A restored snapshot answers the same.
  RecordingSink sink;
  auto restored =
      Engine::LoadSnapshot(NoMarketData(), h.engine().SaveSnapshot(), &sink);
  REQUIRE(restored.ok());
  CHECK((*restored)->StateHash() == h.engine().StateHash());
  std::string error;
  for (const char* line :
       {"query cl=A acct=10 side=buy", "query cl=B acct=10 side=buy",
        "query cl=q id=1 acct=10 side=buy"}) {
    auto cmd = ParseCommand(line, 100, &error);
    REQUIRE(cmd.has_value());
    h.sink().lines.clear();
    h.engine().Execute(*cmd);
    sink.lines.clear();
    (*restored)->Execute(*cmd);
    CHECK(sink.lines == h.sink().lines);
  }
}

TEST_CASE("A snapshot of done orders without ClOrdIDs loads",
          "[engine][snapshot]") {
  // 67 bytes per order and nothing in the books: the smallest snapshot per
  // order that the format allows.
  Harness h(TestState(), NoMarketData());
  for (int i = 0; i < 50; ++i) {
    h.Run("place b=0 acct=10 side=buy px=" + std::to_string(50 + i) +
          " qty=1 tif=ioc");
  }
  RecordingSink sink;
  auto restored =
      Engine::LoadSnapshot(NoMarketData(), h.engine().SaveSnapshot(), &sink);
  REQUIRE(restored.ok());
  CHECK((*restored)->StateHash() == h.engine().StateHash());
  CHECK((*restored)->FindOrder(OrderId{50})->status == OrderStatus::kCanceled);
}

// ---- Replace ----------------------------------------------------------------

TEST_CASE(
    "Lowering quantity keeps priority, raising it or moving the price "
    "loses it",
    "[engine][replace]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place cl=A acct=10 side=buy px=100 qty=10");
  h.Run("place cl=B acct=11 side=buy px=100 qty=10");
  Expect(h.Run("replace cl=A2 orig=A acct=10 side=buy px=100 qty=6"),
         {"replaced id=1 cl=A2 orig=A kept=1 qty=6 leaves=6 status=new"});
  Expect(h.Run("place b=2 cl=S acct=12 side=sell px=100 qty=1 tif=ioc"),
         {"accepted", "trade buy=1", "filled id=1", "filled id=3"});
  // Raising the quantity sends it behind B.
  Expect(h.Run("replace cl=A3 orig=A2 acct=10 side=buy px=100 qty=8"),
         {"replaced id=1 cl=A3 kept=0 qty=8 cum=1 leaves=7 status=partial"});
  Expect(h.Run("place b=2 cl=S2 acct=12 side=sell px=100 qty=1 tif=ioc"),
         {"accepted", "trade buy=2", "filled id=2", "filled id=4"});
  // A new price loses priority too (B moves behind nothing: alone at 99).
  Expect(h.Run("replace cl=B2 orig=B acct=11 side=buy px=99 qty=10"),
         {"replaced id=2 cl=B2 kept=0 px=99 leaves=9"});
  // The old ClOrdID no longer addresses the order.
  Expect(h.Run("cancel cl=X orig=B acct=11 side=buy"),
         {"cancel_rejected reason=unknown_order"});
  CHECK(h.engine().CashOf(AccountId{10}).reserved == Cash{700});
  CHECK(h.engine().CashOf(AccountId{11}).reserved == Cash{891});
}

TEST_CASE("A replace that crosses trades as an incoming order",
          "[engine][replace]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place cl=S acct=11 side=sell px=105 qty=4");
  h.Run("place cl=B acct=10 side=buy px=100 qty=10");
  Expect(h.Run("replace cl=B2 orig=B acct=10 side=buy px=106 qty=10"),
         {"replaced id=2 kept=0 px=106", "trade px=105 qty=4 buy=2 sell=1",
          "filled id=1", "filled id=2 cum=4 leaves=6"});
  auto depth = h.engine().Depth(InstrumentId{1}, 5);
  REQUIRE(depth.bids.size() == 1);
  CHECK(depth.bids[0].price == Price{106});
  // Reservation: 6 open at 106.
  CHECK(h.engine().CashOf(AccountId{10}).reserved == Cash{636});
}

TEST_CASE("Replace rejects", "[engine][replace]") {
  AccountState state = TestState();
  state.accounts[0].cash = Cash{2'000};  // account 10
  state.accounts[0].holding_limit = Quantity{1'000'020};
  state.holdings[0].units = Quantity{1'000'000};
  Harness h(state, NoMarketData());
  h.Run("place cl=A acct=10 side=buy px=100 qty=10");
  h.Run("place b=2 cl=S acct=12 side=sell px=100 qty=4 tif=ioc");  // fills 4
  Expect(h.Run("replace cl=A2 orig=A acct=10 side=buy px=100 qty=3"),
         {"cancel_rejected to=replace reason=replace_below_filled known=1 "
          "ord_cum=4"});
  Expect(h.Run("replace cl=A2 orig=A acct=10 side=buy px=101 qty=10"),
         {"replaced kept=0"});
  Expect(h.Run("replace cl=A3 orig=A2 acct=10 side=buy px=0 qty=10"),
         {"cancel_rejected reason=bad_price"});
  Expect(h.Run("replace cl=A3 orig=A2 acct=10 side=buy px=100 qty=0"),
         {"cancel_rejected reason=bad_quantity"});
  Expect(h.Run("replace cl=A3 orig=A2 acct=10 side=buy px=100 qty=2000000"),
         {"cancel_rejected reason=bad_quantity"});
  // Free cash: 2000 − 400 paid − 606 reserved = 994; 16 more at 101 = 1616.
  Expect(h.Run("replace cl=A3 orig=A2 acct=10 side=buy px=101 qty=26"),
         {"cancel_rejected reason=insufficient_cash"});
  // Holding limit: held 1,000,004 + 6 open + 11 more > 1,000,020.
  Expect(h.Run("replace cl=A3 orig=A2 acct=10 side=buy px=1 qty=21"),
         {"cancel_rejected reason=holding_limit"});
  h.Run("place cl=Z acct=10 side=buy px=1 qty=1");
  Expect(h.Run("replace cl=Z orig=A2 acct=10 side=buy px=101 qty=9"),
         {"cancel_rejected reason=duplicate_cl_ord_id"});
  h.Run("trading status=halted");
  Expect(h.Run("replace cl=A3 orig=A2 acct=10 side=buy px=101 qty=9"),
         {"cancel_rejected reason=market_closed"});
  h.Run("trading status=open");
  h.Run("place cl=M acct=10 side=sell type=market qty=1");
  Expect(h.Run("replace cl=M2 orig=M acct=10 side=sell px=101 qty=1"),
         {"cancel_rejected reason=replace_not_limit"});
  h.Run("cancel cl=CZ orig=Z acct=10 side=buy");
  Expect(h.Run("replace cl=Z2 orig=Z acct=10 side=buy px=2 qty=1"),
         {"cancel_rejected reason=too_late_to_cancel"});
  Expect(h.Run("replace cl=Q orig=NOPE acct=10 side=buy px=2 qty=1"),
         {"cancel_rejected reason=unknown_order known=0"});
}

TEST_CASE("A sell replace needs free units for added quantity",
          "[engine][replace]") {
  AccountState state = TestState();
  state.holdings[0].units = Quantity{10};
  Harness h(state, NoMarketData());
  h.Run("place cl=S acct=10 side=sell px=100 qty=8");
  Expect(h.Run("replace cl=S2 orig=S acct=10 side=sell px=100 qty=11"),
         {"cancel_rejected reason=insufficient_units"});
  Expect(h.Run("replace cl=S2 orig=S acct=10 side=sell px=100 qty=10"),
         {"replaced kept=0 leaves=10"});
  CHECK(h.engine().Position(AccountId{10}, InstrumentId{1}).reserved ==
        Quantity{10});
}

TEST_CASE("Replacing down to the filled quantity completes the order",
          "[engine][replace]") {
  Harness h(TestState(), WithMarketData());
  h.Run("place cl=A acct=10 side=buy px=100 qty=10");
  h.Run("place b=2 cl=S acct=12 side=sell px=100 qty=4 tif=ioc");
  Expect(h.Run("replace cl=A2 orig=A acct=10 side=buy px=100 qty=4"),
         {"replaced id=1 qty=4 cum=4 leaves=0 status=filled",
          "level side=buy px=100 qty=0 count=0"});
  CHECK(h.engine().RestingOrderCount() == 0);
  CHECK(h.engine().CashOf(AccountId{10}).reserved == Cash{0});
}

// ---- Rejects of PlaceOrder
// ---------------------------------------------------

TEST_CASE("Every PlaceOrder reject reason", "[engine][reject]") {
  AccountState state = TestState(1'000, 10);
  state.accounts[1].holding_limit = Quantity{15};  // account 11
  state.instruments[1].tick = Price{5};            // instrument 2
  state.instruments[1].max_order_qty = Quantity{100};
  Harness h(state, NoMarketData());
  auto reject = [&](const std::string& cmd, const std::string& reason) {
    Expect(h.Run(cmd), {"rejected reason=" + reason});
  };
  reject("place cl=A acct=10 inst=9 side=buy px=1 qty=1", "unknown_instrument");
  reject("place cl=A acct=99 side=buy px=1 qty=1", "unknown_account");
  reject("place cl=A acct=12 side=buy px=1 qty=1", "unauthorised_account");
  reject("place cl=A acct=10 side=sell px=1 qty=11", "insufficient_units");
  reject("place cl=A acct=10 side=buy px=101 qty=10", "insufficient_cash");
  reject("place cl=A acct=11 side=buy px=1 qty=6", "holding_limit");
  reject("place cl=A acct=10 side=buy qty=1", "bad_price");
  reject("place cl=A acct=10 side=buy px=0 qty=1", "bad_price");
  reject("place cl=A acct=10 side=buy px=-5 qty=1", "bad_price");
  reject("place cl=A acct=10 inst=2 side=buy px=7 qty=1", "bad_price");
  reject("place cl=A acct=10 side=buy type=market px=5 qty=1", "bad_price");
  reject("place cl=A acct=10 side=buy px=1 qty=0", "bad_quantity");
  reject("place cl=A acct=10 side=buy px=1 qty=-1", "bad_quantity");
  reject("place cl=A acct=10 inst=2 side=buy px=5 qty=101", "bad_quantity");
  reject("place cl=A acct=10 side=bad px=1 qty=1", "bad_command");
  // Prices above 2^40 tiyn, and price × quantity beyond int64, are refused.
  reject("place cl=A acct=10 side=buy px=1099511627777 qty=1", "bad_price");
  h.Run("add_instrument inst=3 max=2000000000");
  reject("place cl=A acct=10 inst=3 side=buy px=1099511627776 qty=2000000000",
         "bad_price");
  h.Run("place cl=A acct=10 side=buy px=1 qty=1");
  reject("place cl=A acct=10 side=buy px=1 qty=1", "duplicate_cl_ord_id");
  // Another broker may use the same ClOrdID.
  Expect(h.Run("place b=2 cl=A acct=11 side=buy px=1 qty=1"), {"accepted"});
  h.Run("trading inst=2 status=halted");
  reject("place cl=H acct=10 inst=2 side=buy px=5 qty=1", "market_closed");
  // A ClOrdID is free again once its order is done.
  h.Run("cancel cl=C orig=A acct=10 side=buy");
  Expect(h.Run("place cl=A acct=10 side=buy px=1 qty=1"), {"accepted id=3"});
  // The operator needs no entitlement.
  Expect(h.Run("place b=0 cl=O acct=12 side=buy px=1 qty=1"), {"accepted b=0"});
  // A reject changes nothing.
  CHECK(h.engine().CashOf(AccountId{10}).reserved == Cash{1});
}

// ---- Self-trade prevention
// ---------------------------------------------------

TEST_CASE("Self-trade prevention cancels the incoming remainder",
          "[engine][stp]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place b=2 cl=S1 acct=12 side=sell px=100 qty=5");
  h.Run("place cl=S2 acct=10 side=sell px=100 qty=5");
  h.Run("place b=2 cl=S3 acct=12 side=sell px=100 qty=5");
  Expect(h.Run("place cl=B acct=10 side=buy px=100 qty=20 tif=gtc"),
         {"accepted id=4", "trade qty=5 sell=1", "filled id=1",
          "filled id=4 cum=5", "canceled id=4 reason=self_trade cum=5"});
  CHECK(h.engine().FindOrder(OrderId{2})->leaves_qty == Quantity{5});
  CHECK(h.engine().FindOrder(OrderId{3})->leaves_qty == Quantity{5});
  // FOK that would meet its own order is killed without trading.
  Expect(h.Run("place cl=F acct=10 side=buy px=100 qty=6 tif=fok"),
         {"accepted id=5", "canceled id=5 reason=fok"});
  // Market order stopped by its own order.
  Expect(h.Run("place cl=M acct=10 side=buy type=market qty=1"),
         {"accepted id=6", "canceled id=6 reason=self_trade"});
}

// ---- Mass cancel and status
// --------------------------------------------------

TEST_CASE("Mass cancel by broker, instrument and account", "[engine][mass]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place cl=1 acct=10 inst=1 side=buy px=10 qty=1 tif=gtc");
  h.Run("place cl=2 acct=11 inst=2 side=buy px=10 qty=1");
  h.Run("place cl=3 acct=10 inst=2 side=sell px=20 qty=1");
  h.Run("place b=2 cl=4 acct=11 inst=1 side=buy px=10 qty=1");
  h.Run("place b=2 cl=5 acct=12 inst=1 side=buy px=10 qty=1");
  Expect(h.Run("mass b=2 cl=M1 scope=instrument"),
         {"mass_cancel affected=0 reject=bad_command"});
  Expect(h.Run("mass b=2 cl=M1 scope=instrument inst=7"),
         {"mass_cancel reject=unknown_instrument"});
  Expect(h.Run("mass b=2 cl=M1 scope=account"),
         {"mass_cancel reject=bad_command"});
  Expect(h.Run("mass b=2 cl=M1 scope=account acct=10"),
         {"mass_cancel reject=unauthorised_account"});
  Expect(h.Run("mass b=2 cl=M1 scope=account acct=77"),
         {"mass_cancel reject=unknown_account"});
  // Broker 1, instrument 2: orders 2 and 3.
  Expect(h.Run("mass cl=M2 scope=instrument inst=2"),
         {"canceled id=2 reason=mass_cancel cancel_cl=M2",
          "canceled id=3 reason=mass_cancel",
          "mass_cancel b=1 scope=instrument inst=2 affected=2 reject=-"});
  // Broker 2's account 11 orders only.
  Expect(h.Run("mass b=2 cl=M3 scope=account acct=11"),
         {"canceled id=4", "mass_cancel affected=1"});
  // Day orders only (cancel-on-disconnect): GTC order 1 stays.
  Expect(h.Run("mass cl=M4 scope=broker day_only=1"),
         {"mass_cancel affected=0"});
  Expect(h.Run("mass b=2 cl=M5 scope=broker"),
         {"canceled id=5", "mass_cancel affected=1"});
  // The operator's broker-wide mass cancel reaches everyone.
  Expect(h.Run("mass b=0 cl=M6 scope=broker"),
         {"canceled id=1", "mass_cancel b=0 affected=1"});
  CHECK(h.engine().RestingOrderCount() == 0);
}

TEST_CASE("Order status for live, done and unknown orders",
          "[engine][status]") {
  Harness h(TestState(), NoMarketData());
  h.Run("place cl=A acct=10 side=buy px=100 qty=10 tif=gtc");
  h.Run("place b=2 cl=S acct=12 side=sell px=100 qty=3");
  Expect(h.Run("query cl=A acct=10 side=buy"),
         {"status req=A found=1 id=1 cum=3 leaves=7 status=partial"});
  Expect(h.Run("query b=2 cl=S acct=12 side=sell"),
         {"status found=1 id=2 status=filled"});
  Expect(h.Run("query cl=A acct=10 side=sell"), {"status found=0"});
  Expect(h.Run("query cl=NOPE acct=10 side=buy"), {"status found=0"});
  Expect(h.Run("query b=2 cl=A acct=10 side=buy"), {"status found=0"});
  Expect(h.Run("query cl=x id=1 acct=10 side=buy"), {"status found=1 id=1"});
  h.Run("expire");
  Expect(h.Run("query b=2 cl=S acct=12 side=sell"), {"status found=0"});
  Expect(h.Run("query cl=A acct=10 side=buy"), {"status found=1 leaves=7"});
}

// ---- Risk
// --------------------------------------------------------------------

TEST_CASE("Reservations follow orders, trades settle at the trade price",
          "[engine][risk]") {
  AccountState state = TestState(100'000, 50);
  Harness h(state, NoMarketData());
  h.Run("place cl=B acct=10 side=buy px=120 qty=10");
  CHECK(h.engine().CashOf(AccountId{10}).reserved == Cash{1'200});
  CHECK(h.engine().Position(AccountId{10}, InstrumentId{1}).pending_buys ==
        Quantity{10});
  h.Run("place b=2 cl=S acct=12 side=sell px=130 qty=20");
  CHECK(h.engine().Position(AccountId{12}, InstrumentId{1}).reserved ==
        Quantity{20});
  // Buyer 11 takes 6 at 130 with a limit of 140: pays 780, reservation of
  // 840 is released.
  h.Run("place cl=T acct=11 side=buy px=140 qty=6 tif=ioc");
  CHECK(h.engine().CashOf(AccountId{11}).held == Cash{100'000 - 780});
  CHECK(h.engine().CashOf(AccountId{11}).reserved == Cash{0});
  CHECK(h.engine().Position(AccountId{11}, InstrumentId{1}).held ==
        Quantity{56});
  CHECK(h.engine().CashOf(AccountId{12}).held == Cash{100'780});
  CHECK(h.engine().Position(AccountId{12}, InstrumentId{1}).held ==
        Quantity{44});
  CHECK(h.engine().Position(AccountId{12}, InstrumentId{1}).reserved ==
        Quantity{14});
  // Seller 12 hits resting bid 10 at 120: buyer pays exactly its limit.
  h.Run("place b=2 cl=S2 acct=12 side=sell px=120 qty=4 tif=ioc");
  CHECK(h.engine().CashOf(AccountId{10}).held == Cash{100'000 - 480});
  CHECK(h.engine().CashOf(AccountId{10}).reserved == Cash{720});
  CHECK(h.engine().Position(AccountId{10}, InstrumentId{1}).pending_buys ==
        Quantity{6});
  h.Run("cancel cl=C orig=B acct=10 side=buy");
  CHECK(h.engine().CashOf(AccountId{10}).reserved == Cash{0});
  CHECK(h.engine().Position(AccountId{10}, InstrumentId{1}).pending_buys ==
        Quantity{0});
  // Reserved units are not free: 40 held, 14 reserved → 26 free.
  Expect(h.Run("place b=2 cl=S3 acct=12 side=sell px=200 qty=27"),
         {"rejected reason=insufficient_units"});
  Expect(h.Run("place b=2 cl=S4 acct=12 side=sell px=200 qty=26"),
         {"accepted"});
}

TEST_CASE("The holding limit counts held units and open buys",
          "[engine][risk]") {
  AccountState state = TestState(1'000'000, 10);
  state.accounts[0].holding_limit = Quantity{30};  // account 10
  Harness h(state, NoMarketData());
  h.Run("place cl=A acct=10 side=buy px=1 qty=15");
  Expect(h.Run("place cl=B acct=10 side=buy px=1 qty=6"),
         {"rejected reason=holding_limit"});
  Expect(h.Run("place cl=B acct=10 side=buy px=1 qty=5"), {"accepted"});
  Expect(h.Run("place cl=C acct=10 side=buy type=market qty=1"),
         {"rejected reason=holding_limit"});
  // Selling does not count against it.
  Expect(h.Run("place cl=D acct=10 side=sell px=5 qty=10"), {"accepted"});
}

// ---- Operator commands
// --------------------------------------------------------

TEST_CASE("Operator commands", "[engine][operator]") {
  Harness h(TestState(1'000, 10), NoMarketData());
  h.Run("place cl=S acct=10 side=sell px=200 qty=8");
  h.Run("place cl=B acct=10 side=buy px=100 qty=9");  // reserves 900
  Expect(h.Run("adjust_units acct=10 inst=1 delta=-3"),
         {"op_rejected reason=insufficient_units"});
  Expect(h.Run("adjust_units acct=10 inst=1 delta=-2"), {"op_applied"});
  Expect(h.Run("adjust_units acct=10 inst=1 delta=5"), {"op_applied"});
  CHECK(h.engine().Position(AccountId{10}, InstrumentId{1}).held ==
        Quantity{13});
  Expect(h.Run("adjust_units acct=99 inst=1 delta=5"),
         {"op_rejected reason=unknown_account"});
  Expect(h.Run("adjust_units acct=10 inst=9 delta=5"),
         {"op_rejected reason=unknown_instrument"});
  Expect(h.Run("adjust_cash acct=10 delta=-101"),
         {"op_rejected reason=insufficient_cash"});
  Expect(h.Run("adjust_cash acct=10 delta=-100"), {"op_applied"});
  CHECK(h.engine().CashOf(AccountId{10}).held == Cash{900});
  Expect(h.Run("adjust_cash acct=99 delta=1"),
         {"op_rejected reason=unknown_account"});
  Expect(h.Run("adjust_cash b=1 acct=10 delta=1"),
         {"op_rejected reason=unauthorised_account"});

  Expect(h.Run("add_instrument inst=1"), {"op_rejected reason=bad_command"});
  Expect(h.Run("add_instrument inst=3 tick=0"),
         {"op_rejected reason=bad_price"});
  Expect(h.Run("add_instrument inst=3 max=0"),
         {"op_rejected reason=bad_quantity"});
  Expect(h.Run("add_instrument inst=3 tick=10 max=50"), {"op_applied"});
  Expect(h.Run("add_account acct=10"), {"op_rejected reason=bad_command"});
  Expect(h.Run("add_account acct=20 limit=-1"),
         {"op_rejected reason=bad_quantity"});
  Expect(h.Run("add_account acct=20 limit=100"), {"op_applied"});
  Expect(h.Run("place cl=N acct=20 inst=3 side=buy px=10 qty=1"),
         {"rejected reason=unauthorised_account"});
  Expect(h.Run("entitle broker=1 acct=20"), {"op_applied"});
  Expect(h.Run("entitle broker=1 acct=21"),
         {"op_rejected reason=unknown_account"});
  Expect(h.Run("entitle broker=0 acct=20"), {"op_rejected reason=bad_command"});
  Expect(h.Run("place cl=N acct=20 inst=3 side=buy px=10 qty=1"),
         {"rejected reason=insufficient_cash"});
  h.Run("adjust_cash acct=20 delta=1000");
  h.Run("adjust_units acct=10 inst=3 delta=40");
  Expect(h.Run("place cl=N acct=20 inst=3 side=buy px=15 qty=1"),
         {"rejected reason=bad_price"});
  Expect(h.Run("place cl=N acct=20 inst=3 side=buy px=10 qty=51"),
         {"rejected reason=bad_quantity"});
  Expect(h.Run("place cl=N acct=20 inst=3 side=buy px=10 qty=50"),
         {"accepted"});
  Expect(h.Run("place cl=T acct=10 inst=3 side=sell px=10 qty=40"),
         {"accepted", "trade qty=40 buyer=20 seller=10", "filled", "filled"});
  Expect(h.Run("entitle broker=1 acct=20 on=0"), {"op_applied"});
  Expect(h.Run("place cl=N2 acct=20 inst=3 side=buy px=10 qty=1"),
         {"rejected reason=unauthorised_account"});
  Expect(h.Run("trading inst=3 status=halted"), {"op_applied"});
  Expect(h.Run("place cl=T2 acct=10 inst=3 side=sell px=10 qty=1"),
         {"rejected reason=market_closed"});
  Expect(h.Run("trading inst=9 status=open"),
         {"op_rejected reason=unknown_instrument"});
  // Cancels still work while halted.
  Expect(h.Run("cancel cl=CN orig=N acct=20 inst=3 side=buy"),
         {"canceled reason=requested"});
}

// ---- Market data
// ---------------------------------------------------------------

TEST_CASE("Level changes follow each command: bids then asks, best first",
          "[engine][market_data]") {
  Harness h(TestState(), WithMarketData());
  Expect(h.Run("place cl=A acct=10 side=buy px=100 qty=5"),
         {"accepted", "level inst=1 side=buy px=100 qty=5 count=1"});
  h.Run("place cl=B acct=10 side=buy px=99 qty=5");
  h.Run("place cl=S1 acct=11 side=sell px=102 qty=5");
  h.Run("place cl=S2 acct=11 side=sell px=103 qty=5");
  Expect(h.Run("place b=2 cl=X acct=12 side=buy px=102 qty=7"),
         {"accepted", "trade", "filled", "filled",
          "level side=buy px=102 qty=2 count=1",
          "level side=sell px=102 qty=0 count=0"});
  // Replacing to the same quantity and price changes nothing visible.
  Expect(h.Run("replace cl=A2 orig=A acct=10 side=buy px=100 qty=5"),
         {"replaced kept=1"});
  Expect(h.Run("mass cl=M scope=broker"),
         {"canceled id=1", "canceled id=2", "canceled id=4",
          "mass_cancel affected=3", "level inst=1 side=buy px=100 count=0",
          "level side=buy px=99 count=0", "level side=sell px=103 count=0"});
  const DepthSnapshot depth = h.engine().Depth(InstrumentId{1}, 10);
  REQUIRE(depth.bids.size() == 1);
  CHECK(depth.bids[0].price == Price{102});
  CHECK(depth.asks.empty());
}

// ---- Open-order limits
// -------------------------------------------------------

EngineOptions WithOpenOrderLimits(std::uint32_t per_account,
                                  std::uint32_t per_broker) {
  EngineOptions o = NoMarketData();
  o.max_open_orders_per_account = per_account;
  o.max_open_orders_per_broker = per_broker;
  return o;
}

TEST_CASE("Account open-order limit: limit-1, limit, limit+1, then freed",
          "[engine][limits]") {
  Harness h(TestState(), WithOpenOrderLimits(3, 0));
  Expect(h.Run("place cl=A1 acct=10 side=buy px=10 qty=1"), {"accepted id=1"});
  Expect(h.Run("place cl=A2 acct=10 side=buy px=11 qty=1"), {"accepted id=2"});
  // limit - 1 open: the third order reaches the limit and is accepted.
  Expect(h.Run("place cl=A3 acct=10 side=sell px=50 qty=2"), {"accepted id=3"});
  // At the limit: refused, whatever its kind, and nothing changes.
  const std::uint64_t hash = h.engine().StateHash();
  const CashView cash = h.engine().CashOf(AccountId{10});
  const PositionView pos = h.engine().Position(AccountId{10}, InstrumentId{1});
  Expect(h.Run("place cl=A4 acct=10 side=buy px=12 qty=1"),
         {"rejected cl=A4 acct=10 reason=open_order_limit"});
  Expect(h.Run("place cl=A5 acct=10 side=buy px=60 qty=1 tif=ioc"),
         {"rejected reason=open_order_limit"});
  Expect(h.Run("place cl=A6 acct=10 inst=2 side=sell px=5 qty=1"),
         {"rejected reason=open_order_limit"});
  CHECK(h.engine().StateHash() == hash);
  CHECK(h.engine().CashOf(AccountId{10}).reserved == cash.reserved);
  CHECK(h.engine().Position(AccountId{10}, InstrumentId{1}).reserved ==
        pos.reserved);
  CHECK(h.engine().RestingOrderCount() == 3);
  // Another account of the same broker is not limited by account 10's count.
  Expect(h.Run("place cl=B1 acct=11 side=buy px=10 qty=1"), {"accepted id=4"});
  // A cancel frees a place.
  Expect(h.Run("cancel cl=C1 orig=A1 acct=10 side=buy"), {"canceled id=1"});
  Expect(h.Run("place cl=A7 acct=10 side=buy px=12 qty=1"), {"accepted id=5"});
  Expect(h.Run("place cl=A8 acct=10 side=buy px=12 qty=1"),
         {"rejected reason=open_order_limit"});
  // A partial fill does not; a complete fill does.
  Expect(h.Run("place b=2 cl=T1 acct=12 side=buy px=50 qty=1"),
         {"accepted", "trade qty=1 sell=3", "filled id=3 leaves=1",
          "filled status=filled"});
  Expect(h.Run("place cl=A9 acct=10 side=buy px=12 qty=1"),
         {"rejected reason=open_order_limit"});
  Expect(h.Run("place b=2 cl=T2 acct=12 side=buy px=50 qty=1"),
         {"accepted", "trade qty=1 sell=3", "filled id=3 status=filled",
          "filled status=filled"});
  Expect(h.Run("place cl=A10 acct=10 side=buy px=12 qty=1"), {"accepted id=8"});
  // A replace is not a new order.
  Expect(h.Run("replace cl=A11 orig=A10 acct=10 side=buy px=13 qty=2"),
         {"replaced id=8"});
  // Expiry frees the Day orders' places.
  h.Run("expire");
  Expect(h.Run("place cl=A12 acct=10 side=buy px=12 qty=1"), {"accepted"});
}

TEST_CASE("An order that does not rest leaves no open order behind",
          "[engine][limits]") {
  Harness h(TestState(), WithOpenOrderLimits(1, 0));
  h.Run("place b=2 cl=S acct=12 side=sell px=100 qty=5 tif=gtc");
  Expect(h.Run("place cl=I acct=10 side=buy px=100 qty=2 tif=ioc"),
         {"accepted", "trade qty=2", "filled", "filled status=filled"});
  Expect(h.Run("place cl=J acct=10 side=buy px=99 qty=2 tif=ioc"),
         {"accepted", "canceled reason=ioc"});
  Expect(h.Run("place cl=K acct=10 side=buy px=99 qty=2"), {"accepted"});
  Expect(h.Run("place cl=L acct=10 side=buy px=99 qty=2 tif=ioc"),
         {"rejected reason=open_order_limit"});
}

TEST_CASE("Broker open-order limit: limit-1, limit, limit+1, then freed",
          "[engine][limits]") {
  Harness h(TestState(), WithOpenOrderLimits(0, 2));
  // Broker 1's orders count together across its accounts 10 and 11.
  Expect(h.Run("place cl=A acct=10 side=buy px=10 qty=1"), {"accepted id=1"});
  Expect(h.Run("place cl=B acct=11 side=buy px=10 qty=1"), {"accepted id=2"});
  const std::uint64_t hash = h.engine().StateHash();
  Expect(h.Run("place cl=C acct=10 side=buy px=10 qty=1"),
         {"rejected b=1 reason=open_order_limit"});
  Expect(h.Run("place cl=D acct=11 inst=2 side=sell px=10 qty=1"),
         {"rejected reason=open_order_limit"});
  CHECK(h.engine().StateHash() == hash);
  // Broker 2 has its own count, even on the shared account 11.
  Expect(h.Run("place b=2 cl=A acct=11 side=sell px=20 qty=1"),
         {"accepted id=3"});
  Expect(h.Run("place b=2 cl=B acct=12 side=sell px=21 qty=1"),
         {"accepted id=4"});
  Expect(h.Run("place b=2 cl=C acct=12 side=sell px=22 qty=1"),
         {"rejected b=2 reason=open_order_limit"});
  // The operator is not a broker: only account limits apply to it.
  Expect(h.Run("place b=0 cl=O acct=10 side=buy px=5 qty=1"), {"accepted b=0"});
  // A fill of broker 1's order 1 (by broker 2, once its own orders are
  // cancelled) frees one of broker 1's places.
  Expect(h.Run("mass b=2 cl=M scope=broker"),
         {"canceled id=3", "canceled id=4", "mass_cancel affected=2"});
  Expect(h.Run("place b=2 cl=E acct=12 side=sell px=10 qty=1"),
         {"accepted", "trade qty=1 buy=1", "filled id=1 status=filled",
          "filled status=filled"});
  Expect(h.Run("place cl=F acct=10 side=buy px=10 qty=1"), {"accepted"});
  Expect(h.Run("place cl=G acct=10 side=buy px=10 qty=1"),
         {"rejected reason=open_order_limit"});
}

TEST_CASE("Open-order counts survive a snapshot, limits come from options",
          "[engine][limits][snapshot]") {
  Harness h(TestState(), WithOpenOrderLimits(2, 0));
  h.Run("place cl=A acct=10 side=buy px=10 qty=1");
  h.Run("place cl=B acct=10 side=buy px=11 qty=1");
  const std::vector<std::uint8_t> bytes = h.engine().SaveSnapshot();
  RecordingSink sink;
  auto limited = Engine::LoadSnapshot(WithOpenOrderLimits(2, 0), bytes, &sink);
  REQUIRE(limited.ok());
  CHECK((*limited)->StateHash() == h.engine().StateHash());
  std::string error;
  auto place =
      ParseCommand("place cl=C acct=10 side=buy px=12 qty=1", 10, &error);
  REQUIRE(place.has_value());
  (*limited)->Execute(*place);
  REQUIRE(sink.lines.size() == 1);
  CHECK(Matches(sink.lines[0], "rejected reason=open_order_limit"));
  auto unlimited = Engine::LoadSnapshot(NoMarketData(), bytes, &sink);
  REQUIRE(unlimited.ok());
  (*unlimited)->Execute(*place);
  REQUIRE(sink.lines.size() == 2);
  CHECK(Matches(sink.lines[1], "accepted cl=C"));
  CHECK((*unlimited)->CheckInvariants().ok());
}

// ---- Construction
// ---------------------------------------------------------------

TEST_CASE("Create refuses an inconsistent starting state", "[engine]") {
  RecordingSink sink;
  auto bad = [&](AccountState s) {
    auto r = Engine::Create(EngineOptions{}, s, &sink);
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    return r.status().message();
  };
  AccountState s = TestState();
  s.instruments.push_back(s.instruments[0]);
  CHECK(bad(s).find("listed twice") != std::string::npos);
  s = TestState();
  s.instruments[0].tick = Price{0};
  bad(s);
  s = TestState();
  s.accounts[0].cash = Cash{-1};
  CHECK(bad(s).find("negative cash") != std::string::npos);
  s = TestState();
  s.holdings.push_back({AccountId{77}, InstrumentId{1}, Quantity{1}});
  CHECK(bad(s).find("unknown account") != std::string::npos);
  s = TestState();
  s.entitlements.push_back({BrokerId{1}, AccountId{77}});
  bad(s);
  CHECK(sink.lines.empty());
}

}  // namespace
}  // namespace carbonex::engine::testing
