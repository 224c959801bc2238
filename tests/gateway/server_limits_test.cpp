// The server's limits at their boundaries, against a real carbonex-server
// process: max_sessions, max_messages_per_second, the open-order limits
// (also across a restart with other limits), registry_map_size_mib (a full
// registry map) and outbound_queue_limit (a session that never reads).
// docs/server.md, "Limits", describes each.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <memory>
#include <set>

#include "server_session.h"

namespace carbonex::testing {
namespace {

using namespace std::chrono_literals;
using fixclient::BuildNewOrderSingle;
using fixclient::BuildOrderCancelRequest;
using fixclient::BuildOrderStatusRequest;
using fixclient::FieldList;
using fixclient::IsExecutionReportFor;
using fixclient::IsMsgType;

// Polls the server's log until it contains `text`.
bool LogShows(const ServerProcess& server, const std::string& text,
              std::chrono::seconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (server.Log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// The registry learns of reservations from the server's settlement batches,
// a moment after the acknowledgement: polls `account`'s reserved cash until it
// is `tiyn` or the timeout passes, and returns the last value read.
std::int64_t ReservedCashSoon(const std::string& db, const std::string& account,
                              std::int64_t tiyn,
                              std::chrono::seconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::int64_t seen =
      CashOf(RegistryJson(db, "holdings " + account), account).reserved;
  while (seen != tiyn && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    seen = CashOf(RegistryJson(db, "holdings " + account), account).reserved;
  }
  return seen;
}

FieldList StatusRequest(const std::string& id) {
  return {{11, id}, {1, "CO-A"}, {55, "KZQ-2026"}, {54, "1"}};
}

TEST_CASE("max_sessions: the session beyond it is refused with a Logout",
          "[limits]") {
  RunningExchange x("max_sessions = 2\n");
  REQUIRE(x.started);
  auto two = Connect(x.port, {"BRK1", "BRK2"});
  // The third is refused: Logout with Text, then closed.
  RawBroker third("BRK3");
  Status refused = third.LogOn(x.port);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.message(), Catch::Contains("maximum number of sessions"));
  CHECK(third.connection().WaitClosed(kSessionWait).ok());
  CHECK(LogShows(*x.server, "refused: maximum number of sessions reached"));
  // The two sessions keep working.
  REQUIRE(two->Send(0, BuildNewOrderSingle(
                           Limit("a1", "CO-A", Side::kBuy, 1, 1000)))
              .ok());
  Expect(*two, 0, "a1", '0');
  // When one logs out, its place is free.
  REQUIRE(two->Logout(1, "bye", kSessionWait).ok());
  CHECK(LogShows(*x.server, "session BRK2 logged out"));
  RawBroker again("BRK3");
  Status logged_on = again.LogOn(x.port);
  INFO(logged_on.message());
  REQUIRE(logged_on.ok());
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("max_messages_per_second: a reject, then a disconnect", "[limits]") {
  RunningExchange x("max_messages_per_second = 20\n");
  REQUIRE(x.started);
  auto other = Connect(x.port, {"BRK2"});
  RawBroker b("BRK1");
  REQUIRE(b.LogOn(x.port).ok());
  // Exactly the limit in one burst: every message is answered.
  std::string burst;
  for (int i = 0; i < 20; ++i) {
    burst += b.Frame("H", StatusRequest("q" + std::to_string(i)), b.next_seq());
    b.set_next_seq(b.next_seq() + 1);
  }
  REQUIRE(b.SendBytes(burst).ok());
  for (int i = 0; i < 20; ++i) {
    std::vector<FIX::Message> skipped;
    auto answer = b.WaitFor(IsExecutionReportFor("q" + std::to_string(i), 'I'),
                            kSessionWait, &skipped);
    INFO("answer " << i);
    REQUIRE(answer.has_value());
    for (const FIX::Message& m : skipped) {
      INFO(fixclient::Describe(m));
      CHECK(fixclient::MsgTypeOf(m) != "j");
    }
  }
  // A second later, a window of its own: 23 GTC buys; 20 pass, the 21st is
  // rejected, the session is logged out and nothing after it is processed.
  std::this_thread::sleep_for(1100ms);
  burst.clear();
  int over_seq = 0;
  for (int i = 0; i < 23; ++i) {
    if (i == 20) over_seq = b.next_seq();
    burst += b.Frame("D",
                     {{11, "r" + std::to_string(i)},
                      {1, "CO-A"},
                      {55, "KZQ-2026"},
                      {54, "1"},
                      {60, fixclient::UtcTimestampNow()},
                      {38, "1"},
                      {40, "2"},
                      {44, "10.00"},
                      {59, "1"}},
                     b.next_seq());
    b.set_next_seq(b.next_seq() + 1);
  }
  REQUIRE(b.SendBytes(burst).ok());
  auto reject = b.WaitFor(IsMsgType("j"), kSessionWait);
  REQUIRE(reject.has_value());
  CHECK(Get(*reject, 45) == std::to_string(over_seq));
  CHECK(Get(*reject, 372) == "D");
  CHECK(Get(*reject, 379) == "r20");
  CHECK(Get(*reject, 380) == "0");
  CHECK_THAT(Get(*reject, 58), Catch::Contains("rate"));
  CHECK(b.WaitFor(IsMsgType("5"), kSessionWait).has_value());
  CHECK(b.connection().WaitClosed(10s).ok());
  CHECK(
      LogShows(*x.server, "session BRK1: more than 20 messages in one second"));
  // The other broker was not affected; the throttled one may log on again.
  REQUIRE(other
              ->Send(0, BuildNewOrderSingle(
                            Limit("c1", "CO-C", Side::kSell, 1, 5000)))
              .ok());
  Expect(*other, 0, "c1", '0');
  CHECK(LogShows(*x.server, "session BRK1 logged out"));
  RawBroker again("BRK1");
  Status logged_on = again.LogOn(x.port);
  INFO(logged_on.message());
  REQUIRE(logged_on.ok());
  // r0..r19 rest (their reserved cash: 20 × 10.00); r20..r22 never reached
  // the engine.
  for (int i = 18; i < 23; ++i) {
    std::string id = "r" + std::to_string(i);
    REQUIRE(again.Send("H", StatusRequest(id)).ok());
    auto status = again.WaitFor(IsExecutionReportFor(id, 'I'), kSessionWait);
    INFO(id);
    REQUIRE(status.has_value());
    CHECK(Get(*status, 39) == (i < 20 ? "0" : "8"));
  }
  CHECK(ReservedCashSoon(x.db, "CO-A", 20 * 1000) == 20 * 1000);
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("open orders per account and per broker, and across a restart",
          "[limits]") {
  RunningExchange x(
      "max_open_orders_per_account = 3\nmax_open_orders_per_broker = 5\n");
  REQUIRE(x.started);
  {
    auto c = Connect(x.port, {"BRK1", "BRK2"});
    auto place = [&](const std::string& id, const std::string& account) {
      REQUIRE(c->Send(0, BuildNewOrderSingle(
                             Limit(id, account, Side::kBuy, 1, 1000,
                                   fixclient::TimeInForce::kGoodTillCancel)))
                  .ok());
    };
    for (const char* id : {"a1", "a2", "a3"}) {
      place(id, "CO-A");
      Expect(*c, 0, id, '0');
    }
    // The account's 4th: rejected, "exceeds limit".
    place("a4", "CO-A");
    FIX::Message a4 = Expect(*c, 0, "a4", '8');
    CHECK(Get(a4, 103) == "3");
    CHECK(fixclient::FieldOf(a4, 58).has_value());
    // The broker's 6th (CO-B's 3rd): rejected.
    for (const char* id : {"b1", "b2"}) {
      place(id, "CO-B");
      Expect(*c, 0, id, '0');
    }
    place("b3", "CO-B");
    CHECK(Get(Expect(*c, 0, "b3", '8'), 103) == "3");
    // Another broker has its own count.
    REQUIRE(c->Send(1, BuildNewOrderSingle(
                           Limit("c1", "CO-C", Side::kBuy, 1, 1000)))
                .ok());
    Expect(*c, 1, "c1", '0');
    // A cancel frees a place.
    REQUIRE(c->Send(0, BuildOrderCancelRequest(
                           {"x1", "a1", "CO-A", "KZQ-2026", Side::kBuy}))
                .ok());
    Expect(*c, 0, "x1", '4');
    place("a5", "CO-A");
    Expect(*c, 0, "a5", '0');
    // Reserved cash is that of the open orders only (a2 a3 a5 b1 b2 × 10.00).
    CHECK(ReservedCashSoon(x.db, "CO-A", 3 * 1000) == 3 * 1000);
    CHECK(ReservedCashSoon(x.db, "CO-B", 2 * 1000) == 2 * 1000);
    c->Stop();
  }
  // A crash, then a start with a lower limit: the journal is replayed under
  // the limits it was written with, so every acknowledged order is live; the
  // new limit applies to new orders.
  x.server->Kill();
  x.server = std::make_unique<ServerProcess>(
      x.db, x.port, "max_open_orders_per_account = 1\n");
  std::string why;
  REQUIRE(x.server->Start(&why));
  CHECK(LogShows(*x.server, "open-order limits now 1 per account"));
  auto c = Connect(x.port, {"BRK1"});
  for (const char* id : {"a2", "a3", "a5", "b1", "b2"}) {
    std::string account = id[0] == 'a' ? "CO-A" : "CO-B";
    REQUIRE(c->Send(0, BuildOrderStatusRequest(
                           {id, account, "KZQ-2026", Side::kBuy}))
                .ok());
    FIX::Message status = Expect(*c, 0, id, 'I');
    INFO(id);
    CHECK(Get(status, 39) == "0");
  }
  REQUIRE(
      c->Send(0, BuildNewOrderSingle(Limit("a6", "CO-A", Side::kBuy, 1, 1000)))
          .ok());
  CHECK(Get(Expect(*c, 0, "a6", '8'), 103) == "3");
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("a full registry map: new orders refused, nothing acknowledged lost",
          "[limits]") {
  struct {
    ScratchDir dir;
    std::string db;
    int port = 0;
    std::unique_ptr<ServerProcess> server;
  } x;
  x.db = x.dir.path() + "/db";
  Market::Create(x.db);
  {
    // Grow the registry to just under 1 MiB (deposits of 1 tiyn to CO-B,
    // each an audited write), so that a few hundred trades fill a 1 MiB map.
    ledger::RegistryOptions options;
    options.path = x.db;
    options.durable = false;
    auto registry = ledger::Registry::Open(options);
    REQUIRE(registry.ok());
    for (int i = 0; i < 100000 && std::filesystem::file_size(
                                      x.db + "/data.mdb") < (960u << 10);
         ++i) {
      REQUIRE((*registry)->DepositCash("CO-B", Cash(1)).ok());
    }
  }
  x.port = FreePort();
  x.server = std::make_unique<ServerProcess>(x.db, x.port,
                                             "registry_map_size_mib = 1\n");
  std::string start_log;
  if (!x.server->Start(&start_log)) FAIL(start_log);
  auto c = Connect(x.port, {"BRK2", "BRK1"});
  // BRK2 (CO-C) sells, BRK1 (CO-A) buys, one unit at a time, until the
  // registry can no longer record trades and a new order is refused.
  // A refused order gets ExecutionReport Rejected, OrdRejReason 99, Text.
  auto answer_to = [](const std::string& id) {
    return [id](const FIX::Message& m) {
      return fixclient::MsgTypeOf(m) == "8" &&
             fixclient::FieldOf(m, 11) == id && Get(m, 150) != "0";
    };
  };
  auto check_refusal = [](const FIX::Message& m) {
    INFO(fixclient::Describe(m));
    CHECK(Get(m, 150) == "8");
    CHECK(Get(m, 39) == "8");
    CHECK(Get(m, 103) == "99");
    CHECK_THAT(Get(m, 58), Catch::Contains("settlement stalled"));
  };
  int trades = 0;
  bool refused = false;
  for (int i = 0; i < 2000 && !refused; ++i) {
    std::string s = "s" + std::to_string(i);
    std::string b = "b" + std::to_string(i);
    // A resting sell is acknowledged with ExecType 0; wait for that or a
    // refusal.
    REQUIRE(
        c->Send(0, BuildNewOrderSingle(Limit(s, "CO-C", Side::kSell, 1, 3000)))
            .ok());
    auto ack = c->WaitFor(0, IsExecutionReportFor(s), kSessionWait);
    REQUIRE(ack.has_value());
    if (Get(*ack, 150) == "8") {
      check_refusal(*ack);
      refused = true;
      break;
    }
    REQUIRE(Get(*ack, 150) == "0");
    REQUIRE(
        c->Send(1, BuildNewOrderSingle(Limit(b, "CO-A", Side::kBuy, 1, 3000)))
            .ok());
    auto fill = c->WaitFor(1, answer_to(b), kSessionWait);
    REQUIRE(fill.has_value());
    if (Get(*fill, 150) == "8") {
      check_refusal(*fill);
      refused = true;
      // The resting sell s is still live: a cancel is still accepted.
      REQUIRE(c->Send(0, BuildOrderCancelRequest(
                             {"cx", s, "CO-C", "KZQ-2026", Side::kSell}))
                  .ok());
      Expect(*c, 0, "cx", '4');
      break;
    }
    REQUIRE(Get(*fill, 150) == "F");
    ++trades;
  }
  INFO("trades before the map filled: "
       << trades << "; data.mdb "
       << std::filesystem::file_size(x.db + "/data.mdb"));
  REQUIRE(refused);
  CHECK(trades > 0);
  CHECK(LogShows(*x.server, "settlement stalled"));
  // An operator write is refused with a clear error, not left hanging.
  std::string out;
  CHECK(RegistryStatus(x.db, "cash deposit CO-B 1.00", &out) != 0);
  CHECK_THAT(out, Catch::Contains("settlement stalled"));
  // Stop; restart with a larger map: every acknowledged trade settles.
  c->Stop();
  c.reset();
  CHECK(x.server->Terminate() == 0);
  x.server = std::make_unique<ServerProcess>(x.db, x.port,
                                             "registry_map_size_mib = 64\n");
  std::string why;
  REQUIRE(x.server->Start(&why));
  nlohmann::json h = RegistryJson(x.db, "holdings");
  CHECK(UnitsOf(h, "CO-A", "KZQ-2026").held == 1000 + trades);
  CHECK(UnitsOf(h, "CO-C", "KZQ-2026").held == 1000 - trades);
  CHECK(UnitsOf(h, "CO-C", "KZQ-2026").reserved == 0);
  CHECK(CashOf(h, "CO-A").held == 100'000'000 - trades * 3000);
  CHECK(CashOf(h, "CO-C").held == 100'000'000 + trades * 3000);
  nlohmann::json t = RegistryJson(x.db, "trades --symbol KZQ-2026");
  CHECK(t.at("trades").size() == static_cast<std::size_t>(trades));
  // And trading resumes.
  auto again = Connect(x.port, {"BRK2"});
  REQUIRE(again
              ->Send(0, BuildNewOrderSingle(
                            Limit("late", "CO-C", Side::kSell, 1, 3000)))
              .ok());
  Expect(*again, 0, "late", '0');
  CHECK(x.server->Terminate() == 0);
}

// A deep book on KZQ-2026: 300 sell levels, placed by BRK2 10 at a time
// (its own queue may be bounded at 16 too). Returns BRK2's client.
std::unique_ptr<fixclient::Client> PlaceDeepBook(int port) {
  auto c = Connect(port, {"BRK2"});
  constexpr int kLevels = 300;
  for (int i = 0; i < kLevels; i += 10) {
    for (int j = i; j < i + 10; ++j) {
      REQUIRE(
          c->Send(0, BuildNewOrderSingle(Limit("l" + std::to_string(j), "CO-C",
                                               Side::kSell, 1, 5000 + j)))
              .ok());
    }
    for (int j = i; j < i + 10; ++j) {
      Expect(*c, 0, "l" + std::to_string(j), '0');
    }
  }
  return c;
}

// `b` asks for the full book 600 times (each answer some 20 KB), in one
// write, and reads none of the answers.
void AskForBookWithoutReading(RawBroker& b) {
  std::string burst;
  for (int i = 0; i < 600; ++i) {
    burst += b.Frame("V",
                     {{262, "md" + std::to_string(i)},
                      {263, "0"},
                      {264, "0"},
                      {267, "2"},
                      {269, "0"},
                      {269, "1"},
                      {146, "1"},
                      {55, "KZQ-2026"}},
                     b.next_seq());
    b.set_next_seq(b.next_seq() + 1);
  }
  REQUIRE(b.SendBytes(burst).ok());
}

// BRK1 floods the exchange with requests for a deep book and never reads
// the answers; `config` decides which guard catches it (the log line
// `caught_by`). It must be logged out, BRK2 must trade on, and BRK1's next
// logon must get every answer back by resend.
void CheckNonReaderIsDisconnected(const std::string& config,
                                  const std::string& caught_by,
                                  int receive_buffer_bytes) {
  RunningExchange x(config);
  REQUIRE(x.started);
  auto c = PlaceDeepBook(x.port);
  RawBroker b("BRK1");
  REQUIRE(b.LogOn(x.port, Market::kPassword, 1, receive_buffer_bytes).ok());
  AskForBookWithoutReading(b);
  // It is logged out although it still reads nothing.
  const bool caught = LogShows(*x.server, caught_by) &&
                      LogShows(*x.server, "session BRK1 logged out", 20s);
  if (!caught) FAIL_CHECK("server log:\n" << x.server->Log());
  // Nothing it was due is lost: its next logon is accepted once everything
  // queued for it is in its store, and a resend request brings back every
  // snapshot, each marked PossDupFlag.
  const int resume_seq = b.next_seq();
  std::unique_ptr<RawBroker> again;
  Status logon = Status::FailedPrecondition("not tried");
  for (auto end = std::chrono::steady_clock::now() + 60s;
       !logon.ok() && std::chrono::steady_clock::now() < end;) {
    again = std::make_unique<RawBroker>("BRK1");
    logon = again->LogOn(x.port, Market::kPassword, resume_seq);
    if (!logon.ok()) std::this_thread::sleep_for(200ms);
  }
  INFO(logon.message());
  REQUIRE(logon.ok());
  REQUIRE(again->Send("2", {{7, "1"}, {16, "0"}}).ok());
  std::set<std::string> resent;
  while (resent.size() < 600) {
    std::optional<FIX::Message> m = again->WaitFor(
        [](const FIX::Message& msg) {
          return fixclient::MsgTypeOf(msg) == "W";
        },
        60s);
    if (!m) break;
    CHECK(m->getHeader().isSetField(43));
    if (m->getHeader().isSetField(43)) {
      CHECK(m->getHeader().getField(43) == "Y");
    }
    resent.insert(Get(*m, 262));
  }
  CHECK(resent.size() == 600);
  CHECK(resent.count("md0") == 1);
  CHECK(resent.count("md599") == 1);
  // Meanwhile BRK2 trades on.
  REQUIRE(c->Send(0, BuildNewOrderSingle(
                         Limit("after", "CO-C", Side::kSell, 1, 4000)))
              .ok());
  Expect(*c, 0, "after", '0');
  CHECK(x.server->Terminate() == 0);
}

TEST_CASE("outbound_queue_limit: a session that never reads is disconnected",
          "[limits]") {
  CheckNonReaderIsDisconnected(
      "outbound_queue_limit = 16\nsend_timeout_seconds = 1\n",
      "session BRK1: outbound queue over its limit", 0);
}

TEST_CASE(
    "send_timeout_seconds: a session whose writes stay blocked is "
    "disconnected and may log on again",
    "[limits]") {
  // The queue limit is far above the 600 answers, and the broker's small
  // receive buffer soon fills the exchange's socket: only the blocked write
  // can catch it.
  CheckNonReaderIsDisconnected(
      "outbound_queue_limit = 100000\nsend_timeout_seconds = 1\n",
      "session BRK1: send blocked for 1 s", 16 * 1024);
}

TEST_CASE(
    "a broker that does not read holds up neither the stop nor the next start",
    "[limits]") {
  // Its writes would block for a minute (send_timeout_seconds) and its queue
  // has room for everything: the stop must still end within 10 s, exit 0.
  RunningExchange x(
      "outbound_queue_limit = 100000\nsend_timeout_seconds = 60\n");
  REQUIRE(x.started);
  auto c = PlaceDeepBook(x.port);
  RawBroker b("BRK1");
  REQUIRE(b.LogOn(x.port, Market::kPassword, 1, 16 * 1024).ok());
  AskForBookWithoutReading(b);
  // Its answers fill the sockets while it reads nothing.
  std::this_thread::sleep_for(1s);
  std::chrono::milliseconds took{};
  CHECK(x.server->Terminate(&took) == 0);
  INFO("stop took " << took.count() << " ms");
  if (!LogShows(*x.server, "stopped: seq")) {
    FAIL_CHECK("server log:\n" << x.server->Log());
  }
  // The book it left is intact after a restart.
  x.server = std::make_unique<ServerProcess>(x.db, x.port);
  std::string why;
  REQUIRE(x.server->Start(&why));
  CHECK(x.server->LastHash("recovered:") == x.server->LastHash("stopped:"));
  CHECK(x.server->Terminate() == 0);
}

}  // namespace
}  // namespace carbonex::testing
