// Latency statistics of the load generator: percentiles by nearest rank, the
// percentile curve as CSV, and a gnuplot PNG of it.
//
// Thread-safety: values and free functions; no shared state.
#ifndef CARBONEX_LOADGEN_LATENCY_H_
#define CARBONEX_LOADGEN_LATENCY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "carbonex/common/status.h"

namespace carbonex::loadgen {

// Summary of a set of latency samples, in nanoseconds. All zero if empty.
struct LatencySummary {
  std::size_t count = 0;
  std::int64_t min = 0;
  std::int64_t p50 = 0;
  std::int64_t p90 = 0;
  std::int64_t p99 = 0;
  std::int64_t p999 = 0;
  std::int64_t max = 0;
  double mean = 0;
};

// The nearest-rank percentile of sorted samples: the smallest sample such
// that at least `percentile` % of the samples are <= it.
// Preconditions: sorted ascending, not empty, 0 <= percentile <= 100.
std::int64_t Percentile(const std::vector<std::int64_t>& sorted,
                        double percentile);

LatencySummary Summarize(std::vector<std::int64_t> samples);

// The percentile curve, one row per point: "percentile,latency_us" with the
// header line first; points every 1 % up to 90, every 0.1 % up to 99.9,
// every 0.01 % up to 100. Latencies in microseconds with three decimals.
// Precondition: samples sorted ascending (an empty set gives the header only).
std::string PercentileCsv(const std::vector<std::int64_t>& sorted);

// Writes text to path. Errors: IoError naming the path.
Status WriteFile(const std::string& path, const std::string& text);

// Plots a PercentileCsv file to a PNG with gnuplot (latency on a log scale
// against the percentile). Errors: IoError if the script cannot be written or
// gnuplot fails (e.g. is not installed).
Status PlotPercentiles(const std::string& csv_path, const std::string& png_path,
                       const std::string& title);

}  // namespace carbonex::loadgen

#endif  // CARBONEX_LOADGEN_LATENCY_H_
