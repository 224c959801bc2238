#include "logon_security.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <quickfix/Session.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <thread>
#include <utility>

#include "acceptor_sockets.h"
#include "carbonex/gateway/batching_responder.h"
#include "quickfix_members.h"

namespace carbonex::gateway {
namespace {

// Most distinct addresses tracked before the idle ones are forgotten.
constexpr std::size_t kMaxTrackedAddresses = 10'000;

}  // namespace

// ---------------------------------------------------------------------------
// LogonThrottle

LogonThrottle::LogonThrottle(LogonThrottleOptions options)
    : options_(options) {}

std::optional<std::chrono::seconds> LogonThrottle::Blocked(Counter& counter,
                                                           TimePoint now) {
  if (!counter.blocked_until) {
    return std::nullopt;
  }
  if (now >= *counter.blocked_until) {
    counter.blocked_until.reset();  // the back-off is over: a fresh start
    return std::nullopt;
  }
  auto left =
      std::chrono::ceil<std::chrono::seconds>(*counter.blocked_until - now);
  return left;
}

std::optional<std::string> LogonThrottle::Refusal(std::string_view comp_id,
                                                  std::string_view address,
                                                  TimePoint now) {
  std::lock_guard<std::mutex> guard(mu_);
  if (auto it = by_comp_id_.find(comp_id); it != by_comp_id_.end()) {
    if (auto left = Blocked(it->second, now)) {
      return "too many failed logons for " + std::string(comp_id) +
             "; retry in " + std::to_string(left->count()) + " s";
    }
  }
  if (!address.empty()) {
    if (auto it = by_address_.find(address); it != by_address_.end()) {
      if (auto left = Blocked(it->second, now)) {
        return "too many failed logons from this address; retry in " +
               std::to_string(left->count()) + " s";
      }
    }
  }
  return std::nullopt;
}

void LogonThrottle::Count(Counter& counter, int limit, TimePoint now) const {
  while (!counter.failures.empty() &&
         counter.failures.front() <= now - options_.window) {
    counter.failures.pop_front();
  }
  counter.failures.push_back(now);
  if (counter.failures.size() >= static_cast<std::size_t>(limit)) {
    counter.blocked_until = now + options_.backoff;
    counter.failures.clear();
  }
}

void LogonThrottle::RecordFailure(std::string_view comp_id,
                                  std::string_view address, TimePoint now) {
  std::lock_guard<std::mutex> guard(mu_);
  if (!comp_id.empty()) {
    auto comp = by_comp_id_.try_emplace(std::string(comp_id)).first;
    Count(comp->second, options_.failures_per_comp_id, now);
  }
  if (address.empty()) {
    return;
  }
  if (by_address_.size() >= kMaxTrackedAddresses &&
      by_address_.find(address) == by_address_.end()) {
    Prune(now);
  }
  auto addr = by_address_.try_emplace(std::string(address)).first;
  Count(addr->second, options_.failures_per_address, now);
}

void LogonThrottle::RecordSuccess(std::string_view comp_id) {
  std::lock_guard<std::mutex> guard(mu_);
  if (auto it = by_comp_id_.find(comp_id); it != by_comp_id_.end()) {
    it->second.failures.clear();
  }
}

void LogonThrottle::Prune(TimePoint now) {
  for (auto it = by_address_.begin(); it != by_address_.end();) {
    Counter& c = it->second;
    bool blocked = c.blocked_until && now < *c.blocked_until;
    bool recent =
        !c.failures.empty() && c.failures.back() > now - options_.window;
    it = blocked || recent ? std::next(it) : by_address_.erase(it);
  }
  // Still full (a storm from many addresses): forget the counts of some
  // addresses that are not blocked (down to 90 %, so that this runs seldom)
  // rather than grow without bound. Blocked addresses stay blocked.
  for (auto it = by_address_.begin();
       it != by_address_.end() &&
       by_address_.size() >= kMaxTrackedAddresses / 10 * 9;) {
    bool blocked = it->second.blocked_until && now < *it->second.blocked_until;
    it = blocked ? std::next(it) : by_address_.erase(it);
  }
}

std::size_t LogonThrottle::TrackedAddresses() const {
  std::lock_guard<std::mutex> guard(mu_);
  return by_address_.size();
}

// ---------------------------------------------------------------------------
// LogonRecorder

LogonRecorder::LogonRecorder(std::size_t max_records)
    : max_records_(max_records) {}

void LogonRecorder::Add(std::string_view comp_id, std::string_view address,
                        ledger::LogonOutcome outcome, std::string_view reason,
                        std::int64_t now_ns) {
  std::lock_guard<std::mutex> guard(mu_);
  Key key{std::string(comp_id), std::string(address), outcome,
          std::string(reason)};
  if (auto it = index_.find(key); it != index_.end()) {
    ledger::LogonEvent& e = pending_.events[it->second];
    if (e.count < UINT32_MAX) {
      ++e.count;
    }
    e.last = Timestamp(now_ns);
    return;
  }
  if (pending_.events.size() >= max_records_) {
    ++pending_.dropped;
    return;
  }
  ledger::LogonEvent e;
  e.comp_id = std::get<0>(key);
  e.address = std::get<1>(key);
  e.outcome = outcome;
  e.reason = std::get<3>(key);
  e.first = Timestamp(now_ns);
  e.last = e.first;
  index_.emplace(std::move(key), pending_.events.size());
  pending_.events.push_back(std::move(e));
}

LogonRecorder::Batch LogonRecorder::Take() {
  std::lock_guard<std::mutex> guard(mu_);
  Batch out = std::move(pending_);
  pending_ = Batch{};
  index_.clear();
  return out;
}

// ---------------------------------------------------------------------------
// PeerAddressOf
//
// QuickFIX 1.15 offers no accessor for the remote address of a session's
// connection; the connection and its socket are found through
// quickfix_members.h.

namespace {

std::string AddressOfSocket(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (fd < 0 ||
      ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "";
  }
  std::array<char, INET6_ADDRSTRLEN> text{};
  const void* raw = nullptr;
  if (addr.ss_family == AF_INET) {
    raw = &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr;
  } else if (addr.ss_family == AF_INET6) {
    raw = &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr;
  } else {
    return "";
  }
  if (::inet_ntop(addr.ss_family, raw, text.data(),
                  static_cast<socklen_t>(text.size())) == nullptr) {
    return "";
  }
  return text.data();
}

}  // namespace

std::string PeerAddressOf(const FIX::SessionID& id, AcceptorKind kind) {
  FIX::Session* session = FIX::Session::lookupSession(id);
  if (session == nullptr) {
    return "";
  }
  // A logged-on session's responder is the server's BatchingResponder in
  // front of the connection.
  return AddressOfSocket(SocketOfConnection(
      BatchingResponder::Unwrap(ResponderOf(*session)), kind));
}

std::string PeerAddressOfThisThread(FIX::Acceptor& acceptor,
                                    AcceptorKind kind) {
  // The acceptor records a connection's thread just after starting it, so
  // the thread's first message may come a moment before its record.
  const pthread_t self = ::pthread_self();
  for (int attempt = 0; attempt < 50; ++attempt) {
    int fd = -1;
    WithAcceptorSockets(acceptor, kind, [&](const AcceptorSockets& sockets) {
      for (const AcceptedConnection& c : sockets.connections) {
        if (::pthread_equal(c.thread, self) != 0) fd = c.fd;
      }
    });
    if (fd >= 0) return AddressOfSocket(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return "";
}

// ---------------------------------------------------------------------------
// Redaction

std::string RedactPasswords(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  std::size_t pos = 0;
  while (pos < raw.size()) {
    std::size_t end = raw.find('\x01', pos);
    std::string_view field =
        raw.substr(pos, end == std::string_view::npos ? std::string_view::npos
                                                      : end - pos);
    if (field.rfind("554=", 0) == 0 || field.rfind("925=", 0) == 0) {
      out.append(field.substr(0, 4));
      out.append("***");
    } else {
      out.append(field);
    }
    if (end == std::string_view::npos) {
      break;
    }
    out.push_back('\x01');
    pos = end + 1;
  }
  return out;
}

namespace {

constexpr std::string_view kUnknownSession =
    "Session not found for incoming message: ";

// `inner` (owned by `files`) may be null: then nothing is written.
// `on_unknown_session` may be null (session logs).
class RedactingLog : public FIX::Log {
 public:
  RedactingLog(FIX::Log* inner, FIX::FileLogFactory* files,
               const RedactingLogFactory::UnknownSessionHook* on_unknown)
      : inner_(inner), files_(files), on_unknown_(on_unknown) {}
  ~RedactingLog() override {
    if (inner_ != nullptr) files_->destroy(inner_);
  }
  RedactingLog(const RedactingLog&) = delete;
  RedactingLog& operator=(const RedactingLog&) = delete;

  void clear() override {
    if (inner_ != nullptr) inner_->clear();
  }
  void backup() override {
    if (inner_ != nullptr) inner_->backup();
  }
  void onIncoming(const std::string& text) override {
    if (inner_ != nullptr) inner_->onIncoming(RedactPasswords(text));
  }
  void onOutgoing(const std::string& text) override {
    if (inner_ != nullptr) inner_->onOutgoing(RedactPasswords(text));
  }
  void onEvent(const std::string& text) override {
    // e.g. "Session not found for incoming message: <the whole Logon>".
    if (inner_ != nullptr) inner_->onEvent(RedactPasswords(text));
    if (on_unknown_ != nullptr && *on_unknown_ &&
        text.compare(0, kUnknownSession.size(), kUnknownSession) == 0) {
      (*on_unknown_)(text.substr(kUnknownSession.size()));
    }
  }

 private:
  FIX::Log* inner_;
  FIX::FileLogFactory* files_;
  const RedactingLogFactory::UnknownSessionHook* on_unknown_;
};

}  // namespace

RedactingLogFactory::RedactingLogFactory(const FIX::SessionSettings* settings,
                                         UnknownSessionHook on_unknown_session)
    : on_unknown_session_(std::move(on_unknown_session)) {
  if (settings != nullptr) files_.emplace(*settings);
}

FIX::Log* RedactingLogFactory::create() {
  FIX::FileLogFactory* files = files_ ? &*files_ : nullptr;
  return new RedactingLog(files ? files->create() : nullptr, files,
                          &on_unknown_session_);
}

FIX::Log* RedactingLogFactory::create(const FIX::SessionID& id) {
  FIX::FileLogFactory* files = files_ ? &*files_ : nullptr;
  return new RedactingLog(files ? files->create(id) : nullptr, files, nullptr);
}

void RedactingLogFactory::destroy(FIX::Log* log) { delete log; }

}  // namespace carbonex::gateway
