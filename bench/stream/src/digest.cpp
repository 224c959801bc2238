#include "carbonex/stream/digest.h"

#include <array>

#include "carbonex/stream/fnv1a.h"

namespace carbonex::stream {

std::uint64_t FillHash(std::span<const Fill> fills) {
  Fnv1a64 hash;
  for (const Fill& fill : fills) {
    hash.AddU64(fill.taker.value());
    hash.AddU64(fill.maker.value());
    hash.AddI64(fill.price.value());
    hash.AddI64(fill.qty.value());
  }
  return hash.Digest();
}

std::uint64_t BookHash(std::span<const RestingOrder> book) {
  Fnv1a64 hash;
  for (const RestingOrder& order : book) {
    hash.AddU64(order.id.value());
    hash.AddU64(order.side == Side::kBuy ? 0 : 1);
    hash.AddI64(order.price.value());
    hash.AddI64(order.open_qty.value());
  }
  return hash.Digest();
}

std::string HashToHex(std::uint64_t value) {
  static constexpr std::array<char, 16> kDigits = {'0', '1', '2', '3', '4', '5',
                                                   '6', '7', '8', '9', 'a', 'b',
                                                   'c', 'd', 'e', 'f'};
  std::string text(16, '0');
  for (std::size_t i = 16; i-- > 0;) {
    text[i] = kDigits[value & 0xfU];
    value >>= 4;
  }
  return text;
}

}  // namespace carbonex::stream
