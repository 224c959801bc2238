#include "carbonex/fixclient/messages.h"

#include <quickfix/DataDictionary.h>
#include <quickfix/FieldNumbers.h>
#include <quickfix/fix44/ExecutionReport.h>

#include <catch2/catch.hpp>

#include "carbonex/fixclient/client.h"
#include "carbonex/fixclient/raw_connection.h"

namespace carbonex::fixclient {
namespace {

const FIX::DataDictionary& Dictionary() {
  static const FIX::DataDictionary kDictionary(DefaultDataDictionaryPath());
  return kDictionary;
}

// Serialises a built message with a session header, parses it back with the
// FIX 4.4 dictionary (so repeating groups are read as groups) and validates
// it. Throws FIX::Exception if the message breaks the dictionary.
FIX::Message RoundTrip(const FIX::Message& built) {
  FIX::Message message(built);
  FIX::Header& header = message.getHeader();
  header.setField(FIX::FIELD::BeginString, "FIX.4.4");
  header.setField(FIX::FIELD::SenderCompID, "BROKER1");
  header.setField(FIX::FIELD::TargetCompID, "CARBONEX");
  header.setField(FIX::FIELD::MsgSeqNum, "2");
  header.setField(FIX::FIELD::SendingTime, UtcTimestampNow());
  FIX::Message parsed(message.toString(), Dictionary(), true);
  Dictionary().validate(parsed);
  return parsed;
}

std::string Get(const FIX::Message& message, int tag) {
  return FieldOf(message, tag).value_or("<absent>");
}

}  // namespace

TEST_CASE("NewOrderSingle limit order carries every contract field",
          "[fixclient][messages]") {
  NewOrder order{.cl_ord_id = "o-1",
                 .account = "KZ-OP-0001",
                 .symbol = "KZQ-2019",
                 .side = Side::kSell,
                 .qty = Quantity(100),
                 .price = Price(250050),
                 .tif = TimeInForce::kGoodTillCancel};
  const FIX::Message m = RoundTrip(BuildNewOrderSingle(order));
  CHECK(MsgTypeOf(m) == "D");
  CHECK(Get(m, 11) == "o-1");
  CHECK(Get(m, 1) == "KZ-OP-0001");
  CHECK(Get(m, 55) == "KZQ-2019");
  CHECK(Get(m, 54) == "2");
  CHECK(Get(m, 38) == "100");
  CHECK(Get(m, 40) == "2");
  CHECK(Get(m, 44) == "2500.50");
  CHECK(Get(m, 59) == "1");
  CHECK(m.isSetField(60));
}

TEST_CASE("NewOrderSingle market order has no price", "[fixclient][messages]") {
  NewOrder order{.cl_ord_id = "m-1",
                 .account = "A",
                 .symbol = "KZQ-2019",
                 .side = Side::kBuy,
                 .qty = Quantity(5),
                 .price = std::nullopt,
                 .tif = TimeInForce::kImmediateOrCancel};
  const FIX::Message m = RoundTrip(BuildNewOrderSingle(order));
  CHECK(Get(m, 40) == "1");
  CHECK_FALSE(m.isSetField(44));
  CHECK(Get(m, 54) == "1");
}

TEST_CASE("NewOrderSingle writes every time in force",
          "[fixclient][messages]") {
  const auto [tif, wire] =
      GENERATE(std::pair{TimeInForce::kDay, "0"},
               std::pair{TimeInForce::kGoodTillCancel, "1"},
               std::pair{TimeInForce::kImmediateOrCancel, "3"},
               std::pair{TimeInForce::kFillOrKill, "4"});
  NewOrder order{.cl_ord_id = "t",
                 .account = "A",
                 .symbol = "S",
                 .side = Side::kBuy,
                 .qty = Quantity(1),
                 .price = Price(100),
                 .tif = tif};
  CHECK(Get(RoundTrip(BuildNewOrderSingle(order)), 59) == wire);
}

TEST_CASE("orders written into wire form are the builders' bytes",
          "[fixclient][messages]") {
  const std::string transact_time = "20261127-04:05:06.789";
  const gateway::FixHeader header{.begin_string = "FIX.4.4",
                                  .msg_seq_num = 42,
                                  .sender_comp_id = "BROKER1",
                                  .sending_time = "20261127-04:05:06.790",
                                  .target_comp_id = "CARBONEX"};
  // What QuickFIX writes for the built message, with this header and
  // TransactTime.
  auto quickfix_bytes = [&](FIX::Message built) {
    FIX::Header& fields = built.getHeader();
    fields.setField(8, "FIX.4.4");
    fields.setField(34, "42");
    fields.setField(49, "BROKER1");
    fields.setField(52, "20261127-04:05:06.790");
    fields.setField(56, "CARBONEX");
    built.setField(60, transact_time);
    return built.toString();
  };
  gateway::FixBodyWriter body;
  std::string ours;
  for (TimeInForce tif :
       {TimeInForce::kDay, TimeInForce::kGoodTillCancel,
        TimeInForce::kImmediateOrCancel, TimeInForce::kFillOrKill}) {
    for (Side side : {Side::kBuy, Side::kSell}) {
      for (std::optional<Price> price :
           {std::optional<Price>(Price(250050)), std::optional<Price>()}) {
        const NewOrder order{.cl_ord_id = "o-1",
                             .account = "KZ-OP-0001",
                             .symbol = "KZQ-2019",
                             .side = side,
                             .qty = Quantity(1234567),
                             .price = price,
                             .tif = tif};
        body.Clear();
        ours.clear();
        gateway::FrameFixMessage(
            header, WriteNewOrderSingle(order, transact_time, &body),
            body.body(), &ours);
        CHECK(ours == quickfix_bytes(BuildNewOrderSingle(order)));
      }
    }
  }
  const CancelOrder cancel{.cl_ord_id = "c-1",
                           .orig_cl_ord_id = "o-1",
                           .account = "A",
                           .symbol = "KZO-2025",
                           .side = Side::kBuy};
  body.Clear();
  ours.clear();
  gateway::FrameFixMessage(
      header, WriteOrderCancelRequest(cancel, transact_time, &body),
      body.body(), &ours);
  CHECK(ours == quickfix_bytes(BuildOrderCancelRequest(cancel)));
}

TEST_CASE("cancel, replace and status requests", "[fixclient][messages]") {
  const FIX::Message cancel =
      RoundTrip(BuildOrderCancelRequest({.cl_ord_id = "c-1",
                                         .orig_cl_ord_id = "o-1",
                                         .account = "A",
                                         .symbol = "KZO-2025",
                                         .side = Side::kBuy}));
  CHECK(MsgTypeOf(cancel) == "F");
  CHECK(Get(cancel, 11) == "c-1");
  CHECK(Get(cancel, 41) == "o-1");
  CHECK(Get(cancel, 1) == "A");
  CHECK(Get(cancel, 55) == "KZO-2025");
  CHECK(Get(cancel, 54) == "1");

  const FIX::Message replace =
      RoundTrip(BuildOrderCancelReplaceRequest({.cl_ord_id = "r-1",
                                                .orig_cl_ord_id = "o-1",
                                                .account = "A",
                                                .symbol = "KZO-2025",
                                                .side = Side::kSell,
                                                .qty = Quantity(7),
                                                .price = Price(1)}));
  CHECK(MsgTypeOf(replace) == "G");
  CHECK(Get(replace, 41) == "o-1");
  CHECK(Get(replace, 38) == "7");
  CHECK(Get(replace, 40) == "2");
  CHECK(Get(replace, 44) == "0.01");
  CHECK(Get(replace, 54) == "2");

  const FIX::Message status =
      RoundTrip(BuildOrderStatusRequest({.cl_ord_id = "o-1",
                                         .account = "A",
                                         .symbol = "KZO-2025",
                                         .side = Side::kSell}));
  CHECK(MsgTypeOf(status) == "H");
  CHECK(Get(status, 11) == "o-1");
  CHECK(Get(status, 54) == "2");
}

TEST_CASE("mass cancel by symbol and for the whole broker",
          "[fixclient][messages]") {
  const FIX::Message by_symbol = RoundTrip(
      BuildOrderMassCancelRequest({.cl_ord_id = "mc-1",
                                   .scope = MassCancelScope::kBySymbol,
                                   .symbol = "KZQ-2019"}));
  CHECK(MsgTypeOf(by_symbol) == "q");
  CHECK(Get(by_symbol, 530) == "1");
  CHECK(Get(by_symbol, 55) == "KZQ-2019");

  const FIX::Message all = RoundTrip(
      BuildOrderMassCancelRequest({.cl_ord_id = "mc-2",
                                   .scope = MassCancelScope::kAllOfBroker,
                                   .symbol = "ignored"}));
  CHECK(Get(all, 530) == "7");
  CHECK_FALSE(all.isSetField(55));
}

TEST_CASE("market data request carries its groups", "[fixclient][messages]") {
  const FIX::Message m = RoundTrip(BuildMarketDataRequest(
      {.md_req_id = "md-1",
       .subscription = Subscription::kSubscribe,
       .depth = 5,
       .entry_types = {MdEntryType::kBid, MdEntryType::kOffer,
                       MdEntryType::kTrade},
       .symbols = {"KZQ-2019", "KZO-2025"}}));
  CHECK(MsgTypeOf(m) == "V");
  CHECK(Get(m, 262) == "md-1");
  CHECK(Get(m, 263) == "1");
  CHECK(Get(m, 264) == "5");
  REQUIRE(m.groupCount(FIX::FIELD::NoMDEntryTypes) == 3);
  FIX44::MarketDataRequest::NoMDEntryTypes type_group;
  m.getGroup(3, type_group);
  CHECK(type_group.getField(269) == "2");
  REQUIRE(m.groupCount(FIX::FIELD::NoRelatedSym) == 2);
  FIX44::MarketDataRequest::NoRelatedSym symbol_group;
  m.getGroup(2, symbol_group);
  CHECK(symbol_group.getField(55) == "KZO-2025");
}

TEST_CASE("security list request asks for all instruments",
          "[fixclient][messages]") {
  const FIX::Message m = RoundTrip(BuildSecurityListRequest("sl-1"));
  CHECK(MsgTypeOf(m) == "x");
  CHECK(Get(m, 320) == "sl-1");
  CHECK(Get(m, 559) == "4");
}

TEST_CASE("FormatPrice writes tenge with two decimals",
          "[fixclient][messages]") {
  CHECK(FormatPrice(Price(250000)) == "2500.00");
  CHECK(FormatPrice(Price(250005)) == "2500.05");
  CHECK(FormatPrice(Price(1)) == "0.01");
  CHECK(FormatPrice(Price(0)) == "0.00");
  CHECK(FormatPrice(Price(-150)) == "-1.50");
}

TEST_CASE("ParsePrice reads decimal tenge exactly", "[fixclient][messages]") {
  CHECK(ParsePrice("2500")->value() == 250000);
  CHECK(ParsePrice("2500.5")->value() == 250050);
  CHECK(ParsePrice("2500.05")->value() == 250005);
  CHECK(ParsePrice("0.01")->value() == 1);
  CHECK(ParsePrice("-3.10")->value() == -310);
  for (std::int64_t tiyn : {1LL, 99LL, 100LL, 123456789LL}) {
    CHECK(ParsePrice(FormatPrice(Price(tiyn)))->value() == tiyn);
  }
}

TEST_CASE("ParsePrice refuses what is not a two-decimal number",
          "[fixclient][messages]") {
  for (const char* bad : {"", ".", "12.", ".5", "1.234", "abc", "1,5", "1e3",
                          "--1", "99999999999999999999"}) {
    INFO(bad);
    Result<Price> parsed = ParsePrice(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Describe prints an execution report on one line",
          "[fixclient][messages]") {
  FIX44::ExecutionReport report;
  report.setField(FIX::ExecType('F'));
  report.setField(FIX::OrdStatus('2'));
  report.setField(FIX::ClOrdID("o-1"));
  report.setField(FIX::Symbol("KZQ-2019"));
  report.setField(FIX::FIELD::LastQty, "10");
  report.setField(FIX::FIELD::LastPx, "2500.00");
  report.setField(FIX::Text("done"));
  const std::string line = Describe(report);
  CHECK(line.rfind("ExecutionReport Trade/Filled", 0) == 0);
  CHECK(line.find("ClOrdID=o-1") != std::string::npos);
  CHECK(line.find("LastQty=10") != std::string::npos);
  CHECK(line.find("LastPx=2500.00") != std::string::npos);
  CHECK(line.find("Text=done") != std::string::npos);
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("Describe falls back to raw tags for other messages",
          "[fixclient][messages]") {
  FIX::Message message;
  message.getHeader().setField(FIX::FIELD::MsgType, "U9");
  message.setField(5001, "x");
  CHECK(Describe(message) == "MsgType=U9 5001=x");
}

}  // namespace carbonex::fixclient
