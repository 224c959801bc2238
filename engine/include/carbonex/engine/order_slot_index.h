// OrderSlotIndex: OrderId → slot (the engine's record of a live order, or
// an OrderBook's node of a resting one), without allocating per order and
// without storing the ids.
//
// Order ids come in sequence (the engine hands them out; a stream numbers
// its orders), and the live orders are mostly recent ones. The index is a ring
// of 2^k four-byte slots addressed by an id's low k bits: placing an order
// writes the ring's next entry (the entries of consecutive ids share cache
// lines, so a run of placements touches few lines), and finding or erasing an
// order reads one entry. An entry holds no key: lookups confirm it with a
// caller-supplied function that reads the id from the record (or node) at that
// slot. Any ids work; ids far from sequential only send more of them to the
// overflow.
//
// An order that is still live when the ring comes round to its entry again
// (2^k ids later) moves to an overflow IdMap, once; lookups that miss the
// ring consult the overflow only when it is not empty. Never iterated for
// output, so the layout never reaches events or hashes.
//
// Thread-safety: none; owned by one engine or book.
#ifndef CARBONEX_ENGINE_ORDER_SLOT_INDEX_H_
#define CARBONEX_ENGINE_ORDER_SLOT_INDEX_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "carbonex/engine/id_map.h"

namespace carbonex::engine {

class OrderSlotIndex {
 public:
  static constexpr std::uint32_t kNotFound =
      std::numeric_limits<std::uint32_t>::max();

  // A ring of at least twice `expected` entries (a power of two, >= 16):
  // with up to `expected` live orders, only those outliving 2 × expected
  // later placements reach the overflow.
  explicit OrderSlotIndex(std::size_t expected = 16)
      : ring_(std::bit_ceil(expected < 8 ? std::size_t{16} : expected * 2),
              kNotFound),
        mask_(ring_.size() - 1) {}

  [[nodiscard]] std::size_t size() const { return size_; }
  // Orders kept in the overflow (for tests and diagnostics).
  [[nodiscard]] std::size_t overflow_size() const { return overflow_.size(); }

  // The slot of `id`, or kNotFound. `id_of(slot)` returns the id of the
  // order at a slot the index holds.
  template <typename IdOf>
  [[nodiscard]] std::uint32_t Find(std::uint64_t id, IdOf&& id_of) const {
    const std::uint32_t slot = ring_[id & mask_];
    if (slot != kNotFound && id_of(slot) == id) return slot;
    if (overflow_.size() == 0) return kNotFound;
    return overflow_.Find(id);
  }

  // Adds id → slot. Preconditions: `id` is not in the index, `slot` is not
  // in the index, id != IdMap::kEmptyKey; `id_of` as for Find.
  template <typename IdOf>
  void Insert(std::uint64_t id, std::uint32_t slot, IdOf&& id_of) {
    std::uint32_t& entry = ring_[id & mask_];
    if (entry != kNotFound) {
      // An older order, still live, holds the entry: it moves aside.
      overflow_.Insert(id_of(entry), entry);
    }
    entry = slot;
    ++size_;
  }

  // Removes id → slot, given the slot the index holds for it. Returns false
  // if absent. (A slot belongs to one indexed order at a time, so the ring
  // entry holds `slot` exactly when this order is in the ring.)
  bool Erase(std::uint64_t id, std::uint32_t slot) {
    std::uint32_t& entry = ring_[id & mask_];
    if (entry == slot) {
      entry = kNotFound;
    } else if (overflow_.size() == 0 || !overflow_.Erase(id)) {
      return false;
    }
    --size_;
    return true;
  }

 private:
  std::vector<std::uint32_t> ring_;
  std::size_t mask_;
  IdMap overflow_;
  std::size_t size_ = 0;
};

}  // namespace carbonex::engine

#endif  // CARBONEX_ENGINE_ORDER_SLOT_INDEX_H_
