// Tests of carbonex-trader's script language (bench/trader/src/script.cpp).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "carbonex/trader/script.h"

namespace carbonex::trader {
namespace {

std::string ErrorOf(std::string_view text) {
  Result<Script> script = ParseScript(text, "");
  REQUIRE_FALSE(script.ok());
  return script.status().message();
}

}  // namespace

TEST_CASE("a full script parses", "[trader][script]") {
  const auto dir = std::filesystem::temp_directory_path();
  {
    std::ofstream file(dir / "carbonex-trader-test.pw");
    file << "\n  s3cret  \n";
  }
  const char* text =
      "# demo session\n"
      "logon BROKER1 carbonex-trader-test.pw\n"
      "logon BROKER2\n"
      "\n"
      "sell BROKER2 KZ-OP-0002 KZQ-2019 100 @ 2500.00 gtc as s1  # resting\n"
      "buy BROKER1 KZ-OP-0001 KZQ-2019 60 @ 2500.5\n"
      "buy BROKER1 KZ-OP-0001 KZQ-2019 10 market\n"
      "expect ack s1\n"
      "expect fill 2 60 @ 2500.00 within 2000\n"
      "expect fill s1\n"
      "cancel s1\n"
      "expect cancel s1\n"
      "wait 250\n"
      "logout BROKER1\n";
  Result<Script> script = ParseScript(text, dir.string());
  std::filesystem::remove(dir / "carbonex-trader-test.pw");
  INFO(script.status().message());
  REQUIRE(script.ok());
  const std::vector<Step>& steps = script->steps;
  REQUIRE(steps.size() == 12);

  CHECK(steps[0].kind == Step::Kind::kLogon);
  CHECK(steps[0].line == 2);
  CHECK(steps[0].logon.password == "s3cret");
  CHECK_FALSE(steps[1].logon.password.has_value());

  const OrderStep& sell = steps[2].order;
  CHECK(steps[2].line == 5);
  CHECK(steps[2].text.find("# resting") == std::string::npos);
  CHECK(sell.name == "s1");
  CHECK(sell.side == Side::kSell);
  CHECK(sell.comp_id == "BROKER2");
  CHECK(sell.account == "KZ-OP-0002");
  CHECK(sell.symbol == "KZQ-2019");
  CHECK(sell.qty == Quantity(100));
  CHECK(sell.price == Price(250000));
  CHECK(sell.tif == fixclient::TimeInForce::kGoodTillCancel);

  const OrderStep& buy = steps[3].order;
  CHECK(buy.name == "2");  // second order of the script
  CHECK(buy.price == Price(250050));
  CHECK(buy.tif == fixclient::TimeInForce::kDay);

  const OrderStep& market = steps[4].order;
  CHECK(market.name == "3");
  CHECK_FALSE(market.price.has_value());
  CHECK(market.tif == fixclient::TimeInForce::kImmediateOrCancel);

  CHECK(steps[5].expect.what == Expectation::kAck);
  const ExpectStep& fill = steps[6].expect;
  CHECK(fill.what == Expectation::kFill);
  CHECK(fill.name == "2");
  CHECK(fill.qty == Quantity(60));
  CHECK(fill.price == Price(250000));
  CHECK(fill.within == std::chrono::milliseconds(2000));
  CHECK_FALSE(steps[7].expect.qty.has_value());
  CHECK(steps[7].expect.within == std::chrono::milliseconds(5000));
  CHECK(steps[8].kind == Step::Kind::kCancel);
  CHECK(steps[9].expect.what == Expectation::kCancel);
  CHECK(steps[10].wait.duration == std::chrono::milliseconds(250));
  CHECK(steps[11].logout.comp_id == "BROKER1");
}

TEST_CASE("script errors name the line and the problem", "[trader][script]") {
  CHECK(ErrorOf("logon B\nfly B\n") ==
        "line 2: unknown command 'fly' (logon, buy, sell, cancel, expect, "
        "wait, logout)");
  CHECK(ErrorOf("buy B A S 10 @ 1.00\n")
            .find("line 1: session B is not logged on") == 0);
  CHECK(ErrorOf("logon B\nbuy B A S 0 @ 1.00\n") ==
        "line 2: quantity '0' is not a positive integer");
  CHECK(ErrorOf("logon B\nbuy B A S 1.5 @ 1.00\n") ==
        "line 2: quantity '1.5' is not a positive integer");
  CHECK(ErrorOf("logon B\nbuy B A S 10 @ 1.001\n").find("line 2: price") == 0);
  CHECK(ErrorOf("logon B\nbuy B A S 10 @ abc\n").find("line 2: price") == 0);
  CHECK(ErrorOf("logon B\nbuy B A S 10 1.00\n").find("line 2: expected") == 0);
  CHECK(ErrorOf("logon B\nbuy B A S 10 @ 1.00 forever\n") ==
        "line 2: time in force 'forever' is not day, gtc, ioc or fok");
  CHECK(ErrorOf("logon B\nbuy B A S 10 market @ 1.00\n").find("line 2") == 0);
  CHECK(ErrorOf("logon B\nbuy B A S 10 @ 1 as x\nsell B A S 1 @ 1 as x\n") ==
        "line 3: order name 'x' is already used");
  CHECK(ErrorOf("logon B\ncancel nope\n") ==
        "line 2: no earlier order is named 'nope'");
  CHECK(ErrorOf("logon B\nexpect fill nope\n") ==
        "line 2: no earlier order is named 'nope'");
  CHECK(ErrorOf("logon B\nbuy B A S 1 @ 1\nexpect teleport 1\n")
            .find("line 3: cannot expect 'teleport'") == 0);
  CHECK(ErrorOf("logon B\nbuy B A S 1 @ 1\nexpect fill 1 x\n")
            .find("line 3: fill quantity 'x'") == 0);
  CHECK(ErrorOf("logon B\nbuy B A S 1 @ 1\nexpect ack 1 within -5\n")
            .find("line 3: 'within -5'") == 0);
  CHECK(ErrorOf("wait soon\n").find("line 1: wait 'soon'") == 0);
  CHECK(ErrorOf("logout B\n") == "line 1: session B is not logged on");
  CHECK(ErrorOf("logon B\nlogon B\n") ==
        "line 2: session B is already logged on");
  CHECK(ErrorOf("logon B\nbuy B A S 1 @ 1\nlogout B\ncancel 1\n") ==
        "line 4: order '1' belongs to session B, which is not logged on at "
        "this point");
}

TEST_CASE("a missing password file is an error", "[trader][script]") {
  Result<Script> script = ParseScript("logon B /nonexistent/pw\n", "");
  REQUIRE_FALSE(script.ok());
  CHECK(script.status().code() == StatusCode::kIoError);
  CHECK(script.status().message().find("line 1") == 0);
  Result<Script> file = ReadScript("/nonexistent/script.txt");
  CHECK(file.status().code() == StatusCode::kIoError);
}

}  // namespace carbonex::trader
