// RunScript: executes a parsed trader script against a FIX gateway, printing
// every message received as one readable line and, at the end, a summary of
// the trades reported.
//
// Each `logon` opens its own fixclient::Client with one session (memory
// store, ResetSeqNumFlag=Y). Messages are collected in arrival order per
// session; an `expect` looks at the session's messages not yet matched by an
// earlier expect, oldest first, and waits up to its timeout for one that
// matches. Execution stops at the first failing step.
//
// Thread-safety: RunScript is self-contained; run one per thread at most.
#ifndef CARBONEX_TRADER_RUNNER_H_
#define CARBONEX_TRADER_RUNNER_H_

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "carbonex/common/types.h"
#include "carbonex/trader/script.h"

namespace carbonex::trader {

struct RunOptions {
  std::string host = "127.0.0.1";
  int port = 9878;
  std::string target_comp_id = "CARBONEX";
  std::chrono::milliseconds logon_timeout{10000};
};

// One Trade execution report received.
struct TradeRecord {
  std::string comp_id;
  std::string order_name;
  std::string symbol;
  Side side = Side::kBuy;
  Quantity qty;
  Price price;
};

struct RunSummary {
  bool ok = true;
  int failed_line = 0;  // the script line of the failing step
  std::string failure;  // why it failed
  int steps_run = 0;
  int messages = 0;  // application and queued admin messages received
  std::vector<TradeRecord> trades;
};

// Runs the script; writes the transcript and the trade summary to out.
// A failing step (a session that does not log on, a send that fails, an
// expect that times out) ends the run with ok = false.
RunSummary RunScript(const Script& script, const RunOptions& options,
                     std::ostream& out);

// The trade summary block RunScript prints at the end.
std::string FormatTradeSummary(const std::vector<TradeRecord>& trades);

}  // namespace carbonex::trader

#endif  // CARBONEX_TRADER_RUNNER_H_
