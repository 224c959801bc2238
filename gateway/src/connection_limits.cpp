#include "connection_limits.h"

#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstddef>
#include <mutex>
#include <set>
#include <thread>

#include "acceptor_sockets.h"

namespace carbonex::gateway {
namespace {

// tcp_info.tcpi_state of an established connection (the kernel's
// TCP_ESTABLISHED; <linux/tcp.h> does not name the states).
constexpr std::uint8_t kTcpEstablished = 1;

std::string PeerOf(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "?";
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(in6->sin6_port));
  }
  return "?";
}

// The socket's cookie (unique per socket while the system runs), or 0.
std::uint64_t CookieOf(int fd) {
  std::uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) return 0;
  return cookie;
}

// True when the socket is an established TCP connection that has not sent a
// byte. False when unknown (Linux < 4.19 has no tcpi_bytes_sent).
bool SilentSinceAccept(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return false;
  if (len < offsetof(tcp_info, tcpi_bytes_sent) + sizeof info.tcpi_bytes_sent) {
    return false;
  }
  return info.tcpi_state == kTcpEstablished && info.tcpi_bytes_sent == 0;
}

void IgnoreWake(int /*signal*/) {}

void InstallWakeHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_handler = IgnoreWake;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    ::sigaction(UnidentifiedConnectionReaper::kWakeSignal, &action, nullptr);
  });
}

}  // namespace

Status SetListenerSendTimeout(FIX::Acceptor& acceptor, AcceptorKind kind,
                              int seconds) {
  Status result = Status::NotFound("the FIX listening socket was not found");
  WithAcceptorSockets(acceptor, kind, [&](const AcceptorSockets& sockets) {
    for (int fd : sockets.listening) {
      timeval timeout{};
      timeout.tv_sec = seconds;
      if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) !=
          0) {
        result = Status::IoError("setting the FIX send timeout failed");
        return;
      }
      result = Status::Ok();
    }
  });
  return result;
}

bool EndAcceptedConnections(FIX::Acceptor& acceptor, AcceptorKind kind,
                            std::chrono::milliseconds wait) {
  InstallWakeHandler();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    bool none = false;
    WithAcceptorSockets(acceptor, kind, [&](const AcceptorSockets& sockets) {
      none = sockets.connections.empty();
      // Every thread in the record is alive while the lock is held.
      for (const AcceptedConnection& c : sockets.connections) {
        ::pthread_kill(c.thread, UnidentifiedConnectionReaper::kWakeSignal);
      }
    });
    if (none) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

UnidentifiedConnectionReaper::UnidentifiedConnectionReaper(
    FIX::Acceptor& acceptor, AcceptorKind kind, std::chrono::seconds timeout)
    : acceptor_(acceptor), kind_(kind), timeout_(timeout) {
  InstallWakeHandler();
}

std::vector<std::string> UnidentifiedConnectionReaper::Sweep(
    std::chrono::steady_clock::time_point now) {
  std::vector<std::string> closed;
  std::set<std::uint64_t> present;
  WithAcceptorSockets(acceptor_, kind_, [&](const AcceptorSockets& sockets) {
    for (const AcceptedConnection& c : sockets.connections) {
      // The entry outlives its socket by a moment: the connection thread
      // closes the socket, then removes the entry (under the lock held
      // here). Until then the number may name another thread's new file;
      // the queries below only read, and a socket counts only by its
      // cookie, so such a file is never mistaken for the connection.
      if (!SilentSinceAccept(c.fd)) continue;
      const std::uint64_t cookie = CookieOf(c.fd);
      if (cookie == 0) continue;
      present.insert(cookie);
      auto [it, fresh] = seen_.emplace(cookie, Seen{now, false});
      if (fresh || now - it->second.first < timeout_) continue;
      // The connection's own thread ends it: its select() fails with EINTR,
      // it closes its socket (QuickFIX's read error path) and removes its
      // entry. A thread already past its last read ignores the signal.
      if (!it->second.ended) closed.push_back(PeerOf(c.fd));
      it->second.ended = true;
      ::pthread_kill(c.thread, kWakeSignal);
    }
  });
  for (auto it = seen_.begin(); it != seen_.end();) {
    it = present.count(it->first) != 0 ? std::next(it) : seen_.erase(it);
  }
  return closed;
}

}  // namespace carbonex::gateway
