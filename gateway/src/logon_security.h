// The server's logon defences (private to the gateway; docs/server.md,
// "Security"):
//   - LogonThrottle: failed logons counted per CompID and per remote address;
//     after too many in a window, logons are refused unchecked for a
//     back-off period.
//   - LogonRecorder: logon outcomes collected for the registry's audit log,
//     identical attempts merged, so that a storm of failures costs a bounded
//     number of audit records per flush.
//   - PeerAddressOf: the remote address of the connection carrying a session.
//   - RedactingLogFactory: QuickFIX message logs with passwords masked.
//
// Thread-safety: LogonThrottle and LogonRecorder are safe for concurrent use
// (one mutex each, held for a map lookup); the rest are stateless.
#ifndef CARBONEX_GATEWAY_SRC_LOGON_SECURITY_H_
#define CARBONEX_GATEWAY_SRC_LOGON_SECURITY_H_

#include <quickfix/Acceptor.h>
#include <quickfix/FileLog.h>
#include <quickfix/Log.h>
#include <quickfix/SessionID.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "carbonex/ledger/registry.h"
#include "quickfix_members.h"

namespace carbonex::gateway {

struct LogonThrottleOptions {
  // Failed logons of one CompID within `window` that start its back-off.
  int failures_per_comp_id = 5;
  // Failed logons from one remote address (any CompID) within `window` that
  // start the address's back-off.
  int failures_per_address = 20;
  std::chrono::seconds window{60};
  std::chrono::seconds backoff{300};
};

class LogonThrottle {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit LogonThrottle(LogonThrottleOptions options);

  // Whether a logon of comp_id from address may have its password checked
  // at `now`. nullopt: yes. Otherwise the refusal's text (which says how
  // long the back-off still lasts). An empty address is not throttled by
  // address.
  [[nodiscard]] std::optional<std::string> Refusal(std::string_view comp_id,
                                                   std::string_view address,
                                                   TimePoint now);
  // A failed logon (wrong or missing password, wrong Username): counted
  // against both; the failure that reaches a limit starts a back-off. An
  // empty comp_id (one the exchange does not know, which must not grow the
  // table) counts against the address only.
  void RecordFailure(std::string_view comp_id, std::string_view address,
                     TimePoint now);
  // A verified password: the CompID's failures are forgotten (the
  // address's are not: one good account must not unlock guessing others).
  void RecordSuccess(std::string_view comp_id);

  // Addresses currently tracked (for tests of the pruning).
  [[nodiscard]] std::size_t TrackedAddresses() const;

 private:
  struct Counter {
    std::deque<TimePoint> failures;  // within the window, oldest first
    std::optional<TimePoint> blocked_until;
  };
  static std::optional<std::chrono::seconds> Blocked(Counter& counter,
                                                     TimePoint now);
  void Count(Counter& counter, int limit, TimePoint now) const;
  void Prune(TimePoint now);

  LogonThrottleOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Counter, std::less<>> by_comp_id_;
  std::map<std::string, Counter, std::less<>> by_address_;
};

class LogonRecorder {
 public:
  // At most max_records distinct (CompID, address, outcome, reason) records
  // per Take(); further distinct ones are only counted as dropped.
  explicit LogonRecorder(std::size_t max_records = 256);

  void Add(std::string_view comp_id, std::string_view address,
           ledger::LogonOutcome outcome, std::string_view reason,
           std::int64_t now_ns);

  struct Batch {
    std::vector<ledger::LogonEvent> events;
    std::uint64_t dropped = 0;
    [[nodiscard]] bool empty() const { return events.empty() && dropped == 0; }
  };
  // Everything added since the last Take(), oldest record first.
  Batch Take();

 private:
  using Key =
      std::tuple<std::string, std::string, ledger::LogonOutcome, std::string>;
  std::size_t max_records_;
  std::mutex mu_;
  std::map<Key, std::size_t> index_;
  Batch pending_;
};

// The remote IP address of the connection that carries the session `id`.
// Call only on that connection's own thread (inside a QuickFIX callback
// such as fromAdmin or onLogon of that session). Empty when unknown.
[[nodiscard]] std::string PeerAddressOf(const FIX::SessionID& id,
                                        AcceptorKind kind);

// The remote IP address of the connection the calling thread serves, for a
// QuickFIX callback that names no session (a message of an unknown
// session, see RedactingLogFactory). `acceptor` must be of the class `kind`
// names. Empty when unknown.
[[nodiscard]] std::string PeerAddressOfThisThread(FIX::Acceptor& acceptor,
                                                  AcceptorKind kind);

// The raw FIX text with the values of Password(554) and NewPassword(925)
// replaced by "***".
[[nodiscard]] std::string RedactPasswords(std::string_view raw);

// QuickFIX logs: file logs (as FIX::FileLogFactory) whose message and event
// lines never hold a password when `settings` is given, no files otherwise;
// and in both cases a hook for the first message of a connection whose
// CompIDs name no session. QuickFIX drops such a connection at once and
// tells only its global log ("Session not found for incoming message: ..."),
// on the connection's own thread; `on_unknown_session` is then called there
// with the raw message.
class RedactingLogFactory : public FIX::LogFactory {
 public:
  using UnknownSessionHook = std::function<void(const std::string& raw)>;
  RedactingLogFactory(const FIX::SessionSettings* settings,
                      UnknownSessionHook on_unknown_session);
  FIX::Log* create() override;
  FIX::Log* create(const FIX::SessionID& id) override;
  void destroy(FIX::Log* log) override;

 private:
  std::optional<FIX::FileLogFactory> files_;
  UnknownSessionHook on_unknown_session_;
};

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_SRC_LOGON_SECURITY_H_
