// The connection limits against a real QuickFIX acceptor on a loopback
// port: the logon-timeout reaper ends exactly the silent connections the
// acceptor accepted, through their own threads; the connections still open
// at a stop are ended the same way; and the listening socket's send timeout
// reaches accepted connections.
#define CATCH_CONFIG_MAIN
#include "connection_limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <quickfix/Application.h>
#include <quickfix/MessageStore.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/ThreadedSocketAcceptor.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>

#include "acceptor_sockets.h"
#include "logon_security.h"

namespace carbonex::gateway {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok =
      fd >= 0 &&
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  if (fd >= 0) ::close(fd);
  REQUIRE(ok);
  return ntohs(addr.sin_port);
}

// A started ThreadedSocketAcceptor with one session, stopped at the end.
struct Acceptor {
  Acceptor() : port(FreePort()) {
    std::istringstream in(
        "[DEFAULT]\nConnectionType=acceptor\nBeginString=FIX.4.4\n"
        "SenderCompID=CARBONEX\nStartTime=00:00:00\nEndTime=00:00:00\n"
        "UseDataDictionary=N\nSocketReuseAddress=Y\nSocketAcceptPort=" +
        std::to_string(port) + "\n[SESSION]\nTargetCompID=BRK1\n");
    settings = std::make_unique<FIX::SessionSettings>(in);
    acceptor =
        std::make_unique<FIX::ThreadedSocketAcceptor>(app, store, *settings);
    acceptor->start();
  }
  // Ends what is still connected through its own thread first, as the
  // server does: QuickFIX's stop() would close those sockets from here.
  ~Acceptor() {
    (void)EndAcceptedConnections(*acceptor, AcceptorKind::kThreadedSocket, 10s);
    acceptor->stop(true);
  }
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // The number of accepted connections in the acceptor's record.
  std::size_t Connections() {
    std::size_t n = 0;
    WithAcceptorSockets(
        *acceptor, AcceptorKind::kThreadedSocket,
        [&](const AcceptorSockets& s) { n = s.connections.size(); });
    return n;
  }
  // Waits until the record holds `n` connections; false after 10 s.
  bool WaitConnections(std::size_t n) {
    for (auto end = Clock::now() + 10s; Clock::now() < end;) {
      if (Connections() == n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::uint16_t port;
  FIX::NullApplication app;
  FIX::MemoryStoreFactory store;
  std::unique_ptr<FIX::SessionSettings> settings;
  std::unique_ptr<FIX::ThreadedSocketAcceptor> acceptor;
};

// A client socket connected to the acceptor; closed at the end.
struct Client {
  explicit Client(std::uint16_t port) : fd(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected =
        ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    local = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  ~Client() { ::close(fd); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // True when the exchange closed the connection within `wait`; false when
  // it is still open then.
  bool ClosedWithin(std::chrono::milliseconds wait) const {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(wait.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((wait.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char byte = 0;
    return ::recv(fd, &byte, 1, 0) == 0;
  }

  int fd;
  bool connected = false;
  std::string local;
};

TEST_CASE("the reaper ends a connection silent past the timeout, and no other",
          "[limits]") {
  Acceptor a;
  UnidentifiedConnectionReaper reaper(*a.acceptor,
                                      AcceptorKind::kThreadedSocket, 2s);
  Client old_one(a.port);
  REQUIRE(old_one.connected);
  REQUIRE(a.WaitConnections(1));
  const Clock::time_point t0 = Clock::now();
  CHECK(reaper.Sweep(t0).empty());  // first seen

  Client young(a.port);
  REQUIRE(young.connected);
  REQUIRE(a.WaitConnections(2));
  CHECK(reaper.Sweep(t0 + 1s).empty());  // `young` first seen

  // Exactly the timeout after it was first seen, `old_one` is ended.
  std::vector<std::string> ended = reaper.Sweep(t0 + 2s);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0] == old_one.local);
  CHECK(old_one.ClosedWithin(10s));
  // Its thread closed the socket and left the acceptor's record.
  CHECK(a.WaitConnections(1));
  CHECK_FALSE(young.ClosedWithin(300ms));

  // A second later `young` is due; `old_one` is not reported again.
  ended = reaper.Sweep(t0 + 3s);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0] == young.local);
  CHECK(young.ClosedWithin(10s));
  CHECK(a.WaitConnections(0));
  CHECK(reaper.Sweep(t0 + 10s).empty());
}

TEST_CASE("a connection that was sent a byte is never ended", "[limits]") {
  Acceptor a;
  UnidentifiedConnectionReaper reaper(*a.acceptor,
                                      AcceptorKind::kThreadedSocket, 1s);
  // A Logon for a session the acceptor does not know: QuickFIX closes the
  // connection itself, without answering; the reaper has nothing to do.
  Client unknown(a.port);
  REQUIRE(unknown.connected);
  REQUIRE(a.WaitConnections(1));
  const Clock::time_point t0 = Clock::now();
  CHECK(reaper.Sweep(t0).empty());
  const std::string logon =
      "8=FIX.4.4\x01"
      "9=60\x01"
      "35=A\x01"
      "34=1\x01"
      "49=NOBODY\x01"
      "56=CARBONEX\x01"
      "52=20260101-00:00:00\x01"
      "98=0\x01"
      "108=30\x01"
      "10=000\x01";
  REQUIRE(::send(unknown.fd, logon.data(), logon.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(logon.size()));
  CHECK(unknown.ClosedWithin(10s));
  CHECK(a.WaitConnections(0));
  CHECK(reaper.Sweep(t0 + 5s).empty());
}

TEST_CASE("connections still open at a stop are ended by their own threads",
          "[limits]") {
  Acceptor a;
  // One silent connection and one that sent half a frame.
  Client silent(a.port);
  Client partial(a.port);
  REQUIRE(silent.connected);
  REQUIRE(partial.connected);
  const std::string half =
      "8=FIX.4.4\x01"
      "9=60\x01"
      "35=";
  REQUIRE(::send(partial.fd, half.data(), half.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(half.size()));
  REQUIRE(a.WaitConnections(2));
  CHECK(
      EndAcceptedConnections(*a.acceptor, AcceptorKind::kThreadedSocket, 10s));
  CHECK(a.Connections() == 0);
  CHECK(silent.ClosedWithin(10s));
  CHECK(partial.ClosedWithin(10s));
  // Nothing left: it returns at once, without waiting.
  CHECK(
      EndAcceptedConnections(*a.acceptor, AcceptorKind::kThreadedSocket, 0ms));
  // The acceptor still accepts: only connections were ended.
  Client later(a.port);
  REQUIRE(later.connected);
  CHECK(a.WaitConnections(1));
}

TEST_CASE("accepted connections inherit the listening socket's send timeout",
          "[limits]") {
  Acceptor a;
  REQUIRE(SetListenerSendTimeout(*a.acceptor, AcceptorKind::kThreadedSocket, 7)
              .ok());
  Client c(a.port);
  REQUIRE(c.connected);
  REQUIRE(a.WaitConnections(1));
  long seconds = -1;
  WithAcceptorSockets(*a.acceptor, AcceptorKind::kThreadedSocket,
                      [&](const AcceptorSockets& s) {
                        CHECK(s.listening.size() == 1);
                        timeval tv{};
                        socklen_t len = sizeof tv;
                        if (::getsockopt(s.connections.at(0).fd, SOL_SOCKET,
                                         SO_SNDTIMEO, &tv, &len) == 0) {
                          seconds = tv.tv_sec;
                        }
                      });
  CHECK(seconds == 7);
}

}  // namespace
}  // namespace carbonex::gateway
