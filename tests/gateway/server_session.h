// What the end-to-end tests of carbonex-server do over FIX sessions: start
// an exchange that must come up, log brokers on, build a limit order, wait
// for an execution report and check it carries the contract's fields.
//
// Include after <catch2/catch.hpp>.
#ifndef CARBONEX_TESTS_GATEWAY_SERVER_SESSION_H_
#define CARBONEX_TESTS_GATEWAY_SERVER_SESSION_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server_harness.h"

namespace carbonex::testing {

// How long a test waits for one answer from the server.
inline constexpr std::chrono::seconds kSessionWait{5};

// A RunningExchange whose server must start: the test fails otherwise.
struct Exchange : RunningExchange {
  explicit Exchange(const std::string& config = "") : RunningExchange(config) {
    if (!started) FAIL("server did not start:\n" << start_log);
  }
};

// A started client with one session per broker (session i is brokers[i]),
// every one logged on.
inline std::unique_ptr<fixclient::Client> Connect(
    int port, const std::vector<std::string>& brokers = {"BRK1", "BRK2"}) {
  auto client = std::make_unique<fixclient::Client>(ClientFor(port, brokers));
  REQUIRE(client->Start().ok());
  for (std::size_t i = 0; i < brokers.size(); ++i) {
    Status s = client->WaitLoggedOn(i, std::chrono::seconds(15));
    INFO(brokers[i] << ": " << s.message());
    REQUIRE(s.ok());
  }
  return client;
}

// A limit order for `qty` units at `tiyn`, KZQ-2026 unless told otherwise.
inline fixclient::NewOrder Limit(
    const std::string& id, const std::string& account, Side side,
    std::int64_t qty, std::int64_t tiyn,
    fixclient::TimeInForce tif = fixclient::TimeInForce::kDay,
    const std::string& symbol = "KZQ-2026") {
  fixclient::NewOrder o;
  o.cl_ord_id = id;
  o.account = account;
  o.symbol = symbol;
  o.side = side;
  o.qty = Quantity(qty);
  o.price = Price(tiyn);
  o.tif = tif;
  return o;
}

// Waits for the ExecutionReport of ClOrdID `id` with `exec_type` on
// `session` and checks it carries every field the contract lists for
// execution reports.
inline FIX::Message Expect(fixclient::Client& c, std::size_t session,
                           const std::string& id, char exec_type) {
  auto m = c.WaitFor(session, fixclient::IsExecutionReportFor(id, exec_type),
                     kSessionWait);
  INFO("waiting for ExecutionReport " << id << " ExecType " << exec_type);
  REQUIRE(m.has_value());
  for (int tag : {37, 17, 150, 39, 54, 55, 1, 38, 14, 151, 6, 60}) {
    INFO("tag " << tag << " in " << fixclient::Describe(*m));
    CHECK(fixclient::FieldOf(*m, tag).has_value());
  }
  return *m;
}

}  // namespace carbonex::testing

#endif  // CARBONEX_TESTS_GATEWAY_SERVER_SESSION_H_
