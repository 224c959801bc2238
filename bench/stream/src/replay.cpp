#include "carbonex/stream/replay.h"

#include <algorithm>
#include <chrono>

#include "carbonex/engine/order_book.h"
#include "replay_internal.h"

namespace carbonex::stream {
namespace {

using internal::Clock;
using internal::MaxFills;
using internal::SummariseFills;
using internal::TimeEach;
using internal::TimeWhole;

// ---- Book mode. ----

struct BookPass {
  std::vector<Fill> fills;
  std::vector<RestingOrder> book;
  std::optional<Price> best_bid;
  std::optional<Price> best_ask;
  std::uint64_t cancel_rejects = 0;
  std::uint64_t refused_adds = 0;
  internal::LoopTime time;
};

Result<BookPass> RunBookPass(const Stream& stream, const ReplayOptions& options,
                             std::vector<std::uint32_t>* latency_samples) {
  BookPass pass;
  internal::PrepareBuffer(&pass.fills, MaxFills(stream));
  engine::OrderBook book(options.expected_orders);
  std::vector<Fill>& fills = pass.fills;
  std::uint64_t cancel_rejects = 0;
  std::uint64_t refused_adds = 0;
  const StreamEvent* events = stream.events.data();
  auto step = [&](std::size_t i) {
    const StreamEvent& event = events[i];
    if (event.kind == EventKind::kAdd) {
      const bool added = book.AddLimit(
          event.order_id, event.side, event.price, event.qty,
          [&fills](const engine::BookFill& fill) {
            fills.push_back(Fill{fill.taker, fill.maker, fill.price, fill.qty});
          });
      refused_adds += added ? 0 : 1;
    } else {
      cancel_rejects += book.Cancel(event.order_id) ? 0 : 1;
    }
  };
  if (latency_samples == nullptr) {
    pass.time = TimeWhole(stream.events.size(), step);
  } else {
    TimeEach(stream.events.size(), step, latency_samples);
  }
  pass.cancel_rejects = cancel_rejects;
  pass.refused_adds = refused_adds;
  if (std::string problem = book.CheckInvariants(); !problem.empty()) {
    return Status::Internal("order book invariant violated after replay: " +
                            problem);
  }
  pass.book.reserve(book.RestingOrders());
  book.ForEachResting(
      [&pass](OrderId id, Side side, Price price, Quantity open) {
        pass.book.push_back(RestingOrder{id, side, price, open});
      });
  pass.best_bid = book.BestBid();
  pass.best_ask = book.BestAsk();
  return pass;
}

Result<ReplayReport> ReplayBook(const Stream& stream,
                                const ReplayOptions& options) {
  Result<BookPass> first = RunBookPass(stream, options, nullptr);
  if (!first.ok()) {
    return first.status();
  }
  if (first->refused_adds != 0) {
    return Status::Internal("the order book refused " +
                            std::to_string(first->refused_adds) +
                            " of the stream's orders");
  }
  ReplayReport report;
  report.events = stream.events.size();
  SummariseFills(first->fills, &report);
  report.book_hash = BookHash(first->book);
  report.resting_orders = first->book.size();
  report.best_bid = first->best_bid;
  report.best_ask = first->best_ask;
  report.cancel_rejects = first->cancel_rejects;
  report.seconds = first->time.wall_seconds;
  report.cpu_seconds = first->time.cpu_seconds;
  if (options.measure_latency) {
    first->fills = {};  // release its memory before the second pass
    std::vector<std::uint32_t> samples;
    Result<BookPass> second = RunBookPass(stream, options, &samples);
    if (!second.ok()) {
      return second.status();
    }
    if (FillHash(second->fills) != report.fill_hash ||
        second->fills.size() != report.fills ||
        BookHash(second->book) != report.book_hash ||
        second->cancel_rejects != report.cancel_rejects) {
      return Status::Internal(
          "the order book gave different results on the second pass over "
          "the same stream");
    }
    report.latency_ns = Percentiles(&samples);
  }
  return report;
}

}  // namespace

Result<ReplayReport> ReplayStream(const Stream& stream,
                                  const ReplayOptions& options) {
  Result<ReplayReport> report = options.mode == ReplayMode::kBook
                                    ? ReplayBook(stream, options)
                                    : internal::ReplayEngine(stream, options);
  if (report.ok()) {
    report->events_per_sec =
        report->seconds > 0
            ? static_cast<double>(report->events) / report->seconds
            : 0;
  }
  return report;
}

LatencyNs Percentiles(std::vector<std::uint32_t>* samples) {
  LatencyNs latency;
  if (samples->empty()) {
    return latency;
  }
  const std::size_t n = samples->size();
  // Nearest rank: the smallest sample with at least p·n samples at or below.
  auto at_rank = [samples, n](std::uint64_t basis_points) {
    std::size_t rank = static_cast<std::size_t>(
        (static_cast<std::uint64_t>(n) * basis_points + 9999) / 10000);
    rank = std::clamp<std::size_t>(rank, 1, n);
    auto nth = samples->begin() + static_cast<std::ptrdiff_t>(rank - 1);
    std::nth_element(samples->begin(), nth, samples->end());
    return static_cast<std::uint64_t>(*nth);
  };
  latency.p50 = at_rank(5000);
  latency.p99 = at_rank(9900);
  latency.p999 = at_rank(9990);
  latency.max = *std::max_element(samples->begin(), samples->end());
  return latency;
}

double ClockOverheadNs() {
  constexpr int kCalls = 1'000'000;
  Clock::time_point last = Clock::now();
  const Clock::time_point start = last;
  for (int i = 0; i < kCalls; ++i) {
    last = Clock::now();
  }
  return std::chrono::duration<double, std::nano>(last - start).count() /
         kCalls;
}

}  // namespace carbonex::stream
