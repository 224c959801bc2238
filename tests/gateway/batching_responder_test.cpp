#define CATCH_CONFIG_MAIN
#include "carbonex/gateway/batching_responder.h"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace carbonex::gateway {
namespace {

// Records what reaches the connection, one entry per write.
class RecordingResponder : public FIX::Responder {
 public:
  bool send(const std::string& bytes) override {
    writes.push_back(bytes);
    return ok;
  }
  void disconnect() override { ++disconnects; }
  std::vector<std::string> writes;
  int disconnects = 0;
  bool ok = true;
};

// Holds on the calling thread for the scope.
struct Hold {
  Hold() { BatchingResponder::HoldOnThisThread(true); }
  ~Hold() { BatchingResponder::HoldOnThisThread(false); }
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;
};

// Defers on the calling thread for the scope.
struct Defer {
  Defer() { BatchingResponder::DeferOnThisThread(true); }
  ~Defer() { BatchingResponder::DeferOnThisThread(false); }
  Defer(const Defer&) = delete;
  Defer& operator=(const Defer&) = delete;
};

// A connected pair of local stream sockets: the responder writes to
// ours(), the test reads (or does not read) peer(). Both are closed at the
// end of the scope.
class SocketPair {
 public:
  SocketPair() {
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_.data()) == 0);
  }
  ~SocketPair() {
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;
  [[nodiscard]] int ours() const { return fds_[0]; }
  [[nodiscard]] int peer() const { return fds_[1]; }
  void ClosePeer() {
    ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  std::array<int, 2> fds_{-1, -1};
};

// Everything that can be read from `fd` now.
std::string Drain(int fd) {
  std::string got;
  std::array<char, 65536> buffer{};
  while (true) {
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    got.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return got;
}

TEST_CASE("without a connection nothing is sent") {
  BatchingResponder responder;
  CHECK_FALSE(responder.send("a"));
  CHECK(responder.writes() == 0);
}

TEST_CASE("unheld messages are written one by one") {
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner, -1);
  CHECK(responder.send("one"));
  CHECK(responder.send("two"));
  CHECK(inner.writes == std::vector<std::string>{"one", "two"});
  CHECK(responder.writes() == 2);
  CHECK(responder.messages_written() == 2);
}

TEST_CASE("held messages go out with the next unheld one, in order") {
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner, -1);
  {
    Hold hold;
    CHECK(responder.send("1;"));
    CHECK(responder.send("2;"));
  }
  CHECK(inner.writes.empty());
  CHECK(responder.send("3;"));
  CHECK(inner.writes == std::vector<std::string>{"1;2;3;"});
  CHECK(responder.writes() == 1);
  CHECK(responder.messages_written() == 3);
}

TEST_CASE("another thread's message flushes what is held, before it") {
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner, -1);
  {
    Hold hold;
    CHECK(responder.send("held;"));
    // A heartbeat from the session's own thread is not held.
    std::thread other([&] { CHECK(responder.send("heartbeat;")); });
    other.join();
  }
  CHECK(inner.writes == std::vector<std::string>{"held;heartbeat;"});
}

TEST_CASE("holding stops at the byte limit") {
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner, -1);
  const std::string big(BatchingResponder::kMaxHeldBytes / 2 + 1, 'x');
  {
    Hold hold;
    CHECK(responder.send(big));  // held
    CHECK(responder.send(big));  // over the limit: written with the first
  }
  REQUIRE(inner.writes.size() == 1);
  CHECK(inner.writes[0] == big + big);
}

TEST_CASE("a discarding thread writes nothing, other threads still write") {
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner, -1);
  BatchingResponder::DiscardOnThisThread(true);
  CHECK(responder.send("dropped;"));  // reported sent: it is in the store
  CHECK(responder.send("dropped too;"));
  // The session's own thread (its Logout) still gets through.
  std::thread other([&] { CHECK(responder.send("logout;")); });
  other.join();
  BatchingResponder::DiscardOnThisThread(false);
  CHECK(inner.writes == std::vector<std::string>{"logout;"});
  CHECK(responder.send("after;"));
  CHECK(inner.writes == std::vector<std::string>{"logout;", "after;"});
}

