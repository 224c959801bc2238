// Fnv1a64: the FNV-1a 64-bit hash that ets-stream v1 uses for its fill and
// final-book digests (docs/order-stream.md).
//
// Integers are fed as 8-byte little-endian encodings, byte by byte, whatever
// the host byte order, so digests are comparable across machines and with
// other implementations of the format.
//
// Thread-safety: a value; distinct instances may be used on distinct threads.
#ifndef CARBONEX_STREAM_FNV1A_H_
#define CARBONEX_STREAM_FNV1A_H_

#include <cstdint>
#include <string_view>

namespace carbonex::stream {

class Fnv1a64 {
 public:
  static constexpr std::uint64_t kOffsetBasis = 0xcbf29ce484222325ULL;
  static constexpr std::uint64_t kPrime = 0x100000001b3ULL;

  constexpr void AddByte(std::uint8_t byte) {
    hash_ ^= byte;
    hash_ *= kPrime;
  }

  constexpr void AddBytes(std::string_view bytes) {
    for (char c : bytes) {
      AddByte(static_cast<std::uint8_t>(c));
    }
  }

  // Feeds the 8-byte little-endian encoding of `value`.
  constexpr void AddU64(std::uint64_t value) {
    for (int i = 0; i < 8; ++i) {
      AddByte(static_cast<std::uint8_t>(value & 0xffU));
      value >>= 8;
    }
  }

  // Signed values are fed as their two's-complement 64-bit pattern.
  constexpr void AddI64(std::int64_t value) {
    AddU64(static_cast<std::uint64_t>(value));
  }

  [[nodiscard]] constexpr std::uint64_t Digest() const { return hash_; }

 private:
  std::uint64_t hash_ = kOffsetBasis;
};

}  // namespace carbonex::stream

#endif  // CARBONEX_STREAM_FNV1A_H_
