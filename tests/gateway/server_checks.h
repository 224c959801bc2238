// Checks shared by the end-to-end fault tests of carbonex-server (restart,
// disk trouble, soak): what the clients saw acknowledged against what the
// recovered server and the registry hold afterwards.
//
// Include after <catch2/catch.hpp> and server_harness.h.
#ifndef CARBONEX_TESTS_GATEWAY_SERVER_CHECKS_H_
#define CARBONEX_TESTS_GATEWAY_SERVER_CHECKS_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

#include "server_harness.h"

namespace carbonex::testing {

// The seed of a randomised test: CARBONEX_SEED when set, else random;
// printed either way so a failure can be rerun.
inline unsigned TestSeed() {
  const char* env = std::getenv("CARBONEX_SEED");
  const unsigned seed =
      env != nullptr ? static_cast<unsigned>(std::strtoul(env, nullptr, 10))
                     : std::random_device{}();
  std::printf("CARBONEX_SEED=%u\n", seed);
  std::fflush(stdout);
  return seed;
}

inline fixclient::NewOrder LimitOrder(const std::string& id,
                                      const std::string& account, Side side,
                                      std::int64_t qty, std::int64_t tiyn,
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

// OrdStatus(39) of a KZQ-2026 order, asked with an OrderStatusRequest;
// "<send failed>" or "<no answer>" otherwise.
inline std::string OrderStatusOf(fixclient::Client& c, std::size_t session,
                                 const std::string& id,
                                 const std::string& account, Side side) {
  using namespace std::chrono_literals;
  if (!c.Send(session, fixclient::BuildOrderStatusRequest(
                           {id, account, "KZQ-2026", side}))
           .ok()) {
    return "<send failed>";
  }
  auto m = c.WaitFor(session, fixclient::IsExecutionReportFor(id, 'I'), 5s);
  return m ? Get(*m, 39) : "<no answer>";
}

// What clients were told, collected from execution reports (thread-safe:
// QuickFIX calls Observe on its session threads).
class AckLedger {
 public:
  struct Order {
    std::size_t session = 0;
    std::string account;
    Side side = Side::kBuy;
  };
  // A fill as its buyer saw it: (account, LastQty, LastPx in tiyn).
  using Fill = std::tuple<std::string, std::int64_t, std::int64_t>;

  // Records an order before it is sent, so that its acknowledgement can be
  // attributed.
  void Sent(const std::string& id, const Order& order) {
    std::lock_guard<std::mutex> guard(mu_);
    sent_[id] = order;
  }
  // Feeds one inbound application message.
  void Observe(const FIX::Message& m) {
    if (fixclient::MsgTypeOf(m) != "8") return;
    const std::string type = Get(m, 150);
    std::lock_guard<std::mutex> guard(mu_);
    if (type == "0" || type == "F") acked_.insert(Get(m, 11));
    if (type == "4") canceled_.insert(Get(m, 41));
    if (type == "F" && Get(m, 54) == "1") {
      auto price = fixclient::ParsePrice(Get(m, 31));
      // A resend after a reconnect repeats the ExecID: counted once.
      if (!exec_ids_.insert(Get(m, 17)).second) return;
      buyer_fills_.emplace(Get(m, 1), std::stoll(Get(m, 32)),
                           price.ok() ? price->value() : -1);
    }
  }
  [[nodiscard]] std::map<std::string, Order> AckedOrders() const {
    std::lock_guard<std::mutex> guard(mu_);
    std::map<std::string, Order> out;
    for (const std::string& id : acked_) {
      auto it = sent_.find(id);
      if (it != sent_.end()) out[id] = it->second;
    }
    return out;
  }
  [[nodiscard]] std::multiset<Fill> BuyerFills() const {
    std::lock_guard<std::mutex> guard(mu_);
    return buyer_fills_;
  }
  // True once a Canceled report for the order (OrigClOrdID) arrived.
  [[nodiscard]] bool WasCanceled(const std::string& id) const {
    std::lock_guard<std::mutex> guard(mu_);
    return canceled_.count(id) != 0;
  }
  [[nodiscard]] std::size_t AckedCount() const {
    std::lock_guard<std::mutex> guard(mu_);
    return acked_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Order> sent_;
  std::set<std::string> acked_;
  std::set<std::string> canceled_;
  std::set<std::string> exec_ids_;
  std::multiset<Fill> buyer_fills_;
};

// Every acknowledged order is known to the (restarted) server and live or
// filled: OrdStatus New, Partially filled or Filled (nothing in these tests
// cancels). Sessions of `c` must be logged on.
inline void CheckAckedOrdersKnown(
    fixclient::Client& c, const std::map<std::string, AckLedger::Order>& acked,
    std::size_t limit = std::numeric_limits<std::size_t>::max()) {
  std::size_t checked = 0;
  for (const auto& [id, order] : acked) {
    if (checked++ >= limit) break;
    std::string status =
        OrderStatusOf(c, order.session, id, order.account, order.side);
    INFO(id << " status " << status);
    CHECK((status == "0" || status == "1" || status == "2"));
  }
}

// The same check over a fresh client for BRK1 and BRK2 on `port`, as a
// broker reconnecting after a restart would ask.
inline void CheckAckedOrdersKnown(
    int port, const std::map<std::string, AckLedger::Order>& acked) {
  fixclient::Client check(ClientFor(port, {"BRK1", "BRK2"}));
  REQUIRE(check.Start().ok());
  REQUIRE(check.WaitLoggedOn(0, std::chrono::seconds(15)).ok());
  REQUIRE(check.WaitLoggedOn(1, std::chrono::seconds(15)).ok());
  CheckAckedOrdersKnown(check, acked);
  check.Stop();
}

// What CheckSettlement found in the registry.
struct SettlementTotals {
  std::size_t trades = 0;
  std::map<std::string, std::int64_t> bought;  // units, per account
  std::map<std::string, std::int64_t> sold;
};

// The registry's settled trades against the holdings and the clients' view.
// `start` is `carbonex-registry holdings` before any trading:
// - trade ids are unique (nothing settled twice);
// - every account's KZQ-2026 units and cash equal its starting amounts plus
//   its trades (conservation);
// - every fill a buyer was told of is a settled trade; when `exact`, the
//   settled trades are exactly the fills the buyers were told of;
// - the audit chain verifies.
inline SettlementTotals CheckSettlement(
    const std::string& db, const nlohmann::json& start,
    const std::multiset<AckLedger::Fill>& buyer_fills, bool exact) {
  nlohmann::json trades = RegistryJson(db, "trades");
  std::set<std::int64_t> ids;
  std::map<std::string, std::int64_t> units;
  std::map<std::string, std::int64_t> cash;
  std::multiset<AckLedger::Fill> settled;
  SettlementTotals totals;
  for (const auto& t : trades.at("trades")) {
    CHECK(ids.insert(t.at("trade_id").get<std::int64_t>()).second);
    std::int64_t q = t.at("qty").get<std::int64_t>();
    std::int64_t p = t.at("price_tiyn").get<std::int64_t>();
    const std::string buyer = t.at("buyer").get<std::string>();
    const std::string seller = t.at("seller").get<std::string>();
    units[buyer] += q;
    units[seller] -= q;
    cash[buyer] -= q * p;
    cash[seller] += q * p;
    totals.bought[buyer] += q;
    totals.sold[seller] += q;
    settled.emplace(buyer, q, p);
  }
  totals.trades = settled.size();
  nlohmann::json h = RegistryJson(db, "holdings");
  for (const auto& a : start.at("accounts")) {
    const std::string account = a.at("account").get<std::string>();
    INFO(account);
    CHECK(UnitsOf(h, account, "KZQ-2026").held ==
          UnitsOf(start, account, "KZQ-2026").held + units[account]);
    CHECK(CashOf(h, account).held ==
          CashOf(start, account).held + cash[account]);
  }
  std::multiset<AckLedger::Fill> missing;
  std::set_difference(buyer_fills.begin(), buyer_fills.end(), settled.begin(),
                      settled.end(), std::inserter(missing, missing.end()));
  INFO("fills told to buyers: " << buyer_fills.size()
                                << ", settled trades: " << settled.size());
  CHECK(missing.empty());
  if (exact) CHECK(settled == buyer_fills);
  CHECK(RegistryStatus(db, "audit verify") == 0);
  return totals;
}

}  // namespace carbonex::testing

#endif  // CARBONEX_TESTS_GATEWAY_SERVER_CHECKS_H_
