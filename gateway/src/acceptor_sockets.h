// The sockets a QuickFIX threaded acceptor listens on and serves, read from
// its own record of them. QuickFIX 1.15 offers no accessor or connect
// callback for them; connection_limits.cpp uses this to set the send timeout
// and to end connections that never log on.
#ifndef CARBONEX_GATEWAY_SRC_ACCEPTOR_SOCKETS_H_
#define CARBONEX_GATEWAY_SRC_ACCEPTOR_SOCKETS_H_

#include <pthread.h>

#include <cstdint>
#include <functional>
#include <set>
#include <vector>

namespace FIX {
class Acceptor;
}  // namespace FIX

namespace carbonex::gateway {

// Which QuickFIX acceptor class serves the FIX port (quickfix_members.h).
enum class AcceptorKind : std::uint8_t;

// An accepted connection: its socket and the QuickFIX thread that serves it
// (and alone reads, writes and closes the socket).
struct AcceptedConnection {
  int fd;
  pthread_t thread;
};

struct AcceptorSockets {
  std::set<int> listening;
  std::vector<AcceptedConnection> connections;
};

// Calls `visit` with the acceptor's listening sockets and the connections
// it has accepted and not yet released, while holding the acceptor's lock.
// A connection's thread removes its entry under that lock before it ends,
// so every `thread` passed is alive during `visit`; its socket, though, may
// already be closed (the thread closes it first). `acceptor` must be of the
// class `kind` names; `visit` must be short and must not call into QuickFIX.
void WithAcceptorSockets(
    FIX::Acceptor& acceptor, AcceptorKind kind,
    const std::function<void(const AcceptorSockets&)>& visit);

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_SRC_ACCEPTOR_SOCKETS_H_
