// BatchingResponder: coalesces a session's outbound FIX messages into one
// socket write.
//
// QuickFIX writes every message it sends with its own call into the
// connection (its Responder), one system call each. A BatchingResponder sits
// between a logged-on FIX::Session and its connection: a thread that has
// several messages to send marks all but the last with HoldOnThisThread(true);
// those are appended to a buffer instead of written, and the next message
// sent without the mark (from any thread) is written together with the
// buffer, in one call into the connection.
//
// Order and sequence numbers are unchanged: FIX::Session assigns MsgSeqNum,
// stores the message and calls its responder under its own lock, so the
// buffer holds messages in sequence order, and every message is in the
// session's store before it reaches the buffer (a message lost with a
// dropped connection is resent on request, as any unsent message is).
// Nothing else about the session changes: QuickFIX still parses, validates,
// sequences and stores every message. Over TLS the connection still does the
// writing; over plain TCP the responder writes to the connection's socket
// itself, because QuickFIX 1.15.1's ThreadedSocketConnection::send passes
// the whole length again after a partial write (it would read past the
// message), which larger writes would make likelier.
//
// Lifetime: Attach() is called on the thread that reads the session's
// connection when it logs on (the Session's responder is then its
// connection). The connection replaces
// or clears the Session's responder itself when it closes; the buffer is
// dropped at the next Attach() or disconnect().
//
// Without blocking: a thread that must never wait on a broker's socket (the
// server's sequencer) marks its sends with DeferOnThisThread(true). They are
// appended to the buffer, and FlushWithoutBlocking() then writes what the
// socket takes at once; whatever stays behind is written by the next send
// from any other thread, or by Flush(), which the caller leaves to a thread
// that may block (the session's sender). Bytes are written in the order the
// session sent them, whichever thread writes them.
//
// Thread-safety: send(), disconnect() and the flushes may be called from any
// thread (they take an internal lock); HoldOnThisThread() and
// DeferOnThisThread() affect the calling thread only.
#ifndef CARBONEX_GATEWAY_BATCHING_RESPONDER_H_
#define CARBONEX_GATEWAY_BATCHING_RESPONDER_H_

#include <quickfix/Responder.h>
#include <quickfix/Session.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>

namespace carbonex::gateway {

class BatchingResponder final : public FIX::Responder {
 public:
  // Most bytes held before a held message is written anyway.
  static constexpr std::size_t kMaxHeldBytes = std::size_t{64} * 1024;

  // The connection class behind a session, for Attach().
  enum class Connection : std::uint8_t {
    kAcceptorSocket,   // FIX::ThreadedSocketConnection (plain TCP)
    kInitiatorSocket,  // FIX::SocketConnection of a SocketInitiator
    kOther,            // any other (TLS): it is forwarded to, never bypassed
  };

  // Puts this responder in front of `session`'s current one, a connection
  // of the class `connection` names; a plain TCP socket is then written
  // directly. Returns false (and changes nothing) when the session has no
  // responder or already has this one.
  bool Attach(FIX::Session& session, Connection connection);

  // Forwards to `inner` from now on, writing to `fd` directly when fd >= 0;
  // drops anything held. Attach() calls it; tests call it with their own
  // responder or socket.
  void Reset(FIX::Responder* inner, int fd);

  // While true, messages this thread sends through a session with a
  // BatchingResponder are held (up to kMaxHeldBytes) for the next write.
  static void HoldOnThisThread(bool hold);

  // While true, messages this thread sends through a session with a
  // BatchingResponder are not written at all (send() reports success): they
  // are in the session's store already, and the broker gets them by resend
  // after its next logon. For a broker that does not read, so that its
  // sender stops filling a socket its own Logout must still get through.
  static void DiscardOnThisThread(bool discard);

  // While true, messages this thread sends are appended to the buffer (no
  // byte limit) and never written with a blocking call: past kMaxHeldBytes,
  // what the socket takes at once is written. The caller ends a run with
  // FlushWithoutBlocking(). Only with a plain socket (direct()).
  static void DeferOnThisThread(bool defer);

  // What FlushWithoutBlocking() left.
  enum class Flushed : std::uint8_t {
    kAll,     // nothing is left in the buffer
    kPartly,  // the socket is full: bytes are left for Flush()
    kFailed,  // the write failed (see write_failed()), or no connection
  };
  // Writes what the socket takes at once of the buffer.
  Flushed FlushWithoutBlocking();
  // Writes the whole buffer, blocking up to the socket's send timeout.
  // False when the write failed (write_failed()) or there is no connection.
  bool Flush();

  // Attached to a plain socket, which it writes itself (so deferred sends
  // are possible). Lock-free.
  bool direct() const;
  // A deferred send or FlushWithoutBlocking() found the socket full, and
  // bytes wait for Flush() (or another thread's send). Lock-free.
  bool stalled() const;

  // The responder a BatchingResponder forwards to, or `responder` itself.
  static FIX::Responder* Unwrap(FIX::Responder* responder);

  // FIX::Responder.
  bool send(const std::string& message) override;
  void disconnect() override;

  // A write to the current connection failed (for a plain socket: it stayed
  // full for the socket's send timeout, so the broker is not reading, or the
  // connection broke). Part of a message may have gone out, so nothing more
  // is written to that connection: every later send() fails too, until the
  // next Attach()/Reset(). FIX::Session ignores a failed write of an
  // application message, so its caller asks here.
  bool write_failed() const;

  // Every write to a plain socket that waits for room gives up at
  // `deadline` (steady clock) at the latest, even within the socket's send
  // timeout, including a write waiting already. For a stop that must end in
  // time. Lock-free.
  void SetDeadline(std::chrono::steady_clock::time_point deadline);

  // Messages written so far, and the calls into the connection that wrote
  // them (for tests and diagnostics).
  std::size_t messages_written() const;
  std::size_t writes() const;

 private:
  // mu_ held. To a plain socket: waits for room up to the socket's send
  // timeout (SO_SNDTIMEO, read at Reset) or the deadline, whichever is
  // first.
  bool Write(const std::string& bytes);
  // mu_ held, fd_ >= 0: writes what the socket takes now from the front of
  // held_ and erases it; false on a failed write.
  bool WriteSome();
  // mu_ held: writes all of held_ (Write) and empties it; false on a failed
  // write (then failed_ is set).
  bool WriteHeld();

  mutable std::mutex mu_;
  FIX::Responder* inner_ = nullptr;  // mu_
  int fd_ = -1;                      // mu_; >= 0: write here, not inner_
  std::chrono::nanoseconds send_timeout_{0};  // mu_; 0: none
  std::string held_;                          // mu_
  std::size_t held_count_ = 0;                // mu_
  // Written under mu_; read without it by write_failed(), once per message
  // on the sender's path.
  std::atomic<bool> failed_{false};
  std::atomic<bool> direct_{false};   // written under mu_
  std::atomic<bool> stalled_{false};  // written under mu_
  // steady_clock nanoseconds since its epoch; max: none.
  std::atomic<std::int64_t> deadline_ns_{
      std::numeric_limits<std::int64_t>::max()};
  std::size_t messages_written_ = 0;  // mu_
  std::size_t writes_ = 0;            // mu_
};

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_BATCHING_RESPONDER_H_