TEST_CASE("a failed write is reported, and nothing more is written") {
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner, -1);
  CHECK(responder.send("x;"));
  CHECK_FALSE(responder.write_failed());
  inner.ok = false;
  CHECK_FALSE(responder.send("y;"));
  CHECK(responder.write_failed());
  // Part of "y;" may be on the wire: the connection gets nothing more.
  inner.ok = true;
  CHECK_FALSE(responder.send("z;"));
  CHECK(inner.writes == std::vector<std::string>{"x;", "y;"});
  CHECK(responder.messages_written() == 1);
  // The next connection starts afresh.
  RecordingResponder next;
  responder.Reset(&next, -1);
  CHECK_FALSE(responder.write_failed());
  CHECK(responder.send("fresh;"));
  CHECK(next.writes == std::vector<std::string>{"fresh;"});
}

TEST_CASE("a socket that stays full past its send timeout fails the write") {
  SocketPair fds;
  const timeval timeout{0, 100'000};
  REQUIRE(::setsockopt(fds.ours(), SOL_SOCKET, SO_SNDTIMEO, &timeout,
                       sizeof(timeout)) == 0);
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner, fds.ours());
  // Nobody reads fds.peer(): the buffers fill, then the write times out.
  const std::string chunk(BatchingResponder::kMaxHeldBytes, 'x');
  bool failed = false;
  for (int i = 0; i < 1000 && !failed; ++i) failed = !responder.send(chunk);
  CHECK(failed);
  CHECK(responder.write_failed());
}

TEST_CASE("disconnect drops what is held and passes the disconnect on") {
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner, -1);
  {
    Hold hold;
    CHECK(responder.send("lost;"));
  }
  responder.disconnect();
  CHECK(inner.disconnects == 1);
  CHECK_FALSE(responder.send("after;"));
  CHECK(inner.writes.empty());
  // A new connection starts with nothing held.
  RecordingResponder next;
  responder.Reset(&next, -1);
  CHECK(responder.send("fresh;"));
  CHECK(next.writes == std::vector<std::string>{"fresh;"});
}

TEST_CASE("with a socket, held messages reach it in one write") {
  SocketPair fds;
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner, fds.ours());
  {
    Hold hold;
    CHECK(responder.send("8=FIX.4.4|a|"));
    CHECK(responder.send("8=FIX.4.4|b|"));
  }
  CHECK(responder.send("8=FIX.4.4|c|"));
  CHECK(inner.writes.empty());  // the socket is written directly
  CHECK(responder.writes() == 1);
  std::string got(64, '\0');
  ssize_t n = ::recv(fds.peer(), got.data(), got.size(), 0);
  REQUIRE(n > 0);
  got.resize(static_cast<std::size_t>(n));
  CHECK(got == "8=FIX.4.4|a|8=FIX.4.4|b|8=FIX.4.4|c|");
  fds.ClosePeer();
  // The peer is gone: the write fails (no SIGPIPE).
  CHECK_FALSE(responder.send("lost"));
}

TEST_CASE(
    "deferred messages wait for FlushWithoutBlocking, then go in one write") {
  SocketPair fds;
  RecordingResponder inner;
  BatchingResponder responder;
  CHECK_FALSE(responder.direct());
  responder.Reset(&inner, fds.ours());
  CHECK(responder.direct());
  {
    Defer defer;
    CHECK(responder.send("a|"));
    CHECK(responder.send("b|"));
  }
  CHECK(Drain(fds.peer()).empty());
  CHECK(responder.FlushWithoutBlocking() == BatchingResponder::Flushed::kAll);
  CHECK(Drain(fds.peer()) == "a|b|");
  CHECK(responder.writes() == 1);
  CHECK(responder.messages_written() == 2);
  CHECK_FALSE(responder.stalled());
  // Nothing held: nothing to write.
  CHECK(responder.FlushWithoutBlocking() == BatchingResponder::Flushed::kAll);
  CHECK(responder.writes() == 1);
}

