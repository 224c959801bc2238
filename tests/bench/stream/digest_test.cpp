#include "carbonex/stream/digest.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "carbonex/stream/fnv1a.h"

namespace carbonex::stream {
namespace {

// The little-endian bytes of `value`, built independently of Fnv1a64.
std::string LittleEndian(std::uint64_t value) {
  std::string bytes;
  for (int i = 0; i < 8; ++i) {
    bytes.push_back(static_cast<char>(value >> (8 * i)));
  }
  return bytes;
}

std::uint64_t HashOf(const std::string& bytes) {
  Fnv1a64 hash;
  hash.AddBytes(bytes);
  return hash.Digest();
}

TEST_CASE("Fnv1a64 matches the published FNV-1a 64 test vectors", "[digest]") {
  CHECK(Fnv1a64().Digest() == 0xcbf29ce484222325ULL);
  CHECK(HashOf("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(HashOf("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("Fnv1a64 feeds integers as 8 little-endian bytes", "[digest]") {
  Fnv1a64 hash;
  hash.AddU64(0x0102030405060708ULL);
  CHECK(hash.Digest() ==
        HashOf(std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8)));
  Fnv1a64 negative;
  negative.AddI64(-1);
  CHECK(negative.Digest() == HashOf(std::string(8, '\xff')));
}

TEST_CASE("FillHash covers taker, maker, price and qty of every fill",
          "[digest]") {
  CHECK(FillHash({}) == Fnv1a64::kOffsetBasis);
  const std::vector<Fill> fills = {
      {OrderId(7), OrderId(3), Price(10011), Quantity(40)},
      {OrderId(7), OrderId(5), Price(10012), Quantity(2)}};
  const std::string bytes = LittleEndian(7) + LittleEndian(3) +
                            LittleEndian(10011) + LittleEndian(40) +
                            LittleEndian(7) + LittleEndian(5) +
                            LittleEndian(10012) + LittleEndian(2);
  CHECK(FillHash(fills) == HashOf(bytes));
  // Order matters.
  const std::vector<Fill> swapped = {fills[1], fills[0]};
  CHECK(FillHash(swapped) != FillHash(fills));
}

TEST_CASE("BookHash encodes bids as side 0 and asks as side 1", "[digest]") {
  const std::vector<RestingOrder> book = {
      {OrderId(2), Side::kBuy, Price(99), Quantity(4)},
      {OrderId(9), Side::kSell, Price(101), Quantity(6)}};
  const std::string bytes =
      LittleEndian(2) + LittleEndian(0) + LittleEndian(99) + LittleEndian(4) +
      LittleEndian(9) + LittleEndian(1) + LittleEndian(101) + LittleEndian(6);
  CHECK(BookHash(book) == HashOf(bytes));
}

TEST_CASE("HashToHex prints 16 zero-padded lower-case digits", "[digest]") {
  CHECK(HashToHex(0) == "0000000000000000");
  CHECK(HashToHex(0xabcULL) == "0000000000000abc");
  CHECK(HashToHex(0xd2c833ef5ff1f5efULL) == "d2c833ef5ff1f5ef");
}

}  // namespace
}  // namespace carbonex::stream
