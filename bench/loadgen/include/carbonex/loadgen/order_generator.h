// OrderGenerator: the seeded order flow of carbonex-loadgen.
//
// It follows the rules of the ets-stream generator (docs/order-stream.md):
// splitmix64, a passive/aggressive/cancel mix drawn per event, lot sizes of
// 10..100 and passive offsets that cluster near the touch. Over FIX the
// generator cannot see the book, so prices are anchored on a fixed mid per
// instrument: passive buys rest 1..60 ticks below it and passive sells above
// it, aggressive orders cross it by 1..5 ticks. Cancels pick one of the
// caller's live orders.
//
// Deterministic: the same options and the same sequence of live counts give
// the same actions.
//
// Thread-safety: not thread-safe; one thread draws.
#ifndef CARBONEX_LOADGEN_ORDER_GENERATOR_H_
#define CARBONEX_LOADGEN_ORDER_GENERATOR_H_

#include <cstddef>
#include <cstdint>

#include "carbonex/common/status.h"
#include "carbonex/common/types.h"

namespace carbonex::loadgen {

// splitmix64, as the order-stream spec defines it.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next();
  // Next() % n. Precondition: n > 0.
  std::uint64_t Below(std::uint64_t n) { return Next() % n; }

 private:
  std::uint64_t state_;
};

struct GeneratorOptions {
  std::uint64_t seed = 42;
  int passive_pct = 70;  // the rest after passive and aggressive: cancels
  int aggressive_pct = 20;
  Price mid = Price(10000);  // 100.00 KZT: the canonical stream's 10000 ticks
  Price tick = Price(1);     // 0.01 KZT
  std::size_t accounts = 1;
  std::size_t symbols = 1;
};

// Checks the options. Errors: InvalidArgument naming the bad option
// (percentages outside 0..100 or summing above 100, mid or tick not positive,
// mid not on the tick grid, no accounts or symbols).
Status Validate(const GeneratorOptions& options);

struct Action {
  enum class Kind { kNew, kCancel };
  Kind kind = Kind::kNew;
  // kNew:
  std::size_t account = 0;  // index into the caller's accounts
  std::size_t symbol = 0;   // index into the caller's symbols
  Side side = Side::kBuy;
  Price price;
  Quantity qty;
  bool aggressive = false;
  // kCancel: index into the caller's live orders (< live_count).
  std::size_t live_index = 0;
};

class OrderGenerator {
 public:
  // Precondition: Validate(options).ok().
  explicit OrderGenerator(const GeneratorOptions& options);

  // The next action, given how many live orders the caller could cancel.
  // Never kCancel when live_count is 0 (that draw becomes a passive order).
  Action Next(std::size_t live_count);

 private:
  GeneratorOptions options_;
  SplitMix64 random_;
};

}  // namespace carbonex::loadgen

#endif  // CARBONEX_LOADGEN_ORDER_GENERATOR_H_
