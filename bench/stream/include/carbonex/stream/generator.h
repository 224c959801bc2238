// The ets-stream v1 generator: given the same options it writes, byte for
// byte, the same stream as every other implementation of the rules in
// docs/order-stream.md (splitmix64 draws in a fixed order against a model of
// the book). carbonex-streamgen is a thin command line around it.
//
// Thread-safety: free functions without shared state.
#ifndef CARBONEX_STREAM_GENERATOR_H_
#define CARBONEX_STREAM_GENERATOR_H_

#include <cstdint>
#include <ostream>

#include "carbonex/common/status.h"

namespace carbonex::stream {

// splitmix64, the format's PRNG. Below(n) = Next() % n (the rules' modulo
// bias is part of the format).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Precondition: n > 0.
  std::uint64_t Below(std::uint64_t n) { return Next() % n; }

 private:
  std::uint64_t state_;
};

// Generation parameters; the defaults are the canonical stream's except
// `events`, which has no default.
struct GeneratorOptions {
  std::uint64_t events = 0;     // number of event lines; 1 ≤ events ≤ 10^9
  std::uint64_t seed = 0;       // any value
  std::int64_t mid = 10'000;    // anchor price in ticks; 1 ≤ mid ≤ 10^8
  std::int64_t target = 8'000;  // book-size feedback; 1 ≤ target ≤ 10^9
  int passive_pct = 70;         // 0..100
  int aggressive_pct = 20;      // 0..100; passive + aggressive ≤ 100
};

// Checks every option. Returns OK or InvalidArgument naming the option, its
// value and the allowed range.
[[nodiscard]] Status ValidateOptions(const GeneratorOptions& options);

// What a generation produced (the `counts` of a stream's meta file).
struct GeneratorStats {
  std::uint64_t passive = 0;     // `A … p` lines, fallbacks included
  std::uint64_t aggressive = 0;  // `A … a` lines
  std::uint64_t cancel = 0;      // `X` lines
  // Passive lines drawn as a cancel with no live order or as an aggressive
  // order with an empty opposite side.
  std::uint64_t fallback_passive = 0;
  std::uint64_t orders_added = 0;  // passive + aggressive
};

// Writes the header and `options.events` event lines to `out`.
// Errors: InvalidArgument from ValidateOptions (nothing is written);
// IoError when `out` fails.
[[nodiscard]] Result<GeneratorStats> GenerateStream(
    const GeneratorOptions& options, std::ostream& out);

}  // namespace carbonex::stream

#endif  // CARBONEX_STREAM_GENERATOR_H_
