#include "carbonex/fixclient/raw_connection.h"

#include <quickfix/Exceptions.h>
#include <quickfix/FieldNumbers.h>

#include <catch2/catch.hpp>

#include "carbonex/fixclient/fake_exchange.h"
#include "carbonex/fixclient/messages.h"

namespace carbonex::fixclient {
namespace {

using namespace std::chrono_literals;

constexpr auto kWait = 5000ms;

std::string Get(const FIX::Message& message, int tag) {
  return FieldOf(message, tag).value_or("<absent>");
}

FieldList OrderFields(int seq_num) {
  return {{35, "D"},
          {49, "BROKER1"},
          {56, "CARBONEX"},
          {34, std::to_string(seq_num)},
          {52, UtcTimestampNow()},
          {11, "raw-1"},
          {1, "A"},
          {55, "KZQ-2019"},
          {54, "1"},
          {38, "5"},
          {40, "2"},
          {44, "12.50"},
          {59, "0"},
          {60, UtcTimestampNow()}};
}

}  // namespace

TEST_CASE("BuildFrame computes BodyLength and CheckSum", "[fixclient][raw]") {
  const std::string frame = BuildFrame(OrderFields(2));
  CHECK(frame.rfind("8=FIX.4.4\x01"
                    "9=",
                    0) == 0);
  CHECK(frame.find("\x01"
                   "35=D\x01") != std::string::npos);
  // QuickFIX's own parser checks the length and the checksum.
  FIX::Message parsed(frame, /*validate=*/true);
  CHECK(Get(parsed, 44) == "12.50");

  const std::string wrong_sum = ReplaceRawField(frame, 10, "000");
  CHECK(wrong_sum != frame);
  CHECK_THROWS_AS(FIX::Message(wrong_sum, true), FIX::InvalidMessage);
  const std::string wrong_length = ReplaceRawField(frame, 9, "3");
  CHECK_THROWS(FIX::Message(wrong_length, true));
}

TEST_CASE("ReplaceRawField changes only the named tag", "[fixclient][raw]") {
  const std::string frame =
      "8=FIX.4.4\x01"
      "9=5\x01"
      "35=0\x01"
      "10=123\x01";
  CHECK(ReplaceRawField(frame, 35, "A") ==
        "8=FIX.4.4\x01"
        "9=5\x01"
        "35=A\x01"
        "10=123\x01");
  CHECK(ReplaceRawField(frame, 8, "FIX.4.2") ==
        "8=FIX.4.2\x01"
        "9=5\x01"
        "35=0\x01"
        "10=123\x01");
  CHECK(ReplaceRawField(frame, 5, "x") == frame);  // 5 is not 35
}

TEST_CASE("raw logon, order and ack against an acceptor", "[fixclient][raw]") {
  FakeExchange exchange({.passwords = {{"BROKER1", "pw1"}}});
  REQUIRE(exchange.Start().ok());
  RawConnection connection;
  REQUIRE(connection.Connect("127.0.0.1", exchange.Port(), kWait).ok());
  REQUIRE(connection
              .SendRaw(BuildFrame(
                  LogonFields("BROKER1", "CARBONEX", 1, "BROKER1", "pw1")))
              .ok());
  Result<FIX::Message> logon = connection.Read(kWait);
  REQUIRE(logon.ok());
  CHECK(MsgTypeOf(*logon) == "A");

  REQUIRE(connection.SendRaw(BuildFrame(OrderFields(2))).ok());
  Result<FIX::Message> ack = connection.Read(kWait);
  REQUIRE(ack.ok());
  CHECK(MsgTypeOf(*ack) == "8");
  CHECK(Get(*ack, 11) == "raw-1");
  CHECK(Get(*ack, 150) == "0");
}

TEST_CASE("a raw logon with a wrong password gets Logout then close",
          "[fixclient][raw]") {
  FakeExchange exchange({.passwords = {{"BROKER1", "pw1"}}});
  REQUIRE(exchange.Start().ok());
  RawConnection connection;
  REQUIRE(connection.Connect("127.0.0.1", exchange.Port(), kWait).ok());
  REQUIRE(connection
              .SendRaw(BuildFrame(
                  LogonFields("BROKER1", "CARBONEX", 1, "BROKER1", "nope")))
              .ok());
  Result<FIX::Message> logout = connection.Read(kWait);
  REQUIRE(logout.ok());
  CHECK(MsgTypeOf(*logout) == "5");
  CHECK(Get(*logout, 58).find("invalid password") != std::string::npos);
  CHECK(connection.WaitClosed(kWait).ok());
  CHECK(connection.ReadRaw(10ms).status().code() == StatusCode::kNotFound);
}

TEST_CASE("an unknown CompID's connection is closed", "[fixclient][raw]") {
  FakeExchange exchange({.passwords = {{"BROKER1", "pw1"}}});
  REQUIRE(exchange.Start().ok());
  RawConnection connection;
  REQUIRE(connection.Connect("127.0.0.1", exchange.Port(), kWait).ok());
  REQUIRE(connection
              .SendRaw(BuildFrame(
                  LogonFields("STRANGER", "CARBONEX", 1, "STRANGER", "x")))
              .ok());
  CHECK(connection.WaitClosed(kWait).ok());
  CHECK(exchange.Logons().empty());
}

TEST_CASE("a logon with a wrong checksum gets no answer", "[fixclient][raw]") {
  FakeExchange exchange({.passwords = {{"BROKER1", "pw1"}}});
  REQUIRE(exchange.Start().ok());
  RawConnection connection;
  REQUIRE(connection.Connect("127.0.0.1", exchange.Port(), kWait).ok());
  const std::string logon =
      BuildFrame(LogonFields("BROKER1", "CARBONEX", 1, "BROKER1", "pw1"));
  REQUIRE(connection.SendRaw(ReplaceRawField(logon, 10, "000")).ok());
  Result<std::string> reply = connection.ReadRaw(300ms);
  CHECK_FALSE(reply.ok());
  CHECK(exchange.Logons().empty());
}

TEST_CASE("raw connection errors", "[fixclient][raw]") {
  RawConnection connection;
  CHECK(connection.SendRaw("x").code() == StatusCode::kFailedPrecondition);
  CHECK(connection.ReadRaw(10ms).status().code() ==
        StatusCode::kFailedPrecondition);
  CHECK(connection.Connect("127.0.0.1", PickFreePort(), 1000ms).code() ==
        StatusCode::kIoError);
  CHECK(connection.Connect("no-such-host.invalid", 9878, 1000ms).code() ==
        StatusCode::kInvalidArgument);
  CHECK_FALSE(connection.IsConnected());
}

}  // namespace carbonex::fixclient
