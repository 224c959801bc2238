// RunLoad: the core of carbonex-loadgen, separate from its command line so
// that tests drive it end to end against an in-process acceptor.
//
// It logs N FIX sessions on (CompIDs <prefix>1 .. <prefix>N) and sends an
// order flow at a target rate with at most `window` requests in flight per
// session. The flow is an ets-stream (carbonex::stream's generator, or a
// stream file): order k goes to session (k-1) mod N, its cancel to the same
// session, and account and instrument are drawn per order from a hash of k;
// prices are the stream's ticks times the tick size. Alternatively the
// OrderGenerator's flow, round-robin over the sessions. It measures for
// every request the time from just before the send to the first reply that
// names its ClOrdID (an ExecutionReport, or an OrderCancelReject for a cancel).
// It stops after `count` requests or `duration`, whichever comes first, then
// waits up to `drain_timeout` for the replies still in flight.
//
// Thread-safety: RunLoad may run on any thread; the progress callback is
// called on a helper thread about once a second.
#ifndef CARBONEX_LOADGEN_LOAD_RUNNER_H_
#define CARBONEX_LOADGEN_LOAD_RUNNER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "carbonex/common/status.h"
#include "carbonex/fixclient/messages.h"
#include "carbonex/loadgen/latency.h"
#include "carbonex/loadgen/order_generator.h"

namespace carbonex::loadgen {

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 9878;
  int sessions = 1;
  std::string comp_id_prefix = "BROKER";
  std::string target_comp_id = "CARBONEX";
  // Password per SenderCompID; sessions not listed use default_password.
  std::map<std::string, std::string> passwords;
  std::string default_password;

  // Every session's broker must be entitled to trade for every account.
  std::vector<std::string> accounts;
  std::vector<std::string> symbols;
  fixclient::TimeInForce tif = fixclient::TimeInForce::kDay;

  double rate = 0;  // requests per second, all sessions; 0 = flat out
  std::uint64_t count = 10000;  // requests (new orders + cancels)
  std::chrono::milliseconds duration{60000};
  int window = 100;  // max requests in flight per session
  // Leave Nagle's algorithm on (fixclient::ClientOptions::tcp_nodelay off).
  bool nagle = false;
  // Orders ready at the same moment leave in one write per session (at the
  // latest when the sender would wait) instead of one write each
  // (fixclient::ClientOptions::batch_writes).
  bool batch_writes = false;
  std::chrono::milliseconds logon_timeout{10000};
  std::chrono::milliseconds drain_timeout{5000};

  enum class Flow {
    kStream,     // the ets-stream generator's rules, or stream_file
    kGenerator,  // OrderGenerator (no book model; cancels of known-live orders)
  };
  Flow flow = Flow::kStream;
  // kStream: replay this ets-stream file instead of generating (its first
  // `count` events).
  std::string stream_file;
  std::int64_t stream_target = 8000;  // the stream generator's book target

  // seed, mix, mid and tick (both flows); accounts and symbols are set from
  // the lists. The stream's mid in ticks is mid / tick.
  GeneratorOptions generator;
};

// A snapshot for progress output.
struct Progress {
  double elapsed_s = 0;
  std::uint64_t sent = 0;
  std::uint64_t acked = 0;
  std::uint64_t in_flight = 0;
};

struct LoadReport {
  std::uint64_t orders_sent = 0;
  std::uint64_t cancels_sent = 0;
  std::uint64_t acked = 0;             // requests that got their first reply
  std::uint64_t unacked = 0;           // still in flight after the drain
  std::uint64_t rejected = 0;          // ExecutionReports with ExecType 8
  std::uint64_t cancel_rejects = 0;    // OrderCancelReject (9)
  std::uint64_t business_rejects = 0;  // BusinessMessageReject (j)
  std::uint64_t fills = 0;             // ExecutionReports with ExecType F
  // Rejects (ExecType 8) by OrdRejReason(103) and Text(58), e.g.
  // "3 account has too many open orders": what the set-up got wrong.
  std::map<std::string, std::uint64_t> reject_reasons;
  std::uint64_t send_failures = 0;
  bool session_lost = false;  // a session logged out during the run
  double elapsed_s = 0;       // first send to last reply
  double throughput = 0;      // acked requests per second of elapsed
  std::vector<std::int64_t> latencies_ns;  // sorted ascending
  LatencySummary latency;
};

// Errors: InvalidArgument for bad options (no sessions, accounts or symbols,
// window < 1, negative rate, a bad generator option) or a stream file that
// does not parse; IoError if the stream file cannot be read or the FIX
// client cannot start; FailedPrecondition if a session does not log on
// within logon_timeout (the message names the session and the Logout text).
Result<LoadReport> RunLoad(
    const LoadOptions& options,
    const std::function<void(const Progress&)>& progress);

}  // namespace carbonex::loadgen

#endif  // CARBONEX_LOADGEN_LOAD_RUNNER_H_
