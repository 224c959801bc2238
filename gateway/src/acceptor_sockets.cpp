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
#include "quickfix_members.h"

namespace carbonex::gateway {

// QuickFIX 1.15's threaded acceptors keep their listening sockets
// (m_sockets) and every socket they serve with its thread (m_threads: the
// listening sockets with their accepting threads, and each accepted
// connection with its connection thread, added on accept and removed when
// that thread ends) in private members, guarded by m_mutex. The members are
// named here with NameMember (quickfix_members.h). The tags live in this
// namespace, as NameMember does: the friend each declares must be the one
// NameMember defines.

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

// FIX::Mutex is a recursive lock built on a plain pthread mutex: lock()
// first reads its owner and count fields without holding anything, then
// takes the pthread mutex. (ThreadSanitizer reports that unlocked read as a
// race when two of our threads use the wrapper.) This code never locks
// recursively, so it takes the pthread mutex itself and leaves the fields
// alone: a QuickFIX thread that calls lock() meanwhile sees a count of 0
// and blocks on the same pthread mutex.
struct MutexHandle {
  using Type = pthread_mutex_t FIX::Mutex::*;
  friend Type MemberOf(MutexHandle);
};
template struct NameMember<MutexHandle, &FIX::Mutex::m_mutex>;

namespace {

class HeldLock {
 public:
  explicit HeldLock(FIX::Mutex& mutex)
      : handle_(&(mutex.*MemberOf(MutexHandle{}))) {
    ::pthread_mutex_lock(handle_);
  }
  ~HeldLock() { ::pthread_mutex_unlock(handle_); }
  HeldLock(const HeldLock&) = delete;
  HeldLock& operator=(const HeldLock&) = delete;

 private:
  pthread_mutex_t* handle_;
};

}  // namespace

void WithAcceptorSockets(
    FIX::Acceptor& acceptor, AcceptorKind kind,
    const std::function<void(const AcceptorSockets&)>& visit) {
  AcceptorSockets sockets;
  // The acceptor is created in server.cpp as the class `kind` names.
  if (kind == AcceptorKind::kThreadedSsl) {
    auto& ssl = static_cast<FIX::ThreadedSSLSocketAcceptor&>(acceptor);
    HeldLock lock(ssl.*MemberOf(SslMutex{}));
    sockets.listening = ssl.*MemberOf(SslSockets{});
    for (const auto& [key, thread] : ssl.*MemberOf(SslThreads{})) {
      if (sockets.listening.count(key.first) == 0) {
        sockets.connections.push_back({key.first, thread});
      }
    }
    visit(sockets);
  } else {
    auto& plain = static_cast<FIX::ThreadedSocketAcceptor&>(acceptor);
    HeldLock lock(plain.*MemberOf(PlainMutex{}));
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
