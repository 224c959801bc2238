// The control protocol: how operator writes reach a registry.
//
// While a server runs on a registry directory DIR it holds an exclusive
// flock on DIR/server.lock and listens on the unix stream socket
// DIR/control.sock (mode 0600). carbonex-registry then sends each write verb
// as one request line and reads one response line (docs/ledger.md):
//
//   request:  {"verb": "cash deposit", "args": {"account": "KZ-OP-0001",
//              "amount": "100.00"}}\n
//   response: {"ok": true, "result": {...}}\n
//          or {"ok": false, "error": "one-line message"}\n
//
// When no server runs, the program executes the very same request directly
// with ExecuteControlRequest, so both paths share one parser and one set of
// checks. A server handles its own verbs (close-day) and passes every other
// request line to ExecuteControlRequest, then refreshes its risk state.
//
// Thread-safety: the free functions are reentrant; ExecuteControlRequest is
// as thread-safe as Registry.
#ifndef CARBONEX_LEDGER_CONTROL_H_
#define CARBONEX_LEDGER_CONTROL_H_

#include <memory>
#include <string>
#include <string_view>

#include "carbonex/common/status.h"
#include "carbonex/ledger/registry.h"

namespace carbonex::ledger {

// DIR/server.lock and DIR/control.sock.
[[nodiscard]] std::string ServerLockPath(std::string_view dir);
[[nodiscard]] std::string ControlSocketPath(std::string_view dir);

// The request's verb (e.g. "cash deposit") and its args object re-serialized
// as compact JSON text. Errors: kInvalidArgument (not a JSON object, no
// string "verb", "args" present but not an object).
struct ControlRequest {
  std::string verb;
  std::string args_json;
};
[[nodiscard]] Result<ControlRequest> ParseControlRequest(std::string_view line);

// true for the verbs that change the registry (and so go to a running
// server): see docs/ledger.md for the list and each verb's args.
[[nodiscard]] bool IsWriteVerb(std::string_view verb);

// Executes one request line against the registry and returns the response
// line (no trailing newline). Never throws; every failure is an
// {"ok": false, "error": ...} response. "close-day" and unknown verbs are
// errors here (a server answers close-day itself).
[[nodiscard]] std::string ExecuteControlRequest(Registry& registry,
                                                std::string_view line);

// One account's holdings as the JSON object text that write responses and
// `carbonex-registry holdings --json` share: {"account", "units": [{"symbol",
// "held", "reserved", "free"}...], "cash": {"held_tiyn", "reserved_tiyn",
// "free_tiyn"}}.
[[nodiscard]] std::string HoldingsJsonText(const AccountHoldings& holdings);

// {"ok": false, "error": message} as one line.
[[nodiscard]] std::string ControlErrorResponse(std::string_view message);
// {"ok": true, "result": result_json} as one line; result_json must be a
// JSON object's text.
[[nodiscard]] std::string ControlOkResponse(std::string_view result_json);

// An exclusive flock on DIR/server.lock, released when destroyed. Held by a
// server for its whole run, and by carbonex-registry for each direct write.
class ServerLock {
 public:
  // Errors: kBusy (another process holds it), kIoError.
  static Result<std::unique_ptr<ServerLock>> TryAcquire(std::string_view dir);
  ~ServerLock();
  ServerLock(const ServerLock&) = delete;
  ServerLock& operator=(const ServerLock&) = delete;

 private:
  explicit ServerLock(int fd) : fd_(fd) {}
  int fd_;
};

// Client side: connects to DIR/control.sock, sends line + '\n', reads one
// response line (without its newline). Errors: kNotFound (no socket or
// nobody listening), kIoError (the exchange failed midway: the request may
// or may not have been applied).
[[nodiscard]] Result<std::string> SendControlRequest(std::string_view dir,
                                                     std::string_view line);

// Server side helper: creates and listens on DIR/control.sock with mode
// 0600 (removing a stale socket file first) and returns the listening file
// descriptor, which the caller owns. Precondition: the caller holds the
// ServerLock. Errors: kIoError.
[[nodiscard]] Result<int> ListenControlSocket(std::string_view dir);

}  // namespace carbonex::ledger

#endif  // CARBONEX_LEDGER_CONTROL_H_
