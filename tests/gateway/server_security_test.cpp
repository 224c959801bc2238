// Security tests against a real carbonex-server: logon throttling and the
// logon audit events, passwords kept out of logs, broker isolation (every
// way the FIX contract lets one broker name another's account or order),
// owner-only files, and FIX over TLS. docs/server.md, "Security".
#define CATCH_CONFIG_MAIN
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <tuple>

#include "server_session.h"

namespace carbonex::testing {
namespace {

using namespace std::chrono_literals;
using fixclient::BuildFrame;
using fixclient::BuildMarketDataRequest;
using fixclient::BuildNewOrderSingle;
using fixclient::BuildOrderCancelReplaceRequest;
using fixclient::BuildOrderCancelRequest;
using fixclient::BuildOrderMassCancelRequest;
using fixclient::BuildOrderStatusRequest;
using fixclient::Client;
using fixclient::IsMsgType;

constexpr const char* kWrongPassword = "wrong-Pa55-7Q";

// One Logon of comp_id over a fresh connection. Returns "A" when the
// session was established (it is then logged out again), otherwise the Text
// of the Logout that refused it.
std::string TryLogon(const RunningExchange& x, const std::string& comp_id,
                     const std::string& password) {
  fixclient::RawConnection raw;
  REQUIRE(raw.Connect("127.0.0.1", x.port, 2s).ok());
  REQUIRE(raw.SendRaw(BuildFrame(fixclient::LogonFields(comp_id, "CARBONEX", 1,
                                                        comp_id, password)))
              .ok());
  Result<FIX::Message> answer = raw.Read(15s);
  INFO(comp_id << ": " << answer.status().message());
  // Without an answer, the server's log says what happened.
  INFO((answer.ok() ? std::string()
                    : "server log:\n" + x.server->Log() + "FIX event logs:\n" +
                          FixEventLogs(x.db)));
  REQUIRE(answer.ok());
  const std::string type = fixclient::MsgTypeOf(*answer);
  if (type == "A") {
    REQUIRE(raw.SendRaw(BuildFrame({{35, "5"},
                                    {49, comp_id},
                                    {56, "CARBONEX"},
                                    {34, "2"},
                                    {52, fixclient::UtcTimestampNow()}}))
                .ok());
    CHECK(raw.WaitClosed(kSessionWait).ok());
    return "A";
  }
  CHECK(raw.WaitClosed(kSessionWait).ok());
  if (type != "5") return "unexpected MsgType " + type;
  // QuickFIX puts its own prefix before the reason the server gives.
  std::string text = Get(*answer, 58);
  const std::string prefix = "Rejected Logon Attempt: ";
  if (text.rfind(prefix, 0) == 0) text.erase(0, prefix.size());
  return text;
}

// Logon records in the audit log, summed per (CompID, outcome, reason).
struct LogonTally {
  std::map<std::tuple<std::string, std::string, std::string>, std::int64_t>
      counts;
  std::set<std::string> addresses;
  std::uint64_t dropped = 0;
  std::size_t entries = 0;
  [[nodiscard]] std::int64_t Of(const std::string& comp,
                                const std::string& outcome,
                                const std::string& reason_part = "") const {
    std::int64_t n = 0;
    for (const auto& [key, count] : counts) {
      if (std::get<0>(key) == comp && std::get<1>(key) == outcome &&
          std::get<2>(key).find(reason_part) != std::string::npos) {
        n += count;
      }
    }
    return n;
  }
};

LogonTally LogonAudit(const std::string& db) {
  nlohmann::json log = RegistryJson(db, "audit log --op logon --limit 100000");
  LogonTally tally;
  for (const auto& entry : log.at("entries")) {
    ++tally.entries;
    CHECK(entry.at("op") == "logon");
    const auto& args = entry.at("args");
    tally.dropped += args.at("dropped").get<std::uint64_t>();
    for (const auto& e : args.at("events")) {
      tally.counts[{e.at("comp_id").get<std::string>(),
                    e.at("outcome").get<std::string>(),
                    e.value("reason", std::string())}] +=
          e.at("count").get<std::int64_t>();
      tally.addresses.insert(e.at("address").get<std::string>());
      CHECK(e.at("first_ns").get<std::int64_t>() <=
            e.at("last_ns").get<std::int64_t>());
    }
  }
  return tally;
}

// Polls the audit log until `ready` holds (the server flushes logon records
// every logon_audit_interval_ms).
LogonTally WaitForLogonAudit(
    const std::string& db,
    const std::function<bool(const LogonTally&)>& ready) {
  LogonTally tally;
  for (int i = 0; i < 100; ++i) {
    tally = LogonAudit(db);
    if (ready(tally)) break;
    std::this_thread::sleep_for(100ms);
  }
  return tally;
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

// ---------------------------------------------------------------------------
// Logon throttling and audit

// Once this address is in back-off: BRK3 with the right password is refused
// without a check, and the audit log records it as throttled. Returns the
// audit tally.
LogonTally ExpectAddressInBackoff(const RunningExchange& x) {
  std::string refused = TryLogon(x, "BRK3", Market::kPassword);
  CHECK(refused.find("too many failed logons from this address") !=
        std::string::npos);
  LogonTally tally = WaitForLogonAudit(
      x.db, [](const LogonTally& t) { return t.Of("BRK3", "throttled") >= 1; });
  CHECK(tally.Of("BRK3", "throttled", "from this address") == 1);
  return tally;
}

TEST_CASE("failed logons are throttled per CompID at the limit",
          "[security][throttle]") {
  Exchange x(
      "logon_failures_per_comp_id = 3\n"
      "logon_failures_per_address = 1000\n"
      "logon_failure_window_seconds = 600\n"
      "logon_backoff_seconds = 2\n"
      "logon_audit_interval_ms = 100\n");
  // One failure short of the limit: the right password still logs on, and
  // the success clears the count.
  CHECK(TryLogon(x, "BRK3", kWrongPassword) == "invalid password");
  CHECK(TryLogon(x, "BRK3", kWrongPassword) == "invalid password");
  CHECK(TryLogon(x, "BRK3", Market::kPassword) == "A");
  CHECK(TryLogon(x, "BRK3", kWrongPassword) == "invalid password");
  CHECK(TryLogon(x, "BRK3", kWrongPassword) == "invalid password");
  CHECK(TryLogon(x, "BRK3", Market::kPassword) == "A");
  // At the limit: the third failure starts the back-off, and then even the
  // right password is refused without being checked.
  for (int i = 0; i < 3; ++i) {
    CHECK(TryLogon(x, "BRK1", kWrongPassword) == "invalid password");
  }
  std::string refused = TryLogon(x, "BRK1", Market::kPassword);
  CHECK(refused.find("too many failed logons for BRK1") != std::string::npos);
  // Other CompIDs from the same address are not affected.
  CHECK(TryLogon(x, "BRK2", Market::kPassword) == "A");
  // After the back-off the right password logs on again.
  std::this_thread::sleep_for(2500ms);
  CHECK(TryLogon(x, "BRK1", Market::kPassword) == "A");

  // Every attempt is in the registry's audit log, visible with the CLI
  // while the server runs.
  LogonTally tally = WaitForLogonAudit(
      x.db, [](const LogonTally& t) { return t.Of("BRK1", "accepted") >= 1; });
  CHECK(tally.Of("BRK3", "refused", "invalid password") == 4);
  CHECK(tally.Of("BRK3", "accepted") == 2);
  CHECK(tally.Of("BRK1", "refused", "invalid password") == 3);
  CHECK(tally.Of("BRK1", "throttled", "too many failed logons") == 1);
  CHECK(tally.Of("BRK1", "accepted") == 1);
  CHECK(tally.Of("BRK2", "accepted") == 1);
  CHECK(tally.addresses == std::set<std::string>{"127.0.0.1"});
  CHECK(tally.dropped == 0);
  // The chain still verifies.
  std::string out;
  CHECK(RegistryStatus(x.db, "audit verify", &out) == 0);
  INFO(out);
  CHECK(x.server->Terminate() == 0);
  // The human-readable listing names the events too.
  CHECK(RegistryStatus(x.db, "audit log --op logon", &out) == 0);
  CHECK(out.find("throttled") != std::string::npos);
}

TEST_CASE("failed logons are throttled per remote address",
          "[security][throttle]") {
  Exchange x(
      "logon_failures_per_comp_id = 100\n"
      "logon_failures_per_address = 4\n"
      "logon_backoff_seconds = 60\n"
      "logon_audit_interval_ms = 100\n");
  CHECK(TryLogon(x, "BRK1", kWrongPassword) == "invalid password");
  CHECK(TryLogon(x, "BRK2", kWrongPassword) == "invalid password");
  CHECK(TryLogon(x, "BRK1", kWrongPassword) == "invalid password");
  // Three failures from this address: one more is still checked.
  CHECK(TryLogon(x, "BRK3", Market::kPassword) == "A");
  CHECK(TryLogon(x, "BRK2", kWrongPassword) == "invalid password");
  // The fourth failure reached the address's limit: every CompID from here
  // is refused.
  (void)ExpectAddressInBackoff(x);
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE(
    "connections of unknown sessions count against the address and are "
    "audited",
    "[security][throttle]") {
  Exchange x(
      "logon_failures_per_comp_id = 100\n"
      "logon_failures_per_address = 3\n"
      "logon_backoff_seconds = 60\n"
      "logon_audit_interval_ms = 100\n");
  // Unregistered SenderCompIDs (one of them not even printable), and a
  // registered one addressed to another TargetCompID: QuickFIX has no
  // session for any of them and drops the connection without an answer.
  const std::vector<std::pair<std::string, std::string>> unknown = {
      {"NOBODY", "CARBONEX"}, {"GUESS\x7f", "CARBONEX"}, {"BRK1", "ELSEWHERE"}};
  for (const auto& [sender, target] : unknown) {
    fixclient::RawConnection raw;
    REQUIRE(raw.Connect("127.0.0.1", x.port, 2s).ok());
    REQUIRE(raw.SendRaw(BuildFrame(fixclient::LogonFields(
                            sender, target, 1, sender, kWrongPassword)))
                .ok());
    CHECK(raw.WaitClosed(kSessionWait).ok());
  }
  // Three failures from this address: a registered broker with the right
  // password is now refused here too.
  LogonTally tally = ExpectAddressInBackoff(x);
  CHECK(tally.Of("NOBODY", "refused", "unknown session") == 1);
  CHECK(tally.Of("GUESS?", "refused", "unknown session") == 1);
  CHECK(tally.Of("BRK1", "refused", "unknown session") == 1);
  CHECK(tally.addresses.count("127.0.0.1") == 1);
  CHECK(x.server->Log().find("no session NOBODY -> CARBONEX") !=
        std::string::npos);
  CHECK(RegistryStatus(x.db, "audit verify") == 0);
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("a logon storm is merged in the audit log and trading goes on",
          "[security][throttle]") {
  // A long flush interval: everything of the run lands in the entry written
  // at stop.
  Exchange x(
      "logon_failures_per_comp_id = 5\n"
      "logon_backoff_seconds = 600\n"
      "logon_audit_interval_ms = 60000\n");
  auto trader = Connect(x.port, {"BRK2"});
  constexpr int kAttempts = 60;
  std::atomic<int> answered{0};
  std::thread storm([&] {
    for (int i = 0; i < kAttempts; ++i) {
      fixclient::RawConnection raw;
      if (!raw.Connect("127.0.0.1", x.port, 2s).ok()) continue;
      if (!raw.SendRaw(BuildFrame(fixclient::LogonFields(
                           "BRK1", "CARBONEX", 1, "BRK1", kWrongPassword)))
               .ok()) {
        continue;
      }
      Result<FIX::Message> answer = raw.Read(15s);
      if (answer.ok() && fixclient::MsgTypeOf(*answer) == "5") ++answered;
      (void)raw.WaitClosed(kSessionWait);
    }
  });
  // Orders are acknowledged while the storm runs.
  for (int i = 0; i < 20; ++i) {
    std::string id = "st" + std::to_string(i);
    REQUIRE(trader
                ->Send(0, BuildNewOrderSingle(
                              Limit(id, "CO-C", Side::kBuy, 1, 1000 + i)))
                .ok());
    Expect(*trader, 0, id, '0');
  }
  storm.join();
  CHECK(answered == kAttempts);
  trader->Stop();
  CHECK(x.server->Terminate() == 0);
  LogonTally tally = LogonAudit(x.db);
  // kAttempts + 1 logons, one audit entry.
  CHECK(tally.entries == 1);
  CHECK(tally.Of("BRK1", "refused", "invalid password") == 5);
  CHECK(tally.Of("BRK1", "throttled") == kAttempts - 5);
  CHECK(tally.Of("BRK2", "accepted") == 1);
  CHECK(RegistryStatus(x.db, "audit verify") == 0);
}

TEST_CASE("passwords appear in no log", "[security]") {
  Exchange x("fix_log = on\nlogon_audit_interval_ms = 100\n");
  CHECK(TryLogon(x, "BRK1", kWrongPassword) == "invalid password");
  CHECK(TryLogon(x, "BRK1", Market::kPassword) == "A");
  // An unknown CompID: QuickFIX logs the whole message it could not place.
  {
    fixclient::RawConnection raw;
    REQUIRE(raw.Connect("127.0.0.1", x.port, 2s).ok());
    REQUIRE(raw.SendRaw(BuildFrame(fixclient::LogonFields(
                            "NOBODY", "CARBONEX", 1, "NOBODY", kWrongPassword)))
                .ok());
    CHECK(raw.WaitClosed(kSessionWait).ok());
  }
  CHECK(x.server->Terminate() == 0);
  std::vector<std::string> texts = {x.server->Log()};
  bool redacted = false;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(x.db + "/fix-log")) {
    if (!entry.is_regular_file()) continue;
    texts.push_back(ReadWhole(entry.path().string()));
    redacted = redacted || texts.back().find("554=***") != std::string::npos;
  }
  CHECK(texts.size() > 2);
  CHECK(redacted);  // the Logons were logged, with the password masked
  for (const std::string& text : texts) {
    CHECK(text.find(kWrongPassword) == std::string::npos);
    CHECK(text.find(Market::kPassword) == std::string::npos);
  }
  // Nor in the registry's audit log.
  std::string out;
  CHECK(RegistryStatus(x.db, "audit log --limit 100000 --json", &out) == 0);
  CHECK(out.find(kWrongPassword) == std::string::npos);
  CHECK(out.find(Market::kPassword) == std::string::npos);
}

// ---------------------------------------------------------------------------
// Files

TEST_CASE("the registry directory is owner-only", "[security]") {
  ::umask(022);  // the usual default: files would be world-readable
  Exchange x("fix_log = on\n");
  CHECK(TryLogon(x, "BRK1", Market::kPassword) == "A");
  auto trader = Connect(x.port, {"BRK2"});
  REQUIRE(trader
              ->Send(0, BuildNewOrderSingle(
                            Limit("p1", "CO-C", Side::kBuy, 1, 1000)))
              .ok());
  Expect(*trader, 0, "p1", '0');
  std::set<std::string> seen;
  auto check_tree = [&] {
    auto check = [&](const std::filesystem::path& path) {
      struct stat st {};
      REQUIRE(::lstat(path.c_str(), &st) == 0);
      INFO(path.string() << " mode " << std::oct << (st.st_mode & 07777));
      CHECK((st.st_mode & 077) == 0);
      seen.insert(path.filename().string());
    };
    check(x.db);
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(x.db)) {
      check(entry.path());
    }
  };
  check_tree();  // while running: the control socket and lock exist
  trader->Stop();
  CHECK(x.server->Terminate() == 0);
  check_tree();
  for (const char* name :
       {"data.mdb", "lock.mdb", "journal", "fix-store", "fix-log",
        "engine.snapshot", "control.sock", "server.lock"}) {
    INFO(name);
    CHECK(seen.count(name) == 1);
  }
}

// ---------------------------------------------------------------------------
// Broker isolation
//
// The market (server_harness.h): BRK1 trades for CO-A, CO-B and CO-D; BRK2
// for CO-C; BRK3 (cancel-on-disconnect) for CO-A, an account it shares with
// BRK1.

// The OrderID(37) of an acknowledged order.
std::string OrderIdOf(const FIX::Message& report) { return Get(report, 37); }

TEST_CASE("a broker cannot trade for another broker's account",
          "[security][isolation]") {
  Exchange x;
  auto c = Connect(x.port, {"BRK1", "BRK2"});
  for (const char* account : {"CO-C"}) {
    REQUIRE(c->Send(0, BuildNewOrderSingle(
                           Limit("x1", account, Side::kBuy, 1, 1000)))
                .ok());
    FIX::Message reject = Expect(*c, 0, "x1", '8');
    CHECK(Get(reject, 103) == "99");
  }
  REQUIRE(
      c->Send(1, BuildNewOrderSingle(Limit("x2", "CO-A", Side::kSell, 1, 1000)))
          .ok());
  CHECK(Get(Expect(*c, 1, "x2", '8'), 103) == "99");
  // Nothing was reserved for the refused orders.
  nlohmann::json holdings = RegistryJson(x.db, "holdings");
  CHECK(CashOf(holdings, "CO-C").reserved == 0);
  CHECK(UnitsOf(holdings, "CO-A", "KZQ-2026").reserved == 0);
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("a broker cannot touch or see another broker's orders",
          "[security][isolation]") {
  Exchange x;
  // BRK1 (0), BRK2 (1), BRK3 (2).
  auto c = Connect(x.port, {"BRK1", "BRK2", "BRK3"});
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("same", "CO-A", Side::kBuy, 10, 1500)))
              .ok());
  const std::string brk1_order = OrderIdOf(Expect(*c, 0, "same", '0'));
  // BRK3 shares the account and reuses the ClOrdID: a different order.
  REQUIRE(c->Send(2, BuildNewOrderSingle(
                         Limit("same", "CO-A", Side::kBuy, 5, 1400)))
              .ok());
  const std::string brk3_order = OrderIdOf(Expect(*c, 2, "same", '0'));
  CHECK(brk1_order != brk3_order);

