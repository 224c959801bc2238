// Printing a ReplayReport: the human-readable summary carbonex-replay prints
// by default and the JSON object it prints with --json (docs/order-stream.md
// lists the keys).
#ifndef CARBONEX_STREAM_REPORT_H_
#define CARBONEX_STREAM_REPORT_H_

#include <string>

#include "carbonex/stream/replay.h"

namespace carbonex::stream {

// One JSON object with exactly the keys events, fills, volume, notional,
// fill_hash, book_hash (16 hex digits), resting_orders, best_bid, best_ask
// (null when that side is empty), cancel_rejects, seconds, events_per_sec
// and latency_ns {p50, p99, p999, max}. No trailing newline.
[[nodiscard]] std::string ReportToJson(const ReplayReport& report);

// "key: value" lines, one per JSON key plus `cpu_seconds` (the throughput
// pass's CPU time), then a note on the clock overhead included in each
// latency sample (`clock_overhead_ns`).
[[nodiscard]] std::string ReportToText(const ReplayReport& report,
                                       double clock_overhead_ns);

}  // namespace carbonex::stream

#endif  // CARBONEX_STREAM_REPORT_H_
