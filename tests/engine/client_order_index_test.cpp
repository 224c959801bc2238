#include "client_order_index.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace carbonex::engine {
namespace {

TEST_CASE("ClientOrderIndex::Hash depends on the broker and the text only",
          "[client_order_index]") {
  const std::string text = "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234";  // 31 bytes
  std::set<std::uint64_t> seen;
  for (std::size_t n = 0; n <= text.size(); ++n) {
    const ClientOrderId id(std::string_view(text).substr(0, n));
    const std::uint64_t h = ClientOrderIndex::Hash(BrokerId{1}, id);
    // A copy, and an id assigned over a longer one, hash the same.
    ClientOrderId reused(text);
    reused = id;
    CHECK(ClientOrderIndex::Hash(BrokerId{1}, reused) == h);
    CHECK(ClientOrderIndex::Hash(BrokerId{2}, id) != h);
    seen.insert(h);
  }
  CHECK(seen.size() == text.size() + 1);  // every prefix differs
  // Texts differing only in their last byte, at every word position.
  for (std::size_t n = 1; n <= text.size(); ++n) {
    std::string other = text.substr(0, n);
    other.back() = '#';
    CHECK(
        ClientOrderIndex::Hash(BrokerId{1}, ClientOrderId(text.substr(0, n))) !=
        ClientOrderIndex::Hash(BrokerId{1}, ClientOrderId(other)));
  }
}

TEST_CASE("ClientOrderIndex finds, erases and grows", "[client_order_index]") {
  ClientOrderIndex index(4);
  std::vector<ClientOrderId> keys;
  for (int i = 0; i < 100; ++i) {
    keys.emplace_back("C" + std::to_string(i));
  }
  auto hash = [&](std::uint32_t slot) {
    return ClientOrderIndex::Hash(BrokerId{7}, keys[slot]);
  };
  auto find = [&](const ClientOrderId& key) {
    return index.Find(ClientOrderIndex::Hash(BrokerId{7}, key),
                      [&](std::uint32_t slot) { return keys[slot] == key; });
  };
  for (std::uint32_t slot = 0; slot < keys.size(); ++slot) {
    index.Insert(hash(slot), slot);
  }
  CHECK(index.size() == keys.size());
  for (std::uint32_t slot = 0; slot < keys.size(); ++slot) {
    CHECK(find(keys[slot]) == slot);
  }
  CHECK(find(ClientOrderId("C100")) == ClientOrderIndex::kNotFound);
  for (std::uint32_t slot = 0; slot < keys.size(); slot += 2) {
    CHECK(index.Erase(hash(slot), slot));
  }
  CHECK_FALSE(index.Erase(hash(0), 0));
  for (std::uint32_t slot = 0; slot < keys.size(); ++slot) {
    CHECK(find(keys[slot]) ==
          (slot % 2 == 0 ? ClientOrderIndex::kNotFound : slot));
  }
  CHECK(index.size() == keys.size() / 2);
}

}  // namespace
}  // namespace carbonex::engine
