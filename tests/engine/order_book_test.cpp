#include "carbonex/engine/order_book.h"

#include <catch2/catch.hpp>
#include <tuple>
#include <vector>

namespace carbonex::engine {
namespace {

using Resting = std::tuple<std::uint64_t, Side, std::int64_t, std::int64_t>;

std::vector<Resting> Snapshot(const OrderBook& book) {
  std::vector<Resting> out;
  book.ForEachResting([&](OrderId id, Side side, Price price, Quantity qty) {
    out.emplace_back(id.value(), side, price.value(), qty.value());
  });
  return out;
}

struct FillLog {
  std::vector<BookFill> fills;
  void operator()(const BookFill& f) { fills.push_back(f); }
};

bool Add(OrderBook& book, FillLog& log, std::uint64_t id, Side side,
         std::int64_t price, std::int64_t qty) {
  return book.AddLimit(OrderId{id}, side, Price{price}, Quantity{qty}, log);
}

void RequireFill(const BookFill& f, std::uint64_t taker, std::uint64_t maker,
                 std::int64_t price, std::int64_t qty) {
  CHECK(f.taker.value() == taker);
  CHECK(f.maker.value() == maker);
  CHECK(f.price.value() == price);
  CHECK(f.qty.value() == qty);
}

TEST_CASE("Passive orders rest in price-time order", "[order_book]") {
  OrderBook book(16);
  FillLog log;
  REQUIRE(Add(book, log, 1, Side::kBuy, 100, 10));
  REQUIRE(Add(book, log, 2, Side::kBuy, 101, 5));
  REQUIRE(Add(book, log, 3, Side::kBuy, 100, 7));
  REQUIRE(Add(book, log, 4, Side::kSell, 105, 3));
  REQUIRE(Add(book, log, 5, Side::kSell, 103, 4));
  CHECK(log.fills.empty());
  CHECK(book.BestBid() == Price{101});
  CHECK(book.BestAsk() == Price{103});
  CHECK(book.RestingOrders() == 5);
  CHECK(Snapshot(book) == std::vector<Resting>{{2, Side::kBuy, 101, 5},
                                               {1, Side::kBuy, 100, 10},
                                               {3, Side::kBuy, 100, 7},
                                               {5, Side::kSell, 103, 4},
                                               {4, Side::kSell, 105, 3}});
  CHECK(book.CheckInvariants().empty());
}

TEST_CASE("An aggressive order sweeps levels at maker prices, FIFO",
          "[order_book]") {
  OrderBook book(16);
  FillLog log;
  Add(book, log, 1, Side::kSell, 100, 5);
  Add(book, log, 2, Side::kSell, 100, 5);
  Add(book, log, 3, Side::kSell, 101, 5);
  Add(book, log, 4, Side::kSell, 103, 5);
  // Buy 12 at 102: takes 1 and 2 at 100, then 2 of 3 at 101; stops at 103.
  REQUIRE(Add(book, log, 5, Side::kBuy, 102, 12));
  REQUIRE(log.fills.size() == 3);
  RequireFill(log.fills[0], 5, 1, 100, 5);
  RequireFill(log.fills[1], 5, 2, 100, 5);
  RequireFill(log.fills[2], 5, 3, 101, 2);
  CHECK(book.BestAsk() == Price{101});
  CHECK(book.BestBid() == std::nullopt);
  CHECK(Snapshot(book) == std::vector<Resting>{{3, Side::kSell, 101, 3},
                                               {4, Side::kSell, 103, 5}});
  // Sell 10 at 99 against nothing on the bid side rests; then a buy at 101
  // for 20 takes 3 at 101 and rests 17 at 101 behind nobody.
  log.fills.clear();
  REQUIRE(Add(book, log, 6, Side::kBuy, 101, 20));
  REQUIRE(log.fills.size() == 1);
  RequireFill(log.fills[0], 6, 3, 101, 3);
  CHECK(book.BestBid() == Price{101});
  CHECK(book.BestAsk() == Price{103});
  CHECK(Snapshot(book) == std::vector<Resting>{{6, Side::kBuy, 101, 17},
                                               {4, Side::kSell, 103, 5}});
  CHECK(book.CheckInvariants().empty());
}

TEST_CASE("A sell matches bids from the highest price down", "[order_book]") {
  OrderBook book(16);
  FillLog log;
  Add(book, log, 1, Side::kBuy, 98, 4);
  Add(book, log, 2, Side::kBuy, 99, 4);
  Add(book, log, 3, Side::kSell, 98, 6);
  REQUIRE(log.fills.size() == 2);
  RequireFill(log.fills[0], 3, 2, 99, 4);
  RequireFill(log.fills[1], 3, 1, 98, 2);
  CHECK(Snapshot(book) == std::vector<Resting>{{1, Side::kBuy, 98, 2}});
}

TEST_CASE("Cancel removes only live orders and empties levels",
          "[order_book]") {
  OrderBook book(4);  // small: pools grow past the reservation
  FillLog log;
  for (std::uint64_t id = 1; id <= 20; ++id) {
    Add(book, log, id, Side::kBuy, 100 - static_cast<std::int64_t>(id % 3), 10);
  }
  CHECK(book.LevelCount(Side::kBuy) == 3);
  CHECK(book.Cancel(OrderId{5}));
  CHECK_FALSE(book.Cancel(OrderId{5}));
  CHECK_FALSE(book.Cancel(OrderId{99}));
  for (std::uint64_t id = 3; id <= 20; id += 3) CHECK(book.Cancel(OrderId{id}));
  CHECK(book.LevelCount(Side::kBuy) == 2);  // price 100 is gone
  CHECK(book.BestBid() == Price{99});
  CHECK(book.RestingOrders() == 13);
  CHECK(book.CheckInvariants().empty());
  // A filled order is not live either.
  Add(book, log, 30, Side::kSell, 99, 10);
  REQUIRE(log.fills.size() == 1);
  CHECK(log.fills[0].maker == OrderId{1});
  CHECK_FALSE(book.Cancel(OrderId{1}));
  CHECK_FALSE(book.Cancel(OrderId{30}));
}

TEST_CASE("AddLimit refuses bad input and changes nothing", "[order_book]") {
  OrderBook book(4);
  FillLog log;
  REQUIRE(Add(book, log, 1, Side::kBuy, 100, 10));
  CHECK_FALSE(Add(book, log, 1, Side::kBuy, 100, 10));  // live id
  CHECK_FALSE(Add(book, log, 2, Side::kBuy, 0, 10));
  CHECK_FALSE(Add(book, log, 2, Side::kBuy, -5, 10));
  CHECK_FALSE(Add(book, log, 2, Side::kSell, 100, 0));
  CHECK_FALSE(Add(book, log, 2, Side::kSell, 100, -1));
  CHECK(log.fills.empty());
  CHECK(Snapshot(book) == std::vector<Resting>{{1, Side::kBuy, 100, 10}});
}

TEST_CASE("Match stops before a maker of the taker's owner", "[order_book]") {
  OrderBook book(8);
  REQUIRE(book.Rest(OrderId{1}, Side::kSell, Price{100}, Quantity{5},
                    AccountId{7}));
  REQUIRE(book.Rest(OrderId{2}, Side::kSell, Price{100}, Quantity{5},
                    AccountId{8}));
  REQUIRE(book.Rest(OrderId{3}, Side::kSell, Price{101}, Quantity{5},
                    AccountId{9}));
  MatchRequest request;
  request.taker = OrderId{10};
  request.side = Side::kBuy;
  request.limit = Price{101};
  request.qty = Quantity{20};
  request.owner = AccountId{8};
  const MatchResult dry = book.Fillable(request);
  FillLog log;
  const MatchResult result = book.Match(request, log);
  CHECK(result.stop == MatchStop::kSelfTrade);
  CHECK(result.filled == Quantity{5});
  CHECK(result.notional == Cash{500});
  CHECK(dry.filled == result.filled);
  CHECK(dry.stop == result.stop);
  REQUIRE(log.fills.size() == 1);
  RequireFill(log.fills[0], 10, 1, 100, 5);
  CHECK(book.Find(OrderId{2})->open == Quantity{5});
}

TEST_CASE("Market match with a budget buys what the cash pays for",
          "[order_book]") {
  OrderBook book(8);
  book.Rest(OrderId{1}, Side::kSell, Price{100}, Quantity{3}, AccountId{1});
  book.Rest(OrderId{2}, Side::kSell, Price{150}, Quantity{10}, AccountId{1});
  MatchRequest request;
  request.taker = OrderId{5};
  request.side = Side::kBuy;
  request.qty = Quantity{100};
  request.budget = Cash{1000};  // 3×100 = 300, then 700/150 = 4 more
  const MatchResult dry = book.Fillable(request);
  FillLog log;
  const MatchResult result = book.Match(request, log);
  CHECK(result.stop == MatchStop::kBudget);
  CHECK(result.filled == Quantity{7});
  CHECK(result.notional == Cash{900});
  CHECK(dry.filled == Quantity{7});
  CHECK(dry.stop == MatchStop::kBudget);
  REQUIRE(log.fills.size() == 2);
  RequireFill(log.fills[1], 5, 2, 150, 4);
  CHECK(book.Find(OrderId{2})->open == Quantity{6});

  // Without a budget a market order runs out of liquidity.
  request.budget.reset();
  request.taker = OrderId{6};
  const MatchResult rest = book.Match(request, log);
  CHECK(rest.stop == MatchStop::kNoLiquidity);
  CHECK(rest.filled == Quantity{6});
  CHECK(book.RestingOrders() == 0);
  CHECK(book.LevelCount(Side::kSell) == 0);
}

TEST_CASE("Rest refuses a crossing order, ReduceOpen keeps priority",
          "[order_book]") {
  OrderBook book(8);
  REQUIRE(
      book.Rest(OrderId{1}, Side::kBuy, Price{100}, Quantity{5}, AccountId{1}));
  REQUIRE(
      book.Rest(OrderId{2}, Side::kBuy, Price{100}, Quantity{5}, AccountId{1}));
  CHECK_FALSE(book.Rest(OrderId{3}, Side::kSell, Price{100}, Quantity{5},
                        AccountId{2}));
  CHECK_FALSE(book.ReduceOpen(OrderId{1}, Quantity{6}));
  CHECK_FALSE(book.ReduceOpen(OrderId{1}, Quantity{0}));
  CHECK(book.ReduceOpen(OrderId{1}, Quantity{2}));
  CHECK(book.LevelAt(Side::kBuy, Price{100}).total == Quantity{7});
  CHECK(book.LevelAt(Side::kBuy, Price{100}).count == 2);
  CHECK(book.LevelAt(Side::kBuy, Price{99}).count == 0);
  CHECK(Snapshot(book) ==
        std::vector<Resting>{{1, Side::kBuy, 100, 2}, {2, Side::kBuy, 100, 5}});
  CHECK(book.CheckInvariants().empty());
}

TEST_CASE("Level tracking reports net changes, bids then asks, best first",
          "[order_book]") {
  OrderBook book(8);
  FillLog log;
  Add(book, log, 1, Side::kSell, 101, 5);
  Add(book, log, 2, Side::kSell, 102, 5);
  Add(book, log, 3, Side::kBuy, 99, 5);
  book.EnableLevelTracking(true);
  // Sweeps 101, part of 102, and rests nothing; then a cancel+re-add at 99
  // leaves the 99 level as it was: no change reported for it.
  Add(book, log, 4, Side::kBuy, 102, 7);
  book.Cancel(OrderId{3});
  Add(book, log, 5, Side::kBuy, 99, 5);
  Add(book, log, 6, Side::kBuy, 98, 1);
  std::vector<LevelChange> changes;
  book.TakeLevelChanges([&](const LevelChange& c) { changes.push_back(c); });
  REQUIRE(changes.size() == 3);
  CHECK((changes[0].side == Side::kBuy && changes[0].price == Price{98} &&
         changes[0].count == 1 && changes[0].total == Quantity{1}));
  CHECK((changes[1].side == Side::kSell && changes[1].price == Price{101} &&
         changes[1].count == 0));
  CHECK((changes[2].side == Side::kSell && changes[2].price == Price{102} &&
         changes[2].count == 1 && changes[2].total == Quantity{3}));
  changes.clear();
  book.TakeLevelChanges([&](const LevelChange& c) { changes.push_back(c); });
  CHECK(changes.empty());
}

TEST_CASE(
    "Level tracking: a level emptied and re-created reports its end state",
    "[order_book]") {
  OrderBook book(8);
  FillLog log;
  Add(book, log, 1, Side::kSell, 101, 5);
  Add(book, log, 2, Side::kSell, 103, 4);
  book.EnableLevelTracking(true);
  // 101 empties (its level is freed), 102 appears (it may reuse the freed
  // level), then 101 is re-created with a different size, and 103 empties
  // and comes back exactly as it was.
  Add(book, log, 3, Side::kBuy, 101, 5);
  Add(book, log, 4, Side::kSell, 102, 2);
  Add(book, log, 5, Side::kSell, 101, 7);
  book.Cancel(OrderId{2});
  Add(book, log, 6, Side::kSell, 103, 4);
  std::vector<LevelChange> changes;
  book.TakeLevelChanges([&](const LevelChange& c) { changes.push_back(c); });
  REQUIRE(changes.size() == 2);
  CHECK((changes[0].side == Side::kSell && changes[0].price == Price{101} &&
         changes[0].count == 1 && changes[0].total == Quantity{7}));
  CHECK((changes[1].side == Side::kSell && changes[1].price == Price{102} &&
         changes[1].count == 1 && changes[1].total == Quantity{2}));
  // The next window starts from here: emptying 102 reports it gone.
  book.Cancel(OrderId{4});
  changes.clear();
  book.TakeLevelChanges([&](const LevelChange& c) { changes.push_back(c); });
  REQUIRE(changes.size() == 1);
  CHECK((changes[0].price == Price{102} && changes[0].count == 0 &&
         changes[0].total == Quantity{0}));
  CHECK(book.CheckInvariants().empty());
}

TEST_CASE("Fills hand back the tag each maker was rested with",
          "[order_book]") {
  OrderBook book(8);
  REQUIRE(book.Rest(OrderId{10}, Side::kSell, Price{100}, Quantity{2},
                    AccountId{1}, 7));
  REQUIRE(book.Rest(OrderId{11}, Side::kSell, Price{101}, Quantity{2},
                    AccountId{1}, 42));
  // A refused Rest (the id is resting) changes nothing.
  CHECK_FALSE(book.Rest(OrderId{10}, Side::kSell, Price{105}, Quantity{1},
                        AccountId{1}, 99));
  CHECK(book.RestingOrders() == 2);
  MatchRequest request;
  request.taker = OrderId{12};
  request.side = Side::kBuy;
  request.limit = Price{101};
  request.qty = Quantity{4};
  std::vector<BookFill> fills;
  book.Match(request, [&](const BookFill& f) { fills.push_back(f); });
  REQUIRE(fills.size() == 2);
  CHECK((fills[0].maker == OrderId{10} && fills[0].maker_tag == 7));
  CHECK((fills[1].maker == OrderId{11} && fills[1].maker_tag == 42));
  CHECK(book.RestingOrders() == 0);
  CHECK(book.CheckInvariants().empty());
}

TEST_CASE("A book without the id index works by handle", "[order_book]") {
  OrderBook book(4, /*index_ids=*/false);
  CHECK_FALSE(book.IndexesIds());
  const std::uint32_t a = book.RestWithHandle(
      OrderId{1}, Side::kBuy, Price{100}, Quantity{10}, AccountId{3}, 5);
  const std::uint32_t b = book.RestWithHandle(
      OrderId{2}, Side::kBuy, Price{100}, Quantity{4}, AccountId{4}, 6);
  const std::uint32_t c = book.RestWithHandle(
      OrderId{3}, Side::kSell, Price{102}, Quantity{7}, AccountId{5}, 7);
  REQUIRE(a != OrderBook::kNoHandle);
  REQUIRE(b != OrderBook::kNoHandle);
  REQUIRE(c != OrderBook::kNoHandle);
  // Refused like Rest: a crossing price, or no quantity.
  CHECK(book.RestWithHandle(OrderId{4}, Side::kBuy, Price{102}, Quantity{1},
                            AccountId{6}) == OrderBook::kNoHandle);
  CHECK(book.RestWithHandle(OrderId{4}, Side::kBuy, Price{99}, Quantity{0},
                            AccountId{6}) == OrderBook::kNoHandle);
  CHECK(book.RestingOrders() == 3);
  const RestingOrder at = book.AtHandle(b);
  CHECK((at.id == OrderId{2} && at.side == Side::kBuy &&
         at.price == Price{100} && at.open == Quantity{4} &&
         at.owner == AccountId{4}));
  // The id-based calls have no index to work with and change nothing.
  CHECK_FALSE(book.Cancel(OrderId{1}));
  CHECK_FALSE(book.ReduceOpen(OrderId{1}, Quantity{5}));
  CHECK_FALSE(book.Find(OrderId{1}).has_value());
  FillLog log;
  CHECK_FALSE(Add(book, log, 9, Side::kSell, 100, 1));
  CHECK(book.RestingOrders() == 3);

  CHECK_FALSE(book.ReduceOpenHandle(a, Quantity{11}));
  CHECK(book.ReduceOpenHandle(a, Quantity{6}));  // keeps its place
  CHECK(book.LevelAt(Side::kBuy, Price{100}).total == Quantity{10});
  book.CancelHandle(c);
  CHECK_FALSE(book.BestAsk().has_value());
  CHECK(book.RestingOrders() == 2);
  CHECK(book.CheckInvariants().empty());

  MatchRequest request;
  request.taker = OrderId{8};
  request.side = Side::kSell;
  request.limit = Price{100};
  request.qty = Quantity{7};
  std::vector<BookFill> fills;
  book.Match(request, [&](const BookFill& f) { fills.push_back(f); });
  REQUIRE(fills.size() == 2);
  CHECK((fills[0].maker == OrderId{1} && fills[0].qty == Quantity{6} &&
         fills[0].maker_tag == 5));
  CHECK((fills[1].maker == OrderId{2} && fills[1].qty == Quantity{1} &&
         fills[1].maker_tag == 6));
  CHECK(book.RestingOrders() == 1);
  CHECK(book.AtHandle(b).open == Quantity{3});
  // A freed handle is reused by the next order.
  const std::uint32_t d = book.RestWithHandle(
      OrderId{10}, Side::kSell, Price{101}, Quantity{2}, AccountId{5});
  CHECK(d == a);
  CHECK(Snapshot(book) == std::vector<Resting>{{2, Side::kBuy, 100, 3},
                                               {10, Side::kSell, 101, 2}});
  CHECK(book.CheckInvariants().empty());
}

}  // namespace
}  // namespace carbonex::engine
