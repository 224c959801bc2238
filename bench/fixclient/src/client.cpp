#include "carbonex/fixclient/client.h"

#include <quickfix/Application.h>
#include <quickfix/Dictionary.h>
#include <quickfix/Exceptions.h>
#include <quickfix/FieldNumbers.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>
// QuickFIX declares its SSL classes only when HAVE_SSL is set; Debian's
// libquickfix is built with OpenSSL.
#ifndef HAVE_SSL
#define HAVE_SSL 1
#endif
#include <quickfix/SSLSocketInitiator.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "carbonex/fixclient/messages.h"
#include "carbonex/gateway/batching_responder.h"
#include "carbonex/gateway/fix_writer.h"

#ifndef CARBONEX_FIX44_DICTIONARY
#error "CARBONEX_FIX44_DICTIONARY must name the FIX44.xml path"
#endif

namespace carbonex::fixclient {
namespace {

// How long Stop() waits for the Logout exchange before disconnecting.
constexpr std::chrono::milliseconds kStopLogoutWait{2000};

using gateway::BatchingResponder;

struct SessionSlot {
  FIX::SessionID id;
  FIX::Session* session = nullptr;  // looked up at its first Send
  // With ClientOptions::batch_writes: in front of the session's connection
  // from its logon on (plain TCP). It outlives the initiator.
  std::unique_ptr<BatchingResponder> responder;
  bool deferred = false;  // SendDeferred() left bytes for FlushDeferred()
  bool logged_on = false;
  int logons = 0;
  std::string last_logout_text;
  std::deque<FIX::Message> inbox;
};

}  // namespace

const std::string& DefaultDataDictionaryPath() {
  static const std::string kPath = CARBONEX_FIX44_DICTIONARY;
  return kPath;
}

struct Client::State {
  // Guards every SessionSlot's mutable fields and started/stopped.
  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<SessionSlot> slots;
  std::map<FIX::SessionID, std::size_t> index;  // Constant after construction.
  bool started = false;
  bool stopped = false;

  // Owned QuickFIX objects; created by Start(), destroyed after the
  // initiator has stopped.
  std::unique_ptr<FIX::SessionSettings> settings;
  std::unique_ptr<FIX::MessageStoreFactory> store;
  std::unique_ptr<FIX::LogFactory> log;
  std::unique_ptr<FIX::Initiator> initiator;

  std::optional<std::size_t> IndexOf(const FIX::SessionID& id) const {
    auto it = index.find(id);
    if (it == index.end()) {
      return std::nullopt;
    }
    return it->second;
  }
};

// The QuickFIX callbacks. Runs on the initiator's thread.
class Client::Application : public FIX::Application {
 public:
  Application(const ClientOptions& options, State& state)
      : options_(options),
        state_(state),
        queued_admin_(options.queued_admin_types.begin(),
                      options.queued_admin_types.end()) {}

  void onCreate(const FIX::SessionID& /*id*/) override {}

  void onLogon(const FIX::SessionID& id) override {
    auto i = state_.IndexOf(id);
    if (!i) {
      return;
    }
    // On the initiator's thread, which reads the connection: its
    // SocketConnection is the session's responder now.
    if (BatchingResponder* responder = state_.slots[*i].responder.get()) {
      if (FIX::Session* session = FIX::Session::lookupSession(id)) {
        (void)responder->Attach(
            *session, BatchingResponder::Connection::kInitiatorSocket);
      }
    }
    {
      std::lock_guard lock(state_.mu);
      state_.slots[*i].logged_on = true;
      ++state_.slots[*i].logons;
    }
    state_.cv.notify_all();
  }

  void onLogout(const FIX::SessionID& id) override {
    auto i = state_.IndexOf(id);
    if (!i) {
      return;
    }
    {
      std::lock_guard lock(state_.mu);
      state_.slots[*i].logged_on = false;
    }
    state_.cv.notify_all();
  }

