// Limits on FIX connections that QuickFIX does not enforce itself. QuickFIX
// 1.15 exposes neither its sockets nor a send timeout, and keeps a
// connection that never sends a complete Logon open (one thread each) for as
// long as the peer likes.
//
// Thread-safety: SetListenerSendTimeout and EndAcceptedConnections may be
// called from any thread; an UnidentifiedConnectionReaper is used by one
// thread.
#ifndef CARBONEX_GATEWAY_SRC_CONNECTION_LIMITS_H_
#define CARBONEX_GATEWAY_SRC_CONNECTION_LIMITS_H_

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "carbonex/common/status.h"

namespace FIX {
class Acceptor;
}  // namespace FIX

namespace carbonex::gateway {

// Which QuickFIX acceptor class serves the FIX port (quickfix_members.h).
enum class AcceptorKind : std::uint8_t;

// Sets SO_SNDTIMEO on the listening sockets of `acceptor` (a started
// acceptor of the class `kind` names); accepted connections inherit it
// (Linux copies socket options on accept), so a send to a broker that does
// not read fails after `seconds` instead of blocking its session forever.
// Errors: kNotFound (the acceptor listens on no socket), kIoError.
[[nodiscard]] Status SetListenerSendTimeout(FIX::Acceptor& acceptor,
                                            AcceptorKind kind, int seconds);

// Ends every connection `acceptor` (a started acceptor of the class `kind`
// names) still serves, each through its own thread, and waits up to `wait`
// for all of them to leave the acceptor's record. True when none is left.
//
// Call it before acceptor.stop(): QuickFIX's ThreadedSocketAcceptor::onStop
// closes the sockets of the connections still in its record from the
// stopping thread, while their own threads may still be reading them (and a
// number closed there may already name another thread's new file). After
// this returns true, stop() only closes the listening sockets. Like the
// reaper below, it never touches a descriptor itself: it interrupts each
// connection's thread with kWakeSignal (again every few milliseconds, for a
// thread that was busy) and that thread closes its own socket. Logged-on
// sessions should be logged out first: their connections are ended too.
bool EndAcceptedConnections(FIX::Acceptor& acceptor, AcceptorKind kind,
                            std::chrono::milliseconds wait);

// Closes connections the FIX acceptor accepted that have been open for
// `timeout` without the exchange ever sending them a byte: no Logon was
// answered on them (an accepted Logon is answered with a Logon, a refused one
// with a Logout), so they are silent peers, half frames or garbage.
//
// It looks only at the sockets the acceptor itself handed out: QuickFIX's
// record of its connections (socket → connection thread), read under the
// acceptor's own lock. An entry is added when a connection is accepted and
// removed when its thread ends, so a logged-on or departed connection is
// forgotten with it. The reaper never closes or shuts down a descriptor
// itself: it interrupts the connection's own thread (a no-op signal,
// kWakeSignal), whose select() then fails, and that thread closes its own
// socket, as on any read error. Nothing another thread opens or closes is
// ever touched, and a descriptor number reused after its connection ended
// cannot be hit.
class UnidentifiedConnectionReaper {
 public:
  // The signal that interrupts a connection's thread. Its handler (installed
  // once per process by the constructor, SA_RESTART) does nothing: select()
  // is never restarted after a handler ran, other calls are.
  static constexpr int kWakeSignal = SIGUSR2;

  // `acceptor` must outlive the reaper and must be of the class `kind`
  // names; Sweep must not run concurrently with acceptor.stop().
  UnidentifiedConnectionReaper(FIX::Acceptor& acceptor, AcceptorKind kind,
                               std::chrono::seconds timeout);

  // One pass: ends every such connection and returns the peer addresses of
  // those it ends for the first time (a thread that was busy when signalled
  // is signalled again on the next pass).
  // Needs Linux 4.19 or later (tcp_info.tcpi_bytes_sent); on older kernels
  // it closes nothing.
  std::vector<std::string> Sweep(std::chrono::steady_clock::time_point now);

 private:
  FIX::Acceptor& acceptor_;
  AcceptorKind kind_;
  std::chrono::seconds timeout_;
  struct Seen {
    std::chrono::steady_clock::time_point first;  // first seen silent
    bool ended = false;                           // its thread was signalled
  };
  // Socket cookie (SO_COOKIE: unique per socket while the system runs) →
  // what this reaper knows of that socket.
  std::map<std::uint64_t, Seen> seen_;
};

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_SRC_CONNECTION_LIMITS_H_
