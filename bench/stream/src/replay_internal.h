// Helpers shared by the replay sources; not part of the library's API.
#ifndef CARBONEX_STREAM_SRC_REPLAY_INTERNAL_H_
#define CARBONEX_STREAM_SRC_REPLAY_INTERNAL_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <span>
#include <vector>

#include "carbonex/stream/replay.h"

namespace carbonex::stream::internal {

using Clock = std::chrono::steady_clock;

// CPU time consumed by the calling thread so far, in seconds.
inline double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) +
         static_cast<double>(now.tv_nsec) * 1e-9;
}

struct LoopTime {
  double wall_seconds = 0;
  double cpu_seconds = 0;  // of the calling thread
};

// Runs step(i) for every i < n; returns the elapsed wall and CPU time of the
// loop.
template <typename Step>
LoopTime TimeWhole(std::size_t n, Step&& step) {
  const double cpu_start = ThreadCpuSeconds();
  const Clock::time_point start = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    step(i);
  }
  const Clock::time_point end = Clock::now();
  return {std::chrono::duration<double>(end - start).count(),
          ThreadCpuSeconds() - cpu_start};
}

// Runs step(i) for every i < n, timing each call on its own.
template <typename Step>
void TimeEach(std::size_t n, Step&& step, std::vector<std::uint32_t>* ns) {
  ns->resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Clock::time_point start = Clock::now();
    step(i);
    const Clock::time_point end = Clock::now();
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::nanoseconds>(end - start)
            .count();
    (*ns)[i] = static_cast<std::uint32_t>(
        std::clamp<std::int64_t>(elapsed, 0, UINT32_MAX));
  }
}

// Gives `buffer` room for `capacity` elements and touches that memory, so
// that appending during a timed loop neither reallocates nor page-faults.
template <typename T>
void PrepareBuffer(std::vector<T>* buffer, std::size_t capacity) {
  buffer->clear();
  buffer->resize(capacity);
  buffer->clear();
}

// Bids first, each side best price first; stable so FIFO order survives.
inline void SortBook(std::vector<RestingOrder>* book) {
  std::stable_sort(book->begin(), book->end(),
                   [](const RestingOrder& a, const RestingOrder& b) {
                     if (a.side != b.side) {
                       return a.side == Side::kBuy;
                     }
                     return a.side == Side::kBuy ? a.price > b.price
                                                 : a.price < b.price;
                   });
}

// Upper bound of the fills a stream can produce: each fill either removes
// its maker or completes its taker.
inline std::size_t MaxFills(const Stream& stream) {
  return static_cast<std::size_t>(2 * stream.orders_added);
}

inline void SummariseFills(std::span<const Fill> fills, ReplayReport* report) {
  report->fills = fills.size();
  report->volume = 0;
  report->notional = 0;
  for (const Fill& fill : fills) {
    report->volume += fill.qty.value();
    report->notional += Notional(fill.price, fill.qty).value();
  }
  report->fill_hash = FillHash(fills);
}

// Engine mode of ReplayStream (engine_replay.cpp).
Result<ReplayReport> ReplayEngine(const Stream& stream,
                                  const ReplayOptions& options);

}  // namespace carbonex::stream::internal

#endif  // CARBONEX_STREAM_SRC_REPLAY_INTERNAL_H_