TEST_CASE(
    "a full socket stalls deferred sends, and Flush writes the rest in order") {
  SocketPair fds;
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner, fds.ours());
  // Numbered messages, far more than the socket buffers hold; past the byte
  // limit a deferred send writes what the socket takes, never blocking.
  std::string expected;
  std::size_t sent = 0;
  {
    Defer defer;
    while (!responder.stalled() || sent < 4000) {
      std::string message =
          std::to_string(sent++) + ":" + std::string(200, 'x') + "|";
      expected += message;
      REQUIRE(responder.send(message));
    }
  }
  CHECK(responder.stalled());
  CHECK(responder.FlushWithoutBlocking() ==
        BatchingResponder::Flushed::kPartly);
  // A reader empties the socket while Flush blocks until all is written.
  std::string got;
  std::thread reader([&] {
    std::array<char, 65536> buffer{};
    while (got.size() < expected.size()) {
      ssize_t n = ::recv(fds.peer(), buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      got.append(buffer.data(), static_cast<std::size_t>(n));
    }
  });
  CHECK(responder.Flush());
  reader.join();
  CHECK_FALSE(responder.stalled());
  CHECK(got == expected);
  CHECK(responder.messages_written() == sent);
}

TEST_CASE(
    "another thread's send writes what deferred sends left, before its own") {
  SocketPair fds;
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner, fds.ours());
  {
    Defer defer;
    CHECK(responder.send("1|"));
  }
  std::thread other([&] { CHECK(responder.send("2|")); });
  other.join();
  CHECK(Drain(fds.peer()) == "1|2|");
  CHECK(responder.FlushWithoutBlocking() == BatchingResponder::Flushed::kAll);
}

TEST_CASE("deferred sends fail without a connection or after a failed write") {
  BatchingResponder responder;
  {
    Defer defer;
    CHECK_FALSE(responder.send("a|"));
  }
  CHECK(responder.FlushWithoutBlocking() ==
        BatchingResponder::Flushed::kFailed);
  CHECK_FALSE(responder.Flush());
  SocketPair fds;
  RecordingResponder inner;
  responder.Reset(&inner, fds.ours());
  {
    Defer defer;
    CHECK(responder.send("b|"));
  }
  fds.ClosePeer();  // the peer is gone
  CHECK(responder.FlushWithoutBlocking() ==
        BatchingResponder::Flushed::kFailed);
  CHECK(responder.write_failed());
  {
    Defer defer;
    CHECK_FALSE(responder.send("c|"));
  }
  // Through a connection object (TLS) only a blocking Flush writes.
  RecordingResponder tls;
  responder.Reset(&tls, -1);
  CHECK_FALSE(responder.direct());
  {
    Defer defer;
    CHECK(responder.send("d|"));
  }
  CHECK(responder.FlushWithoutBlocking() ==
        BatchingResponder::Flushed::kPartly);
  CHECK(tls.writes.empty());
  CHECK(responder.Flush());
  CHECK(tls.writes == std::vector<std::string>{"d|"});
  // disconnect drops what is held and clears the direct mark.
  responder.disconnect();
  CHECK_FALSE(responder.direct());
}

TEST_CASE(
    "a deadline ends a write that waits for room, even one waiting already") {
  SocketPair fds;
  RecordingResponder inner;
  BatchingResponder responder;
  responder.Reset(&inner,
                  fds.ours());  // no send timeout: it would wait forever
  // Nobody reads fds.peer(): fill it without blocking first.
  {
    Defer defer;
    while (!responder.stalled()) {
      REQUIRE(responder.send(std::string(4096, 'x')));
    }
  }
  std::atomic<bool> returned{false};
  bool written = true;
  std::thread writer([&] {
    written = responder.Flush();
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(returned.load());  // still waiting for room
  responder.SetDeadline(std::chrono::steady_clock::now());
  writer.join();
  CHECK_FALSE(written);
  CHECK(responder.write_failed());
}

}  // namespace
}  // namespace carbonex::gateway
