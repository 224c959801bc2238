#include "carbonex/fixclient/client.h"

#include <quickfix/FieldNumbers.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "carbonex/fixclient/fake_exchange.h"
#include "carbonex/fixclient/messages.h"

namespace carbonex::fixclient {
namespace {

using namespace std::chrono_literals;

constexpr auto kWait = 5000ms;

FakeExchange MakeExchange() {
  return FakeExchange({.comp_id = "CARBONEX",
                       .passwords = {{"BROKER1", "pw1"}, {"BROKER2", "pw2"}},
                       .match = true});
}

ClientOptions OptionsFor(const FakeExchange& exchange,
                         std::vector<SessionOptions> sessions) {
  ClientOptions options;
  options.port = exchange.Port();
  options.sessions = std::move(sessions);
  return options;
}

// BROKER1's session against `exchange`.
ClientOptions Broker1(const FakeExchange& exchange) {
  return OptionsFor(exchange,
                    {{.sender_comp_id = "BROKER1", .password = "pw1"}});
}

// Starts `client` and waits until its first session is logged on.
void StartLoggedOn(Client& client) {
  REQUIRE(client.Start().ok());
  REQUIRE(client.WaitLoggedOn(0, kWait).ok());
}

NewOrder Limit(std::string id, Side side, std::int64_t qty,
               std::int64_t price) {
  return {.cl_ord_id = std::move(id),
          .account = "KZ-OP-0001",
          .symbol = "KZQ-2019",
          .side = side,
          .qty = Quantity(qty),
          .price = Price(price),
          .tif = TimeInForce::kDay};
}

std::string Get(const FIX::Message& message, int tag) {
  return FieldOf(message, tag).value_or("<absent>");
}

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("carbonex-fixclient-" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string Path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace

TEST_CASE("client logs on with Username and Password and gets an ack",
          "[fixclient][client]") {
  FakeExchange exchange = MakeExchange();
  REQUIRE(exchange.Start().ok());
  Client client(
      OptionsFor(exchange, {{.sender_comp_id = "BROKER1", .password = "pw1"}}));
  REQUIRE(client.Start().ok());
  Status logon = client.WaitLoggedOn(0, kWait);
  INFO(logon.message());
  REQUIRE(logon.ok());
  CHECK(client.IsLoggedOn(0));
  CHECK(client.LogonCount(0) == 1);

  const std::vector<FIX::Message> logons = exchange.Logons();
  REQUIRE(logons.size() == 1);
  CHECK(Get(logons[0], 553) == "BROKER1");
  CHECK(Get(logons[0], 554) == "pw1");
  CHECK(Get(logons[0], 141) == "Y");

  REQUIRE(
      client.Send(0, BuildNewOrderSingle(Limit("o-1", Side::kBuy, 10, 250000)))
          .ok());
  auto ack = client.WaitFor(0, IsExecutionReportFor("o-1", '0'), kWait);
  REQUIRE(ack.has_value());
  CHECK(Get(*ack, 39) == "0");
  CHECK(Get(*ack, 151) == "10");
  REQUIRE(exchange.Received().size() == 1);
  CHECK(Get(exchange.Received()[0], 44) == "2500.00");

  REQUIRE(client.Logout(0, "bye", kWait).ok());
  CHECK_FALSE(client.IsLoggedOn(0));
}

TEST_CASE("a wrong password is refused with Logout and Text",
          "[fixclient][client]") {
  FakeExchange exchange = MakeExchange();
  REQUIRE(exchange.Start().ok());
  Client client(OptionsFor(
      exchange, {{.sender_comp_id = "BROKER1", .password = "wrong"}}));
  REQUIRE(client.Start().ok());
  auto logout = client.WaitFor(0, IsMsgType("5"), kWait);
  REQUIRE(logout.has_value());
  CHECK(Get(*logout, 58).find("invalid password") != std::string::npos);
  CHECK_FALSE(client.IsLoggedOn(0));
  Status waited = client.WaitLoggedOn(0, 100ms);
  CHECK(waited.code() == StatusCode::kBusy);
  CHECK(waited.message().find("invalid password") != std::string::npos);
}

TEST_CASE("a Username other than the SenderCompID is sent as configured",
          "[fixclient][client]") {
  FakeExchange exchange = MakeExchange();
  REQUIRE(exchange.Start().ok());
  Client client(OptionsFor(exchange, {{.sender_comp_id = "BROKER1",
                                       .username = "BROKER2",
                                       .password = "pw1"}}));
  REQUIRE(client.Start().ok());
  auto logout = client.WaitFor(0, IsMsgType("5"), kWait);
  REQUIRE(logout.has_value());
  CHECK(Get(*logout, 58).find("Username") != std::string::npos);
  REQUIRE_FALSE(exchange.Logons().empty());
  CHECK(Get(exchange.Logons()[0], 553) == "BROKER2");
}

TEST_CASE("two sessions trade with each other", "[fixclient][client]") {
  FakeExchange exchange = MakeExchange();
  REQUIRE(exchange.Start().ok());
  Client client(
      OptionsFor(exchange, {{.sender_comp_id = "BROKER1", .password = "pw1"},
                            {.sender_comp_id = "BROKER2", .password = "pw2"}}));
  REQUIRE(client.Start().ok());
  REQUIRE(client.WaitLoggedOn(0, kWait).ok());
  REQUIRE(client.WaitLoggedOn(1, kWait).ok());
  CHECK(client.SessionId(1).getSenderCompID().getValue() == "BROKER2");

  REQUIRE(
      client.Send(0, BuildNewOrderSingle(Limit("s-1", Side::kSell, 30, 1000)))
          .ok());
  REQUIRE(client.WaitFor(0, IsExecutionReportFor("s-1", '0'), kWait));
  REQUIRE(
      client.Send(1, BuildNewOrderSingle(Limit("b-1", Side::kBuy, 10, 1200)))
          .ok());
  auto taker = client.WaitFor(1, IsExecutionReportFor("b-1", 'F'), kWait);
  auto maker = client.WaitFor(0, IsExecutionReportFor("s-1", 'F'), kWait);
  REQUIRE(taker.has_value());
  REQUIRE(maker.has_value());
  CHECK(Get(*taker, 31) == "10.00");  // the resting order's price
  CHECK(Get(*taker, 39) == "2");
  CHECK(Get(*maker, 32) == "10");
  CHECK(Get(*maker, 39) == "1");
  CHECK(Get(*maker, 151) == "20");
}

TEST_CASE("WaitFor takes the first match and keeps the rest in order",
          "[fixclient][client]") {
  FakeExchange exchange = MakeExchange();
  REQUIRE(exchange.Start().ok());
  Client client(Broker1(exchange));
  StartLoggedOn(client);
  for (const char* id : {"a", "b", "c"}) {
    REQUIRE(client.Send(0, BuildNewOrderSingle(Limit(id, Side::kBuy, 1, 100)))
                .ok());
  }
  auto b = client.WaitFor(0, IsExecutionReportFor("b"), kWait);
  REQUIRE(b.has_value());
  CHECK(Get(*b, 11) == "b");
  auto c_seen = client.WaitFor(0, IsExecutionReportFor("c"), kWait);
  REQUIRE(c_seen.has_value());
  auto first = client.Next(0, kWait);
  REQUIRE(first.has_value());
  CHECK(Get(*first, 11) == "a");
  CHECK(client.Pending(0) == 0);
  CHECK_FALSE(client.Next(0, 50ms).has_value());
  CHECK_FALSE(client.WaitFor(0, IsMsgType("9"), 50ms).has_value());
}

TEST_CASE("with batch_writes, deferred orders leave together at the flush",
          "[fixclient][client]") {
  FakeExchange exchange = MakeExchange();
  REQUIRE(exchange.Start().ok());
  ClientOptions options = Broker1(exchange);
  options.batch_writes = true;
  Client client(options);
  StartLoggedOn(client);
  constexpr int kOrders = 20;
  for (int i = 0; i < kOrders; ++i) {
    REQUIRE(
        client
            .SendDeferred(0, BuildNewOrderSingle(Limit("d-" + std::to_string(i),
                                                       Side::kBuy, 1 + i, 100)))
            .ok());
  }
  // Nothing is written before the flush.
  CHECK_FALSE(client.Next(0, 300ms).has_value());
  CHECK(exchange.OrdersReceived() == 0);

  REQUIRE(client.FlushDeferred().ok());
  for (int i = 0; i < kOrders; ++i) {
    INFO("order " << i);
    auto ack = client.Next(0, kWait);
    REQUIRE(ack.has_value());
    CHECK(Get(*ack, 11) == "d-" + std::to_string(i));
  }
  const std::vector<FIX::Message> received = exchange.Received();
  REQUIRE(received.size() == kOrders);
  for (int i = 0; i < kOrders; ++i) {
    CHECK(Get(received[static_cast<std::size_t>(i)], 11) ==
          "d-" + std::to_string(i));
  }
  // A plain Send is written at once, and a flush with nothing deferred
  // writes nothing.
  REQUIRE(client.FlushDeferred().ok());
  REQUIRE(client.Send(0, BuildNewOrderSingle(Limit("now", Side::kBuy, 1, 100)))
              .ok());
  auto now = client.WaitFor(0, IsExecutionReportFor("now"), kWait);
  REQUIRE(now.has_value());
  CHECK(exchange.OrdersReceived() == kOrders + 1);
}

TEST_CASE("orders written into wire form are sent, deferred or not",
          "[fixclient][client]") {
  FakeExchange exchange = MakeExchange();
  REQUIRE(exchange.Start().ok());
  ClientOptions options = Broker1(exchange);
  options.batch_writes = true;
  Client client(options);
  StartLoggedOn(client);
  gateway::FixBodyWriter body;
  const char* type = WriteNewOrderSingle(Limit("w-1", Side::kBuy, 7, 100),
                                         UtcTimestampNow(), &body);
  REQUIRE(client.SendBodyDeferred(0, type, body.body()).ok());
  CHECK_FALSE(client.Next(0, 300ms).has_value());
  REQUIRE(client.FlushDeferred().ok());
  auto ack = client.WaitFor(0, IsExecutionReportFor("w-1"), kWait);
  REQUIRE(ack.has_value());
  body.Clear();
  type = WriteOrderCancelRequest({.cl_ord_id = "w-2",
                                  .orig_cl_ord_id = "w-1",
                                  .account = "KZ-OP-0001",
                                  .symbol = "KZQ-2026",
                                  .side = Side::kBuy},
                                 UtcTimestampNow(), &body);
  REQUIRE(client.SendBody(0, type, body.body()).ok());
  // Answered (a cancel, or a reject where the fake filled the order).
  REQUIRE(client
              .WaitFor(
                  0, [](const FIX::Message& m) { return Get(m, 11) == "w-2"; },
                  kWait)
              .has_value());
  const std::vector<FIX::Message> received = exchange.Received();
  REQUIRE(received.size() == 2);
  CHECK(MsgTypeOf(received[0]) == "D");
  CHECK(Get(received[0], 11) == "w-1");
  CHECK(Get(received[0], 38) == "7");
  CHECK(MsgTypeOf(received[1]) == "F");
  CHECK(Get(received[1], 41) == "w-1");
  // Numbered in sequence with the logon: 2 and 3.
  CHECK(received[0].getHeader().getField(34) == "2");
  CHECK(received[1].getHeader().getField(34) == "3");
}

TEST_CASE("without batch_writes, a deferred order is sent at once",
          "[fixclient][client]") {
  FakeExchange exchange = MakeExchange();
  REQUIRE(exchange.Start().ok());
  Client client(Broker1(exchange));
  StartLoggedOn(client);
  REQUIRE(
      client
          .SendDeferred(0, BuildNewOrderSingle(Limit("d", Side::kBuy, 1, 100)))
          .ok());
  CHECK(client.WaitFor(0, IsExecutionReportFor("d"), kWait).has_value());
  CHECK(client.FlushDeferred().ok());
}

TEST_CASE("deferred orders of a connection that closed fail at the flush",
          "[fixclient][client]") {
  FakeExchange exchange = MakeExchange();
  REQUIRE(exchange.Start().ok());
  ClientOptions options = Broker1(exchange);
  options.batch_writes = true;
  options.reconnect_interval_s = 30;
  Client client(options);
  StartLoggedOn(client);
  REQUIRE(
      client
          .SendDeferred(0, BuildNewOrderSingle(Limit("d", Side::kBuy, 1, 100)))
          .ok());
  exchange.Stop();
  REQUIRE(client.WaitLoggedOut(0, kWait).ok());
  Status flushed = client.FlushDeferred();
  CHECK(flushed.code() == StatusCode::kIoError);
  CHECK_THAT(flushed.message(), Catch::Contains("FIX.4.4:BROKER1->CARBONEX"));
  // (Whether the order reached the exchange is a race: the client's answer
  // to the exchange's Logout writes the buffer ahead of itself.)
  // The session is down: later orders are refused, not deferred.
  CHECK(
      client
          .SendDeferred(0, BuildNewOrderSingle(Limit("e", Side::kBuy, 1, 100)))
          .code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("unserved messages come back as BusinessMessageReject",
          "[fixclient][client]") {
  FakeExchange exchange = MakeExchange();
  REQUIRE(exchange.Start().ok());
  Client client(Broker1(exchange));
  StartLoggedOn(client);
  REQUIRE(client.Send(0, BuildSecurityListRequest("sl-1")).ok());
  auto reject = client.WaitFor(0, IsMsgType("j"), kWait);
  REQUIRE(reject.has_value());
  CHECK(Get(*reject, 372) == "x");
  CHECK(Get(*reject, 380) == "3");
}

TEST_CASE("file store keeps sequence numbers across client restarts",
          "[fixclient][client]") {
  FakeExchange exchange = MakeExchange();
  REQUIRE(exchange.Start().ok());
  TempDir dir;
  ClientOptions options =
      OptionsFor(exchange, {{.sender_comp_id = "BROKER1", .password = "pw1"}});
  options.store = StoreKind::kFile;
  options.store_dir = dir.Path();
  options.reset_seq_num_on_logon = false;
  {
    Client first(options);
    REQUIRE(first.Start().ok());
    REQUIRE(first.WaitLoggedOn(0, kWait).ok());
    REQUIRE(first.Send(0, BuildNewOrderSingle(Limit("x", Side::kBuy, 1, 100)))
                .ok());
    REQUIRE(first.WaitFor(0, IsExecutionReportFor("x"), kWait));
    first.Stop();
  }
  Client second(options);
  REQUIRE(second.Start().ok());
  REQUIRE(second.WaitLoggedOn(0, kWait).ok());
  const std::vector<FIX::Message> logons = exchange.Logons();
  REQUIRE(logons.size() == 2);
  CHECK(Get(logons[0], 34) == "1");
  // Logon 1, order 2, Logout 3: the second logon continues at 4.
  CHECK(Get(logons[1], 34) == "4");
  CHECK_FALSE(logons[1].isSetField(141));
}

TEST_CASE("client refuses bad options and bad calls", "[fixclient][client]") {
  SECTION("no sessions") {
    Client client(ClientOptions{});
    CHECK(client.Start().code() == StatusCode::kInvalidArgument);
  }
  SECTION("file store without a directory") {
    ClientOptions options;
    options.sessions = {{.sender_comp_id = "B"}};
    options.store = StoreKind::kFile;
    Client client(options);
    CHECK(client.Start().code() == StatusCode::kInvalidArgument);
  }
  SECTION("duplicate session") {
    ClientOptions options;
    options.sessions = {{.sender_comp_id = "B"}, {.sender_comp_id = "B"}};
    Client client(options);
    CHECK(client.Start().code() == StatusCode::kInvalidArgument);
  }
  SECTION("unreadable data dictionary") {
    ClientOptions options;
    options.sessions = {{.sender_comp_id = "B"}};
    options.data_dictionary = "/nonexistent/FIX44.xml";
    Client client(options);
    CHECK(client.Start().code() == StatusCode::kIoError);
  }
  SECTION("calls on a session that is not logged on") {
    ClientOptions options;
    options.port = PickFreePort();  // nobody listens there
    options.sessions = {{.sender_comp_id = "B"}};
    Client client(options);
    CHECK(client.WaitLoggedOn(0, 10ms).code() ==
          StatusCode::kFailedPrecondition);
    REQUIRE(client.Start().ok());
    CHECK(client.Start().code() == StatusCode::kFailedPrecondition);
    CHECK(client.WaitLoggedOn(0, 50ms).code() == StatusCode::kBusy);
    CHECK(client.WaitLoggedOn(7, 50ms).code() == StatusCode::kInvalidArgument);
    CHECK(client.Send(0, BuildSecurityListRequest("x")).code() ==
          StatusCode::kFailedPrecondition);
    CHECK(client.Send(3, BuildSecurityListRequest("x")).code() ==
          StatusCode::kInvalidArgument);
    CHECK_FALSE(client.Next(3, 10ms).has_value());
  }
}

}  // namespace carbonex::fixclient
