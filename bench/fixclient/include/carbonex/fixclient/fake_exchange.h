// FakeExchange: an in-process QuickFIX SocketAcceptor that stands in for
// carbonex-server in the tests of the FIX client, the load generator and the
// scripted trader, and (as carbonex-fake-exchange) gives carbonex-loadgen a
// baseline: the cost of the FIX path without the exchange behind it.
// Target carbonex::fixclient_fake, kept out of carbonex::fixclient.
//
// It checks Logon passwords (a wrong one is refused with Logout + Text, as the
// contract says), acknowledges every NewOrderSingle with an ExecutionReport
// New, and matches limit and market orders on a naive per-symbol book
// (price-time, trade at the resting price, no risk checks, no self-trade
// prevention), sending Trade reports to both sides. Cancels of live orders
// are confirmed; others get OrderCancelReject. Every other application
// message gets BusinessMessageReject. It is a test double, not a reference:
// the real semantics live in the engine.
//
// Thread-safety: QuickFIX calls back on the acceptor's single thread; the
// accessors lock, so tests may call them from any thread.
#ifndef CARBONEX_FIXCLIENT_FAKE_EXCHANGE_H_
#define CARBONEX_FIXCLIENT_FAKE_EXCHANGE_H_

#include <quickfix/Message.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "carbonex/common/status.h"

namespace carbonex::fixclient {

// A TCP port on 127.0.0.1 that was free a moment ago (QuickFIX cannot listen
// on port 0, so we bind one ourselves, read its number and release it).
int PickFreePort();

struct FakeExchangeOptions {
  std::string comp_id = "CARBONEX";
  std::map<std::string, std::string> passwords;  // SenderCompID -> password
  bool match = true;   // false: acknowledge only, never trade
  int port = 0;        // 0: a free loopback port (see PickFreePort)
  bool record = true;  // keep every message for Received() and Logons()
};

class FakeExchange {
 public:
  explicit FakeExchange(FakeExchangeOptions options);
  ~FakeExchange();
  FakeExchange(const FakeExchange&) = delete;
  FakeExchange& operator=(const FakeExchange&) = delete;

  // Listens on options.port, or on a free loopback port if it is 0.
  // Errors: IoError from QuickFIX (e.g. the port is taken).
  Status Start();
  void Stop();
  [[nodiscard]] int Port() const { return port_; }

  // Every application message received, in order.
  [[nodiscard]] std::vector<FIX::Message> Received() const;
  // Every Logon received (accepted or not), in order.
  [[nodiscard]] std::vector<FIX::Message> Logons() const;
  [[nodiscard]] int OrdersReceived() const;

 private:
  class Application;
  FakeExchangeOptions options_;
  int port_ = 0;
  std::unique_ptr<Application> application_;
  struct QuickFix;
  std::unique_ptr<QuickFix> quickfix_;
};

}  // namespace carbonex::fixclient

#endif  // CARBONEX_FIXCLIENT_FAKE_EXCHANGE_H_
