// IdMap: an open-addressing hash map from a 64-bit id to a 32-bit slot.
//
// OrderSlotIndex keeps the ids that outlive its ring here, and the engine's
// done-order index uses it; both find an entry in O(1) without allocating
// per order: the table is one flat array of (key, value) pairs, sized up
// front and doubled only when it passes 50% load. Linear probing with
// backward-shift deletion (no tombstones), so a long-running table never
// degrades.
//
// Keys are ids; the key value kEmptyKey (2^64 - 1) is reserved and may not be
// inserted. The map is never iterated to produce output, so hash order never
// reaches events or hashes.
//
// Thread-safety: none; owned by one book or engine.
#ifndef CARBONEX_ENGINE_ID_MAP_H_
#define CARBONEX_ENGINE_ID_MAP_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace carbonex::engine {

class IdMap {
 public:
  static constexpr std::uint64_t kEmptyKey =
      std::numeric_limits<std::uint64_t>::max();
  static constexpr std::uint32_t kNotFound =
      std::numeric_limits<std::uint32_t>::max();

  // Reserves room for `expected` keys without growing.
  explicit IdMap(std::size_t expected = 16) { Rehash(CapacityFor(expected)); }

  [[nodiscard]] std::size_t size() const { return size_; }

  // Returns the value stored for `key`, or kNotFound.
  [[nodiscard]] std::uint32_t Find(std::uint64_t key) const {
    std::size_t i = Home(key);
    while (true) {
      const Entry& e = entries_[i];
      if (e.key == key) return e.value;
      if (e.key == kEmptyKey) return kNotFound;
      i = (i + 1) & mask_;
    }
  }

  // Inserts key → value. Returns false (and changes nothing) if the key is
  // already present. Precondition: key != kEmptyKey.
  bool Insert(std::uint64_t key, std::uint32_t value) {
    if ((size_ + 1) * 2 > entries_.size()) Rehash(entries_.size() * 2);
    std::size_t i = Home(key);
    while (true) {
      Entry& e = entries_[i];
      if (e.key == key) return false;
      if (e.key == kEmptyKey) {
        e.key = key;
        e.value = value;
        ++size_;
        return true;
      }
      i = (i + 1) & mask_;
    }
  }

  // Removes key. Returns false if it was not present.
  bool Erase(std::uint64_t key) {
    std::size_t i = Home(key);
    while (true) {
      if (entries_[i].key == key) break;
      if (entries_[i].key == kEmptyKey) return false;
      i = (i + 1) & mask_;
    }
    // Backward-shift: move later members of the probe run into the hole
    // when their home position does not lie cyclically in (hole, j].
    std::size_t hole = i;
    std::size_t j = i;
    while (true) {
      j = (j + 1) & mask_;
      if (entries_[j].key == kEmptyKey) break;
      const std::size_t home = Home(entries_[j].key);
      const bool home_in_range =
          hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!home_in_range) {
        entries_[hole] = entries_[j];
        hole = j;
      }
    }
    entries_[hole].key = kEmptyKey;
    --size_;
    return true;
  }

  // Replaces the value of a present key. Returns false if absent.
  bool Update(std::uint64_t key, std::uint32_t value) {
    std::size_t i = Home(key);
    while (true) {
      Entry& e = entries_[i];
      if (e.key == key) {
        e.value = value;
        return true;
      }
      if (e.key == kEmptyKey) return false;
      i = (i + 1) & mask_;
    }
  }

  void Clear() {
    for (Entry& e : entries_) e.key = kEmptyKey;
    size_ = 0;
  }

 private:
  struct Entry {
    std::uint64_t key = kEmptyKey;
    std::uint32_t value = 0;
  };

  static std::size_t CapacityFor(std::size_t expected) {
    std::size_t want = expected < 8 ? 16 : expected * 2;
    return std::bit_ceil(want);
  }

  // Ids are handed out in sequence, and the orders placed together are
  // also the ones most likely to be found, filled or cancelled soon: runs
  // of 4 consecutive ids share a 64-byte group of entries, one cache line
  // (their low 2 bits pick the entry within the group), and Fibonacci
  // hashing of the rest spreads the groups over the table. Recent orders then
  // touch a few cache lines instead of one random line each, while a long-lived
  // block of ids cannot form one long probe run that later ids (a table size
  // apart) would have to walk, as plain identity hashing would allow.
  static constexpr int kGroupBits = 2;
  [[nodiscard]] std::size_t Home(std::uint64_t key) const {
    const std::uint64_t group =
        ((key >> kGroupBits) * 0x9E3779B97F4A7C15ULL) >> shift_;
    return static_cast<std::size_t>((group << kGroupBits) |
                                    (key & ((1U << kGroupBits) - 1)));
  }

  void Rehash(std::size_t capacity) {
    std::vector<Entry> old = std::move(entries_);
    entries_.assign(capacity, Entry{});
    mask_ = capacity - 1;
    // Capacity is a power of two, at least 16: 2^(64 - shift_) groups.
    shift_ = 64 - (std::countr_zero(capacity) - kGroupBits);
    size_ = 0;
    for (const Entry& e : old) {
      if (e.key != kEmptyKey) Insert(e.key, e.value);
    }
  }

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
};

}  // namespace carbonex::engine

#endif  // CARBONEX_ENGINE_ID_MAP_H_
