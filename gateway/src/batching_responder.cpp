#include "batching_responder.h"

#include <sys/socket.h>

#include <cerrno>

#include "logon_security.h"
#include "quickfix_members.h"

namespace carbonex::gateway {
namespace {

thread_local bool t_hold = false;
thread_local bool t_discard = false;

}  // namespace

bool BatchingResponder::Attach(FIX::Session& session, bool plain_socket) {
  FIX::Responder* current = ResponderOf(session);
  if (current == nullptr || current == this) return false;
  Reset(current, plain_socket ? SocketOfConnection(
                                    current, AcceptorKind::kThreadedSocket)
                              : -1);
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
  inner_ = inner;
  fd_ = fd;
}

void BatchingResponder::HoldOnThisThread(bool hold) { t_hold = hold; }

void BatchingResponder::DiscardOnThisThread(bool discard) {
  t_discard = discard;
}

FIX::Responder* BatchingResponder::Unwrap(FIX::Responder* responder) {
  if (auto* batching = dynamic_cast<BatchingResponder*>(responder)) {
    std::lock_guard<std::mutex> guard(batching->mu_);
    return batching->inner_;
  }
  return responder;
}

bool BatchingResponder::Write(const std::string& bytes) {
  if (fd_ < 0) return inner_->send(bytes);
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n =
        ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // includes the socket's send timeout (EAGAIN)
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool BatchingResponder::send(const std::string& message) {
  if (t_discard) return true;
  std::lock_guard<std::mutex> guard(mu_);
  if (inner_ == nullptr || failed_) return false;
  if (t_hold && held_.size() + message.size() <= kMaxHeldBytes) {
    held_ += message;
    ++held_count_;
    return true;
  }
  bool ok = false;
  std::size_t count = held_count_ + 1;
  if (held_.empty()) {
    ok = Write(message);
  } else {
    held_ += message;
    ok = Write(held_);
    held_.clear();
    held_count_ = 0;
  }
  ++writes_;
  if (!ok) {
    failed_ = true;
    return false;
  }
  messages_written_ += count;
  return true;
}

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
