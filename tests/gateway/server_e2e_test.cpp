// End-to-end tests: a real carbonex-server process on loopback, real FIX
// sessions (carbonex::fixclient), the registry read back with
// carbonex-registry. One row of docs/fix-rules-of-engagement.md after
// another.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "server_session.h"

namespace carbonex::testing {
namespace {

using namespace std::chrono_literals;
using fixclient::BuildMarketDataRequest;
using fixclient::BuildNewOrderSingle;
using fixclient::BuildOrderCancelReplaceRequest;
using fixclient::BuildOrderCancelRequest;
using fixclient::BuildOrderMassCancelRequest;
using fixclient::BuildOrderStatusRequest;
using fixclient::Client;
using fixclient::IsExecutionReportFor;
using fixclient::IsMsgType;

void ExpectReject(Client& c, std::size_t session, const std::string& id,
                  const std::string& reason) {
  FIX::Message m = Expect(c, session, id, '8');
  CHECK(Get(m, 39) == "8");
  INFO(fixclient::Describe(m));
  CHECK(Get(m, 103) == reason);
  CHECK(fixclient::FieldOf(m, 58).has_value());
}

TEST_CASE("orders match, report and settle in the registry", "[e2e]") {
  Exchange x;
  auto c = Connect(x.port);
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("s1", "CO-A", Side::kSell, 100, 2500)))
              .ok());
  FIX::Message ack = Expect(*c, 0, "s1", '0');
  CHECK(Get(ack, 39) == "0");
  CHECK(Get(ack, 151) == "100");
  CHECK(Get(ack, 14) == "0");
  const std::string sell_order_id = Get(ack, 37);

  REQUIRE(
      c->Send(1, BuildNewOrderSingle(Limit("b1", "CO-C", Side::kBuy, 40, 2600)))
          .ok());
  FIX::Message fill = Expect(*c, 1, "b1", 'F');
  CHECK(Get(fill, 39) == "2");
  CHECK(Get(fill, 32) == "40");
  CHECK(Get(fill, 31) == "25.00");  // the resting order's price
  CHECK(Get(fill, 6) == "25");
  CHECK(Get(fill, 151) == "0");
  FIX::Message maker = Expect(*c, 0, "s1", 'F');
  CHECK(Get(maker, 39) == "1");
  CHECK(Get(maker, 14) == "40");
  CHECK(Get(maker, 151) == "60");
  CHECK(Get(maker, 37) == sell_order_id);
  CHECK(Get(maker, 17) != Get(fill, 17));

  // Settlement: visible to a CLI read within one second.
  nlohmann::json h = HoldingsOnceSettled(
      x.db, "",
      [](const nlohmann::json& j) {
        return UnitsOf(j, "CO-C", "KZQ-2026").held == 1040;
      },
      1s);
  CHECK(UnitsOf(h, "CO-C", "KZQ-2026").held == 1040);
  CHECK(UnitsOf(h, "CO-A", "KZQ-2026").held == 960);
  CHECK(UnitsOf(h, "CO-A", "KZQ-2026").reserved == 60);
  CHECK(CashOf(h, "CO-C").held == 100'000'000 - 40 * 2500);
  CHECK(CashOf(h, "CO-A").held == 100'000'000 + 40 * 2500);
  nlohmann::json trades = RegistryJson(x.db, "trades --symbol KZQ-2026");
  REQUIRE(trades.at("trades").size() == 1);
  CHECK(trades["trades"][0]["qty"] == 40);
  CHECK(trades["trades"][0]["buyer"] == "CO-C");
  CHECK(trades["trades"][0]["seller"] == "CO-A");

  // A second fill at another price: AvgPx is the exact weighted average.
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("s2", "CO-B", Side::kSell, 20, 2510)))
              .ok());
  Expect(*c, 0, "s2", '0');
  REQUIRE(
      c->Send(1, BuildNewOrderSingle(Limit("b2", "CO-C", Side::kBuy, 90, 2510)))
          .ok());
  FIX::Message first = Expect(*c, 1, "b2", 'F');
  CHECK(Get(first, 31) == "25.00");
  FIX::Message second = Expect(*c, 1, "b2", 'F');
  CHECK(Get(second, 31) == "25.10");
  CHECK(Get(second, 39) == "1");
  CHECK(Get(second, 14) == "80");
  CHECK(Get(second, 151) == "10");
  CHECK(Get(second, 6) == "25.025");  // (60×25.00 + 20×25.10) / 80
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("bad orders are rejected with the contract's reasons", "[e2e]") {
  Exchange x;
  auto c = Connect(x.port);
  // Unknown symbol → 1.
  REQUIRE(c->Send(0, BuildNewOrderSingle(Limit("r1", "CO-A", Side::kBuy, 1, 100,
                                               fixclient::TimeInForce::kDay,
                                               "KZQ-1999")))
              .ok());
  ExpectReject(*c, 0, "r1", "1");
  // Not enough cash → 3; not enough units → 3.
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("r2", "CO-A", Side::kBuy, 1000, 1'000'000)))
              .ok());
  ExpectReject(*c, 0, "r2", "3");
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("r3", "CO-A", Side::kSell, 1001, 100)))
              .ok());
  ExpectReject(*c, 0, "r3", "3");
  // Holding limit of CO-D is 150 and it holds 1000 already → 3.
  REQUIRE(
      c->Send(0, BuildNewOrderSingle(Limit("r4", "CO-D", Side::kBuy, 1, 100)))
          .ok());
  ExpectReject(*c, 0, "r4", "3");
  // Account the broker is not entitled to → 99; unknown account → 99.
  REQUIRE(
      c->Send(0, BuildNewOrderSingle(Limit("r5", "CO-C", Side::kBuy, 1, 100)))
          .ok());
  ExpectReject(*c, 0, "r5", "99");
  REQUIRE(
      c->Send(0, BuildNewOrderSingle(Limit("r6", "NOBODY", Side::kBuy, 1, 100)))
          .ok());
  ExpectReject(*c, 0, "r6", "99");
  // Off the tick (KZO-2025 tick 0.05), zero and negative price, zero and
  // fractional quantity, above the max order size → 99.
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("r7", "CO-A", Side::kBuy, 1, 1003,
                               fixclient::TimeInForce::kDay, "KZO-2025")))
              .ok());
  ExpectReject(*c, 0, "r7", "99");
  auto zero_price =
      BuildNewOrderSingle(Limit("r8", "CO-A", Side::kBuy, 1, 100));
  zero_price.setField(44, "0");
  REQUIRE(c->Send(0, zero_price).ok());
  ExpectReject(*c, 0, "r8", "99");
  auto negative = BuildNewOrderSingle(Limit("r9", "CO-A", Side::kBuy, 1, 100));
  negative.setField(44, "-5");
  REQUIRE(c->Send(0, negative).ok());
  ExpectReject(*c, 0, "r9", "99");
  auto zero_qty = BuildNewOrderSingle(Limit("r10", "CO-A", Side::kBuy, 1, 100));
  zero_qty.setField(38, "0");
  REQUIRE(c->Send(0, zero_qty).ok());
  ExpectReject(*c, 0, "r10", "99");
  auto fractional =
      BuildNewOrderSingle(Limit("r11", "CO-A", Side::kBuy, 1, 100));
  fractional.setField(38, "1.5");
  REQUIRE(c->Send(0, fractional).ok());
  ExpectReject(*c, 0, "r11", "99");
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("r12", "CO-A", Side::kBuy, 1001, 100,
                               fixclient::TimeInForce::kDay, "KZO-2025")))
              .ok());
  ExpectReject(*c, 0, "r12", "99");
  // ClOrdID longer than 31 characters → 99.
  const std::string long_id(32, 'x');
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit(long_id, "CO-A", Side::kBuy, 1, 100)))
              .ok());
  ExpectReject(*c, 0, long_id, "99");
  // Duplicate ClOrdID among live orders → 6.
  REQUIRE(
      c->Send(0, BuildNewOrderSingle(Limit("dup", "CO-A", Side::kBuy, 1, 100)))
          .ok());
  Expect(*c, 0, "dup", '0');
  REQUIRE(
      c->Send(0, BuildNewOrderSingle(Limit("dup", "CO-A", Side::kBuy, 1, 100)))
          .ok());
  ExpectReject(*c, 0, "dup", "6");

  // A non-numeric price breaks the dictionary: session Reject (3).
  auto garbled = BuildNewOrderSingle(Limit("g1", "CO-A", Side::kBuy, 1, 100));
  garbled.setField(44, "abc");
  REQUIRE(c->Send(0, garbled).ok());
  auto reject = c->WaitFor(0, IsMsgType("3"), kSessionWait);
  REQUIRE(reject.has_value());
  // A required tag missing: session Reject.
  auto missing = BuildNewOrderSingle(Limit("g2", "CO-A", Side::kBuy, 1, 100));
  missing.removeField(55);
  REQUIRE(c->Send(0, missing).ok());
  REQUIRE(c->WaitFor(0, IsMsgType("3"), kSessionWait).has_value());
  // A message type the exchange does not serve: BusinessMessageReject 3.
  FIX::Message news;
  news.getHeader().setField(35, "B");
  news.setField(148, "hello");
  news.setField(33, "1");
  FIX::Group line(33, 58);
  line.setField(58, "text");
  news.addGroup(line);
  REQUIRE(c->Send(0, news).ok());
  auto business = c->WaitFor(0, IsMsgType("j"), kSessionWait);
  REQUIRE(business.has_value());
  CHECK(Get(*business, 380) == "3");
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("cancel, replace, status and mass cancel", "[e2e]") {
  Exchange x;
  auto c = Connect(x.port);
  REQUIRE(
      c->Send(0, BuildNewOrderSingle(Limit("o1", "CO-A", Side::kBuy, 50, 2000)))
          .ok());
  Expect(*c, 0, "o1", '0');
  // Replace: lower quantity, new price.
  fixclient::ReplaceOrder replace{
      "o1r", "o1", "CO-A", "KZQ-2026", Side::kBuy, Quantity(30), Price(2010)};
  REQUIRE(c->Send(0, BuildOrderCancelReplaceRequest(replace)).ok());
  FIX::Message replaced = Expect(*c, 0, "o1r", '5');
  CHECK(Get(replaced, 41) == "o1");
  CHECK(Get(replaced, 39) == "0");
  CHECK(Get(replaced, 38) == "30");
  CHECK(Get(replaced, 44) == "20.10");
  // Status of the replaced order under its new ClOrdID.
  REQUIRE(c->Send(0, BuildOrderStatusRequest(
                         {"o1r", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  FIX::Message status = Expect(*c, 0, "o1r", 'I');
  CHECK(Get(status, 39) == "0");
  CHECK(Get(status, 151) == "30");
  // Partial fill, then a replace below the filled quantity → 9 / 99.
  REQUIRE(c->Send(1, BuildNewOrderSingle(
                         Limit("s1", "CO-C", Side::kSell, 10, 2010)))
              .ok());
  Expect(*c, 1, "s1", 'F');
  Expect(*c, 0, "o1r", 'F');
  fixclient::ReplaceOrder below{"o1s",      "o1r",       "CO-A",     "KZQ-2026",
                                Side::kBuy, Quantity(5), Price(2010)};
  REQUIRE(c->Send(0, BuildOrderCancelReplaceRequest(below)).ok());
  auto cxl = c->WaitFor(0, IsMsgType("9"), kSessionWait);
  REQUIRE(cxl.has_value());
  CHECK(Get(*cxl, 102) == "99");
  CHECK(Get(*cxl, 434) == "2");
  // Cancel: ClOrdID is the cancel's, OrigClOrdID the order's.
  REQUIRE(c->Send(0, BuildOrderCancelRequest(
                         {"c1", "o1r", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  FIX::Message canceled = Expect(*c, 0, "c1", '4');
  CHECK(Get(canceled, 41) == "o1r");
  CHECK(Get(canceled, 39) == "4");
  CHECK(Get(canceled, 151) == "0");
  CHECK(Get(canceled, 14) == "10");
  // Cancel of a done order → too late (0); of an unknown order → 1.
  REQUIRE(c->Send(0, BuildOrderCancelRequest(
                         {"c2", "o1r", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  cxl = c->WaitFor(0, IsMsgType("9"), kSessionWait);
  REQUIRE(cxl.has_value());
  CHECK((Get(*cxl, 102) == "0" || Get(*cxl, 102) == "1"));
  CHECK(Get(*cxl, 434) == "1");
  REQUIRE(c->Send(0, BuildOrderCancelRequest(
                         {"c3", "nope", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  cxl = c->WaitFor(0, IsMsgType("9"), kSessionWait);
  REQUIRE(cxl.has_value());
  CHECK(Get(*cxl, 102) == "1");
  // Status of an unknown order: I / 8 / 5.
  REQUIRE(c->Send(0, BuildOrderStatusRequest(
                         {"ghost", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  FIX::Message unknown = Expect(*c, 0, "ghost", 'I');
  CHECK(Get(unknown, 39) == "8");
  CHECK(Get(unknown, 103) == "5");
  // Mass cancel: by symbol, then all.
  for (const char* id : {"m1", "m2"}) {
    REQUIRE(
        c->Send(0, BuildNewOrderSingle(Limit(id, "CO-B", Side::kSell, 5, 9000)))
            .ok());
    Expect(*c, 0, id, '0');
  }
  REQUIRE(c->Send(0, BuildNewOrderSingle(Limit(
                         "m3", "CO-B", Side::kSell, 5, 9000,
                         fixclient::TimeInForce::kGoodTillCancel, "KZO-2025")))
              .ok());
  Expect(*c, 0, "m3", '0');
  REQUIRE(c->Send(0, BuildOrderMassCancelRequest(
                         {"mc1", fixclient::MassCancelScope::kBySymbol,
                          "KZQ-2026"}))
              .ok());
  auto report = c->WaitFor(0, IsMsgType("r"), kSessionWait);
  REQUIRE(report.has_value());
  CHECK(Get(*report, 531) == "1");
  CHECK(Get(*report, 533) == "2");
  REQUIRE(c->Send(0, BuildOrderMassCancelRequest(
                         {"mc2", fixclient::MassCancelScope::kAllOfBroker, ""}))
              .ok());
  report = c->WaitFor(0, IsMsgType("r"), kSessionWait);
  REQUIRE(report.has_value());
  CHECK(Get(*report, 531) == "7");
  CHECK(Get(*report, 533) == "1");
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("time in force, market orders and self-trade prevention", "[e2e]") {
  Exchange x;
  auto c = Connect(x.port);
  REQUIRE(c->Send(1, BuildNewOrderSingle(
                         Limit("ask", "CO-C", Side::kSell, 10, 3000)))
              .ok());
  Expect(*c, 1, "ask", '0');
  // IOC: fills 10, the rest is cancelled with a reason.
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("ioc", "CO-A", Side::kBuy, 15, 3000,
                               fixclient::TimeInForce::kImmediateOrCancel)))
              .ok());
  Expect(*c, 0, "ioc", 'F');
  FIX::Message rest = Expect(*c, 0, "ioc", '4');
  CHECK(Get(rest, 39) == "4");
  CHECK(Get(rest, 14) == "10");
  CHECK(Get(rest, 151) == "0");
  CHECK(fixclient::FieldOf(rest, 58).has_value());
  // FOK that cannot fill: cancelled, no trade.
  REQUIRE(c->Send(1, BuildNewOrderSingle(
                         Limit("ask2", "CO-C", Side::kSell, 5, 3100)))
              .ok());
  Expect(*c, 1, "ask2", '0');
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("fok", "CO-A", Side::kBuy, 6, 3100,
                               fixclient::TimeInForce::kFillOrKill)))
              .ok());
  FIX::Message killed = Expect(*c, 0, "fok", '4');
  CHECK(Get(killed, 14) == "0");
  // Market buy: takes 5 @ 31.00, the remainder cancelled (no liquidity).
  fixclient::NewOrder market;
  market.cl_ord_id = "mkt";
  market.account = "CO-A";
  market.symbol = "KZQ-2026";
  market.side = Side::kBuy;
  market.qty = Quantity(8);
  REQUIRE(c->Send(0, BuildNewOrderSingle(market)).ok());
  FIX::Message market_fill = Expect(*c, 0, "mkt", 'F');
  CHECK(Get(market_fill, 31) == "31.00");
  FIX::Message market_rest = Expect(*c, 0, "mkt", '4');
  CHECK(Get(market_rest, 14) == "5");
  // Market order on an empty side: cancelled, no trade.
  market.cl_ord_id = "mkt2";
  REQUIRE(c->Send(0, BuildNewOrderSingle(market)).ok());
  FIX::Message empty = Expect(*c, 0, "mkt2", '4');
  CHECK(Get(empty, 14) == "0");
  // Self-trade: the same account never trades with itself.
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("self-s", "CO-A", Side::kSell, 5, 2800)))
              .ok());
  Expect(*c, 0, "self-s", '0');
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("self-b", "CO-A", Side::kBuy, 5, 2800)))
              .ok());
  FIX::Message stp = Expect(*c, 0, "self-b", '4');
  CHECK(Get(stp, 14) == "0");
  CHECK_THAT(Get(stp, 58), Catch::Contains("self-trade"));
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("market data and security list", "[e2e]") {
  Exchange x;
  auto c = Connect(x.port);
  REQUIRE(
      c->Send(0, BuildNewOrderSingle(Limit("b1", "CO-A", Side::kBuy, 10, 2000)))
          .ok());
  Expect(*c, 0, "b1", '0');
  REQUIRE(
      c->Send(0, BuildNewOrderSingle(Limit("b2", "CO-B", Side::kBuy, 5, 2000)))
          .ok());
  Expect(*c, 0, "b2", '0');
  fixclient::MarketDataSubscription sub;
  sub.md_req_id = "md1";
  sub.subscription = fixclient::Subscription::kSubscribe;
  sub.entry_types = {fixclient::MdEntryType::kBid,
                     fixclient::MdEntryType::kOffer,
                     fixclient::MdEntryType::kTrade};
  sub.symbols = {"KZQ-2026"};
  REQUIRE(c->Send(1, BuildMarketDataRequest(sub)).ok());
  auto w = c->WaitFor(1, IsMsgType("W"), kSessionWait);
  REQUIRE(w.has_value());
  REQUIRE(w->groupCount(268) == 1);
  const FIX::FieldMap& level = w->getGroupRef(1, 268);
  CHECK(level.getField(269) == "0");
  CHECK(level.getField(271) == "15");
  CHECK(level.getField(346) == "2");
  // A new ask level, then a trade.
  REQUIRE(
      c->Send(1, BuildNewOrderSingle(Limit("s1", "CO-C", Side::kSell, 3, 2100)))
          .ok());
  auto x1 = c->WaitFor(1, IsMsgType("X"), kSessionWait);
  REQUIRE(x1.has_value());
  CHECK(x1->getGroupRef(1, 268).getField(279) == "0");
  CHECK(x1->getGroupRef(1, 268).getField(269) == "1");
  REQUIRE(
      c->Send(1, BuildNewOrderSingle(Limit("s2", "CO-C", Side::kSell, 4, 2000)))
          .ok());
  bool saw_trade = false;
  bool saw_change = false;
  for (int i = 0; i < 4 && !(saw_trade && saw_change); ++i) {
    auto x2 = c->WaitFor(1, IsMsgType("X"), kSessionWait);
    REQUIRE(x2.has_value());
    const FIX::FieldMap& e = x2->getGroupRef(1, 268);
    if (e.getField(269) == "2") {
      saw_trade = true;
      CHECK(e.getField(271) == "4");
      CHECK(e.getField(270) == "20.00");
    }
    if (e.getField(269) == "0" && e.getField(279) == "1") {
      saw_change = true;
      CHECK(e.getField(271) == "11");
    }
  }
  CHECK(saw_trade);
  CHECK(saw_change);
  // Unknown symbol → Y.
  sub.md_req_id = "md2";
  sub.symbols = {"KZQ-1900"};
  REQUIRE(c->Send(1, BuildMarketDataRequest(sub)).ok());
  auto y = c->WaitFor(1, IsMsgType("Y"), kSessionWait);
  REQUIRE(y.has_value());
  CHECK(Get(*y, 262) == "md2");
  // Security list: both instruments.
  REQUIRE(c->Send(0, fixclient::BuildSecurityListRequest("sl1")).ok());
  auto list = c->WaitFor(0, IsMsgType("y"), kSessionWait);
  REQUIRE(list.has_value());
  CHECK(Get(*list, 560) == "0");
  CHECK(list->groupCount(146) == 2);
  CHECK(x.server->Terminate() == 0);
}

// The single entry of the next MarketDataIncrementalRefresh on `session`,
// as "action type price size orders" (size and orders empty when absent).
std::string NextIncrement(Client& c, std::size_t session) {
  auto x = c.WaitFor(session, IsMsgType("X"), kSessionWait);
  REQUIRE(x.has_value());
  REQUIRE(x->groupCount(268) == 1);
  const FIX::FieldMap& e = x->getGroupRef(1, 268);
  const auto field = [&](int tag) {
    return e.isSetField(tag) ? e.getField(tag) : std::string();
  };
  return field(279) + " " + field(269) + " " + field(270) + " " + field(271) +
         " " + field(346);
}

TEST_CASE("market data limited by MarketDepth, and levels across a restart",
          "[e2e]") {
  Exchange x;
  auto c = Connect(x.port);
  const auto bid = [&](const std::string& id, std::int64_t qty,
                       std::int64_t tiyn) {
    REQUIRE(c->Send(0, BuildNewOrderSingle(
                           Limit(id, "CO-A", Side::kBuy, qty, tiyn,
                                 fixclient::TimeInForce::kGoodTillCancel)))
                .ok());
    Expect(*c, 0, id, '0');
  };
  bid("b20", 1, 2000);
  bid("b19", 2, 1990);
  bid("b18", 3, 1980);
  fixclient::MarketDataSubscription sub;
  sub.md_req_id = "top2";
  sub.subscription = fixclient::Subscription::kSubscribe;
  sub.depth = 2;
  sub.symbols = {"KZQ-2026"};
  REQUIRE(c->Send(1, BuildMarketDataRequest(sub)).ok());
  auto w = c->WaitFor(1, IsMsgType("W"), kSessionWait);
  REQUIRE(w.has_value());
  REQUIRE(w->groupCount(268) == 2);
  CHECK(w->getGroupRef(1, 268).getField(270) == "20.00");
  CHECK(w->getGroupRef(2, 268).getField(270) == "19.90");

  // A better bid enters the best two and pushes 19.90 out.
  bid("b21", 4, 2010);
  CHECK(NextIncrement(*c, 1) == "0 0 20.10 4 1");
  CHECK(NextIncrement(*c, 1) == "2 0 19.90 0 0");
  // Below the best two nothing is sent: the next increment is the change
  // at 20.00, not the one at 19.80.
  bid("b18b", 5, 1980);
  bid("b20b", 6, 2000);
  CHECK(NextIncrement(*c, 1) == "1 0 20.00 7 2");
  // The best bid leaves: 19.90 comes back in, with its size and orders.
  REQUIRE(c->Send(0, BuildOrderCancelRequest(
                         {"c21", "b21", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  Expect(*c, 0, "c21", '4');
  CHECK(NextIncrement(*c, 1) == "2 0 20.10 0 0");
  CHECK(NextIncrement(*c, 1) == "0 0 19.90 2 1");
  // An offer on the other side is inside the window.
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("s30", "CO-B", Side::kSell, 1, 3000,
                               fixclient::TimeInForce::kGoodTillCancel)))
              .ok());
  Expect(*c, 0, "s30", '0');
  CHECK(NextIncrement(*c, 1) == "0 1 30.00 1 1");
  c->Stop();

  // After a restart the server knows the books' levels: more at 20.00 is
  // a change, to a full-book subscriber too.
  REQUIRE(x.server->Terminate() == 0);
  std::string why;
  REQUIRE(x.server->Start(&why));
  c = Connect(x.port);
  sub.md_req_id = "full";
  sub.depth = 0;
  REQUIRE(c->Send(1, BuildMarketDataRequest(sub)).ok());
  w = c->WaitFor(1, IsMsgType("W"), kSessionWait);
  REQUIRE(w.has_value());
  CHECK(w->groupCount(268) == 4);
  bid("b20c", 1, 2000);
  CHECK(NextIncrement(*c, 1) == "1 0 20.00 8 3");
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("logon is authenticated against the registry", "[e2e]") {
  Exchange x;
  fixclient::ClientOptions options = ClientFor(x.port, {"BRK1", "BRK2"});
  options.sessions[0].password = "wrong";
  options.sessions[1].username = "BRK1";  // not its SenderCompID
  Client bad(options);
  REQUIRE(bad.Start().ok());
  for (std::size_t i = 0; i < 2; ++i) {
    auto logout = bad.WaitFor(i, IsMsgType("5"), 15s);
    REQUIRE(logout.has_value());
    CHECK(fixclient::FieldOf(*logout, 58).has_value());
    CHECK_FALSE(bad.IsLoggedOn(i));
  }
  bad.Stop();
  // An unknown CompID: the connection is closed.
  fixclient::RawConnection raw;
  REQUIRE(raw.Connect("127.0.0.1", x.port, 2s).ok());
  REQUIRE(raw.SendRaw(fixclient::BuildFrame(fixclient::LogonFields(
                          "NOBODY", "CARBONEX", 1, "NOBODY", "x")))
              .ok());
  CHECK(raw.WaitClosed(5s).ok());
  // The right password logs on.
  auto good = Connect(x.port, {"BRK1"});
  CHECK(good->IsLoggedOn(0));
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("operator writes apply in sequence, close-day expires Day orders",
          "[e2e]") {
  Exchange x;
  auto c = Connect(x.port);
  // CO-B cannot afford 500 @ 2,500.00 (1,250,000 KZT) until a deposit.
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("big1", "CO-B", Side::kBuy, 500, 250'000)))
              .ok());
  ExpectReject(*c, 0, "big1", "3");
  std::string out;
  REQUIRE(RegistryStatus(x.db, "cash deposit CO-B 500000.00", &out) == 0);
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("big2", "CO-B", Side::kBuy, 500, 250'000)))
              .ok());
  Expect(*c, 0, "big2", '0');
  // A withdrawal of reserved cash is refused.
  CHECK(RegistryStatus(x.db, "cash withdraw CO-B 600000.00", &out) != 0);
  // Issuance is usable at once.
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("sell1", "CO-A", Side::kSell, 1500, 999'900,
                               fixclient::TimeInForce::kGoodTillCancel)))
              .ok());
  ExpectReject(*c, 0, "sell1", "3");
  REQUIRE(RegistryStatus(x.db, "issue KZQ-2026 CO-A 500 --reason auction",
                         &out) == 0);
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("sell2", "CO-A", Side::kSell, 1500, 999'900,
                               fixclient::TimeInForce::kGoodTillCancel)))
              .ok());
  Expect(*c, 0, "sell2", '0');
  // Close the day: the Day buy expires, the GTC sell stays.
  REQUIRE(RegistryStatus(x.db, "close-day", &out) == 0);
  FIX::Message expired = Expect(*c, 0, "big2", 'C');
  CHECK(Get(expired, 39) == "C");
  REQUIRE(c->Send(0, BuildOrderStatusRequest(
                         {"sell2", "CO-A", "KZQ-2026", Side::kSell}))
              .ok());
  CHECK(Get(Expect(*c, 0, "sell2", 'I'), 39) == "0");
  nlohmann::json h = HoldingsOnceSettled(
      x.db, "CO-B",
      [](const nlohmann::json& j) { return CashOf(j, "CO-B").reserved == 0; });
  CHECK(CashOf(h, "CO-B").reserved == 0);
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("cancel-on-disconnect cancels Day orders, reported at next logon",
          "[e2e]") {
  Exchange x("fix_log = on\n");
  fixclient::ClientOptions options = ClientFor(x.port, {"BRK3"});
  options.store = fixclient::StoreKind::kFile;
  options.store_dir = x.dir.path() + "/client-store";
  options.reset_seq_num_on_logon = false;
  {
    Client c(options);
    REQUIRE(c.Start().ok());
    REQUIRE(c.WaitLoggedOn(0, 15s).ok());
    REQUIRE(c.Send(0, BuildNewOrderSingle(
                          Limit("day", "CO-A", Side::kBuy, 1, 1000)))
                .ok());
    REQUIRE(c.Send(0, BuildNewOrderSingle(
                          Limit("gtc", "CO-A", Side::kBuy, 1, 1000,
                                fixclient::TimeInForce::kGoodTillCancel)))
                .ok());
    Expect(c, 0, "day", '0');
    Expect(c, 0, "gtc", '0');
    c.Stop();
  }
  std::this_thread::sleep_for(300ms);
  Client again(options);
  REQUIRE(again.Start().ok());
  REQUIRE(again.WaitLoggedOn(0, 15s).ok());
  auto canceled =
      again.WaitFor(0, IsExecutionReportFor("day", '4'), kSessionWait);
  if (!canceled) {
    std::ifstream fixlog(x.db +
                         "/fix-log/FIX.4.4-CARBONEX-BRK3.messages.current.log");
    std::string text((std::istreambuf_iterator<char>(fixlog)),
                     std::istreambuf_iterator<char>());
    FAIL("no cancel-on-disconnect report; server log:\n"
         << x.server->Log() << text);
  }
  CHECK(Get(*canceled, 39) == "4");
  CHECK(Get(*canceled, 41) == "<unset>");
  REQUIRE(again
              .Send(0, BuildOrderStatusRequest(
                           {"gtc", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  CHECK(Get(Expect(again, 0, "gtc", 'I'), 39) == "0");
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("a burst of orders: every report arrives once and in order",
          "[e2e]") {
  // The server writes a run of queued reports with one socket write; the
  // broker must still see each report once, complete and in sequence.
  Exchange x;
  auto c = Connect(x.port);
  constexpr int kOrders = 300;
  for (int i = 0; i < kOrders; ++i) {
    REQUIRE(c->Send(0, BuildNewOrderSingle(Limit("burst" + std::to_string(i),
                                                 "CO-A", Side::kBuy, 1, 2000)))
                .ok());
  }
  long last_seq = 0;
  for (int i = 0; i < kOrders; ++i) {
    std::optional<FIX::Message> m = c->Next(0, 10s);
    REQUIRE(m.has_value());
    INFO(fixclient::Describe(*m));
    CHECK(fixclient::MsgTypeOf(*m) == "8");
    CHECK(Get(*m, 11) == "burst" + std::to_string(i));
    CHECK(Get(*m, 150) == "0");
    CHECK_FALSE(m->getHeader().isSetField(43));  // no PossDupFlag: no resend
    const long seq = std::stol(m->getHeader().getField(34));
    CHECK(seq > last_seq);
    last_seq = seq;
  }
  CHECK_FALSE(c->Next(0, 200ms).has_value());
  CHECK(x.server->Terminate() == 0);
}

}  // namespace
}  // namespace carbonex::testing
