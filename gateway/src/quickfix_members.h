// The private parts of QuickFIX 1.15 that the gateway needs and QuickFIX
// offers no accessor for, in one place.
//
// NameMember<Tag, &Class::member> names a private member: an explicit
// instantiation (`template struct NameMember<Tag, &Class::m_x>;`, the one
// place where the language does not check access) defines the friend
// MemberOf(Tag), which returns the member pointer. Each member is
// instantiated once in the program, in the .cpp that uses it
// (acceptor_sockets.cpp for the acceptors' records, quickfix_members.cpp for
// the session's responder). quickfix_members.cpp is part of the small
// carbonex_fix_responder library, which the FIX client links too.
#ifndef CARBONEX_GATEWAY_SRC_QUICKFIX_MEMBERS_H_
#define CARBONEX_GATEWAY_SRC_QUICKFIX_MEMBERS_H_

#include <cstdint>

namespace FIX {
class Responder;
class Session;
}  // namespace FIX

namespace carbonex::gateway {

// Which QuickFIX acceptor carries the sessions: PeerAddressOf
// (logon_security.h) and SocketOfConnection must know the connection class
// behind a session.
enum class AcceptorKind : std::uint8_t { kThreadedSocket, kThreadedSsl };

template <typename Tag, typename Tag::Type kMember>
struct NameMember {
  friend typename Tag::Type MemberOf(Tag) { return kMember; }
};

// The responder `session` sends through (FIX::Session::m_pResponder): its
// connection, or what was put in front of it; nullptr while it has none.
FIX::Responder* ResponderOf(const FIX::Session& session);

// The socket of `connection`, a responder that is a connection of the class
// the acceptor `kind` names creates (ThreadedSocketConnection or
// ThreadedSSLSocketConnection; the Responder is their private base, which
// only an explicit cast may cross). -1 for nullptr.
int SocketOfConnection(FIX::Responder* connection, AcceptorKind kind);

// The socket of `connection`, a FIX::SocketConnection (the plain TCP
// connection of a FIX::SocketInitiator). -1 for nullptr.
int SocketOfInitiatorConnection(FIX::Responder* connection);

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_SRC_QUICKFIX_MEMBERS_H_
