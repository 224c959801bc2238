#include "quickfix_members.h"

// SendSerialized (fix_writer.h) is here too: it needs the session's private
// mutex and state.

// QuickFIX declares its SSL classes only when HAVE_SSL is set; Debian's
// libquickfix is built with OpenSSL.
#ifndef HAVE_SSL
#define HAVE_SSL 1
#endif

#include <quickfix/FieldConvertors.h>
#include <quickfix/Mutex.h>
#include <quickfix/Session.h>
#include <quickfix/SocketConnection.h>
#include <quickfix/ThreadedSSLSocketConnection.h>
#include <quickfix/ThreadedSocketConnection.h>

#include "carbonex/gateway/fix_writer.h"

namespace carbonex::gateway {

// In this namespace, as NameMember is: the friend it declares must be the
// one NameMember defines.
struct SessionResponder {
  using Type = FIX::Responder* FIX::Session::*;
  friend Type MemberOf(SessionResponder);
};

struct SessionMutex {
  using Type = FIX::Mutex FIX::Session::*;
  friend Type MemberOf(SessionMutex);
};

struct SessionStateOf {
  using Type = FIX::SessionState FIX::Session::*;
  friend Type MemberOf(SessionStateOf);
};

template struct NameMember<SessionResponder, &FIX::Session::m_pResponder>;
template struct NameMember<SessionMutex, &FIX::Session::m_mutex>;
template struct NameMember<SessionStateOf, &FIX::Session::m_state>;

FIX::Responder* ResponderOf(const FIX::Session& session) {
  return session.*MemberOf(SessionResponder{});
}

bool SendSerialized(FIX::Session& session, std::string_view msg_type,
                    std::string_view body, std::string* scratch) {
  // Session::sendRaw for an application message, step by step.
  FIX::Locker lock(session.*MemberOf(SessionMutex{}));
  FIX::SessionState& state = session.*MemberOf(SessionStateOf{});
  const bool logged_on = session.isLoggedOn();
  if (!logged_on &&
      (session.getResetOnLogon() || session.getResetOnLogout() ||
       session.getResetOnDisconnect()) &&
      session.getExpectedSenderNum() == 1 &&
      session.getExpectedTargetNum() == 1) {
    return false;  // the logon would clear it from the store at once
  }
  try {
    const FIX::SessionID& id = session.getSessionID();
    const FIX::UtcTimeStamp now;
    state.lastSentTime(now);
    // SendingTime as Session::insertSendingTime writes it: with the
    // session's precision from FIX 4.2 on.
    const std::string& begin_string = id.getBeginString().getValue();
    const std::string sending_time = FIX::UtcTimeStampConvertor::convert(
        now, begin_string >= FIX::BeginString_FIX42
                 ? session.getTimestampPrecision()
                 : 0);
    const int seq = session.getExpectedSenderNum();
    scratch->clear();
    FrameFixMessage({.begin_string = begin_string,
                     .msg_seq_num = seq,
                     .sender_comp_id = id.getSenderCompID().getValue(),
                     .sending_time = sending_time,
                     .target_comp_id = id.getTargetCompID().getValue()},
                    msg_type, body, scratch);
    if (session.getPersistMessages()) state.set(seq, *scratch);
    state.incrNextSenderMsgSeqNum();
    FIX::Responder* responder = session.*MemberOf(SessionResponder{});
    if (logged_on && responder != nullptr) {
      state.onOutgoing(*scratch);
      (void)responder->send(*scratch);
    }
  } catch (const FIX::IOException& e) {
    state.onEvent(e.what());
    return false;
  }
  return true;
}

int SocketOfConnection(FIX::Responder* connection, AcceptorKind kind) {
  if (connection == nullptr) return -1;
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wold-style-cast"
  // NOLINTBEGIN(cppcoreguidelines-pro-type-cstyle-cast)
  return kind == AcceptorKind::kThreadedSsl
             ? ((FIX::ThreadedSSLSocketConnection*)connection)->getSocket()
             : ((FIX::ThreadedSocketConnection*)connection)->getSocket();
  // NOLINTEND(cppcoreguidelines-pro-type-cstyle-cast)
#pragma clang diagnostic pop
}

int SocketOfInitiatorConnection(FIX::Responder* connection) {
  if (connection == nullptr) return -1;
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wold-style-cast"
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-cstyle-cast)
  return ((FIX::SocketConnection*)connection)->getSocket();
#pragma clang diagnostic pop
}

}  // namespace carbonex::gateway