  void toAdmin(FIX::Message& message, const FIX::SessionID& id) override {
    if (MsgTypeOf(message) != "A") {
      return;
    }
    auto i = state_.IndexOf(id);
    if (!i) {
      return;
    }
    const SessionOptions& session = options_.sessions[*i];
    message.setField(FIX::FIELD::Username, session.username.empty()
                                               ? session.sender_comp_id
                                               : session.username);
    if (!session.password.empty()) {
      message.setField(FIX::FIELD::Password, session.password);
    }
  }

  void toApp(FIX::Message& /*message*/,
             const FIX::SessionID& /*id*/) noexcept override {}

  void fromAdmin(const FIX::Message& message,
                 const FIX::SessionID& id) noexcept override {
    const std::string type = MsgTypeOf(message);
    auto i = state_.IndexOf(id);
    if (!i) {
      return;
    }
    {
      std::lock_guard lock(state_.mu);
      SessionSlot& slot = state_.slots[*i];
      if (type == "5") {
        slot.last_logout_text = FieldOf(message, FIX::FIELD::Text).value_or("");
      }
      if (queued_admin_.count(type) == 0) {
        return;
      }
      slot.inbox.push_back(message);
    }
    state_.cv.notify_all();
  }

  void fromApp(const FIX::Message& message,
               const FIX::SessionID& id) noexcept override {
    auto i = state_.IndexOf(id);
    if (!i) {
      return;
    }
    if (options_.on_app_message) {
      options_.on_app_message(*i, message);
      return;
    }
    {
      std::lock_guard lock(state_.mu);
      state_.slots[*i].inbox.push_back(message);
    }
    state_.cv.notify_all();
  }

