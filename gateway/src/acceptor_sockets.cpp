#include "acceptor_sockets.h"

// QuickFIX declares its SSL classes only when HAVE_SSL is set; Debian's
// libquickfix is built with OpenSSL.
#ifndef HAVE_SSL
#define HAVE_SSL 1
#endif

#include <quickfix/Mutex.h>
#include <quickfix/ThreadedSSLSocketAcceptor.h>
#include <quickfix/ThreadedSocketAcceptor.h>

#include <map>
#include <utility>

#include "logon_security.h"

namespace carbonex::gateway {
namespace {

// QuickFIX 1.15's threaded acceptors keep their listening sockets
// (m_sockets) and every socket they serve with its thread (m_threads: the
// listening sockets with their accepting threads, and each accepted
// connection with its connection thread, added on accept and removed when
// that thread ends) in private members, guarded by m_mutex. The members are
// named here through explicit template instantiations, the one place where
// the language does not check access (as PeerAddressOf does for the
// session's connection).

template <typename Tag, typename Tag::Type kMember>
struct NameMember {
  friend typename Tag::Type MemberOf(Tag) { return kMember; }
};

struct PlainSockets {
  using Type = std::set<int> FIX::ThreadedSocketAcceptor::*;
  friend Type MemberOf(PlainSockets);
};
struct PlainThreads {
  using Type = std::map<int, FIX::thread_id> FIX::ThreadedSocketAcceptor::*;
  friend Type MemberOf(PlainThreads);
};
struct PlainMutex {
  using Type = FIX::Mutex FIX::ThreadedSocketAcceptor::*;
  friend Type MemberOf(PlainMutex);
};
struct SslSockets {
  using Type = std::set<int> FIX::ThreadedSSLSocketAcceptor::*;
  friend Type MemberOf(SslSockets);
};
struct SslThreads {
  using Type = std::map<std::pair<int, SSL*>, FIX::thread_id>
      FIX::ThreadedSSLSocketAcceptor::*;
  friend Type MemberOf(SslThreads);
};
struct SslMutex {
  using Type = FIX::Mutex FIX::ThreadedSSLSocketAcceptor::*;
  friend Type MemberOf(SslMutex);
};

template struct NameMember<PlainSockets,
                           &FIX::ThreadedSocketAcceptor::m_sockets>;
template struct NameMember<PlainThreads,
                           &FIX::ThreadedSocketAcceptor::m_threads>;
template struct NameMember<PlainMutex, &FIX::ThreadedSocketAcceptor::m_mutex>;
template struct NameMember<SslSockets,
                           &FIX::ThreadedSSLSocketAcceptor::m_sockets>;
template struct NameMember<SslThreads,
                           &FIX::ThreadedSSLSocketAcceptor::m_threads>;
template struct NameMember<SslMutex, &FIX::ThreadedSSLSocketAcceptor::m_mutex>;

}  // namespace

void WithAcceptorSockets(
    FIX::Acceptor& acceptor, AcceptorKind kind,
    const std::function<void(const AcceptorSockets&)>& visit) {
  AcceptorSockets sockets;
  // The acceptor is created in server.cpp as the class `kind` names.
  if (kind == AcceptorKind::kThreadedSsl) {
    auto& ssl = static_cast<FIX::ThreadedSSLSocketAcceptor&>(acceptor);
    FIX::Locker lock(ssl.*MemberOf(SslMutex{}));
    sockets.listening = ssl.*MemberOf(SslSockets{});
    for (const auto& [key, thread] : ssl.*MemberOf(SslThreads{})) {
      if (sockets.listening.count(key.first) == 0) {
        sockets.connections.push_back({key.first, thread});
      }
    }
    visit(sockets);
  } else {
    auto& plain = static_cast<FIX::ThreadedSocketAcceptor&>(acceptor);
    FIX::Locker lock(plain.*MemberOf(PlainMutex{}));
    sockets.listening = plain.*MemberOf(PlainSockets{});
    for (const auto& [fd, thread] : plain.*MemberOf(PlainThreads{})) {
      if (sockets.listening.count(fd) == 0) {
        sockets.connections.push_back({fd, thread});
      }
    }
    visit(sockets);
  }
}

}  // namespace carbonex::gateway
