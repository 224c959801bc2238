#include "carbonex/gateway/batching_responder.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "quickfix_members.h"

namespace carbonex::gateway {
namespace {

thread_local bool t_hold = false;
thread_local bool t_discard = false;
thread_local bool t_defer = false;

}  // namespace

bool BatchingResponder::Attach(FIX::Session& session, Connection connection) {
  FIX::Responder* current = ResponderOf(session);
  if (current == nullptr || current == this) return false;
  int fd = -1;
  if (connection == Connection::kAcceptorSocket) {
    fd = SocketOfConnection(current, AcceptorKind::kThreadedSocket);
  } else if (connection == Connection::kInitiatorSocket) {
    fd = SocketOfInitiatorConnection(current);
  }
  Reset(current, fd);
  session.setResponder(this);
  return true;
}

void BatchingResponder::Reset(FIX::Responder* inner, int fd) {
  std::lock_guard<std::mutex> guard(mu_);
  // Anything still held belonged to an earlier connection; those messages
  // are in the session's store.
  held_.clear();
  held_count_ = 0;
  failed_ = false;
  stalled_ = false;
  inner_ = inner;
  fd_ = fd;
  direct_ = inner != nullptr && fd >= 0;
  send_timeout_ = std::chrono::nanoseconds(0);
  timeval timeout{};
  socklen_t length = sizeof(timeout);
  if (fd >= 0 &&
      ::getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, &length) == 0) {
    send_timeout_ = std::chrono::seconds(timeout.tv_sec) +
                    std::chrono::microseconds(timeout.tv_usec);
  }
}

void BatchingResponder::HoldOnThisThread(bool hold) { t_hold = hold; }

void BatchingResponder::DiscardOnThisThread(bool discard) {
  t_discard = discard;
}

void BatchingResponder::DeferOnThisThread(bool defer) { t_defer = defer; }

FIX::Responder* BatchingResponder::Unwrap(FIX::Responder* responder) {
  if (auto* batching = dynamic_cast<BatchingResponder*>(responder)) {
    std::lock_guard<std::mutex> guard(batching->mu_);
    return batching->inner_;
  }
  return responder;
}

bool BatchingResponder::Write(const std::string& bytes) {
  if (fd_ < 0) return inner_->send(bytes);
  using Clock = std::chrono::steady_clock;
  std::size_t done = 0;
  std::optional<Clock::time_point> give_up;  // set when first out of room
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    // The socket is full: wait for room, in slices, so that a deadline set
    // meanwhile (a stop) is seen.
    const Clock::time_point now = Clock::now();
    if (!give_up) {
      give_up = send_timeout_.count() > 0 ? now + send_timeout_
                                          : Clock::time_point::max();
    }
    const Clock::time_point deadline{
        std::chrono::nanoseconds(deadline_ns_.load())};
    const Clock::time_point limit = std::min(*give_up, deadline);
    if (now >= limit) return false;  // the broker is not reading
    constexpr std::chrono::milliseconds kSlice{100};
    const auto wait = std::min<Clock::duration>(limit - now, kSlice);
    pollfd ready{fd_, POLLOUT, 0};
    (void)::poll(
        &ready, 1,
        static_cast<int>(
            std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
  }
  return true;
}

bool BatchingResponder::WriteSome() {
  std::size_t done = 0;
  while (done < held_.size()) {
    ssize_t n = ::send(fd_, held_.data() + done, held_.size() - done,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      failed_ = true;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (done > 0) {
    ++writes_;
    held_.erase(0, done);
  }
  if (held_.empty()) {
    messages_written_ += held_count_;
    held_count_ = 0;
    stalled_ = false;
  } else {
    stalled_ = true;
  }
  return true;
}

bool BatchingResponder::send(const std::string& message) {
  if (t_discard) return true;
  std::lock_guard<std::mutex> guard(mu_);
  if (inner_ == nullptr || failed_) return false;
  if (t_defer) {
    held_ += message;
    ++held_count_;
    if (held_.size() < kMaxHeldBytes) return true;
    if (fd_ < 0) {
      stalled_ = true;  // only a blocking Flush() can write it
      return true;
    }
    return WriteSome();
  }
  if (t_hold && held_.size() + message.size() <= kMaxHeldBytes) {
    held_ += message;
    ++held_count_;
    return true;
  }
  held_ += message;
  ++held_count_;
  return WriteHeld();
}

bool BatchingResponder::WriteHeld() {
  ++writes_;
  stalled_ = false;
  const bool ok = Write(held_);
  held_.clear();
  if (!ok) {
    held_count_ = 0;
    failed_ = true;
    return false;
  }
  messages_written_ += held_count_;
  held_count_ = 0;
  return true;
}

BatchingResponder::Flushed BatchingResponder::FlushWithoutBlocking() {
  std::lock_guard<std::mutex> guard(mu_);
  if (inner_ == nullptr || failed_) return Flushed::kFailed;
  if (held_.empty()) return Flushed::kAll;
  if (fd_ < 0) {
    stalled_ = true;
    return Flushed::kPartly;
  }
  if (!WriteSome()) return Flushed::kFailed;
  return held_.empty() ? Flushed::kAll : Flushed::kPartly;
}

bool BatchingResponder::Flush() {
  std::lock_guard<std::mutex> guard(mu_);
  if (inner_ == nullptr || failed_) return false;
  return held_.empty() || WriteHeld();
}

bool BatchingResponder::direct() const { return direct_.load(); }

void BatchingResponder::SetDeadline(
    std::chrono::steady_clock::time_point deadline) {
  deadline_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     deadline.time_since_epoch())
                     .count();
}

bool BatchingResponder::stalled() const { return stalled_.load(); }

bool BatchingResponder::write_failed() const { return failed_.load(); }

void BatchingResponder::disconnect() {
  FIX::Responder* inner = nullptr;
  {
    std::lock_guard<std::mutex> guard(mu_);
    held_.clear();
    held_count_ = 0;
    inner = inner_;
    inner_ = nullptr;
    fd_ = -1;
    direct_ = false;
    stalled_ = false;
  }
  if (inner != nullptr) inner->disconnect();
}

std::size_t BatchingResponder::messages_written() const {
  std::lock_guard<std::mutex> guard(mu_);
  return messages_written_;
}

std::size_t BatchingResponder::writes() const {
  std::lock_guard<std::mutex> guard(mu_);
  return writes_;
}

}  // namespace carbonex::gateway
