#define CATCH_CONFIG_MAIN
#include "carbonex/gateway/fix_translate.h"

#include <quickfix/DataDictionary.h>
#include <quickfix/Exceptions.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>

namespace carbonex::gateway {
namespace {

const FIX::DataDictionary& Dictionary() {
  static const FIX::DataDictionary kDictionary(CARBONEX_FIX_DICTIONARY);
  return kDictionary;
}

// A message from "key=value|key=value" body text, with a valid header,
// parsed and validated against the gateway's dictionary.
FIX::Message Parse(const std::string& msg_type, const std::string& body) {
  std::string fields = "35=" + msg_type +
                       "|49=BRK1|56=CARBONEX|34=2|52=20260101-10:00:00.000|" +
                       body;
  for (char& c : fields) {
    if (c == '|') c = '\x01';
  }
  std::string head =
      "8=FIX.4.4\x01"
      "9=" +
      std::to_string(fields.size()) + "\x01";
  std::string text = head + fields;
  int sum = 0;
  for (char c : text) sum += static_cast<unsigned char>(c);
  char checksum[8];
  std::snprintf(checksum, sizeof checksum, "%03d", sum % 256);
  text += std::string("10=") + checksum + "\x01";
  FIX::Message message(text, Dictionary(), true);
  Dictionary().validate(message);
  return message;
}

AccountState SampleState() {
  AccountState state;
  state.instruments.push_back({InstrumentId(1), "KZQ-2026", Price(1),
                               Quantity(1'000'000), TradingStatus::kOpen});
  state.instruments.push_back({InstrumentId(2), "KZO-2025", Price(5),
                               Quantity(1000), TradingStatus::kHalted});
  state.accounts.push_back({AccountId(7), "KZ-OP-0007", Cash(0), {}});
  state.brokers.push_back({BrokerId(3), "BRK1", false});
  return state;
}

std::string Field(const FIX::FieldMap& map, int tag) {
  return map.isSetField(tag) ? map.getField(tag) : std::string("<unset>");
}

const std::string kNewOrder =
    "11=ord-1|1=KZ-OP-0007|55=KZQ-2026|54=1|60=20260101-10:00:00.000|"
    "38=100|40=2|44=1234.50|59=1|";

TEST_CASE("decimals convert exactly", "[fix_translate]") {
  CHECK(ParsePrice("1234.5")->value() == 123450);
  CHECK(ParsePrice("1234.50")->value() == 123450);
  CHECK(ParsePrice("1234.500")->value() == 123450);
  CHECK(ParsePrice("0.01")->value() == 1);
  CHECK(ParsePrice("7")->value() == 700);
  CHECK(ParsePrice("-3.25")->value() == -325);
  CHECK_FALSE(ParsePrice("1.005").has_value());
  CHECK_FALSE(ParsePrice("abc").has_value());
  CHECK_FALSE(ParsePrice("").has_value());
  CHECK_FALSE(ParsePrice("1.2.3").has_value());
  CHECK_FALSE(ParsePrice("99999999999999999999").has_value());
  CHECK(ParseQuantity("10")->value() == 10);
  CHECK(ParseQuantity("10.000")->value() == 10);
  CHECK_FALSE(ParseQuantity("1.5").has_value());
  CHECK(FormatPrice(Price(123450)) == "1234.50");
  CHECK(FormatPrice(Price(5)) == "0.05");
  CHECK(FormatPrice(Price(-325)) == "-3.25");
}

TEST_CASE("AvgPx is the exact weighted average", "[fix_translate]") {
  // 10 @ 1.00 + 20 @ 1.01 = 3020 tiyn over 30 units = 1.006666...
  CHECK(FormatAveragePrice(Cash(3020), Quantity(30)) == "1.0066666667");
  // 1 @ 1.00 + 1 @ 1.01 = 1.005 exactly.
  CHECK(FormatAveragePrice(Cash(201), Quantity(2)) == "1.005");
  CHECK(FormatAveragePrice(Cash(12345), Quantity(1)) == "123.45");
  CHECK(FormatAveragePrice(Cash(500), Quantity(5)) == "1");
  CHECK(FormatAveragePrice(Cash(0), Quantity(0)) == "0");
  // 2/3 tiyn per unit rounds up in the 10th place.
  CHECK(FormatAveragePrice(Cash(2), Quantity(3)) == "0.0066666667");
}

TEST_CASE("timestamps format as FIX UTCTimestamp", "[fix_translate]") {
  CHECK(FormatUtcTimestamp(Timestamp(1'767'225'600'123'456'789)) ==
        "20260101-00:00:00.123");
  CHECK(FormatUtcTimestamp(Timestamp(0)) == "19700101-00:00:00.000");
  CHECK(FormatUtcTimestamp(Timestamp(-5)) == "19700101-00:00:00.000");
  // A leap day, the last millisecond of a day and of a year.
  CHECK(FormatUtcTimestamp(Timestamp(1'709'164'800'000'000'000)) ==
        "20240229-00:00:00.000");
  CHECK(FormatUtcTimestamp(Timestamp(1'709'251'199'999'999'999)) ==
        "20240229-23:59:59.999");
  CHECK(FormatUtcTimestamp(Timestamp(1'798'761'599'999'000'000)) ==
        "20261231-23:59:59.999");
  // Against the C library, over two centuries of instants.
  std::mt19937_64 random(20261126);
  for (int i = 0; i < 2000; ++i) {
    const auto seconds =
        static_cast<std::int64_t>(random() % 6'311'520'000ULL);  // < 2170
    const auto millis = static_cast<std::int64_t>(random() % 1000);
    const std::time_t t = seconds;
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::array<char, 32> expected{};
    std::snprintf(expected.data(), expected.size(),
                  "%04d%02d%02d-%02d:%02d:%02d.%03d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
    INFO("seconds " << seconds);
    CHECK(FormatUtcTimestamp(Timestamp(seconds * 1'000'000'000 +
                                       millis * 1'000'000 + 999'999)) ==
          expected.data());
  }
}

TEST_CASE("the dictionary enforces the contract's required tags",
          "[fix_translate]") {
  CHECK_NOTHROW(Parse("D", kNewOrder));
  // No Symbol.
  CHECK_THROWS_AS(Parse("D",
                        "11=a|1=KZ-OP-0007|54=1|60=20260101-10:00:00|"
                        "38=1|40=2|44=1|"),
                  FIX::RequiredTagMissing);
  // Non-numeric price.
  CHECK_THROWS_AS(Parse("D",
                        "11=a|1=A|55=S|54=1|60=20260101-10:00:00|38=1|"
                        "40=2|44=abc|"),
                  FIX::IncorrectDataFormat);
  // A tag the gateway does not serve in D.
  CHECK_THROWS_AS(Parse("D", kNewOrder + "100=XKAZ|"),
                  FIX::TagNotDefinedForMessage);
  // An application message type the gateway does not serve is still known
  // (so it can be answered with BusinessMessageReject).
  CHECK_NOTHROW(Parse("B", "148=hello|33=1|58=line|"));
}

TEST_CASE("NewOrderSingle becomes PlaceOrder", "[fix_translate]") {
  NameTables tables(SampleState());
  ExecIdSource ids(1);
  Translation t =
      TranslateNewOrder(Parse("D", kNewOrder), tables, ids, Timestamp(0));
  REQUIRE(t.command.has_value());
  REQUIRE_FALSE(t.reply.has_value());
  const auto& order = std::get<engine::PlaceOrder>(*t.command);
  CHECK(order.cl_ord_id.view() == "ord-1");
  CHECK(order.account == AccountId(7));
  CHECK(order.instrument == InstrumentId(1));
  CHECK(order.side == Side::kBuy);
  CHECK(order.type == engine::OrderType::kLimit);
  CHECK(order.price == Price(123450));
  CHECK(order.qty == Quantity(100));
  CHECK(order.tif == engine::TimeInForce::kGtc);
}

TEST_CASE("market orders carry no price, TIF defaults to Day",
          "[fix_translate]") {
  NameTables tables(SampleState());
  ExecIdSource ids(1);
  Translation t = TranslateNewOrder(
      Parse("D",
            "11=m|1=KZ-OP-0007|55=KZQ-2026|54=2|60=20260101-10:00:00|"
            "38=5|40=1|44=10|"),
      tables, ids, Timestamp(0));
  REQUIRE(t.command.has_value());
  const auto& order = std::get<engine::PlaceOrder>(*t.command);
  CHECK(order.type == engine::OrderType::kMarket);
  CHECK_FALSE(order.price.has_value());
  CHECK(order.tif == engine::TimeInForce::kDay);
  CHECK(order.side == Side::kSell);
}

TEST_CASE("bad values in D are rejected with the contract's reasons",
          "[fix_translate]") {
  NameTables tables(SampleState());
  ExecIdSource ids(42);
  struct Case {
    std::string body;
    std::string reason;
    std::string text;
  };
  const std::string base = "1=KZ-OP-0007|54=1|60=20260101-10:00:00|40=2|";
  const Case cases[] = {
      {"11=a|55=KZQ-2099|38=1|44=1|" + base, "1", "unknown symbol"},
      {"11=a|55=KZQ-2026|38=1.5|44=1|" + base, "99", "quantity"},
      {"11=a|55=KZQ-2026|38=1|44=1.001|" + base, "99", "price"},
      {"11=a|55=KZQ-2026|38=1|" + base, "99", "Price(44)"},
      {"11=" + std::string(32, 'x') + "|55=KZQ-2026|38=1|44=1|" + base, "99",
       "ClOrdID"},
      {"11=a|55=KZQ-2026|38=1|44=1|1=NOBODY|54=1|60=20260101-10:00:00|40=2|",
       "99", "unknown account"},
      {"11=a|55=KZQ-2026|38=1|44=1|1=KZ-OP-0007|54=1|60=20260101-10:00:00|"
       "40=2|59=6|",
       "99", "TimeInForce"},
      {"11=a|55=KZQ-2026|38=1|44=1|1=KZ-OP-0007|54=3|60=20260101-10:00:00|"
       "40=2|",
       "99", "Side"},
      {"11=a|55=KZQ-2026|38=1|44=1|1=KZ-OP-0007|54=1|60=20260101-10:00:00|"
       "40=3|",
       "99", "OrdType"},
  };
  for (const Case& c : cases) {
    INFO(c.body);
    Translation t =
        TranslateNewOrder(Parse("D", c.body), tables, ids, Timestamp(0));
    REQUIRE_FALSE(t.command.has_value());
    REQUIRE(t.reply.has_value());
    const FIX::Message& r = *t.reply;
    CHECK(Field(r.getHeader(), 35) == "8");
    CHECK(Field(r, 150) == "8");
    CHECK(Field(r, 39) == "8");
    CHECK(Field(r, 103) == c.reason);
    CHECK_THAT(Field(r, 58), Catch::Contains(c.text));
    CHECK_THAT(Field(r, 17), Catch::StartsWith("G42-"));
    for (int tag : {37, 17, 150, 39, 54, 55, 1, 38, 14, 151, 6, 60}) {
      INFO(tag);
      CHECK(r.isSetField(tag));
    }
  }
}

TEST_CASE("cancel, replace, status and mass cancel translate",
          "[fix_translate]") {
  NameTables tables(SampleState());
  ExecIdSource ids(1);
  Translation cancel = TranslateCancel(
      Parse("F", "41=ord-1|11=c-1|1=KZ-OP-0007|55=KZQ-2026|54=1|"), tables,
      Timestamp(0));
  REQUIRE(cancel.command.has_value());
  const auto& c = std::get<engine::CancelOrder>(*cancel.command);
  CHECK(c.orig_cl_ord_id.view() == "ord-1");
  CHECK(c.cl_ord_id.view() == "c-1");
  CHECK_FALSE(c.order_id.has_value());

  Translation replace = TranslateReplace(
      Parse("G",
            "37=12|11=r-1|41=ord-1|1=KZ-OP-0007|55=KZQ-2026|54=1|38=50|"
            "40=2|44=10.05|"),
      tables, Timestamp(0));
  REQUIRE(replace.command.has_value());
  const auto& r = std::get<engine::ReplaceOrder>(*replace.command);
  CHECK(r.order_id == OrderId(12));
  CHECK(r.price == Price(1005));
  CHECK(r.qty == Quantity(50));

  Translation status = TranslateStatusRequest(
      Parse("H", "11=ord-1|1=KZ-OP-0007|55=KZQ-2026|54=1|"), tables, ids,
      Timestamp(0));
  REQUIRE(status.command.has_value());
  CHECK(std::get<engine::QueryOrderStatus>(*status.command).cl_ord_id.view() ==
        "ord-1");

  Translation mass = TranslateMassCancel(
      Parse("q", "11=m-1|530=1|55=KZQ-2026|"), tables, Timestamp(0));
  REQUIRE(mass.command.has_value());
  const auto& m = std::get<engine::MassCancel>(*mass.command);
  CHECK(m.scope == engine::MassCancelScope::kInstrument);
  CHECK(m.instrument == InstrumentId(1));
  Translation all =
      TranslateMassCancel(Parse("q", "11=m-2|530=7|"), tables, Timestamp(0));
  REQUIRE(all.command.has_value());
  CHECK(std::get<engine::MassCancel>(*all.command).scope ==
        engine::MassCancelScope::kBroker);
}

TEST_CASE("requests naming no possible order are answered at once",
          "[fix_translate]") {
  NameTables tables(SampleState());
  ExecIdSource ids(1);
  Translation cancel =
      TranslateCancel(Parse("F", "41=ord-1|11=c-1|1=KZ-OP-0007|55=NOPE|54=1|"),
                      tables, Timestamp(0));
  REQUIRE(cancel.reply.has_value());
  CHECK(Field(cancel.reply->getHeader(), 35) == "9");
  CHECK(Field(*cancel.reply, 102) == "1");
  CHECK(Field(*cancel.reply, 434) == "1");
  CHECK(Field(*cancel.reply, 41) == "ord-1");

  Translation replace = TranslateReplace(
      Parse("G", "11=r|41=o|1=KZ-OP-0007|55=KZQ-2026|54=1|38=5|40=1|"), tables,
      Timestamp(0));
  REQUIRE(replace.reply.has_value());
  CHECK(Field(*replace.reply, 102) == "99");
  CHECK(Field(*replace.reply, 434) == "2");

  Translation status = TranslateStatusRequest(
      Parse("H", "11=o|1=NOBODY|55=KZQ-2026|54=1|"), tables, ids, Timestamp(0));
  REQUIRE(status.reply.has_value());
  CHECK(Field(*status.reply, 150) == "I");
  CHECK(Field(*status.reply, 39) == "8");
  CHECK(Field(*status.reply, 103) == "5");

  Translation mass =
      TranslateMassCancel(Parse("q", "11=m|530=3|"), tables, Timestamp(0));
  REQUIRE(mass.reply.has_value());
  CHECK(Field(*mass.reply, 531) == "0");
  CHECK(Field(*mass.reply, 530) == "3");
}

TEST_CASE("market data requests decode their groups", "[fix_translate]") {
  NameTables tables(SampleState());
  MarketDataTranslation t = TranslateMarketDataRequest(
      Parse("V", "262=md1|263=1|264=0|267=2|269=0|269=2|146=1|55=KZQ-2026|"),
      tables);
  REQUIRE(t.request.has_value());
  CHECK(t.request->md_req_id == "md1");
  CHECK(t.request->subscription == '1');
  CHECK(t.request->bids);
  CHECK_FALSE(t.request->offers);
  CHECK(t.request->trades);
  REQUIRE(t.request->symbols.size() == 1);
  CHECK(t.request->symbols[0] == "KZQ-2026");

  MarketDataTranslation bad = TranslateMarketDataRequest(
      Parse("V", "262=md2|263=0|264=0|267=1|269=0|146=1|55=NOPE|"), tables);
  REQUIRE(bad.reply.has_value());
  CHECK(Field(bad.reply->getHeader(), 35) == "Y");
  CHECK(Field(*bad.reply, 262) == "md2");
  CHECK(Field(*bad.reply, 281) == "0");
}

TEST_CASE("security list lists the open instruments", "[fix_translate]") {
  NameTables tables(SampleState());
  FIX::Message list = SecurityListFor(Parse("x", "320=s1|559=4|"), tables);
  CHECK(Field(list, 560) == "0");
  CHECK(Field(list, 322) == "s1");
  REQUIRE(list.groupCount(146) == 1);  // KZO-2025 is halted
  CHECK(Field(list.getGroupRef(1, 146), 55) == "KZQ-2026");
  FIX::Message one =
      SecurityListFor(Parse("x", "320=s2|559=0|55=NOPE|"), tables);
  CHECK(Field(one, 560) == "2");
}

engine::OrderView SampleOrder() {
  engine::OrderView order;
  order.order_id = OrderId(77);
  order.broker = BrokerId(3);
  order.cl_ord_id = ClientOrderId("ord-1");
  order.account = AccountId(7);
  order.instrument = InstrumentId(1);
  order.side = Side::kSell;
  order.price = Price(1000);
  order.order_qty = Quantity(30);
  order.cum_qty = Quantity(20);
  order.leaves_qty = Quantity(10);
  order.cum_notional = Cash(20'100);
  order.status = engine::OrderStatus::kPartiallyFilled;
  return order;
}

TEST_CASE("fills become Trade execution reports", "[fix_translate]") {
  NameTables tables(SampleState());
  engine::Event event;
  event.header = {SequenceNumber(9), Timestamp(0), BrokerId(3)};
  engine::OrderFilled fill;
  fill.order = SampleOrder();
  fill.trade_id = TradeId(4);
  fill.last_price = Price(1010);
  fill.last_qty = Quantity(10);
  event.body = fill;
  CHECK(RecipientOf(event) == BrokerId(3));
  std::optional<FIX::Message> report = BrokerMessageFor(event, 2, tables);
  REQUIRE(report.has_value());
  CHECK(Field(*report, 17) == "9-2");
  CHECK(Field(*report, 37) == "77");
  CHECK(Field(*report, 150) == "F");
  CHECK(Field(*report, 39) == "1");
  CHECK(Field(*report, 14) == "20");
  CHECK(Field(*report, 151) == "10");
  CHECK(Field(*report, 38) == "30");
  CHECK(Field(*report, 6) == "10.05");
  CHECK(Field(*report, 31) == "10.10");
  CHECK(Field(*report, 32) == "10");
  CHECK(Field(*report, 1) == "KZ-OP-0007");
  CHECK(Field(*report, 55) == "KZQ-2026");
  CHECK(Field(*report, 54) == "2");
}

TEST_CASE("cancels carry both ClOrdIDs and a reason", "[fix_translate]") {
  NameTables tables(SampleState());
  engine::Event event;
  event.header = {SequenceNumber(10), Timestamp(0), BrokerId(3)};
  engine::OrderCanceled canceled;
  canceled.order = SampleOrder();
  canceled.order.status = engine::OrderStatus::kCanceled;
  canceled.order.leaves_qty = Quantity(0);
  canceled.cancel_cl_ord_id = ClientOrderId("c-9");
  canceled.reason = engine::CancelReason::kRequested;
  event.body = canceled;
  std::optional<FIX::Message> report = BrokerMessageFor(event, 0, tables);
  REQUIRE(report.has_value());
  CHECK(Field(*report, 11) == "c-9");
  CHECK(Field(*report, 41) == "ord-1");
  CHECK(Field(*report, 150) == "4");
  CHECK(Field(*report, 39) == "4");
  CHECK(Field(*report, 151) == "0");

  engine::OrderCanceled ioc = canceled;
  ioc.cancel_cl_ord_id = ClientOrderId();
  ioc.reason = engine::CancelReason::kSelfTrade;
  event.body = ioc;
  report = BrokerMessageFor(event, 0, tables);
  CHECK(Field(*report, 11) == "ord-1");
  CHECK_FALSE(report->isSetField(41));
  CHECK_THAT(Field(*report, 58), Catch::Contains("self-trade"));
}

TEST_CASE("engine rejects map to OrdRejReason codes", "[fix_translate]") {
  NameTables tables(SampleState());
  engine::Event event;
  event.header = {SequenceNumber(11), Timestamp(0), BrokerId(3)};
  engine::OrderRejected rejected;
  rejected.broker = BrokerId(3);
  rejected.request.cl_ord_id = ClientOrderId("x");
  rejected.request.account = AccountId(7);
  rejected.request.instrument = InstrumentId(1);
  rejected.request.qty = Quantity(5);
  rejected.request.price = Price(100);
  struct Case {
    engine::RejectReason reason;
    const char* code;
  };
  const Case cases[] = {
      {engine::RejectReason::kInsufficientCash, "3"},
      {engine::RejectReason::kInsufficientUnits, "3"},
      {engine::RejectReason::kHoldingLimit, "3"},
      {engine::RejectReason::kDuplicateClientOrderId, "6"},
      {engine::RejectReason::kUnauthorisedAccount, "99"},
      {engine::RejectReason::kBadPrice, "99"},
      {engine::RejectReason::kMarketClosed, "99"},
  };
  for (const Case& c : cases) {
    rejected.reason = c.reason;
    event.body = rejected;
    std::optional<FIX::Message> report = BrokerMessageFor(event, 0, tables);
    REQUIRE(report.has_value());
    CHECK(Field(*report, 103) == c.code);
    CHECK(Field(*report, 150) == "8");
    CHECK(Field(*report, 38) == "5");
    CHECK(Field(*report, 44) == "1.00");
  }
}

TEST_CASE("market data: snapshot and increments", "[fix_translate]") {
  NameTables tables(SampleState());
  MarketDataRequest request;
  request.md_req_id = "md";
  request.bids = request.offers = request.trades = true;
  engine::DepthSnapshot depth;
  depth.instrument = InstrumentId(1);
  depth.bids.push_back({Price(1000), Quantity(30), 2});
  depth.asks.push_back({Price(1100), Quantity(5), 1});
  depth.asks.push_back({Price(1200), Quantity(7), 3});
  FIX::Message w = MarketDataSnapshot(request, "KZQ-2026", depth);
  REQUIRE(w.groupCount(268) == 3);
  CHECK(Field(w.getGroupRef(1, 268), 269) == "0");
  CHECK(Field(w.getGroupRef(1, 268), 346) == "2");
  CHECK(Field(w.getGroupRef(3, 268), 270) == "12.00");

  engine::Event event;
  event.header = {SequenceNumber(12), Timestamp(0), BrokerId(3)};
  event.body = engine::BookLevelChanged{InstrumentId(1), Side::kSell,
                                        Price(1100), Quantity(0), 0};
  std::optional<FIX::Message> x =
      MarketDataIncrement(request, event, tables, '1');
  REQUIRE(x.has_value());
  CHECK(Field(x->getGroupRef(1, 268), 279) == "2");
  CHECK(Field(x->getGroupRef(1, 268), 269) == "1");
  request.offers = false;
  CHECK_FALSE(MarketDataIncrement(request, event, tables, '1').has_value());
  CHECK_FALSE(RecipientOf(event).has_value());
}

// Brokers validate what they receive with the standard FIX 4.4 dictionary:
// everything the gateway sends must pass it.
void ValidateStandard(FIX::Message message) {
  static const FIX::DataDictionary kStandard(CARBONEX_STANDARD_FIX44);
  FIX::Header& header = message.getHeader();
  header.setField(8, "FIX.4.4");
  header.setField(49, "CARBONEX");
  header.setField(56, "BRK1");
  header.setField(34, "7");
  header.setField(52, "20260101-10:00:00.000");
  FIX::Message parsed(message.toString(), kStandard, true);
  kStandard.validate(parsed);
}

// An event body of each kind a broker is told of.
std::vector<engine::EventBody> BrokerEventBodies() {
  std::vector<engine::EventBody> bodies;
  bodies.emplace_back(engine::OrderAccepted{SampleOrder()});
  engine::OrderFilled fill;
  fill.order = SampleOrder();
  fill.last_price = Price(1010);
  fill.last_qty = Quantity(10);
  bodies.emplace_back(fill);
  engine::OrderCanceled canceled;
  canceled.order = SampleOrder();
  canceled.cancel_cl_ord_id = ClientOrderId("c");
  bodies.emplace_back(canceled);
  bodies.emplace_back(engine::OrderExpired{SampleOrder()});
  engine::OrderReplaced replaced;
  replaced.order = SampleOrder();
  replaced.orig_cl_ord_id = ClientOrderId("o");
  bodies.emplace_back(replaced);
  engine::OrderRejected rejected;
  rejected.request.cl_ord_id = ClientOrderId("x");
  rejected.request.account = AccountId(7);
  rejected.request.instrument = InstrumentId(1);
  rejected.request.qty = Quantity(1);
  bodies.emplace_back(rejected);
  engine::CancelRejected cancel_rejected;
  cancel_rejected.cl_ord_id = ClientOrderId("c");
  cancel_rejected.orig_cl_ord_id = ClientOrderId("o");
  bodies.emplace_back(cancel_rejected);
  engine::OrderStatusReported unknown;
  unknown.request.cl_ord_id = ClientOrderId("q");
  bodies.emplace_back(unknown);
  engine::MassCancelCompleted mass;
  mass.request.cl_ord_id = ClientOrderId("m");
  mass.affected = 3;
  bodies.emplace_back(mass);
  return bodies;
}

TEST_CASE("outbound messages pass the standard FIX 4.4 dictionary",
          "[fix_translate]") {
  NameTables tables(SampleState());
  ExecIdSource ids(1);
  engine::Event event;
  event.header = {SequenceNumber(9), Timestamp(0), BrokerId(3)};
  const std::vector<engine::EventBody> bodies = BrokerEventBodies();
  for (const engine::EventBody& body : bodies) {
    event.body = body;
    std::optional<FIX::Message> message = BrokerMessageFor(event, 0, tables);
    REQUIRE(message.has_value());
    INFO(message->toString());
    CHECK_NOTHROW(ValidateStandard(*message));
  }
  MarketDataRequest request;
  request.md_req_id = "md";
  request.bids = request.offers = request.trades = true;
  engine::DepthSnapshot depth;
  depth.bids.push_back({Price(1000), Quantity(30), 2});
  CHECK_NOTHROW(
      ValidateStandard(MarketDataSnapshot(request, "KZQ-2026", depth)));
  engine::TradeExecuted trade;
  trade.trade_id = TradeId(1);
  trade.instrument = InstrumentId(1);
  trade.price = Price(100);
  trade.qty = Quantity(2);
  event.body = trade;
  CHECK_NOTHROW(
      ValidateStandard(*MarketDataIncrement(request, event, tables, '0')));
  CHECK_NOTHROW(
      ValidateStandard(SecurityListFor(Parse("x", "320=s1|559=4|"), tables)));
  CHECK_NOTHROW(ValidateStandard(
      *TranslateNewOrder(
           Parse("D",
                 "11=a|1=X|55=KZQ-2026|54=1|60=20260101-10:00:00|38=1|40=2|"
                 "44=1|"),
           tables, ids, Timestamp(0))
           .reply));
  CHECK_NOTHROW(ValidateStandard(
      *TranslateMarketDataRequest(
           Parse("V", "262=m|263=0|264=0|267=1|269=0|146=1|55=NOPE|"), tables)
           .reply));
}

TEST_CASE("reports written straight into wire form are QuickFIX's bytes",
          "[fix_translate]") {
  NameTables tables(SampleState());
  std::vector<engine::EventBody> bodies = BrokerEventBodies();
  // The variants each kind has: no price, no ClOrdID of a cancel request,
  // an account and a symbol with no name, an order known or not.
  engine::OrderView market = SampleOrder();
  market.type = engine::OrderType::kMarket;
  market.price.reset();
  market.tif = engine::TimeInForce::kIoc;
  bodies.emplace_back(engine::OrderAccepted{market});
  engine::OrderView nameless = SampleOrder();
  nameless.account = AccountId(99);
  nameless.instrument = InstrumentId(42);
  bodies.emplace_back(engine::OrderAccepted{nameless});
  for (engine::CancelReason reason :
       {engine::CancelReason::kMassCancel, engine::CancelReason::kSelfTrade}) {
    engine::OrderCanceled canceled;
    canceled.order = SampleOrder();
    canceled.reason = reason;
    bodies.emplace_back(canceled);
  }
  engine::OrderRejected priced;
  priced.request.cl_ord_id = ClientOrderId("p");
  priced.request.account = AccountId(7);
  priced.request.instrument = InstrumentId(1);
  priced.request.qty = Quantity(3);
  priced.request.price = Price(12'345);
  priced.reason = engine::RejectReason::kInsufficientCash;
  bodies.emplace_back(priced);
  engine::CancelRejected known;
  known.cl_ord_id = ClientOrderId("c");
  known.orig_cl_ord_id = ClientOrderId("o");
  known.order = SampleOrder();
  known.response_to = engine::CancelRequestKind::kReplace;
  bodies.emplace_back(known);
  engine::CancelRejected by_id = known;
  by_id.order.reset();
  by_id.order_id = OrderId(55);
  bodies.emplace_back(by_id);
  engine::OrderStatusReported status;
  status.order = SampleOrder();
  bodies.emplace_back(status);
  engine::MassCancelCompleted one_symbol;
  one_symbol.request.cl_ord_id = ClientOrderId("m");
  one_symbol.request.scope = engine::MassCancelScope::kInstrument;
  one_symbol.request.instrument = InstrumentId(1);
  bodies.emplace_back(one_symbol);
  // Orders of random sizes, prices, fills and times.
  std::mt19937_64 random(7);
  for (int i = 0; i < 200; ++i) {
    engine::OrderView order = SampleOrder();
    order.order_id = OrderId(random() % 10'000'000'000ULL);
    order.order_qty =
        Quantity(1 + static_cast<std::int64_t>(random() % 1'000'000));
    order.cum_qty = Quantity(static_cast<std::int64_t>(random() % 1000));
    order.leaves_qty = Quantity(static_cast<std::int64_t>(random() % 1000));
    order.cum_notional =
        Cash(static_cast<std::int64_t>(random() % 100'000'000'000ULL));
    order.price = Price(1 + static_cast<std::int64_t>(random() % 10'000'000));
    order.side = random() % 2 == 0 ? Side::kBuy : Side::kSell;
    engine::OrderFilled fill;
    fill.order = order;
    fill.last_price = *order.price;
    fill.last_qty = Quantity(1 + static_cast<std::int64_t>(random() % 1000));
    bodies.emplace_back(fill);
  }

  engine::Event event;
  std::uint32_t index = 0;
  FixBodyWriter writer;
  for (const engine::EventBody& body : bodies) {
    event.header = {SequenceNumber(1 + random() % 100'000'000),
                    Timestamp(static_cast<std::int64_t>(
                        random() % 4'000'000'000'000'000'000ULL)),
                    BrokerId(3)};
    event.body = body;
    ++index;
    std::optional<FIX::Message> message =
        BrokerMessageFor(event, index, tables);
    REQUIRE(message.has_value());
    writer.Clear();
    const char* msg_type = WriteBrokerMessage(event, index, tables, &writer);
    REQUIRE(msg_type != nullptr);
    const FixHeader header{.begin_string = "FIX.4.4",
                           .msg_seq_num = 1 + index * 7919,
                           .sender_comp_id = "CARBONEX",
                           .sending_time = "20261127-04:05:06.789",
                           .target_comp_id = "BRK1"};
    FIX::Header& fields = message->getHeader();
    fields.setField(8, std::string(header.begin_string));
    fields.setField(34, std::to_string(header.msg_seq_num));
    fields.setField(49, std::string(header.sender_comp_id));
    fields.setField(52, std::string(header.sending_time));
    fields.setField(56, std::string(header.target_comp_id));
    std::string ours;
    FrameFixMessage(header, msg_type, writer.body(), &ours);
    INFO(message->toString());
    CHECK(ours == message->toString());
  }

  // Events no broker is told of write nothing.
  engine::TradeExecuted trade;
  trade.instrument = InstrumentId(1);
  event.body = trade;
  writer.Clear();
  CHECK(WriteBrokerMessage(event, 0, tables, &writer) == nullptr);
  CHECK(writer.body().empty());
}

}  // namespace
}  // namespace carbonex::gateway
