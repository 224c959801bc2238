// The results a replay of an ets-stream is judged by: its fills and its final
// book, and their FNV-1a-64 digests exactly as docs/order-stream.md defines
// them, so that they compare with the `expected` values of a stream's meta
// file and with other implementations.
//
// Thread-safety: plain values and pure functions.
#ifndef CARBONEX_STREAM_DIGEST_H_
#define CARBONEX_STREAM_DIGEST_H_

#include <cstdint>
#include <span>
#include <string>

#include "carbonex/common/types.h"

namespace carbonex::stream {

// One maker/taker execution: one per resting order an incoming order touches.
struct Fill {
  OrderId taker;
  OrderId maker;
  Price price;  // the maker's price
  Quantity qty;
};

// A resting order in the final book.
struct RestingOrder {
  OrderId id;
  Side side = Side::kBuy;
  Price price;
  Quantity open_qty;
};

// FNV-1a-64 over, per fill in order, the 8-byte little-endian encodings of
// taker id, maker id, price and qty.
[[nodiscard]] std::uint64_t FillHash(std::span<const Fill> fills);

// FNV-1a-64 over, per resting order, (id, side, price, open_qty) with side 0
// for bids and 1 for asks. Precondition: `book` is in the spec's order: bids
// best to worst, then asks best to worst, FIFO within a level.
[[nodiscard]] std::uint64_t BookHash(std::span<const RestingOrder> book);

// `value` as 16 lower-case hex digits, zero-padded (the format of the
// *_fnv1a64 fields of a stream's meta file).
[[nodiscard]] std::string HashToHex(std::uint64_t value);

}  // namespace carbonex::stream

#endif  // CARBONEX_STREAM_DIGEST_H_