  // By ClOrdID, with the order's own account, symbol and side.
  fixclient::CancelOrder cancel{"k1", "same", "CO-A", "KZQ-2026", Side::kBuy};
  REQUIRE(c->Send(1, BuildOrderCancelRequest(cancel)).ok());
  auto cxl = c->WaitFor(1, IsMsgType("9"), kSessionWait);
  REQUIRE(cxl.has_value());
  CHECK(Get(*cxl, 102) == "1");  // unknown order

  // By OrderID: BRK2 names BRK1's order, BRK3 (same account) names BRK1's.
  for (std::size_t session : {std::size_t{1}, std::size_t{2}}) {
    FIX44::OrderCancelRequest by_id = BuildOrderCancelRequest(
        {"k2", "nothing-of-mine", "CO-A", "KZQ-2026", Side::kBuy});
    by_id.setField(37, brk1_order);
    REQUIRE(c->Send(session, by_id).ok());
    cxl = c->WaitFor(session, IsMsgType("9"), kSessionWait);
    REQUIRE(cxl.has_value());
    CHECK(Get(*cxl, 102) == "1");
    CHECK(Get(*cxl, 434) == "1");

    FIX44::OrderCancelReplaceRequest replace =
        BuildOrderCancelReplaceRequest({"k3", "same", "CO-A", "KZQ-2026",
                                        Side::kBuy, Quantity(1), Price(1000)});
    replace.setField(37, brk1_order);
    REQUIRE(c->Send(session, replace).ok());
    cxl = c->WaitFor(session, IsMsgType("9"), kSessionWait);
    REQUIRE(cxl.has_value());
    CHECK(Get(*cxl, 102) == "1");
    CHECK(Get(*cxl, 434) == "2");

    FIX44::OrderStatusRequest status =
        BuildOrderStatusRequest({"k4", "CO-A", "KZQ-2026", Side::kBuy});
    status.setField(37, brk1_order);
    REQUIRE(c->Send(session, status).ok());
    FIX::Message answer = Expect(*c, session, "k4", 'I');
    CHECK(Get(answer, 39) == "8");
    CHECK(Get(answer, 103) == "5");
    // Nothing of BRK1's order is revealed.
    CHECK(Get(answer, 14) == "0");
    CHECK(Get(answer, 151) == "0");
    CHECK(Get(answer, 38) != "10");
  }
  // Replace by ClOrdID from BRK2.
  REQUIRE(c->Send(1, BuildOrderCancelReplaceRequest({"k5", "same", "CO-A",
                                                     "KZQ-2026", Side::kBuy,
                                                     Quantity(1), Price(1000)}))
              .ok());
  cxl = c->WaitFor(1, IsMsgType("9"), kSessionWait);
  REQUIRE(cxl.has_value());
  CHECK(Get(*cxl, 102) == "1");
  // Status by ClOrdID from BRK2: unknown.
  REQUIRE(c->Send(1, BuildOrderStatusRequest(
                         {"same", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  FIX::Message unknown = Expect(*c, 1, "same", 'I');
  CHECK(Get(unknown, 39) == "8");
  CHECK(Get(unknown, 103) == "5");

  // BRK3's cancel by ClOrdID "same" cancels its own order only.
  REQUIRE(c->Send(2, BuildOrderCancelRequest(
                         {"k6", "same", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  FIX::Message own = Expect(*c, 2, "k6", '4');
  CHECK(OrderIdOf(own) == brk3_order);

  // Mass cancel: the contract gives no way to name an account (Account(1)
  // is not a field of q): such a request is a malformed message.
  FIX44::OrderMassCancelRequest named = BuildOrderMassCancelRequest(
      {"k7", fixclient::MassCancelScope::kAllOfBroker, ""});
  named.setField(1, "CO-A");
  REQUIRE(c->Send(1, named).ok());
  auto session_reject = c->WaitFor(1, IsMsgType("3"), kSessionWait);
  REQUIRE(session_reject.has_value());
  CHECK(Get(*session_reject, 371) == "1");
  // BRK2's mass cancels, all and by symbol, find nothing of its own.
  REQUIRE(c->Send(1, BuildOrderMassCancelRequest(
                         {"k8", fixclient::MassCancelScope::kAllOfBroker, ""}))
              .ok());
  auto report = c->WaitFor(1, IsMsgType("r"), kSessionWait);
  REQUIRE(report.has_value());
  CHECK(Get(*report, 533) == "0");
  REQUIRE(
      c->Send(1, BuildOrderMassCancelRequest(
                     {"k9", fixclient::MassCancelScope::kBySymbol, "KZQ-2026"}))
          .ok());
  report = c->WaitFor(1, IsMsgType("r"), kSessionWait);
  REQUIRE(report.has_value());
  CHECK(Get(*report, 533) == "0");
  // BRK3's mass cancel on the shared account cancels its own order only.
  REQUIRE(c->Send(2, BuildNewOrderSingle(
                         Limit("mine", "CO-A", Side::kBuy, 2, 1300)))
              .ok());
  Expect(*c, 2, "mine", '0');
  REQUIRE(c->Send(2, BuildOrderMassCancelRequest(
                         {"k10", fixclient::MassCancelScope::kAllOfBroker, ""}))
              .ok());
  report = c->WaitFor(2, IsMsgType("r"), kSessionWait);
  REQUIRE(report.has_value());
  CHECK(Get(*report, 533) == "1");
  auto mine_canceled = c->WaitFor(
      2,
      [](const FIX::Message& m) {
        return fixclient::MsgTypeOf(m) == "8" && Get(m, 150) == "4";
      },
      kSessionWait);
  REQUIRE(mine_canceled.has_value());
  INFO(fixclient::Describe(*mine_canceled));
  CHECK(
      (Get(*mine_canceled, 41) == "mine" || Get(*mine_canceled, 11) == "mine"));

  // BRK1's order is untouched: still New, full quantity.
  REQUIRE(c->Send(0, BuildOrderStatusRequest(
                         {"same", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  FIX::Message mine = Expect(*c, 0, "same", 'I');
  CHECK(Get(mine, 39) == "0");
  CHECK(Get(mine, 151) == "10");
  CHECK(OrderIdOf(mine) == brk1_order);

  // No report about BRK1's order, nor BRK3's, ever reached BRK2: BRK2's
  // queue holds only answers to its own requests (all taken above).
  REQUIRE(c->Send(1, BuildOrderStatusRequest(
                         {"sentinel", "CO-C", "KZQ-2026", Side::kBuy}))
              .ok());
  Expect(*c, 1, "sentinel", 'I');
  CHECK(c->Pending(1) == 0);
  // And BRK1 saw nothing of BRK3's order.
  while (auto m = c->Next(0, 0ms)) {
    CHECK(Get(*m, 37) != brk3_order);
  }
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("fills are private to each side, market data is public",
          "[security][isolation]") {
  Exchange x;
  auto c = Connect(x.port, {"BRK1", "BRK2", "BRK3"});
  fixclient::MarketDataSubscription sub;
  sub.md_req_id = "md1";
  sub.subscription = fixclient::Subscription::kSubscribe;
  sub.entry_types = {fixclient::MdEntryType::kBid,
                     fixclient::MdEntryType::kOffer,
                     fixclient::MdEntryType::kTrade};
  sub.symbols = {"KZQ-2026"};
  REQUIRE(c->Send(2, BuildMarketDataRequest(sub)).ok());
  REQUIRE(c->WaitFor(2, IsMsgType("W"), kSessionWait).has_value());

  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("sell1", "CO-A", Side::kSell, 10, 2500)))
              .ok());
  Expect(*c, 0, "sell1", '0');
  REQUIRE(c->Send(1, BuildNewOrderSingle(
                         Limit("buy1", "CO-C", Side::kBuy, 4, 2500)))
              .ok());
  FIX::Message buyer = Expect(*c, 1, "buy1", 'F');
  FIX::Message seller = Expect(*c, 0, "sell1", 'F');
  // Each side's report names only its own order and account.
  CHECK(Get(buyer, 1) == "CO-C");
  CHECK(Get(seller, 1) == "CO-A");
  for (const char* other : {"CO-A", "BRK1", "sell1"}) {
    CHECK(buyer.toString().find(other) == std::string::npos);
  }
  for (const char* other : {"CO-C", "BRK2", "buy1"}) {
    CHECK(seller.toString().find(other) == std::string::npos);
  }
  // The public feed (BRK3) shows the level and the trade, and no account,
  // order or broker of anyone.
  bool trade_seen = false;
  for (int i = 0; i < 10 && !trade_seen; ++i) {
    auto md = c->WaitFor(2, IsMsgType("X"), kSessionWait);
    REQUIRE(md.has_value());
    const std::string text = md->toString();
    for (const char* secret :
         {"CO-A", "CO-C", "BRK1", "BRK2", "sell1", "buy1"}) {
      CHECK(text.find(secret) == std::string::npos);
    }
    trade_seen = text.find("\001269=2\001") != std::string::npos;
  }
  CHECK(trade_seen);
  // BRK3 (which shares CO-A with BRK1) got no execution report at all.
  REQUIRE(c->Send(2, BuildOrderStatusRequest(
                         {"sentinel", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  Expect(*c, 2, "sentinel", 'I');
  while (auto m = c->Next(2, 0ms)) {
    CHECK(fixclient::MsgTypeOf(*m) != "8");
  }
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("cancel-on-disconnect of one broker leaves another's orders",
          "[security][isolation]") {
  Exchange x;
  auto brk1 = Connect(x.port, {"BRK1"});
  auto brk3 = Connect(x.port, {"BRK3"});
  // Both Day orders, on the account the two brokers share.
  REQUIRE(brk1->Send(0, BuildNewOrderSingle(
                            Limit("keep", "CO-A", Side::kBuy, 3, 1200)))
              .ok());
  Expect(*brk1, 0, "keep", '0');
  REQUIRE(brk3->Send(0, BuildNewOrderSingle(
                            Limit("gone", "CO-A", Side::kBuy, 2, 1100)))
              .ok());
  Expect(*brk3, 0, "gone", '0');
  brk3->Stop();  // BRK3 disconnects: its Day orders are cancelled
  // Wait until BRK3's order is no longer on the book (the depth drops).
  bool cancelled = false;
  for (int i = 0; i < 50 && !cancelled; ++i) {
    fixclient::MarketDataSubscription snap;
    snap.md_req_id = "s" + std::to_string(i);
    snap.symbols = {"KZQ-2026"};
    REQUIRE(brk1->Send(0, BuildMarketDataRequest(snap)).ok());
    auto w = brk1->WaitFor(0, IsMsgType("W"), kSessionWait);
    REQUIRE(w.has_value());
    cancelled = w->toString().find("\001270=11") == std::string::npos;
    if (!cancelled) std::this_thread::sleep_for(100ms);
  }
  CHECK(cancelled);
  REQUIRE(brk1->Send(0, BuildOrderStatusRequest(
                            {"keep", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  FIX::Message status = Expect(*brk1, 0, "keep", 'I');
  CHECK(Get(status, 39) == "0");
  CHECK(Get(status, 151) == "3");
  // BRK1 received no cancel for anything.
  while (auto m = brk1->Next(0, 0ms)) {
    CHECK(Get(*m, 150) != "4");
  }
  CHECK(x.server->Terminate() == 0);
}

// ---------------------------------------------------------------------------
// TLS

// A self-signed certificate and its key, made with openssl at test time.
struct SelfSigned {
  explicit SelfSigned(const std::string& name) {
    cert = dir.path() + "/" + name + "-cert.pem";
    key = dir.path() + "/" + name + "-key.pem";
    int status = 0;
    std::string out = RunCommand(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + name +
            " -keyout " + key + " -out " + cert + " 2>&1",
        &status);
    INFO(out);
    REQUIRE(status == 0);
  }
  ScratchDir dir;
  std::string cert;
  std::string key;
};

TEST_CASE("FIX over TLS with a self-signed certificate", "[security][tls]") {
  SelfSigned exchange_cert("carbonex-test");
  Exchange x("tls_certificate = " + exchange_cert.cert +
             "\ntls_private_key = " + exchange_cert.key + "\n");
  CHECK(x.server->Log().find("FIX over TLS") != std::string::npos);

  // A QuickFIX SSL initiator that trusts the certificate logs on and trades.
  fixclient::ClientOptions options = ClientFor(x.port, {"BRK1", "BRK2"});
  options.tls_ca_file = exchange_cert.cert;
  Client c(options);
  REQUIRE(c.Start().ok());
  for (std::size_t i = 0; i < 2; ++i) {
    Status s = c.WaitLoggedOn(i, 15s);
    INFO(s.message() << "\n" << x.server->Log());
    REQUIRE(s.ok());
  }
  REQUIRE(
      c.Send(0, BuildNewOrderSingle(Limit("t1", "CO-A", Side::kSell, 5, 2000)))
          .ok());
  Expect(c, 0, "t1", '0');
  REQUIRE(
      c.Send(1, BuildNewOrderSingle(Limit("t2", "CO-C", Side::kBuy, 5, 2000)))
          .ok());
  Expect(c, 1, "t2", 'F');
  Expect(c, 0, "t1", 'F');

  // A wrong password over TLS is refused like over TCP.
  fixclient::ClientOptions wrong = ClientFor(x.port, {"BRK3"});
  wrong.sessions[0].password = kWrongPassword;
  wrong.tls_ca_file = exchange_cert.cert;
  Client refused(wrong);
  REQUIRE(refused.Start().ok());
  auto logout = refused.WaitFor(0, IsMsgType("5"), 15s);
  REQUIRE(logout.has_value());
  CHECK(Get(*logout, 58).find("invalid password") != std::string::npos);
  refused.Stop();

  // Plain TCP gets no FIX answer: the connection is dropped.
  fixclient::RawConnection raw;
  REQUIRE(raw.Connect("127.0.0.1", x.port, 2s).ok());
  (void)raw.SendRaw(BuildFrame(fixclient::LogonFields(
      "BRK3", "CARBONEX", 1, "BRK3", Market::kPassword)));
  Result<FIX::Message> answer = raw.Read(5s);
  CHECK_FALSE(answer.ok());

  // TLS 1.2 is served and verifies against the certificate; TLS 1.1 is not
  // served.
  const std::string target = " -connect 127.0.0.1:" + std::to_string(x.port) +
                             " -CAfile " + exchange_cert.cert +
                             " </dev/null 2>&1";
  int status = 0;
  std::string out = RunCommand("openssl s_client -tls1_2" + target, &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("Verify return code: 0 (ok)") != std::string::npos);
  RunCommand("openssl s_client -tls1_1" + target, &status);
  CHECK(status != 0);

  // A client that trusts another certificate does not log on.
  SelfSigned other("someone-else");
  fixclient::ClientOptions untrusting = ClientFor(x.port, {"BRK3"});
  untrusting.tls_ca_file = other.cert;
  Client mistrust(untrusting);
  REQUIRE(mistrust.Start().ok());
  CHECK_FALSE(mistrust.WaitLoggedOn(0, 3s).ok());
  mistrust.Stop();

  c.Stop();
  CHECK(x.server->Terminate() == 0);
  // The logons over TLS are audited with the peer's address too.
  LogonTally tally = LogonAudit(x.db);
  CHECK(tally.Of("BRK1", "accepted") == 1);
  CHECK(tally.Of("BRK3", "refused", "invalid password") == 1);
  CHECK(tally.addresses == std::set<std::string>{"127.0.0.1"});
}

TEST_CASE("with tls_ca a broker needs a client certificate",
          "[security][tls]") {
  SelfSigned exchange_cert("carbonex-test");
  SelfSigned broker_cert("brk1-client");  // its own CA
  Exchange x("tls_certificate = " + exchange_cert.cert +
             "\ntls_private_key = " + exchange_cert.key +
             "\ntls_ca = " + broker_cert.cert + "\n");
  fixclient::ClientOptions with_cert = ClientFor(x.port, {"BRK1"});
  with_cert.tls_ca_file = exchange_cert.cert;
  with_cert.tls_certificate_file = broker_cert.cert;
  with_cert.tls_private_key_file = broker_cert.key;
  Client good(with_cert);
  REQUIRE(good.Start().ok());
  Status s = good.WaitLoggedOn(0, 15s);
  INFO(s.message() << "\n" << x.server->Log());
  CHECK(s.ok());
  good.Stop();

  fixclient::ClientOptions without = ClientFor(x.port, {"BRK2"});
  without.tls_ca_file = exchange_cert.cert;
  Client bad(without);
  REQUIRE(bad.Start().ok());
  CHECK_FALSE(bad.WaitLoggedOn(0, 3s).ok());
  bad.Stop();
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("a TLS config with a missing file does not start",
          "[security][tls]") {
  ScratchDir dir;
  std::string db = dir.path() + "/db";
  Market::Create(db);
  ServerProcess server(db, FreePort(),
                       "tls_certificate = " + dir.path() +
                           "/none.pem\ntls_private_key = " + dir.path() +
                           "/none-key.pem\n");
  std::string why;
  CHECK_FALSE(server.Start(&why));
  CHECK(why.find("TLS file not readable") != std::string::npos);
}

}  // namespace
}  // namespace carbonex::testing
