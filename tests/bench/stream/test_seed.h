// The seed of a randomised test: CARBONEX_SEED when set, else a fresh one.
// Tests print it so that a failure can be reproduced.
#ifndef CARBONEX_TESTS_BENCH_STREAM_TEST_SEED_H_
#define CARBONEX_TESTS_BENCH_STREAM_TEST_SEED_H_

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

namespace carbonex::stream {

// The seed is drawn once per test process, so the sections of a test case
// share it.
inline std::uint64_t TestSeed(const char* test_name) {
  static const std::uint64_t kSeed = [] {
    std::uint64_t value = 0;
    // NOLINTNEXTLINE(concurrency-mt-unsafe): tests read the environment once.
    if (const char* env = std::getenv("CARBONEX_SEED"); env != nullptr) {
      value = std::stoull(env);
    } else {
      value = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^
              std::random_device{}();
    }
    return value;
  }();
  std::cout << test_name << ": CARBONEX_SEED=" << kSeed << '\n';
  return kSeed;
}

}  // namespace carbonex::stream

#endif  // CARBONEX_TESTS_BENCH_STREAM_TEST_SEED_H_
