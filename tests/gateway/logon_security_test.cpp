// The server's logon defences in isolation: the throttle's boundaries on a
// synthetic clock, the recorder's merging and cap, password redaction.
#define CATCH_CONFIG_MAIN
#include "logon_security.h"

#include <catch2/catch.hpp>

namespace carbonex::gateway {
namespace {

using namespace std::chrono_literals;
using TimePoint = LogonThrottle::TimePoint;

LogonThrottle Throttle(int per_comp, int per_address) {
  LogonThrottleOptions o;
  o.failures_per_comp_id = per_comp;
  o.failures_per_address = per_address;
  o.window = 60s;
  o.backoff = 300s;
  return LogonThrottle(o);
}

TEST_CASE("the N-th failure in the window starts the back-off", "[logon]") {
  LogonThrottle t = Throttle(3, 100);
  const TimePoint t0{};
  t.RecordFailure("BRK1", "10.0.0.1", t0);
  t.RecordFailure("BRK1", "10.0.0.1", t0 + 1s);
  CHECK_FALSE(t.Refusal("BRK1", "10.0.0.1", t0 + 2s).has_value());
  t.RecordFailure("BRK1", "10.0.0.1", t0 + 2s);
  auto refusal = t.Refusal("BRK1", "10.0.0.1", t0 + 3s);
  REQUIRE(refusal.has_value());
  CHECK(refusal->find("too many failed logons for BRK1") != std::string::npos);
  CHECK(refusal->find("retry in 299 s") != std::string::npos);
  // Other CompIDs, from the same address too, are still checked.
  CHECK_FALSE(t.Refusal("BRK2", "10.0.0.1", t0 + 3s).has_value());
  // The back-off ends exactly after its length.
  CHECK(t.Refusal("BRK1", "", t0 + 2s + 299s).has_value());
  CHECK_FALSE(t.Refusal("BRK1", "", t0 + 2s + 300s).has_value());
  // And then the count starts afresh.
  t.RecordFailure("BRK1", "", t0 + 400s);
  CHECK_FALSE(t.Refusal("BRK1", "", t0 + 401s).has_value());
}

TEST_CASE("failures older than the window do not count", "[logon]") {
  LogonThrottle t = Throttle(3, 100);
  const TimePoint t0{};
  t.RecordFailure("BRK1", "", t0);
  t.RecordFailure("BRK1", "", t0 + 30s);
  t.RecordFailure("BRK1", "", t0 + 60s);  // the first has left the window
  CHECK_FALSE(t.Refusal("BRK1", "", t0 + 61s).has_value());
  t.RecordFailure("BRK1", "", t0 + 61s);  // three within 60 s
  CHECK(t.Refusal("BRK1", "", t0 + 62s).has_value());
}

TEST_CASE("a success clears the CompID's count, not the address's", "[logon]") {
  LogonThrottle t = Throttle(2, 3);
  const TimePoint t0{};
  t.RecordFailure("BRK1", "10.0.0.9", t0);
  t.RecordSuccess("BRK1");
  t.RecordFailure("BRK1", "10.0.0.9", t0 + 1s);
  CHECK_FALSE(t.Refusal("BRK1", "10.0.0.9", t0 + 2s).has_value());
  // The address has two failures; a third (another CompID) blocks it.
  t.RecordFailure("BRK2", "10.0.0.9", t0 + 2s);
  auto refusal = t.Refusal("BRK3", "10.0.0.9", t0 + 3s);
  REQUIRE(refusal.has_value());
  CHECK(refusal->find("from this address") != std::string::npos);
  CHECK_FALSE(t.Refusal("BRK3", "10.0.0.10", t0 + 3s).has_value());
  // An unknown address is never throttled by address.
  CHECK_FALSE(t.Refusal("BRK3", "", t0 + 3s).has_value());
}

TEST_CASE("a failure without a CompID counts against the address only",
          "[logon]") {
  LogonThrottle t = Throttle(1, 2);
  const TimePoint t0{};
  // One failure would block a CompID (limit 1): none is blocked here.
  t.RecordFailure("", "10.0.0.7", t0);
  CHECK_FALSE(t.Refusal("", "10.0.0.8", t0 + 1s).has_value());
  CHECK_FALSE(t.Refusal("BRK1", "10.0.0.8", t0 + 1s).has_value());
  CHECK_FALSE(t.Refusal("BRK1", "10.0.0.7", t0 + 1s).has_value());
  // The second failure from the address reaches its limit.
  t.RecordFailure("", "10.0.0.7", t0 + 1s);
  auto refusal = t.Refusal("BRK1", "10.0.0.7", t0 + 2s);
  REQUIRE(refusal.has_value());
  CHECK(refusal->find("from this address") != std::string::npos);
  CHECK_FALSE(t.Refusal("BRK1", "10.0.0.8", t0 + 2s).has_value());
}

TEST_CASE("tracked addresses stay bounded", "[logon]") {
  LogonThrottle t = Throttle(1'000'000, 5);
  const TimePoint t0{};
  for (int i = 0; i < 12'000; ++i) {
    t.RecordFailure("BRK1", "addr-" + std::to_string(i), t0 + 120s * i);
  }
  CHECK(t.TrackedAddresses() <= 10'000);
  // A blocked address is kept through the pruning.
  for (int i = 0; i < 5; ++i) {
    t.RecordFailure("BRK1", "blocked", t0 + 2'000'000s);
  }
  for (int i = 0; i < 12'000; ++i) {
    t.RecordFailure("BRK1", "other-" + std::to_string(i), t0 + 2'000'001s);
  }
  CHECK(t.TrackedAddresses() <= 10'000);
  CHECK(t.Refusal("X", "blocked", t0 + 2'000'002s).has_value());
}

TEST_CASE("the recorder merges identical attempts and caps the rest",
          "[logon]") {
  LogonRecorder recorder(3);
  recorder.Add("BRK1", "1.1.1.1", ledger::LogonOutcome::kRefused,
               "invalid password", 10);
  recorder.Add("BRK1", "1.1.1.1", ledger::LogonOutcome::kRefused,
               "invalid password", 20);
  recorder.Add("BRK1", "1.1.1.1", ledger::LogonOutcome::kThrottled, "t", 30);
  recorder.Add("BRK2", "1.1.1.1", ledger::LogonOutcome::kAccepted, "", 40);
  recorder.Add("BRK3", "1.1.1.1", ledger::LogonOutcome::kAccepted, "", 50);
  recorder.Add("BRK4", "1.1.1.1", ledger::LogonOutcome::kAccepted, "", 60);
  recorder.Add("BRK2", "1.1.1.1", ledger::LogonOutcome::kAccepted, "", 70);
  LogonRecorder::Batch batch = recorder.Take();
  REQUIRE(batch.events.size() == 3);
  CHECK(batch.events[0].comp_id == "BRK1");
  CHECK(batch.events[0].count == 2);
  CHECK(batch.events[0].first.value() == 10);
  CHECK(batch.events[0].last.value() == 20);
  CHECK(batch.events[1].outcome == ledger::LogonOutcome::kThrottled);
  CHECK(batch.events[2].comp_id == "BRK2");
  CHECK(batch.events[2].count == 2);
  CHECK(batch.dropped == 2);
  CHECK(recorder.Take().empty());
}

TEST_CASE("passwords are masked in logged FIX text", "[logon]") {
  const std::string logon =
      "8=FIX.4.4\x01"
      "9=80\x01"
      "35=A\x01"
      "49=BRK1\x01"
      "553=BRK1\x01"
      "554=s3cret\x01"
      "925=n3w\x01"
      "10=123\x01";
  const std::string masked = RedactPasswords(logon);
  CHECK(masked.find("s3cret") == std::string::npos);
  CHECK(masked.find("n3w") == std::string::npos);
  CHECK(masked.find("\x01"
                    "554=***\x01"
                    "925=***\x01") != std::string::npos);
  CHECK(masked.find("553=BRK1") != std::string::npos);
  // Text without the tags, and a tag at the very end, without SOH.
  CHECK(RedactPasswords("35=0\x01"
                        "1554=x\x01") ==
        "35=0\x01"
        "1554=x\x01");
  CHECK(RedactPasswords("554=abc") == "554=***");
  CHECK(RedactPasswords("") == "");
}

}  // namespace
}  // namespace carbonex::gateway
