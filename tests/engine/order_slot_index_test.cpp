#include "carbonex/engine/order_slot_index.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine_harness.h"

namespace carbonex::engine {
namespace {

using testing::SeedFromEnv;

// Records as the engine keeps them: the id of the order at each slot, with
// a LIFO free list of slots.
struct Records {
  std::vector<std::uint64_t> id_of_slot;
  std::vector<std::uint32_t> free;
  std::uint32_t Alloc(std::uint64_t id) {
    if (!free.empty()) {
      const std::uint32_t slot = free.back();
      free.pop_back();
      id_of_slot[slot] = id;
      return slot;
    }
    id_of_slot.push_back(id);
    return static_cast<std::uint32_t>(id_of_slot.size() - 1);
  }
  void Free(std::uint32_t slot) {
    id_of_slot[slot] = 0;
    free.push_back(slot);
  }
  auto IdOf() const {
    return [this](std::uint32_t slot) { return id_of_slot[slot]; };
  }
};

TEST_CASE("OrderSlotIndex finds recent and long-lived orders",
          "[order_slot_index]") {
  OrderSlotIndex index(8);  // a ring of 16 entries
  Records records;
  // Order 1 stays live while 40 more orders come and go (each is done when
  // the next arrives): the ring comes round to its entry twice.
  const std::uint32_t first = records.Alloc(1);
  index.Insert(1, first, records.IdOf());
  std::map<std::uint64_t, std::uint32_t> live{{1, first}};
  for (std::uint64_t id = 2; id <= 41; ++id) {
    const std::uint32_t slot = records.Alloc(id);
    index.Insert(id, slot, records.IdOf());
    live[id] = slot;
    if (id > 2) {  // the previous order is done
      const std::uint32_t gone = live.at(id - 1);
      CHECK(index.Erase(id - 1, gone));
      records.Free(gone);
      live.erase(id - 1);
    }
  }
  CHECK(index.size() == live.size());
  CHECK(live.size() == 2);
  // Order 1 was moved aside by order 17; order 33 found the entry free.
  CHECK(index.overflow_size() == 1);
  for (const auto& [id, slot] : live) {
    CHECK(index.Find(id, records.IdOf()) == slot);
  }
  CHECK(index.Find(2, records.IdOf()) == OrderSlotIndex::kNotFound);
  CHECK(index.Find(17, records.IdOf()) == OrderSlotIndex::kNotFound);
  CHECK(index.Find(99, records.IdOf()) == OrderSlotIndex::kNotFound);
  // Erasing the long-lived order takes it out of the overflow.
  CHECK(index.Erase(1, first));
  records.Free(first);
  CHECK_FALSE(index.Erase(1, first));
  CHECK(index.overflow_size() == 0);
  CHECK(index.Find(1, records.IdOf()) == OrderSlotIndex::kNotFound);
  CHECK(index.size() == live.size() - 1);
}

TEST_CASE("OrderSlotIndex agrees with a std::map on random lifetimes",
          "[order_slot_index]") {
  const std::uint64_t seed = SeedFromEnv(4242);
  std::cout << "order slot index test seed " << seed
            << " (set CARBONEX_SEED to rerun)\n";
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  OrderSlotIndex index(32);  // a ring of 64: long-lived orders overflow
  Records records;
  std::map<std::uint64_t, std::uint32_t> live;
  std::vector<std::uint64_t> ids;  // live ids, for picking at random
  std::uint64_t next_id = 1;
  for (int step = 0; step < 20000; ++step) {
    const bool place = live.size() < 8 || (live.size() < 200 && rng() % 2 == 0);
    if (place) {
      const std::uint64_t id = next_id++;
      const std::uint32_t slot = records.Alloc(id);
      index.Insert(id, slot, records.IdOf());
      live[id] = slot;
      ids.push_back(id);
    } else {
      // Mostly recent orders finish; now and then an old one.
      const std::size_t n = ids.size();
      const std::size_t pick =
          rng() % 4 == 0 ? rng() % n
                         : n - 1 - rng() % std::min<std::size_t>(n, 8);
      const std::uint64_t id = ids[pick];
      ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(pick));
      const std::uint32_t slot = live.at(id);
      REQUIRE(index.Erase(id, slot));
      records.Free(slot);
      live.erase(id);
    }
    REQUIRE(index.size() == live.size());
    const std::uint64_t probe = 1 + rng() % next_id;
    const auto it = live.find(probe);
    REQUIRE(index.Find(probe, records.IdOf()) ==
            (it == live.end() ? OrderSlotIndex::kNotFound : it->second));
  }
  for (const auto& [id, slot] : live) {
    REQUIRE(index.Find(id, records.IdOf()) == slot);
  }
  CHECK(index.overflow_size() > 0);  // the random lifetimes did reach it
}

}  // namespace
}  // namespace carbonex::engine
