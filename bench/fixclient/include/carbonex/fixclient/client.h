// carbonex::fixclient::Client: N FIX 4.4 initiator sessions to one exchange.
//
// A Client wraps one QuickFIX SocketInitiator. Each configured session is
// addressed by its index in ClientOptions::sessions. Logon carries
// Username(553) and Password(554) from the session's options; everything else
// at session level (heartbeats, resends, sequence numbers) is QuickFIX's.
//
// Inbound messages are queued per session: every application message, and
// the admin messages listed in ClientOptions::queued_admin_types (Logout and
// Reject by default, so a test can read the Text of a refused logon).
// Next() pops the oldest; WaitFor() removes and returns the first message that
// satisfies a predicate, leaving the others queued in order.
//
// Typical use:
//   ClientOptions options;
//   options.port = 9878;
//   options.sessions.push_back({.sender_comp_id = "BROKER1",
//                               .password = "secret"});
//   Client client(options);
//   if (Status s = client.Start(); !s.ok()) ...
//   if (Status s = client.WaitLoggedOn(0, 5s); !s.ok()) ...
//   client.Send(0, BuildNewOrderSingle(order));
//   auto report = client.WaitFor(0, IsExecutionReportFor("o1"), 5s);
//
// Thread-safety: every public member function may be called from any thread
// concurrently, except that Start() and Stop() must not race each other or
// the destructor. QuickFIX delivers messages on its own thread; the optional
// ClientOptions::on_app_message callback runs there.
#ifndef CARBONEX_FIXCLIENT_CLIENT_H_
#define CARBONEX_FIXCLIENT_CLIENT_H_

#include <quickfix/Message.h>
#include <quickfix/SessionID.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "carbonex/common/status.h"

namespace FIX {
class Session;
}  // namespace FIX

namespace carbonex::fixclient {

// The path of the standard FIX 4.4 data dictionary the client validates
// with; fixed at build time (bench/fixclient/FIX44.xml in the source tree).
const std::string& DefaultDataDictionaryPath();

struct SessionOptions {
  std::string sender_comp_id;
  std::string target_comp_id = "CARBONEX";
  // Username(553) on Logon; empty means the SenderCompID (the contract
  // requires them equal; a test may set another to see the refusal).
  std::string username;
  // Password(554) on Logon; empty sends no Password field.
  std::string password;
};

enum class StoreKind {
  kMemory,  // sequence numbers live in memory only
  kFile,    // QuickFIX FileStore under ClientOptions::store_dir
};

struct ClientOptions {
  std::string host = "127.0.0.1";
  int port = 9878;
  std::vector<SessionOptions> sessions;

  StoreKind store = StoreKind::kMemory;
  // Directory for the FileStore (created by QuickFIX if missing). Required
  // when store is kFile.
  std::string store_dir;
  // Directory for QuickFIX's message and event logs; empty: no logs.
  std::string log_dir;

  // Logon with ResetSeqNumFlag(141)=Y and sequence numbers reset to 1.
  bool reset_seq_num_on_logon = true;
  int heartbeat_interval_s = 30;
  // Seconds between connection attempts while a session is not logged on.
  int reconnect_interval_s = 1;

  // Data dictionary used to parse and check inbound messages (repeating
  // groups need it). Unknown fields are tolerated; a message that breaks the
  // dictionary is answered by QuickFIX with a Reject and is not queued.
  std::string data_dictionary = DefaultDataDictionaryPath();
  // Parse and check inbound messages with data_dictionary (QuickFIX
  // UseDataDictionary). Off: messages are parsed flat, without checks and
  // without repeating groups; enough for execution reports and rejects, and
  // cheaper (the load generator turns it off).
  bool validate_inbound = true;
  // Keep every sent message for resends (QuickFIX PersistMessages). Off: a
  // ResendRequest is answered with a gap fill only (the load generator turns
  // it off: it never needs its orders resent).
  bool persist_messages = true;
  // TCP_NODELAY on the sessions' sockets (QuickFIX SocketNodelay): every
  // message leaves in its own segment at once. Off: Nagle's algorithm
  // coalesces messages sent while earlier ones are still unacknowledged into
  // fewer segments, as a client batching its writes would (no delay for a
  // message sent with nothing else in flight).
  bool tcp_nodelay = true;
  // Plain TCP only (ignored with TLS): each session writes through a
  // gateway::BatchingResponder, so that messages given to SendDeferred()
  // leave together, in one write per session, at FlushDeferred(). Off:
  // SendDeferred() is Send(), one write per message (QuickFIX's own).
  bool batch_writes = false;

  // FIX over TLS (QuickFIX's SSL initiator) when set: the PEM file of the CA
  // (or the self-signed certificate) that the exchange's certificate must be
  // signed by. Empty (the default): plain TCP.
  std::string tls_ca_file;
  // With TLS, a client certificate and its key (PEM), for an exchange that
  // requires one. Empty: none is presented.
  std::string tls_certificate_file;
  std::string tls_private_key_file;

  // Admin MsgTypes queued besides application messages.
  std::vector<std::string> queued_admin_types = {"5", "3"};