 private:
  const ClientOptions& options_;
  State& state_;
  const std::set<std::string> queued_admin_;
};

Client::Client(ClientOptions options)
    : options_(std::move(options)), state_(std::make_unique<State>()) {
  for (std::size_t i = 0; i < options_.sessions.size(); ++i) {
    const SessionOptions& session = options_.sessions[i];
    FIX::SessionID id("FIX.4.4", session.sender_comp_id,
                      session.target_comp_id);
    state_->slots.push_back(SessionSlot{.id = id});
    if (options_.batch_writes && options_.tls_ca_file.empty()) {
      state_->slots.back().responder = std::make_unique<BatchingResponder>();
    }
    state_->index.emplace(id, i);
  }
  application_ = std::make_unique<Application>(options_, *state_);
}

Client::~Client() { Stop(); }

Status Client::Start() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->started) {
      return Status::FailedPrecondition("fix client: already started");
    }
  }
  if (options_.sessions.empty()) {
    return Status::InvalidArgument("fix client: no sessions configured");
  }
  if (state_->index.size() != options_.sessions.size()) {
    return Status::InvalidArgument(
        "fix client: two sessions have the same SenderCompID/TargetCompID");
  }
  for (const SessionOptions& session : options_.sessions) {
    if (session.sender_comp_id.empty() || session.target_comp_id.empty()) {
      return Status::InvalidArgument(
          "fix client: empty SenderCompID or TargetCompID");
    }
  }
  if (options_.store == StoreKind::kFile && options_.store_dir.empty()) {
    return Status::InvalidArgument("fix client: a file store needs store_dir");
  }
  if (options_.port <= 0 || options_.port > 65535) {
    return Status::InvalidArgument("fix client: port " +
                                   std::to_string(options_.port) +
                                   " is out of range");
  }

  try {
    auto settings = std::make_unique<FIX::SessionSettings>();
    FIX::Dictionary defaults;
    defaults.setString("ConnectionType", "initiator");
    defaults.setString("BeginString", "FIX.4.4");
    defaults.setString("SocketConnectHost", options_.host);
    defaults.setInt("SocketConnectPort", options_.port);
    defaults.setInt("HeartBtInt", options_.heartbeat_interval_s);
    defaults.setInt("ReconnectInterval", options_.reconnect_interval_s);
    // Always in session: the exchange, not the client, decides when the
    // market is open.
    defaults.setString("StartTime", "00:00:00");
    defaults.setString("EndTime", "00:00:00");
    defaults.setBool("ResetOnLogon", options_.reset_seq_num_on_logon);
    defaults.setBool("UseDataDictionary", options_.validate_inbound);
    if (options_.validate_inbound) {
      defaults.setString("DataDictionary", options_.data_dictionary);
    }
    defaults.setBool("PersistMessages", options_.persist_messages);
    defaults.setBool("ValidateUserDefinedFields", false);
    defaults.setBool("AllowUnknownMsgFields", true);
    defaults.setBool("ValidateFieldsOutOfOrder", false);
    defaults.setBool("CheckLatency", false);
    defaults.setBool("SocketNodelay", options_.tcp_nodelay);
    if (options_.store == StoreKind::kFile) {
      defaults.setString("FileStorePath", options_.store_dir);
    }
    if (!options_.log_dir.empty()) {
      defaults.setString("FileLogPath", options_.log_dir);
    }
    const bool tls = !options_.tls_ca_file.empty();
    if (tls) {
      defaults.setString("CertificationAuthoritiesFile", options_.tls_ca_file);
      defaults.setString("SSLProtocol", "-all +TLSv1_2");
      if (!options_.tls_certificate_file.empty()) {
        defaults.setString("ClientCertificateFile",
                           options_.tls_certificate_file);
        defaults.setString("ClientCertificateKeyFile",
                           options_.tls_private_key_file);
      }
    }
    settings->set(defaults);
    for (const SessionSlot& slot : state_->slots) {
      settings->set(slot.id, FIX::Dictionary());
    }

    if (options_.store == StoreKind::kFile) {
      state_->store = std::make_unique<FIX::FileStoreFactory>(*settings);
    } else {
      state_->store = std::make_unique<FIX::MemoryStoreFactory>();
    }
    if (!options_.log_dir.empty()) {
      state_->log = std::make_unique<FIX::FileLogFactory>(*settings);
    }
    if (tls && state_->log) {
      state_->initiator = std::make_unique<FIX::SSLSocketInitiator>(
          *application_, *state_->store, *settings, *state_->log);
    } else if (tls) {
      state_->initiator = std::make_unique<FIX::SSLSocketInitiator>(
          *application_, *state_->store, *settings);
    } else if (state_->log) {
      state_->initiator = std::make_unique<FIX::SocketInitiator>(
          *application_, *state_->store, *settings, *state_->log);
    } else {
      state_->initiator = std::make_unique<FIX::SocketInitiator>(
          *application_, *state_->store, *settings);
    }
    state_->settings = std::move(settings);
    {
      std::lock_guard lock(state_->mu);
      state_->started = true;
    }
    state_->initiator->start();
  } catch (const FIX::Exception& e) {
    state_->initiator.reset();
    std::lock_guard lock(state_->mu);
    state_->started = false;
    return Status::IoError(std::string("fix client: QuickFIX refused to "
                                       "start: ") +
                           e.what());
  }
  return Status::Ok();
}

void Client::Stop() {
  {
    std::lock_guard lock(state_->mu);
    if (!state_->started || state_->stopped) {
      return;
    }
    state_->stopped = true;
  }
  // Log out ourselves and wait for the exchanges, so that the initiator
  // need not poll in one-second steps.
  for (const SessionSlot& slot : state_->slots) {
    if (FIX::Session* session = FIX::Session::lookupSession(slot.id)) {
      if (session->isLoggedOn()) {
        session->logout();
      }
    }
  }
  {
    std::unique_lock lock(state_->mu);
    state_->cv.wait_for(lock, kStopLogoutWait, [&] {
      return std::none_of(state_->slots.begin(), state_->slots.end(),
                          [](const SessionSlot& s) { return s.logged_on; });
    });
  }
  if (!state_->initiator) {
    return;
  }
  try {
    state_->initiator->stop(/*force=*/true);
  } catch (const FIX::Exception&) {
    // Stopping is best effort; the sockets close with the initiator.
  }
  state_->initiator.reset();
  state_->log.reset();
  state_->store.reset();
  state_->settings.reset();
}

std::size_t Client::SessionCount() const { return state_->slots.size(); }

const FIX::SessionID& Client::SessionId(std::size_t session) const {
  return state_->slots[session].id;
}

