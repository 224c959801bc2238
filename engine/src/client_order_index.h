// ClientOrderIndex: (broker, ClOrdID) → order record slot, without
// allocating per order.
//
// Open addressing over 64-bit hashes of (broker, ClOrdID text) with
// linear probing and backward-shift deletion. Each entry is 8 bytes: a
// 32-bit tag folded from the hash (which also picks the home position) and
// the slot, so a table of live orders stays small enough for the caches.
// Distinct keys may share a tag, so lookups confirm each candidate with a
// caller-supplied predicate that compares the record's real broker and
// ClOrdID. Never iterated for output.
#ifndef CARBONEX_ENGINE_SRC_CLIENT_ORDER_INDEX_H_
#define CARBONEX_ENGINE_SRC_CLIENT_ORDER_INDEX_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "carbonex/common/types.h"

namespace carbonex::engine {

class ClientOrderIndex {
 public:
  static constexpr std::uint32_t kNotFound =
      std::numeric_limits<std::uint32_t>::max();

  explicit ClientOrderIndex(std::size_t expected = 16) {
    Rehash(std::bit_ceil(expected < 8 ? std::size_t{16} : expected * 2));
  }

  // A 64-bit hash of (broker, ClOrdID text), eight bytes at a time. The
  // words are read straight from the ClientOrderId's fixed 32-byte storage
  // (no copy of a variable-length tail), and bytes past the text are masked
  // off, so the value depends on the text alone. Only ever compared within
  // this process: never stored, never part of any output.
  static std::uint64_t Hash(BrokerId broker, const ClientOrderId& cl) {
    static_assert(sizeof(ClientOrderId) == 32 &&
                  std::is_trivially_copyable_v<ClientOrderId> &&
                  std::is_standard_layout_v<ClientOrderId>);
    constexpr std::uint64_t kMul = 0xff51afd7ed558ccdULL;
    const std::size_t size = cl.view().size();  // <= 31
    // The text is the object's first member: its bytes start at offset 0.
    const auto* raw = reinterpret_cast<const unsigned char*>(&cl);
    std::uint64_t h = ((std::uint64_t{broker.value()} << 8) | size) * kMul;
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, raw + i, 8);
      h = (h ^ w) * kMul;
      h ^= h >> 32;
    }
    if (i < size) {
      std::uint64_t w = 0;
      std::memcpy(&w, raw + i, 8);  // within the 32 bytes: i <= 24
      const unsigned drop = static_cast<unsigned>(8 * (8 - (size - i)));
      if constexpr (std::endian::native == std::endian::little) {
        w &= ~std::uint64_t{0} >> drop;
      } else {
        w &= ~std::uint64_t{0} << drop;
      }
      h = (h ^ w) * kMul;
      h ^= h >> 32;
    }
    return h;
  }

  [[nodiscard]] std::size_t size() const { return size_; }

  // The slot whose record satisfies `is_key(slot)` among those stored under
  // `hash`, or kNotFound.
  template <typename IsKey>
  [[nodiscard]] std::uint32_t Find(std::uint64_t hash, IsKey&& is_key) const {
    const std::uint32_t tag = Tag(hash);
    for (std::size_t i = Home(tag);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.tag == kEmpty) return kNotFound;
      if (e.tag == tag && is_key(e.slot)) return e.slot;
    }
  }

  // Precondition: no slot with the same key is stored.
  void Insert(std::uint64_t hash, std::uint32_t slot) {
    if ((size_ + 1) * 2 > entries_.size()) Rehash(entries_.size() * 2);
    InsertTag(Tag(hash), slot);
  }

  // Removes every entry; keeps the table's capacity.
  void Clear() {
    for (Entry& e : entries_) e.tag = kEmpty;
    size_ = 0;
  }

  // Removes the entry (hash, slot). Returns false if absent.
  bool Erase(std::uint64_t hash, std::uint32_t slot) {
    const std::uint32_t tag = Tag(hash);
    std::size_t i = Home(tag);
    while (true) {
      const Entry& e = entries_[i];
      if (e.tag == kEmpty) return false;
      if (e.tag == tag && e.slot == slot) break;
      i = (i + 1) & mask_;
    }
    std::size_t hole = i;
    std::size_t j = i;
    while (true) {
      j = (j + 1) & mask_;
      if (entries_[j].tag == kEmpty) break;
      const std::size_t home = Home(entries_[j].tag);
      const bool home_in_range =
          hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!home_in_range) {
        entries_[hole] = entries_[j];
        hole = j;
      }
    }
    entries_[hole].tag = kEmpty;
    --size_;
    return true;
  }

 private:
  static constexpr std::uint32_t kEmpty = 0;

  struct Entry {
    std::uint32_t tag = kEmpty;
    std::uint32_t slot = 0;
  };

  // Folds and re-mixes the hash into 32 bits, so that keys differing only
  // in their last bytes ("A1", "A2", ...) spread over the table. Never
  // kEmpty.
  static std::uint32_t Tag(std::uint64_t hash) {
    const std::uint64_t mixed = (hash ^ (hash >> 29)) * 0x9E3779B97F4A7C15ULL;
    const auto tag = static_cast<std::uint32_t>(mixed >> 32);
    return tag == kEmpty ? 1 : tag;
  }

  [[nodiscard]] std::size_t Home(std::uint32_t tag) const {
    return static_cast<std::size_t>(
        (std::uint64_t{tag} * 0x9E3779B97F4A7C15ULL) >> shift_);
  }

  void InsertTag(std::uint32_t tag, std::uint32_t slot) {
    std::size_t i = Home(tag);
    while (entries_[i].tag != kEmpty) i = (i + 1) & mask_;
    entries_[i] = Entry{tag, slot};
    ++size_;
  }

  void Rehash(std::size_t capacity) {
    std::vector<Entry> old = std::move(entries_);
    entries_.assign(capacity, Entry{});
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    size_ = 0;
    for (const Entry& e : old) {
      if (e.tag != kEmpty) InsertTag(e.tag, e.slot);
    }
  }

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
};

}  // namespace carbonex::engine

#endif  // CARBONEX_ENGINE_SRC_CLIENT_ORDER_INDEX_H_