  // If set, inbound application messages go to this callback (on QuickFIX's
  // thread, with the session index) instead of the queue. Admin messages are
  // still queued. Used by the load generator to timestamp replies.
  std::function<void(std::size_t session, const FIX::Message& message)>
      on_app_message;
};

class Client {
 public:
  using Clock = std::chrono::steady_clock;
  using Predicate = std::function<bool(const FIX::Message&)>;

  explicit Client(ClientOptions options);
  ~Client();  // Stop()s if running.

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Creates the sessions and starts connecting (in the background; use
  // WaitLoggedOn). Errors: InvalidArgument for bad options (no sessions, an
  // empty or duplicate SenderCompID, kFile without store_dir),
  // FailedPrecondition if already started, IoError if QuickFIX refuses the
  // configuration (e.g. the data dictionary cannot be read).
  Status Start();

  // Logs every session out (waiting briefly for the Logout exchange) and
  // stops the initiator's thread. Queued messages stay readable. Idempotent.
  void Stop();

  [[nodiscard]] std::size_t SessionCount() const;
  // Precondition: session < SessionCount().
  [[nodiscard]] const FIX::SessionID& SessionId(std::size_t session) const;

  [[nodiscard]] bool IsLoggedOn(std::size_t session) const;
  // Number of completed logons of the session since Start().
  [[nodiscard]] int LogonCount(std::size_t session) const;

  // Waits until the session is logged on. Errors: InvalidArgument for a bad
  // index, FailedPrecondition if not started, Busy on timeout (the message
  // names the last Logout text received, if any).
  Status WaitLoggedOn(std::size_t session, std::chrono::milliseconds timeout);
  // Waits until the session is not logged on (e.g. after the server logged
  // it out). Errors as WaitLoggedOn.
  Status WaitLoggedOut(std::size_t session, std::chrono::milliseconds timeout);

  // Sends an application (or admin) message; the header is filled in.
  // Errors: InvalidArgument for a bad index, FailedPrecondition if the
  // session is not logged on, IoError if QuickFIX could not send it.
  Status Send(std::size_t session, const FIX::Message& message);
  // The same, for a message the caller gives up (sent without a copy; its
  // header is filled in).
  Status Send(std::size_t session, FIX::Message&& message);

  // Like Send(), but with ClientOptions::batch_writes the message (its
  // MsgSeqNum assigned, in QuickFIX's store like any sent message) only joins
  // the session's write buffer; FlushDeferred() writes it. A buffer past
  // 64 KiB is written at once, as far as the socket takes it. Another
  // thread's Send() on the session writes the buffer first.
  Status SendDeferred(std::size_t session, FIX::Message&& message);
  // Send() and SendDeferred() of a message written straight into wire form:
  // `body` holds its body fields (WriteNewOrderSingle and the like), sent
  // with gateway::SendSerialized, so no FIX::Message is built.
  Status SendBody(std::size_t session, std::string_view msg_type,
                  std::string_view body);
  Status SendBodyDeferred(std::size_t session, std::string_view msg_type,
                          std::string_view body);
  // Writes every session's deferred messages, waiting up to kWriteTimeout
  // for room. IoError naming the first session whose write failed: its
  // connection is broken, or the exchange did not read (nothing more is
  // written to that connection; QuickFIX reconnects the session).
  Status FlushDeferred();
  // How long a write waits for room in the socket (batch_writes only).
  static constexpr std::chrono::seconds kWriteTimeout{10};

  // Pops the oldest queued message, waiting up to timeout. nullopt on
  // timeout or a bad index.
  std::optional<FIX::Message> Next(std::size_t session,
                                   std::chrono::milliseconds timeout);

  // Removes and returns the first queued message (oldest first) for which
  // predicate is true, waiting up to timeout for one to arrive. Messages
  // that do not match stay queued in order. nullopt on timeout.
  std::optional<FIX::Message> WaitFor(std::size_t session,
                                      const Predicate& predicate,
                                      std::chrono::milliseconds timeout);

  // Number of messages queued for the session.
  [[nodiscard]] std::size_t Pending(std::size_t session) const;

  // Sends Logout (with Text, if given) and waits until the session is logged
  // out. QuickFIX will not reconnect the session until Start() of a new
  // Client. Errors as WaitLoggedOut.
  Status Logout(std::size_t session, const std::string& text,
                std::chrono::milliseconds timeout);

 private:
  class Application;
  struct State;

  // Send(), SendDeferred() and their SendBody() forms: `send` sends through
  // the session (with the responder deferring when `defer`), `msg_type`
  // names the message in errors.
  Status SendOn(std::size_t session, bool defer, std::string_view msg_type,
                const std::function<bool(FIX::Session&)>& send);

  ClientOptions options_;  // Constant after construction.
  std::unique_ptr<State> state_;
  std::unique_ptr<Application> application_;
};

// Predicates for WaitFor.
// A message of the given MsgType(35).
Client::Predicate IsMsgType(std::string msg_type);
// An ExecutionReport (8) whose ClOrdID(11) is cl_ord_id, optionally also with
// the given ExecType(150).
Client::Predicate IsExecutionReportFor(std::string cl_ord_id,
                                       std::optional<char> exec_type = {});

}  // namespace carbonex::fixclient

#endif  // CARBONEX_FIXCLIENT_CLIENT_H_