bool Client::IsLoggedOn(std::size_t session) const {
  if (session >= state_->slots.size()) {
    return false;
  }
  std::lock_guard lock(state_->mu);
  return state_->slots[session].logged_on;
}

int Client::LogonCount(std::size_t session) const {
  if (session >= state_->slots.size()) {
    return 0;
  }
  std::lock_guard lock(state_->mu);
  return state_->slots[session].logons;
}

Status Client::WaitLoggedOn(std::size_t session,
                            std::chrono::milliseconds timeout) {
  if (session >= state_->slots.size()) {
    return Status::InvalidArgument("fix client: no session " +
                                   std::to_string(session));
  }
  std::unique_lock lock(state_->mu);
  if (!state_->started) {
    return Status::FailedPrecondition("fix client: not started");
  }
  SessionSlot& slot = state_->slots[session];
  if (state_->cv.wait_for(lock, timeout, [&] { return slot.logged_on; })) {
    return Status::Ok();
  }
  std::string message = "fix client: session " + slot.id.toString() +
                        " did not log on within " +
                        std::to_string(timeout.count()) + " ms";
  if (!slot.last_logout_text.empty()) {
    message += " (last Logout: " + slot.last_logout_text + ")";
  }
  return Status::Busy(message);
}

Status Client::WaitLoggedOut(std::size_t session,
                             std::chrono::milliseconds timeout) {
  if (session >= state_->slots.size()) {
    return Status::InvalidArgument("fix client: no session " +
                                   std::to_string(session));
  }
  std::unique_lock lock(state_->mu);
  if (!state_->started) {
    return Status::FailedPrecondition("fix client: not started");
  }
  SessionSlot& slot = state_->slots[session];
  if (state_->cv.wait_for(lock, timeout, [&] { return !slot.logged_on; })) {
    return Status::Ok();
  }
  return Status::Busy("fix client: session " + slot.id.toString() +
                      " still logged on after " +
                      std::to_string(timeout.count()) + " ms");
}

Status Client::Send(std::size_t session, const FIX::Message& message) {
  FIX::Message copy(message);
  return Send(session, std::move(copy));
}

Status Client::Send(std::size_t session, FIX::Message&& message) {
  return SendOn(session, /*defer=*/false, MsgTypeOf(message),
                [&](FIX::Session& s) { return s.send(message); });
}

Status Client::SendDeferred(std::size_t session, FIX::Message&& message) {
  return SendOn(session, /*defer=*/true, MsgTypeOf(message),
                [&](FIX::Session& s) { return s.send(message); });
}

namespace {

// SendSerialized's framed message, one per sending thread.
std::string& SerializeScratch() {
  thread_local std::string scratch;
  return scratch;
}

}  // namespace

Status Client::SendBody(std::size_t session, std::string_view msg_type,
                        std::string_view body) {
  return SendOn(session, /*defer=*/false, msg_type, [&](FIX::Session& s) {
    return gateway::SendSerialized(s, msg_type, body, &SerializeScratch());
  });
}

Status Client::SendBodyDeferred(std::size_t session, std::string_view msg_type,
                                std::string_view body) {
  return SendOn(session, /*defer=*/true, msg_type, [&](FIX::Session& s) {
    return gateway::SendSerialized(s, msg_type, body, &SerializeScratch());
  });
}

