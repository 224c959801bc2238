// The private parts of QuickFIX 1.15 that the gateway needs and QuickFIX
// offers no accessor for, in one place.
//
// NameMember<Tag, &Class::member> names a private member: an explicit
// instantiation (`template struct NameMember<Tag, &Class::m_x>;`, the one
// place where the language does not check access) defines the friend
// MemberOf(Tag), which returns the member pointer. Each member is
// instantiated once in the program, in the .cpp that uses it
// (acceptor_sockets.cpp for the acceptors' records, quickfix_members.cpp for
// the session's responder).
#ifndef CARBONEX_GATEWAY_SRC_QUICKFIX_MEMBERS_H_
#define CARBONEX_GATEWAY_SRC_QUICKFIX_MEMBERS_H_

#include <cstdint>

namespace FIX {
class Responder;
class Session;
}  // namespace FIX

namespace carbonex::gateway {

// Which QuickFIX acceptor class serves the FIX port (logon_security.h).
enum class AcceptorKind : std::uint8_t;

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

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_SRC_QUICKFIX_MEMBERS_H_
