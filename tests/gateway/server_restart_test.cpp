// Restart tests of carbonex-server: a clean stop (SIGTERM) and a crash
// (SIGKILL under load), then recovery from the snapshot, the journal and the
// registry.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>

#include "server_harness.h"

namespace carbonex::testing {
namespace {

using namespace std::chrono_literals;
using fixclient::BuildMarketDataRequest;
using fixclient::BuildNewOrderSingle;
using fixclient::BuildOrderCancelReplaceRequest;
using fixclient::BuildOrderCancelRequest;
using fixclient::BuildOrderMassCancelRequest;
using fixclient::BuildOrderStatusRequest;
using fixclient::Client;
using fixclient::IsExecutionReportFor;
using fixclient::IsMsgType;

fixclient::NewOrder Limit(const std::string& id, const std::string& account,
                          Side side, std::int64_t qty, std::int64_t tiyn,
                          fixclient::TimeInForce tif) {
  fixclient::NewOrder o;
  o.cl_ord_id = id;
  o.account = account;
  o.symbol = "KZQ-2026";
  o.side = side;
  o.qty = Quantity(qty);
  o.price = Price(tiyn);
  o.tif = tif;
  return o;
}

std::string StatusOf(Client& c, std::size_t session, const std::string& id,
                     const std::string& account, Side side) {
  if (!c.Send(session, fixclient::BuildOrderStatusRequest(
                           {id, account, "KZQ-2026", side}))
           .ok()) {
    return "<send failed>";
  }
  auto m = c.WaitFor(session, IsExecutionReportFor(id, 'I'), 5s);
  return m ? Get(*m, 39) : "<no answer>";
}

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
                          Limit("gtc-buy", "CO-A", Side::kBuy, 20, 1500,
                                fixclient::TimeInForce::kGoodTillCancel)))
                .ok());
    REQUIRE(c.Send(0, BuildNewOrderSingle(Limit("day-sell", "CO-B", Side::kSell,
                                                30, 1800,
                                                fixclient::TimeInForce::kDay)))
                .ok());
    REQUIRE(c.Send(1, BuildNewOrderSingle(Limit("take", "CO-C", Side::kBuy, 10,
                                                1800,
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
  CHECK(StatusOf(again, 0, "gtc-buy", "CO-A", Side::kBuy) == "0");
  CHECK(StatusOf(again, 0, "day-sell", "CO-B", Side::kSell) == "1");
  // The order ids continue: a new order matches the surviving Day sell.
  REQUIRE(again
              .Send(1, BuildNewOrderSingle(Limit("take2", "CO-C", Side::kBuy,
                                                 20, 1800,
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
  const char* seed_env = std::getenv("CARBONEX_SEED");
  const unsigned seed =
      seed_env != nullptr
          ? static_cast<unsigned>(std::strtoul(seed_env, nullptr, 10))
          : std::random_device{}();
  std::printf("CARBONEX_SEED=%u\n", seed);
  std::mt19937 rng(seed);

  ScratchDir dir;
  const std::string db = dir.path() + "/db";
  Market::Create(db);
  const int port = FreePort();
  ServerProcess server(db, port);
  std::string why;
  REQUIRE(server.Start(&why));

  // Acknowledged orders: ClOrdID → (session, account, side).
  struct Sent {
    std::size_t session;
    std::string account;
    Side side;
  };
  std::mutex mu;
  std::set<std::string> acked;
  fixclient::ClientOptions options = ClientFor(port, {"BRK1", "BRK2"});
  options.on_app_message = [&](std::size_t, const FIX::Message& m) {
    if (fixclient::MsgTypeOf(m) != "8") return;
    std::string type = Get(m, 150);
    if (type == "0" || type == "F") {
      std::lock_guard<std::mutex> guard(mu);
      acked.insert(Get(m, 11));
    }
  };
  std::map<std::string, Sent> sent;
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
      sent[id] = {session, account, side};
      (void)c.Send(session, BuildNewOrderSingle(Limit(
                                id, account, side, qty(rng), price(rng),
                                fixclient::TimeInForce::kGoodTillCancel)));
      if (i == 150) {
        // Let some acknowledgements arrive, then keep sending and crash.
        for (int wait = 0; wait < 500; ++wait) {
          {
            std::lock_guard<std::mutex> guard(mu);
            if (acked.size() >= 50) break;
          }
          std::this_thread::sleep_for(10ms);
        }
      }
      if (i == 300) server.Kill();  // mid-load
    }
    c.Stop();
  }
  REQUIRE(server.Start(&why));
  std::set<std::string> acked_copy;
  {
    std::lock_guard<std::mutex> guard(mu);
    acked_copy = acked;
  }
  INFO("acknowledged before the kill: " << acked_copy.size());
  REQUIRE_FALSE(acked_copy.empty());
  Client check(ClientFor(port, {"BRK1", "BRK2"}));
  REQUIRE(check.Start().ok());
  REQUIRE(check.WaitLoggedOn(0, 15s).ok());
  REQUIRE(check.WaitLoggedOn(1, 15s).ok());
  for (const std::string& id : acked_copy) {
    const Sent& s = sent.at(id);
    std::string status = StatusOf(check, s.session, id, s.account, s.side);
    INFO(id << " status " << status);
    CHECK((status == "0" || status == "1" || status == "2"));
  }
  check.Stop();
  REQUIRE(server.Terminate() == 0);

  // No trade lost or doubled: ids unique; holdings reconcile with trades.
  nlohmann::json trades = RegistryJson(db, "trades");
  std::set<std::int64_t> ids;
  std::map<std::string, std::int64_t> units;
  std::map<std::string, std::int64_t> cash;
  for (const auto& t : trades.at("trades")) {
    CHECK(ids.insert(t.at("trade_id").get<std::int64_t>()).second);
    std::int64_t q = t.at("qty").get<std::int64_t>();
    Price p = *fixclient::ParsePrice(
        t.at("price").is_string()
            ? t.at("price").get<std::string>()
            : std::to_string(t.at("price").get<double>()));
    units[t.at("buyer")] += q;
    units[t.at("seller")] -= q;
    cash[t.at("buyer")] -= q * p.value();
    cash[t.at("seller")] += q * p.value();
  }
  nlohmann::json h = RegistryJson(db, "holdings");
  for (const char* account : {"CO-A", "CO-B", "CO-C", "CO-D"}) {
    INFO(account);
    CHECK(UnitsOf(h, account, "KZQ-2026").held == 1000 + units[account]);
    CHECK(CashOf(h, account).held == 100'000'000 + cash[account]);
  }
  CHECK(RegistryStatus(db, "audit verify") == 0);
}

}  // namespace
}  // namespace carbonex::testing
