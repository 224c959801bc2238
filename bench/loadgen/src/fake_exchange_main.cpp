// carbonex-fake-exchange: a stand-in FIX acceptor for load-generator
// baselines (docs/loadgen.md). It acknowledges every order and naively
// matches them (carbonex::fixclient_fake), so carbonex-loadgen against it
// measures the FIX path alone: two QuickFIX stacks and the loopback.
//
// Runs until SIGINT or SIGTERM, or for --seconds.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>

#include "carbonex/fixclient/fake_exchange.h"

int main(int argc, char** argv) {
  CLI::App app{"carbonex-fake-exchange: a FIX acceptor that acks orders"};
  carbonex::fixclient::FakeExchangeOptions options;
  std::string prefix = "BROKER";
  int sessions = 1;
  std::string password;
  bool no_match = false;
  int seconds = 0;
  app.add_option("--port", options.port, "FIX port to listen on")->required();
  app.add_option("--comp-id", options.comp_id, "the exchange's CompID")
      ->capture_default_str();
  app.add_option("--comp-id-prefix", prefix,
                 "accept sessions <prefix>1..<prefix>N")
      ->capture_default_str();
  app.add_option("--sessions", sessions, "N")->capture_default_str();
  app.add_option("--password", password, "password of every session");
  app.add_flag("--no-match", no_match, "acknowledge only, never trade");
  app.add_option("--seconds", seconds, "stop after this long (0: on signal)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (sessions < 1 || options.port <= 0 || options.port > 65535) {
    std::fprintf(stderr, "carbonex-fake-exchange: bad --sessions or --port\n");
    return 2;
  }
  for (int i = 1; i <= sessions; ++i) {
    options.passwords[prefix + std::to_string(i)] = password;
  }
  options.match = !no_match;
  options.record = false;

  // Block the stop signals before QuickFIX starts its threads, so that they
  // are delivered to sigtimedwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  carbonex::fixclient::FakeExchange exchange(options);
  if (carbonex::Status s = exchange.Start(); !s.ok()) {
    std::fprintf(stderr, "carbonex-fake-exchange: %s\n", s.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "carbonex-fake-exchange: listening on port %d\n",
               exchange.Port());
  timespec timeout{};
  timeout.tv_sec = seconds > 0 ? seconds : 365 * 24 * 3600;
  sigtimedwait(&stop_signals, nullptr, &timeout);
  exchange.Stop();
  std::fprintf(stderr, "carbonex-fake-exchange: %d orders received\n",
               exchange.OrdersReceived());
  return 0;
}
