// Soak test of carbonex-server: two brokers trade continuously for
// CARBONEX_SOAK_SECONDS (default 540) while their sessions are dropped at
// random (an abrupt TCP drop, or a Logout and a new client) and the server is
// SIGKILLed and restarted at random. At the end:
// - every order a broker saw acknowledged is known to the server, live or
//   filled; no order was executed twice: for every account and side, the
//   filled quantities the server reports for the orders sent equal the
//   registry's settled quantities;
// - no settled trade is lost or doubled: trade ids unique, holdings equal the
//   starting holdings plus the trades, every fill a buyer was told of is
//   settled, and the audit chain verifies;
// - the FIX sessions' sequence numbers agree: each side's next outgoing
//   number is the other side's next expected one (the client's QuickFIX
//   FileStore, the server's store of docs/fix-store.md), and no session was
//   ever logged out for a sequence number that was too low;
// - a clean stop and start give the same engine state hash.
//
// Label `soak`: not part of the default test run (docs/operations.md says how
// to run it). CARBONEX_SOAK_RATE sets the orders per second (default 100);
// CARBONEX_SEED the random choices.
#define CATCH_CONFIG_MAIN
#include <quickfix/Session.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>

#include "server_checks.h"
#include "server_harness.h"

namespace carbonex::testing {
namespace {

using namespace std::chrono_literals;
using fixclient::BuildNewOrderSingle;
using fixclient::Client;
using fixclient::TimeInForce;

long EnvOr(const char* name, long fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtol(value, nullptr, 10) : fallback;
}

// The next outgoing and next expected sequence numbers in a QuickFIX
// FileStore (the client's: "<sender> : <target>" in <prefix>.seqnums);
// {-1, -1} if unreadable.
std::pair<long, long> FileStoreSeqNums(const std::string& file) {
  std::ifstream in(file);
  long sender = -1;
  long target = -1;
  char colon = 0;
  if (!(in >> sender >> colon >> target)) return {-1, -1};
  return {sender, target};
}

// The same from the server's store (docs/fix-store.md: i32 next sender and
// next target MsgSeqNum at offsets 12 and 16, little-endian).
std::pair<long, long> MappedStoreSeqNums(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char header[20] = {};
  if (!in.read(reinterpret_cast<char*>(header), sizeof header)) {
    return {-1, -1};
  }
  auto i32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      v |= static_cast<std::uint32_t>(header[at + k]) << (8 * k);
    }
    return static_cast<long>(static_cast<std::int32_t>(v));
  };
  return {i32(12), i32(16)};
}

// What one broker's sessions were told, besides the shared AckLedger: the
// answers to order status requests, and the Logout texts received.
struct Answers {
  struct Status {
    std::string ord_status;
    std::int64_t cum_qty = 0;
  };
  std::mutex mu;
  std::condition_variable changed;
  std::map<std::string, Status> status;
};

// One broker's FIX client, replaced when the test logs it out. Thread-safe.
class Broker {
 public:
  Broker(std::string comp_id, int port, std::string store_dir,
         AckLedger* ledger, Answers* answers)
      : comp_id_(std::move(comp_id)) {
    options_ = ClientFor(port, {comp_id_});
    options_.store = fixclient::StoreKind::kFile;
    options_.store_dir = std::move(store_dir);
    options_.reset_seq_num_on_logon = false;
    options_.reconnect_interval_s = 1;
    options_.on_app_message = [ledger, answers](std::size_t,
                                                const FIX::Message& m) {
      ledger->Observe(m);
      if (fixclient::MsgTypeOf(m) == "8" && Get(m, 150) == "I") {
        std::lock_guard<std::mutex> guard(answers->mu);
        const std::string cum = Get(m, 14);
        answers->status[Get(m, 11)] = {Get(m, 39),
                                       std::strtoll(cum.c_str(), nullptr, 10)};
        answers->changed.notify_all();
      }
    };
  }

  Status Start() {
    std::lock_guard<std::mutex> guard(mu_);
    client_ = std::make_unique<Client>(options_);
    return client_->Start();
  }
  Status Send(const FIX::Message& message) {
    std::lock_guard<std::mutex> guard(mu_);
    if (!client_) return Status::FailedPrecondition("stopped");
    return client_->Send(0, message);
  }
  bool LoggedOn() {
    std::lock_guard<std::mutex> guard(mu_);
    return client_ && client_->IsLoggedOn(0);
  }
  Status WaitLoggedOn(std::chrono::milliseconds timeout) {
    std::lock_guard<std::mutex> guard(mu_);
    return client_->WaitLoggedOn(0, timeout);
  }
  // Drops the TCP connection without a Logout; QuickFIX reconnects.
  void DropConnection() {
    std::lock_guard<std::mutex> guard(mu_);
    if (FIX::Session* s = FIX::Session::lookupSession(client_->SessionId(0))) {
      s->disconnect();
    }
  }
  // Logs out and stops the client (keeping what it queued); Start() makes a
  // new one on the same store.
  void Stop() {
    std::lock_guard<std::mutex> guard(mu_);
    if (!client_) return;
    client_->Stop();
    CollectLogouts();
    client_.reset();
  }
  [[nodiscard]] std::vector<std::string> LogoutTexts() {
    std::lock_guard<std::mutex> guard(mu_);
    CollectLogouts();
    return logouts_;
  }
  [[nodiscard]] const std::string& comp_id() const { return comp_id_; }

