#include "carbonex/ledger/amounts.h"

#include <catch2/catch.hpp>

namespace carbonex::ledger {
namespace {

TEST_CASE("ParseCash accepts KZT with up to two decimals", "[amounts]") {
  CHECK(ParseCash("1500")->value() == 150000);
  CHECK(ParseCash("1500.5")->value() == 150050);
  CHECK(ParseCash("1500.05")->value() == 150005);
  CHECK(ParseCash("0.01")->value() == 1);
  CHECK(ParseCash("0")->value() == 0);
}

TEST_CASE("ParseCash refuses malformed amounts", "[amounts]") {
  for (const char* bad : {"", "-1", "+1", "1.", ".5", "1.005", "1e3", "1,5",
                          " 1", "1 ", "abc", "1.2.3", "99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(ParseCash(bad).ok());
  }
}

TEST_CASE("ParseFixed scales and bounds", "[amounts]") {
  CHECK(*ParseFixed("12.5", 3) == 12500);
  CHECK(*ParseFixed("0.000001", 6) == 1);
  CHECK_FALSE(ParseFixed("0.0000001", 6).ok());
  CHECK_FALSE(ParseFixed("9000000000000000", 1).ok());
  CHECK(*ParseQuantity("42") == Quantity(42));
  CHECK_FALSE(ParseQuantity("4.2").ok());
  CHECK(*ParseYear("2019") == 2019);
  CHECK_FALSE(ParseYear("1999").ok());
  CHECK_FALSE(ParseYear("20x9").ok());
}

TEST_CASE("FormatCash prints two decimals", "[amounts]") {
  CHECK(FormatCash(Cash(150050)) == "1500.50");
  CHECK(FormatCash(Cash(5)) == "0.05");
  CHECK(FormatCash(Cash(0)) == "0.00");
  CHECK(FormatCash(Cash(-5)) == "-0.05");
  for (std::int64_t v : {0LL, 1LL, 99LL, 100LL, 123456789LL}) {
    CHECK(ParseCash(FormatCash(Cash(v)))->value() == v);
  }
}

}  // namespace
}  // namespace carbonex::ledger
