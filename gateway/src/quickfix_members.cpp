#include "quickfix_members.h"

// QuickFIX declares its SSL classes only when HAVE_SSL is set; Debian's
// libquickfix is built with OpenSSL.
#ifndef HAVE_SSL
#define HAVE_SSL 1
#endif

#include <quickfix/Session.h>
#include <quickfix/SocketConnection.h>
#include <quickfix/ThreadedSSLSocketConnection.h>
#include <quickfix/ThreadedSocketConnection.h>

namespace carbonex::gateway {

// In this namespace, as NameMember is: the friend it declares must be the
// one NameMember defines.
struct SessionResponder {
  using Type = FIX::Responder* FIX::Session::*;
  friend Type MemberOf(SessionResponder);
};

template struct NameMember<SessionResponder, &FIX::Session::m_pResponder>;

FIX::Responder* ResponderOf(const FIX::Session& session) {
  return session.*MemberOf(SessionResponder{});
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
