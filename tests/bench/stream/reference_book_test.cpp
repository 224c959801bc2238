#include "carbonex/stream/reference_book.h"

#include <catch2/catch.hpp>
#include <vector>

namespace carbonex::stream {
namespace {

bool SameFills(const std::vector<Fill>& a, const std::vector<Fill>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].taker != b[i].taker || a[i].maker != b[i].maker ||
        a[i].price != b[i].price || a[i].qty != b[i].qty) {
      return false;
    }
  }
  return true;
}

TEST_CASE("ReferenceBook matches by price, then time, at the maker's price",
          "[reference_book]") {
  ReferenceBook book(Price(100));
  std::vector<Fill> fills;
  book.Add(OrderId(1), Side::kSell, Price(102), Quantity(10), &fills);
  book.Add(OrderId(2), Side::kSell, Price(101), Quantity(5), &fills);
  book.Add(OrderId(3), Side::kSell, Price(101), Quantity(7), &fills);
  CHECK(fills.empty());
  CHECK(book.BestAsk() == Price(101));
  CHECK_FALSE(book.BestBid().has_value());
  CHECK(book.LastTradePrice() == Price(100));

  // Sweeps 101 (oldest first) and part of 102; nothing rests.
  book.Add(OrderId(4), Side::kBuy, Price(103), Quantity(15), &fills);
  const std::vector<Fill> expected = {
      {OrderId(4), OrderId(2), Price(101), Quantity(5)},
      {OrderId(4), OrderId(3), Price(101), Quantity(7)},
      {OrderId(4), OrderId(1), Price(102), Quantity(3)}};
  CHECK(SameFills(fills, expected));
  CHECK(book.LastTradePrice() == Price(102));
  CHECK_FALSE(book.BestBid().has_value());
  CHECK(book.BestAsk() == Price(102));
  REQUIRE(book.Snapshot().size() == 1);
  CHECK(book.Snapshot()[0].open_qty == Quantity(7));
}

TEST_CASE("ReferenceBook rests the remainder at the limit price",
          "[reference_book]") {
  ReferenceBook book;
  std::vector<Fill> fills;
  book.Add(OrderId(1), Side::kBuy, Price(50), Quantity(4), &fills);
  book.Add(OrderId(2), Side::kSell, Price(49), Quantity(10), &fills);
  REQUIRE(fills.size() == 1);
  CHECK(fills[0].price == Price(50));
  CHECK_FALSE(book.BestBid().has_value());
  CHECK(book.BestAsk() == Price(49));
  const std::vector<RestingOrder> snapshot = book.Snapshot();
  REQUIRE(snapshot.size() == 1);
  CHECK(snapshot[0].id == OrderId(2));
  CHECK(snapshot[0].side == Side::kSell);
  CHECK(snapshot[0].price == Price(49));
  CHECK(snapshot[0].open_qty == Quantity(6));
}

TEST_CASE("ReferenceBook snapshots bids then asks, best first, FIFO",
          "[reference_book]") {
  ReferenceBook book;
  book.Add(OrderId(1), Side::kBuy, Price(10), Quantity(1), nullptr);
  book.Add(OrderId(2), Side::kBuy, Price(11), Quantity(1), nullptr);
  book.Add(OrderId(3), Side::kBuy, Price(10), Quantity(1), nullptr);
  book.Add(OrderId(4), Side::kSell, Price(13), Quantity(1), nullptr);
  book.Add(OrderId(5), Side::kSell, Price(12), Quantity(1), nullptr);
  std::vector<std::uint64_t> ids;
  for (const RestingOrder& order : book.Snapshot()) {
    ids.push_back(order.id.value());
  }
  CHECK(ids == std::vector<std::uint64_t>{2, 1, 3, 5, 4});
}

TEST_CASE("ReferenceBook keeps the live array swap-remove ordered",
          "[reference_book]") {
  ReferenceBook book;
  for (std::uint64_t id = 1; id <= 4; ++id) {
    book.Add(OrderId(id), Side::kBuy, Price(static_cast<std::int64_t>(id)),
             Quantity(1), nullptr);
  }
  CHECK(book.Cancel(OrderId(2)));  // 4 moves into slot 1
  CHECK(book.Live() ==
        std::vector<OrderId>{OrderId(1), OrderId(4), OrderId(3)});
  // A fill removes a maker the same way: order 4 (best bid) fills.
  book.Add(OrderId(5), Side::kSell, Price(4), Quantity(1), nullptr);
  CHECK(book.Live() == std::vector<OrderId>{OrderId(1), OrderId(3)});
  CHECK_FALSE(book.Cancel(OrderId(4)));   // already filled
  CHECK_FALSE(book.Cancel(OrderId(2)));   // already cancelled
  CHECK_FALSE(book.Cancel(OrderId(99)));  // never added
  CHECK(book.RestingOrders() == 2);
  CHECK(book.BestBid() == Price(3));
}

}  // namespace
}  // namespace carbonex::stream
