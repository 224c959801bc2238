// Limits on FIX connections that QuickFIX does not enforce itself. QuickFIX
// 1.15 exposes neither its sockets nor a send timeout, and keeps a
// connection that never sends a complete Logon open (one thread each) for as
// long as the peer likes: these functions work on the process's sockets
// directly, found in /proc/self/fd.
//
// Thread-safety: SetListenerSendTimeout may be called from any thread;
// an UnidentifiedConnectionReaper is used by one thread.
#ifndef CARBONEX_GATEWAY_SRC_CONNECTION_LIMITS_H_
#define CARBONEX_GATEWAY_SRC_CONNECTION_LIMITS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "carbonex/common/status.h"

namespace carbonex::gateway {

// Sets SO_SNDTIMEO on the listening socket bound to `port`; accepted
// connections inherit it (Linux copies socket options on accept), so a send
// to a broker that does not read fails after `seconds` instead of blocking
// its session forever. Errors: kNotFound (no listening socket on the port),
// kIoError.
[[nodiscard]] Status SetListenerSendTimeout(std::uint16_t port, int seconds);

// Closes connections accepted on a port that have been open for `timeout`
// without the exchange ever sending them a byte: no Logon was answered on
// them (an accepted Logon is answered with a Logon, a refused one with a
// Logout), so they are silent peers, half frames or garbage.
class UnidentifiedConnectionReaper {
 public:
  UnidentifiedConnectionReaper(std::uint16_t port, std::chrono::seconds timeout)
      : port_(port), timeout_(timeout) {}

  // One pass: shuts down (SHUT_RDWR, which ends QuickFIX's reading thread
  // for it) every such connection and returns their peer addresses. Needs
  // Linux 4.19 or later (tcp_info.tcpi_bytes_sent); on older kernels it
  // closes nothing.
  std::vector<std::string> Sweep(std::chrono::steady_clock::time_point now);

 private:
  std::uint16_t port_;
  std::chrono::seconds timeout_;
  // Socket inode → when this reaper first saw it.
  std::map<ino_t, std::chrono::steady_clock::time_point> first_seen_;
};

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_SRC_CONNECTION_LIMITS_H_
