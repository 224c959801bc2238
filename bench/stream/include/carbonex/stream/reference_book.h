// ReferenceBook: a deliberately simple price-time order book for ets-stream
// orders (GTC limit orders and cancels, no owners, no self-trade prevention).
//
// It is the generator's model of the market (best bid/ask, last trade price
// and the swap-remove array of live ids that the generation rules draw from)
// and the independent reference that tests compare carbonex's order book
// against. It favours obviously-correct code over speed: a cancel is linear
// in the length of its price level.
//
// Matching: an incoming order matches while the opposite best price is at or
// better than its limit, at the resting (maker) order's price, oldest order
// first within a level; its remainder rests at its limit price at the back of
// its level.
//
// Thread-safety: none; one thread at a time.
#ifndef CARBONEX_STREAM_REFERENCE_BOOK_H_
#define CARBONEX_STREAM_REFERENCE_BOOK_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "carbonex/common/types.h"
#include "carbonex/stream/digest.h"

namespace carbonex::stream {

class ReferenceBook {
 public:
  // `initial_last_price` is LastTradePrice() until the first fill.
  explicit ReferenceBook(Price initial_last_price = Price(0))
      : last_price_(initial_last_price) {}

  // Adds a limit order, matches it and rests its remainder. Appends one Fill
  // per maker touched to `*fills` when `fills` is not null.
  // Preconditions: `id` was never added before; price > 0; qty > 0.
  void Add(OrderId id, Side side, Price price, Quantity qty,
           std::vector<Fill>* fills);

  // Removes the live order `id`. Returns false (and changes nothing) when no
  // such order rests: never added, already filled or already cancelled.
  bool Cancel(OrderId id);

  [[nodiscard]] std::optional<Price> BestBid() const;
  [[nodiscard]] std::optional<Price> BestAsk() const;
  [[nodiscard]] Price LastTradePrice() const { return last_price_; }

  // Ids of the resting orders in the order of the generation rules: an id is
  // appended when its order rests; a removed id's slot takes the last id.
  [[nodiscard]] const std::vector<OrderId>& Live() const { return live_; }
  [[nodiscard]] std::size_t RestingOrders() const { return live_.size(); }

  // The resting orders in the spec's book-hash order.
  [[nodiscard]] std::vector<RestingOrder> Snapshot() const;

 private:
  struct OrderState {
    Side side;
    Price price;
    Quantity open_qty;
    std::size_t live_pos;  // index in live_
  };
  using Level = std::deque<OrderId>;
  using Bids = std::map<Price, Level, std::greater<>>;
  using Asks = std::map<Price, Level, std::less<>>;

  template <typename Opposite, typename Crosses>
  void Match(OrderId taker, Quantity* qty, Opposite* opposite, Crosses crosses,
             std::vector<Fill>* fills);
  void RemoveLive(OrderId id);

  Bids bids_;
  Asks asks_;
  std::unordered_map<std::uint64_t, OrderState> orders_;  // resting only
  std::vector<OrderId> live_;
  Price last_price_;
};

}  // namespace carbonex::stream

#endif  // CARBONEX_STREAM_REFERENCE_BOOK_H_
