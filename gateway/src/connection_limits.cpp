#include "connection_limits.h"

#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <cstddef>
#include <filesystem>
#include <set>

namespace carbonex::gateway {
namespace {

// tcp_info.tcpi_state of an established connection (the kernel's
// TCP_ESTABLISHED; <linux/tcp.h> does not name the states).
constexpr std::uint8_t kTcpEstablished = 1;

// The process's open descriptors.
std::vector<int> OpenDescriptors() {
  std::vector<int> fds;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const std::string name = entry.path().filename().string();
    int fd = 0;
    bool digits = !name.empty();
    for (char ch : name) {
      if (ch < '0' || ch > '9') {
        digits = false;
        break;
      }
      fd = fd * 10 + (ch - '0');
    }
    if (digits) fds.push_back(fd);
  }
  return fds;
}

// The local port of a TCP socket, or 0.
std::uint16_t LocalPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return 0;
}

bool IsListening(int fd) {
  int listening = 0;
  socklen_t len = sizeof listening;
  return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
         listening != 0;
}

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

}  // namespace

Status SetListenerSendTimeout(std::uint16_t port, int seconds) {
  for (int fd : OpenDescriptors()) {
    if (!IsListening(fd) || LocalPort(fd) != port) continue;
    timeval timeout{};
    timeout.tv_sec = seconds;
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) !=
        0) {
      return Status::IoError("setting the FIX send timeout failed");
    }
    return Status::Ok();
  }
  return Status::NotFound("the FIX listening socket was not found");
}

std::vector<std::string> UnidentifiedConnectionReaper::Sweep(
    std::chrono::steady_clock::time_point now) {
  std::vector<std::string> closed;
  std::set<ino_t> present;
  for (int fd : OpenDescriptors()) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    if (IsListening(fd) || LocalPort(fd) != port_) continue;
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) continue;
    // Without tcpi_bytes_sent (Linux < 4.19) nothing is known: keep it.
    if (len < offsetof(tcp_info, tcpi_bytes_sent) + sizeof info.tcpi_bytes_sent)
      continue;
    if (info.tcpi_state != kTcpEstablished || info.tcpi_bytes_sent != 0) {
      continue;
    }
    present.insert(st.st_ino);
    auto [it, fresh] = first_seen_.emplace(st.st_ino, now);
    if (fresh || now - it->second < timeout_) continue;
    // The descriptor may have been closed and reused since fstat: only the
    // same socket is shut down.
    struct stat again {};
    if (::fstat(fd, &again) != 0 || again.st_ino != st.st_ino) continue;
    closed.push_back(PeerOf(fd));
    ::shutdown(fd, SHUT_RDWR);
  }
  for (auto it = first_seen_.begin(); it != first_seen_.end();) {
    it = present.count(it->first) != 0 ? std::next(it) : first_seen_.erase(it);
  }
  return closed;
}

}  // namespace carbonex::gateway
