#define CATCH_CONFIG_MAIN
#include "carbonex/gateway/name_tables.h"

#include <catch2/catch.hpp>

namespace carbonex::gateway {
namespace {

AccountState SampleState() {
  AccountState state;
  state.instruments.push_back({InstrumentId(2), "KZO-2025", Price(1),
                               Quantity(1000), TradingStatus::kOpen});
  state.instruments.push_back({InstrumentId(1), "KZQ-2026", Price(1),
                               Quantity(1000), TradingStatus::kOpen});
  state.accounts.push_back({AccountId(7), "KZ-OP-0007", Cash(0), {}});
  state.brokers.push_back({BrokerId(3), "BRK1", true});
  return state;
}

TEST_CASE("names map to ids and back", "[name_tables]") {
  NameTables tables(SampleState());
  REQUIRE(tables.FindInstrument("KZQ-2026") != nullptr);
  CHECK(tables.FindInstrument("KZQ-2026")->id == InstrumentId(1));
  CHECK(tables.FindInstrument("KZQ-2099") == nullptr);
  CHECK(tables.Symbol(InstrumentId(2)) == "KZO-2025");
  CHECK(tables.Symbol(InstrumentId(9)).empty());
  CHECK(tables.FindAccount("KZ-OP-0007") == AccountId(7));
  CHECK_FALSE(tables.FindAccount("KZ-OP-0008").has_value());
  CHECK(tables.AccountName(AccountId(7)) == "KZ-OP-0007");
  REQUIRE(tables.FindBroker("BRK1") != nullptr);
  CHECK(tables.FindBroker("BRK1")->cancel_on_disconnect);
  CHECK(tables.Broker(BrokerId(3))->comp_id == "BRK1");
  CHECK(tables.Broker(BrokerId(4)) == nullptr);
  // Instruments come out in ascending id order.
  REQUIRE(tables.instruments().size() == 2);
  CHECK(tables.instruments()[0].symbol == "KZQ-2026");
}

}  // namespace
}  // namespace carbonex::gateway
