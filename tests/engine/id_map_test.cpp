#include "carbonex/engine/id_map.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>

#include "engine_harness.h"

namespace carbonex::engine {
namespace {

using testing::SeedFromEnv;

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

TEST_CASE("IdMap keeps a block of long-lived ids while later ids come and go",
          "[id_map]") {
  // The engine's pattern: sequential ids, some resting all day, most
  // removed soon. Later ids land on the same home entries as the old ones
  // (the table starts at 2,048 entries); every id must stay findable.
  IdMap map(1024);
  for (std::uint64_t id = 1; id <= 500; ++id) {
    REQUIRE(map.Insert(id, static_cast<std::uint32_t>(id)));
  }
  for (std::uint64_t id = 501; id <= 50'000; ++id) {
    REQUIRE(map.Insert(id, static_cast<std::uint32_t>(id)));
    if (id % 7 != 0) REQUIRE(map.Erase(id));
    if (id % 7 == 0 && id % 5 == 0) REQUIRE(map.Erase(id));
    if (id % 7 == 0 && id % 5 == 0) REQUIRE(map.Find(id) == IdMap::kNotFound);
    REQUIRE(map.Find(id - 250) ==
            (id - 250 <= 500 || ((id - 250) % 7 == 0 && (id - 250) % 5 != 0)
                 ? static_cast<std::uint32_t>(id - 250)
                 : IdMap::kNotFound));
  }
  for (std::uint64_t id = 1; id <= 500; ++id) {
    REQUIRE(map.Find(id) == static_cast<std::uint32_t>(id));
  }
  std::size_t kept = 500;
  for (std::uint64_t id = 501; id <= 50'000; ++id) {
    if (id % 7 == 0 && id % 5 != 0) ++kept;
  }
  CHECK(map.size() == kept);
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
