// End-to-end tests of carbonex-trader's runner against the FakeExchange.
#include <catch2/catch.hpp>
#include <sstream>

#include "carbonex/fixclient/fake_exchange.h"
#include "carbonex/trader/runner.h"

namespace carbonex::trader {
namespace {

using namespace std::chrono_literals;
using fixclient::FakeExchange;

Script Parse(const std::string& text) {
  Result<Script> script = ParseScript(text, "");
  INFO(script.status().message());
  REQUIRE(script.ok());
  return *script;
}

RunOptions OptionsFor(const FakeExchange& exchange) {
  RunOptions options;
  options.port = exchange.Port();
  options.logon_timeout = 5000ms;
  return options;
}

}  // namespace

TEST_CASE("a scripted session trades and meets its expectations",
          "[trader][runner]") {
  FakeExchange exchange({.passwords = {{"BROKER1", ""}, {"BROKER2", ""}}});
  REQUIRE(exchange.Start().ok());
  // The fake compares Password(554) with "" when none is sent.
  const Script script = Parse(
      "logon BROKER1\n"
      "logon BROKER2\n"
      "sell BROKER2 KZ-OP-0002 KZQ-2019 100 @ 2500.00 day as s1\n"
      "expect ack s1\n"
      "buy BROKER1 KZ-OP-0001 KZQ-2019 60 @ 2501.00 as b1\n"
      "expect fill b1 60 @ 2500.00\n"
      "expect fill s1 60\n"
      "cancel s1\n"
      "expect cancel s1\n"
      "wait 50\n"
      "logout BROKER1\n"
      "logout BROKER2\n");
  std::ostringstream out;
  const RunSummary summary = RunScript(script, OptionsFor(exchange), out);
  INFO(out.str());
  CHECK(summary.ok);
  CHECK(summary.steps_run == 12);
  REQUIRE(summary.trades.size() == 2);
  CHECK(summary.trades[0].qty == Quantity(60));
  CHECK(summary.trades[0].price == Price(250000));
  const std::string transcript = out.str();
  CHECK(transcript.find("BROKER1 order b1: fill (filled) buy 60 KZQ-2019, "
                        "traded 60 @ 2500.00") != std::string::npos);
  CHECK(transcript.find("order s1: cancelled") != std::string::npos);
  CHECK(transcript.find("trades reported: 2") != std::string::npos);
  CHECK(transcript.find("total: 120 units, 300000.00 KZT") !=
        std::string::npos);
}

TEST_CASE("an unmet expect fails the run at its line", "[trader][runner]") {
  FakeExchange exchange({.passwords = {{"BROKER1", ""}}});
  REQUIRE(exchange.Start().ok());
  const Script script = Parse(
      "logon BROKER1\n"
      "buy BROKER1 A KZQ-2019 10 @ 1.00 as lonely\n"
      "expect ack lonely\n"
      "expect fill lonely within 200\n"
      "buy BROKER1 A KZQ-2019 10 @ 1.00 as never\n");
  std::ostringstream out;
  const RunSummary summary = RunScript(script, OptionsFor(exchange), out);
  INFO(out.str());
  CHECK_FALSE(summary.ok);
  CHECK(summary.failed_line == 4);
  CHECK(summary.failure == "no fill for order lonely within 200 ms");
  CHECK(summary.steps_run == 4);
  CHECK(exchange.OrdersReceived() == 1);  // the step after was not run
}

TEST_CASE("a fill of the wrong size does not meet the expect",
          "[trader][runner]") {
  FakeExchange exchange({.passwords = {{"BROKER1", ""}, {"BROKER2", ""}}});
  REQUIRE(exchange.Start().ok());
  const Script script = Parse(
      "logon BROKER1\n"
      "logon BROKER2\n"
      "sell BROKER2 A KZQ-2019 5 @ 1.00 as s\n"
      "buy BROKER1 B KZQ-2019 5 @ 1.00 as b\n"
      "expect fill b 6 within 300\n");
  std::ostringstream out;
  const RunSummary summary = RunScript(script, OptionsFor(exchange), out);
  CHECK_FALSE(summary.ok);
  CHECK(summary.failed_line == 5);
  CHECK(summary.trades.size() == 2);  // the fills arrived, just not of 6
}

TEST_CASE("a refused logon fails the run", "[trader][runner]") {
  FakeExchange exchange({.passwords = {{"BROKER1", "right"}}});
  REQUIRE(exchange.Start().ok());
  const Script script = Parse("logon BROKER1\nlogout BROKER1\n");
  RunOptions options = OptionsFor(exchange);
  options.logon_timeout = 1500ms;
  std::ostringstream out;
  const RunSummary summary = RunScript(script, options, out);
  CHECK_FALSE(summary.ok);
  CHECK(summary.failed_line == 1);
  CHECK(summary.failure.find("invalid password") != std::string::npos);
}

TEST_CASE("trade summary totals", "[trader][runner]") {
  const std::string text = FormatTradeSummary(
      {{"B1", "o1", "KZQ-2019", Side::kBuy, Quantity(10), Price(250000)},
       {"B2", "o2", "KZQ-2019", Side::kSell, Quantity(3), Price(1)}});
  CHECK(text.find("trades reported: 2\n") == 0);
  CHECK(text.find("total: 13 units, 25000.03 KZT") != std::string::npos);
  CHECK(FormatTradeSummary({}).find("total: 0 units, 0.00 KZT") !=
        std::string::npos);
}

}  // namespace carbonex::trader
