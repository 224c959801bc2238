#include "carbonex/engine/id_map.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>

namespace carbonex::engine {
namespace {

std::uint64_t SeedFromEnv(std::uint64_t fallback) {
  const char* env =
      std::getenv("CARBONEX_SEED");  // NOLINT(concurrency-mt-unsafe)
  return env != nullptr ? std::stoull(env) : fallback;
}

TEST_CASE("IdMap inserts, finds, updates and erases", "[id_map]") {
  IdMap map(4);
  CHECK(map.Find(7) == IdMap::kNotFound);
  CHECK(map.Insert(7, 70));
  CHECK_FALSE(map.Insert(7, 71));
  CHECK(map.Find(7) == 70);
  CHECK(map.Update(7, 72));
  CHECK(map.Find(7) == 72);
  CHECK_FALSE(map.Update(8, 1));
  CHECK(map.size() == 1);
  CHECK(map.Erase(7));
  CHECK_FALSE(map.Erase(7));
  CHECK(map.Find(7) == IdMap::kNotFound);
  CHECK(map.size() == 0);
}

TEST_CASE("IdMap finds ids that share a home entry", "[id_map]") {
  // Ids home on their low bits, so these all share home entries: linear
  // probing and backward-shift deletion must keep every one findable.
  IdMap map(16);  // grows to 64 entries: keys 64 apart share a home
  std::map<std::uint64_t, std::uint32_t> ref;
  std::uint32_t value = 0;
  for (std::uint64_t base = 1; base <= 8; ++base) {
    for (std::uint64_t k = 0; k < 4; ++k) {
      const std::uint64_t key = base + k * 32;
      REQUIRE(map.Insert(key, value));
      ref.emplace(key, value++);
    }
  }
  for (std::uint64_t base = 1; base <= 8; base += 2) {
    REQUIRE(map.Erase(base + 32));
    ref.erase(base + 32);
  }
  REQUIRE(map.size() == ref.size());
  for (const auto& [key, v] : ref) REQUIRE(map.Find(key) == v);
  CHECK(map.Find(33) == IdMap::kNotFound);
}

TEST_CASE("IdMap agrees with std::map under random operations", "[id_map]") {
  const std::uint64_t seed = SeedFromEnv(12345);
  std::cout << "IdMap random test seed " << seed << "\n";
  std::mt19937_64 rng(seed);
  IdMap map(8);  // small start: exercises growth
  std::map<std::uint64_t, std::uint32_t> ref;
  for (int step = 0; step < 200000; ++step) {
    // Keys from a small range so inserts collide with erases often.
    const std::uint64_t key = rng() % 5000;
    const auto value = static_cast<std::uint32_t>(rng() % 1000000);
    switch (rng() % 3) {
      case 0:
        REQUIRE(map.Insert(key, value) == ref.emplace(key, value).second);
        break;
      case 1:
        REQUIRE(map.Erase(key) == (ref.erase(key) == 1));
        break;
      default: {
        const auto it = ref.find(key);
        REQUIRE(map.Find(key) ==
                (it == ref.end() ? IdMap::kNotFound : it->second));
      }
    }
    REQUIRE(map.size() == ref.size());
  }
  for (const auto& [key, value] : ref) REQUIRE(map.Find(key) == value);
}

}  // namespace
}  // namespace carbonex::engine
