// Restart tests of carbonex-server: a clean stop (SIGTERM) and a crash
// (SIGKILL under load), then recovery from the snapshot, the journal and the
// registry.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "server_checks.h"
#include "server_harness.h"

namespace carbonex::testing {
namespace {

using namespace std::chrono_literals;
using fixclient::BuildNewOrderSingle;
using fixclient::Client;
using fixclient::IsExecutionReportFor;

TEST_CASE("SIGTERM: stop, restart, same state, sessions resume",
          "[e2e][slow]") {
  ScratchDir dir;
  const std::string db = dir.path() + "/db";
  Market::Create(db);
  const int port = FreePort();
  fixclient::ClientOptions options = ClientFor(port, {"BRK1", "BRK2"});
  options.store = fixclient::StoreKind::kFile;
  options.store_dir = dir.path() + "/client-store";
  options.reset_seq_num_on_logon = false;

  ServerProcess server(db, port);
  std::string why;
  REQUIRE(server.Start(&why));
  {
    Client c(options);
    REQUIRE(c.Start().ok());
    REQUIRE(c.WaitLoggedOn(0, 15s).ok());
    REQUIRE(c.WaitLoggedOn(1, 15s).ok());
    REQUIRE(c.Send(0, BuildNewOrderSingle(
                          LimitOrder("gtc-buy", "CO-A", Side::kBuy, 20, 1500,
                                     fixclient::TimeInForce::kGoodTillCancel)))
                .ok());
    REQUIRE(c.Send(0, BuildNewOrderSingle(
                          LimitOrder("day-sell", "CO-B", Side::kSell, 30, 1800,
                                     fixclient::TimeInForce::kDay)))
                .ok());
    REQUIRE(c.Send(1, BuildNewOrderSingle(
                          LimitOrder("take", "CO-C", Side::kBuy, 10, 1800,
                                     fixclient::TimeInForce::kDay)))
                .ok());
    REQUIRE(c.WaitFor(1, IsExecutionReportFor("take", 'F'), 5s).has_value());
    REQUIRE(c.WaitFor(0, IsExecutionReportFor("gtc-buy", '0'), 5s));
    c.Stop();
  }
  std::chrono::milliseconds took{};
  REQUIRE(server.Terminate(&took) == 0);
  CHECK(took < 10s);
  const std::string before = server.LastHash("stopped:");
  REQUIRE_FALSE(before.empty());

  REQUIRE(server.Start(&why));
  CHECK(server.LastHash("recovered:") == before);
  Client again(options);
  REQUIRE(again.Start().ok());
  REQUIRE(again.WaitLoggedOn(0, 15s).ok());
  REQUIRE(again.WaitLoggedOn(1, 15s).ok());
  CHECK(OrderStatusOf(again, 0, "gtc-buy", "CO-A", Side::kBuy) == "0");
  CHECK(OrderStatusOf(again, 0, "day-sell", "CO-B", Side::kSell) == "1");
  // The order ids continue: a new order matches the surviving Day sell.
  REQUIRE(again
              .Send(1, BuildNewOrderSingle(
                           LimitOrder("take2", "CO-C", Side::kBuy, 20, 1800,
                                      fixclient::TimeInForce::kDay)))
              .ok());
  auto fill = again.WaitFor(1, IsExecutionReportFor("take2", 'F'), 5s);
  REQUIRE(fill.has_value());
  CHECK(Get(*fill, 39) == "2");
  again.Stop();
  CHECK(server.Terminate() == 0);
  nlohmann::json trades = RegistryJson(db, "trades");
  CHECK(trades.at("trades").size() == 2);
  CHECK(RegistryStatus(db, "audit verify") == 0);
}

TEST_CASE("SIGKILL under load: nothing acknowledged is lost or doubled",
          "[e2e][slow]") {
  std::mt19937 rng(TestSeed());

  ScratchDir dir;
  const std::string db = dir.path() + "/db";
  Market::Create(db);
  const nlohmann::json start = RegistryJson(db, "holdings");
  const int port = FreePort();
  ServerProcess server(db, port);
  std::string why;
  REQUIRE(server.Start(&why));

  AckLedger ledger;
  fixclient::ClientOptions options = ClientFor(port, {"BRK1", "BRK2"});
  options.on_app_message = [&](std::size_t, const FIX::Message& m) {
    ledger.Observe(m);
  };
  {
    Client c(options);
    REQUIRE(c.Start().ok());
    REQUIRE(c.WaitLoggedOn(0, 15s).ok());
    REQUIRE(c.WaitLoggedOn(1, 15s).ok());
    std::uniform_int_distribution<int> price(1900, 2100);
    std::uniform_int_distribution<int> qty(1, 5);
    for (int i = 0; i < 400; ++i) {
      // No account is on both sides, so self-trade prevention never
      // cancels: every order rests or fills.
      std::size_t session = static_cast<std::size_t>(i % 2);
      Side side = session == 1 || rng() % 2 == 0 ? Side::kBuy : Side::kSell;
      std::string account = session == 1         ? "CO-C"
                            : side == Side::kBuy ? "CO-A"
                            : i % 4 == 0         ? "CO-D"
                                                 : "CO-B";
      std::string id = "k" + std::to_string(i);
      ledger.Sent(id, {session, account, side});
      (void)c.Send(session, BuildNewOrderSingle(LimitOrder(
                                id, account, side, qty(rng), price(rng),
                                fixclient::TimeInForce::kGoodTillCancel)));
      if (i == 150) {
        // Let some acknowledgements arrive, then keep sending and crash.
        for (int wait = 0; wait < 500 && ledger.AckedCount() < 50; ++wait) {
          std::this_thread::sleep_for(10ms);
        }
      }
      if (i == 300) server.Kill();  // mid-load
    }
    c.Stop();
  }
  REQUIRE(server.Start(&why));
  const auto acked = ledger.AckedOrders();
  INFO("acknowledged before the kill: " << acked.size());
  REQUIRE_FALSE(acked.empty());
  CheckAckedOrdersKnown(port, acked);
  REQUIRE(server.Terminate() == 0);

  // No trade lost or doubled: ids unique; holdings reconcile with trades;
  // every fill a buyer saw is settled; the audit chain verifies.
  CheckSettlement(db, start, ledger.BuyerFills(), /*exact=*/false);
}

}  // namespace
}  // namespace carbonex::testing