Status Client::SendOn(std::size_t session, bool defer,
                      std::string_view msg_type,
                      const std::function<bool(FIX::Session&)>& send) {
  if (session >= state_->slots.size()) {
    return Status::InvalidArgument("fix client: no session " +
                                   std::to_string(session));
  }
  FIX::Session* fix_session = nullptr;
  BatchingResponder* responder = nullptr;
  {
    std::lock_guard lock(state_->mu);
    SessionSlot& slot = state_->slots[session];
    if (!slot.logged_on || state_->stopped) {
      return Status::FailedPrecondition(
          "fix client: session " + slot.id.toString() + " is not logged on");
    }
    // The initiator's Session objects live as long as it runs.
    if (slot.session == nullptr) {
      slot.session = FIX::Session::lookupSession(slot.id);
    }
    fix_session = slot.session;
    responder = slot.responder.get();
    if (responder != nullptr && defer) {
      slot.deferred = true;
    }
  }
  if (fix_session == nullptr) {
    return Status::FailedPrecondition("fix client: session " +
                                      state_->slots[session].id.toString() +
                                      " does not exist");
  }
  if (responder != nullptr) {
    responder->SetDeadline(Clock::now() + kWriteTimeout);
  }
  bool sent = false;
  try {
    BatchingResponder::DeferOnThisThread(defer);
    sent = send(*fix_session);
    BatchingResponder::DeferOnThisThread(false);
  } catch (const FIX::Exception& e) {
    BatchingResponder::DeferOnThisThread(false);
    return Status::IoError(std::string("fix client: send failed: ") + e.what());
  }
  // QuickFIX reports an application message sent whatever its write did;
  // the responder knows.
  if (!sent || (responder != nullptr && responder->write_failed())) {
    return Status::IoError("fix client: could not send " +
                           std::string(msg_type) + " on " +
                           state_->slots[session].id.toString());
  }
  return Status::Ok();
}

Status Client::FlushDeferred() {
  for (SessionSlot& slot : state_->slots) {
    {
      std::lock_guard lock(state_->mu);
      if (!slot.deferred) {
        continue;
      }
      slot.deferred = false;
    }
    slot.responder->SetDeadline(Clock::now() + kWriteTimeout);
    if (!slot.responder->Flush()) {
      return Status::IoError(
          "fix client: could not write what was deferred on " +
          slot.id.toString());
    }
  }
  return Status::Ok();
}

std::optional<FIX::Message> Client::Next(std::size_t session,
                                         std::chrono::milliseconds timeout) {
  return WaitFor(
      session, [](const FIX::Message& /*message*/) { return true; }, timeout);
}

std::optional<FIX::Message> Client::WaitFor(std::size_t session,
                                            const Predicate& predicate,
                                            std::chrono::milliseconds timeout) {
  if (session >= state_->slots.size()) {
    return std::nullopt;
  }
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lock(state_->mu);
  std::deque<FIX::Message>& inbox = state_->slots[session].inbox;
  // Messages before `checked` have been tested against predicate already.
  std::size_t checked = 0;
  for (;;) {
    for (; checked < inbox.size(); ++checked) {
      const auto it = inbox.begin() + static_cast<std::ptrdiff_t>(checked);
      if (predicate(*it)) {
        FIX::Message found(*it);  // FIX::Message has no move constructor
        inbox.erase(it);
        return found;
      }
    }
    if (state_->cv.wait_until(lock, deadline) == std::cv_status::timeout &&
        checked == inbox.size()) {
      return std::nullopt;
    }
  }
}

std::size_t Client::Pending(std::size_t session) const {
  if (session >= state_->slots.size()) {
    return 0;
  }
  std::lock_guard lock(state_->mu);
  return state_->slots[session].inbox.size();
}

Status Client::Logout(std::size_t session, const std::string& text,
                      std::chrono::milliseconds timeout) {
  if (session >= state_->slots.size()) {
    return Status::InvalidArgument("fix client: no session " +
                                   std::to_string(session));
  }
  FIX::Session* fix_session =
      FIX::Session::lookupSession(state_->slots[session].id);
  if (fix_session == nullptr) {
    return Status::FailedPrecondition("fix client: not started");
  }
  fix_session->logout(text);
  return WaitLoggedOut(session, timeout);
}

Client::Predicate IsMsgType(std::string msg_type) {
  return [type = std::move(msg_type)](const FIX::Message& message) {
    return MsgTypeOf(message) == type;
  };
}

Client::Predicate IsExecutionReportFor(std::string cl_ord_id,
                                       std::optional<char> exec_type) {
  return [id = std::move(cl_ord_id), exec_type](const FIX::Message& message) {
    if (MsgTypeOf(message) != "8") {
      return false;
    }
    if (FieldOf(message, FIX::FIELD::ClOrdID) != id) {
      return false;
    }
    if (!exec_type) {
      return true;
    }
    return FieldOf(message, FIX::FIELD::ExecType) == std::string(1, *exec_type);
  };
}

}  // namespace carbonex::fixclient
