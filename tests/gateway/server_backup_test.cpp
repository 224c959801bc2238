// The hot backup of docs/operations.md, taken while carbonex-server trades:
// mdb_copy of the registry first, then engine.snapshot, then the journal.
// The copy must pass `carbonex-registry audit verify`, a server must start on
// it, and what it holds must be a consistent earlier state of the live
// exchange.
#define CATCH_CONFIG_MAIN
#include <atomic>
#include <catch2/catch.hpp>

#include "server_checks.h"
#include "server_harness.h"

namespace carbonex::testing {
namespace {

using namespace std::chrono_literals;
using fixclient::BuildNewOrderSingle;
using fixclient::Client;
using fixclient::TimeInForce;

// The trade ids in a registry.
std::set<std::int64_t> TradeIds(const std::string& db) {
  std::set<std::int64_t> ids;
  const nlohmann::json trades = RegistryJson(db, "trades");
  for (const auto& t : trades.at("trades")) {
    ids.insert(t.at("trade_id").get<std::int64_t>());
  }
  return ids;
}

TEST_CASE(
    "hot backup while trading: mdb_copy, snapshot, journal, then the copy "
    "verifies and a server starts on it",
    "[e2e][slow]") {
  int status = 0;
  RunCommand("command -v mdb_copy", &status);
  if (status != 0) {
    WARN("mdb_copy is not installed (Debian package lmdb-utils): skipped");
    return;
  }
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
  Client c(options);
  REQUIRE(c.Start().ok());
  REQUIRE(c.WaitLoggedOn(0, 15s).ok());
  REQUIRE(c.WaitLoggedOn(1, 15s).ok());
  std::atomic<bool> trading{true};
  std::thread trader([&] {
    for (int i = 0; trading; ++i) {
      std::string sell = "s" + std::to_string(i);
      (void)c.Send(0, BuildNewOrderSingle(LimitOrder(
                          sell, i % 2 == 0 ? "CO-A" : "CO-B", Side::kSell, 1,
                          2000, TimeInForce::kGoodTillCancel)));
      std::string buy = "b" + std::to_string(i);
      (void)c.Send(
          1, BuildNewOrderSingle(LimitOrder(buy, "CO-C", Side::kBuy, 1, 2000,
                                            TimeInForce::kGoodTillCancel)));
      std::this_thread::sleep_for(5ms);
    }
  });
  for (int wait = 0; wait < 1000 && ledger.BuyerFills().size() < 50; ++wait) {
    std::this_thread::sleep_for(10ms);
  }

  // The procedure of docs/operations.md, "Backups", while orders flow.
  const std::string backup = dir.path() + "/backup";
  std::filesystem::create_directories(backup);
  const std::string copy = "mdb_copy " + db + " " + backup + " && cp -p " + db +
                           "/engine.snapshot " + backup + "/ && cp -rp " + db +
                           "/journal " + backup + "/";
  std::string out = RunCommand(copy + " 2>&1", &status);

  std::this_thread::sleep_for(300ms);  // trading goes on after the copy
  trading = false;
  trader.join();
  std::this_thread::sleep_for(300ms);  // the last reports
  c.Stop();
  INFO(out);
  REQUIRE(status == 0);
  REQUIRE(server.Terminate() == 0);

  // The copy verifies on its own, before any server touches it.
  std::string verify;
  CHECK(RegistryStatus(backup, "audit verify", &verify) == 0);
  INFO(verify);

  // A server starts on the copy and settles what the journal copy holds
  // beyond the registry copy; the result conserves units and cash.
  ServerProcess restored(backup, FreePort());
  REQUIRE(restored.Start(&why));
  REQUIRE(restored.Terminate() == 0);
  CheckSettlement(backup, start, {}, /*exact=*/false);
  const std::set<std::int64_t> restored_ids = TradeIds(backup);
  const std::set<std::int64_t> live_ids = TradeIds(db);
  CHECK(restored_ids.size() >= 50);
  // The copy is an earlier state of the same exchange: its trades are the
  // first trades of the live registry.
  CHECK(restored_ids.size() < live_ids.size());
  CHECK(std::includes(live_ids.begin(), live_ids.end(), restored_ids.begin(),
                      restored_ids.end()));
  CheckSettlement(db, start, ledger.BuyerFills(), /*exact=*/false);
}

}  // namespace
}  // namespace carbonex::testing