 private:
  void CollectLogouts() {
    if (!client_) return;
    while (auto m = client_->Next(0, 0ms)) {
      if (fixclient::MsgTypeOf(*m) == "5") logouts_.push_back(Get(*m, 58));
    }
  }

  std::string comp_id_;
  fixclient::ClientOptions options_;
  std::mutex mu_;
  std::unique_ptr<Client> client_;
  std::vector<std::string> logouts_;
};

struct SentOrder {
  std::string id;
  std::size_t broker;
  std::string account;
  Side side;
};

TEST_CASE("soak: trading through random disconnects and server kills",
          "[e2e][soak]") {
  const auto duration =
      std::chrono::seconds(EnvOr("CARBONEX_SOAK_SECONDS", 540));
  const long rate = std::max(1L, EnvOr("CARBONEX_SOAK_RATE", 100));
  std::mt19937 rng(TestSeed());
  std::printf("soak: %lld s at %ld orders/s\n",
              static_cast<long long>(duration.count()), rate);

  ScratchDir dir;
  const std::string db = dir.path() + "/db";
  Market::Create(db);
  {
    // Enough units and cash for the whole run: A and C buy, B sells.
    ledger::RegistryOptions options;
    options.path = db;
    options.durable = false;
    auto registry = ledger::Registry::Open(options);
    REQUIRE(registry.ok());
    REQUIRE((*registry)
                ->IssueUnits("KZQ-2026", "CO-B", Quantity(100'000'000),
                             ledger::IssueReason::kAllocation)
                .ok());
    REQUIRE((*registry)->DepositCash("CO-A", Cash(1'000'000'000'000)).ok());
    REQUIRE((*registry)->DepositCash("CO-C", Cash(1'000'000'000'000)).ok());
  }
  const nlohmann::json start = RegistryJson(db, "holdings");
  const int port = FreePort();
  ServerProcess server(db, port);
  std::string why;
  REQUIRE(server.Start(&why));

  AckLedger ledger;
  Answers answers;
  std::vector<std::unique_ptr<Broker>> brokers;
  for (const char* comp : {"BRK1", "BRK2"}) {
    brokers.push_back(std::make_unique<Broker>(
        comp, port, dir.path() + "/client-store", &ledger, &answers));
    REQUIRE(brokers.back()->Start().ok());
    REQUIRE(brokers.back()->WaitLoggedOn(15s).ok());
  }

  // The trader: `rate` orders a second, whichever broker is logged on.
  std::vector<SentOrder> sent;
  std::mutex sent_mu;
  std::atomic<bool> trading{true};
  std::thread trader([&] {
    std::mt19937 order_rng(rng());
    std::uniform_int_distribution<int> price(1950, 2050);
    std::uniform_int_distribution<int> qty(1, 5);
    const auto period = std::chrono::microseconds(1'000'000 / rate);
    auto next = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; trading; ++i) {
      next += period;
      std::this_thread::sleep_until(next);
      const std::size_t b = order_rng() % 2;
      // No account is on both sides: self-trade prevention never cancels,
      // so every order rests or fills.
      const Side side =
          b == 1 || order_rng() % 2 == 0 ? Side::kBuy : Side::kSell;
      const std::string account = b == 1               ? "CO-C"
                                  : side == Side::kBuy ? "CO-A"
                                                       : "CO-B";
      const std::string id = "o" + std::to_string(i);
      if (!brokers[b]->LoggedOn()) continue;
      ledger.Sent(id, {b, account, side});
      {
        std::lock_guard<std::mutex> guard(sent_mu);
        sent.push_back({id, b, account, side});
      }
      (void)brokers[b]->Send(BuildNewOrderSingle(
          LimitOrder(id, account, side, qty(order_rng), price(order_rng),
                     TimeInForce::kGoodTillCancel)));
    }
  });

  // Chaos: every 2-8 s a broker's connection drops (or it logs out and comes
  // back as a new client); every 15-45 s the server is killed and restarted.
  int kills = 0;
  int drops = 0;
  int logouts = 0;
  const auto end = std::chrono::steady_clock::now() + duration;
  auto next_kill =
      std::chrono::steady_clock::now() + std::chrono::seconds(15 + rng() % 31);
  bool start_failed = false;
  while (std::chrono::steady_clock::now() < end && !start_failed) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2000 + rng() % 6000));
    if (std::chrono::steady_clock::now() >= next_kill) {
      server.Kill();
      ++kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 1000));
      start_failed = !server.Start(&why);
      next_kill = std::chrono::steady_clock::now() +
                  std::chrono::seconds(15 + rng() % 31);
      continue;
    }
    Broker& broker = *brokers[rng() % 2];
    if (rng() % 2 == 0) {
      broker.DropConnection();
      ++drops;
    } else {
      broker.Stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 2000));
      Status started = broker.Start();
      if (!started.ok()) {
        why = broker.comp_id() + ": " + started.message();
        start_failed = true;
      }
      ++logouts;
    }
  }
  trading = false;
  trader.join();
  std::printf("soak: %d server kills, %d dropped connections, %d logouts\n",
              kills, drops, logouts);
  INFO(why);
  REQUIRE_FALSE(start_failed);
  for (auto& broker : brokers) {
    INFO(broker->comp_id());
    REQUIRE(broker->WaitLoggedOn(30s).ok());
  }
  std::this_thread::sleep_for(2s);  // the last reports and resends

  // Ask for the status of every order sent, a window at a time.
  const auto acked = ledger.AckedOrders();
  std::printf("soak: %zu orders sent, %zu acknowledged, %zu fills told\n",
              sent.size(), acked.size(), ledger.BuyerFills().size());
  REQUIRE(acked.size() > 0);
  constexpr std::size_t kWindow = 500;
  for (std::size_t from = 0; from < sent.size(); from += kWindow) {
    const std::size_t to = std::min(sent.size(), from + kWindow);
    for (std::size_t i = from; i < to; ++i) {
      const SentOrder& o = sent[i];
      REQUIRE(brokers[o.broker]
                  ->Send(fixclient::BuildOrderStatusRequest(
                      {o.id, o.account, "KZQ-2026", o.side}))
                  .ok());
    }
    std::unique_lock<std::mutex> lock(answers.mu);
    REQUIRE(answers.changed.wait_for(lock, 30s, [&] {
      for (std::size_t i = from; i < to; ++i) {
        if (answers.status.count(sent[i].id) == 0) return false;
      }
      return true;
    }));
  }
  // Acknowledged orders are known and live or filled; per account and side,
  // the server's filled quantities are what the registry settled.
  std::map<std::string, std::int64_t> filled_buy;
  std::map<std::string, std::int64_t> filled_sell;
  std::size_t lost = 0;
  {
    std::lock_guard<std::mutex> guard(answers.mu);
    for (const SentOrder& o : sent) {
      const Answers::Status& s = answers.status.at(o.id);
      const bool known =
          s.ord_status == "0" || s.ord_status == "1" || s.ord_status == "2";
      if (acked.count(o.id) != 0 && !known) {
        ++lost;
        UNSCOPED_INFO("acknowledged order " << o.id << " has OrdStatus "
                                            << s.ord_status);
      }
      (o.side == Side::kBuy ? filled_buy : filled_sell)[o.account] += s.cum_qty;
    }
  }
  CHECK(lost == 0);

  for (auto& broker : brokers) broker->Stop();
  REQUIRE(server.Terminate() == 0);
  const std::string stopped = server.LastHash("stopped:");

  // Sequence numbers: both stores agree; no session was refused for a low
  // sequence number.
  for (auto& broker : brokers) {
    const std::string comp = broker->comp_id();
    INFO(comp);
    auto client = FileStoreSeqNums(dir.path() + "/client-store/FIX.4.4-" +
                                   comp + "-CARBONEX.seqnums");
    auto exchange = MappedStoreSeqNums(db + "/fix-store/FIX.4.4-CARBONEX-" +
                                       comp + ".store");
    CHECK(client.first > 1);
    CHECK(client.first == exchange.second);
    CHECK(client.second == exchange.first);
    for (const std::string& text : broker->LogoutTexts()) {
      INFO("Logout: " << text);
      CHECK(text.find("too low") == std::string::npos);
    }
  }

  SettlementTotals totals =
      CheckSettlement(db, start, ledger.BuyerFills(), /*exact=*/false);
  std::printf("soak: %zu trades settled\n", totals.trades);
  CHECK(totals.trades > 0);
  for (const char* account : {"CO-A", "CO-C"}) {
    INFO(account);
    CHECK(filled_buy[account] == totals.bought[account]);
  }
  CHECK(filled_sell["CO-B"] == totals.sold["CO-B"]);
  CHECK(totals.bought["CO-B"] == 0);

  // A clean restart reaches the same engine state.
  REQUIRE(server.Start(&why));
  CHECK(server.LastHash("recovered:") == stopped);
  REQUIRE(server.Terminate() == 0);
}

}  // namespace
}  // namespace carbonex::testing
