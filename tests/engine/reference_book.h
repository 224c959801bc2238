// ReferenceBook: an obviously-correct, slow model of the matching rules, to
// check the real OrderBook and Engine against.
//
// std::map of price levels holding std::list FIFOs; every operation walks
// what it needs with no cleverness. It implements exactly the semantics in
// docs/engine.md: price-time priority, fills at the maker's price, limit and
// market orders, Day/GTC/IOC/FOK, self-trade prevention by owner (the
// incoming remainder is cancelled), cancel, replace (priority kept only when
// the price is unchanged and the quantity does not grow; otherwise the order
// re-enters as an incoming order), mass cancel by owner and Day expiry. No
// risk checks.
#ifndef CARBONEX_TESTS_ENGINE_REFERENCE_BOOK_H_
#define CARBONEX_TESTS_ENGINE_REFERENCE_BOOK_H_

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace carbonex::engine::testing {

class ReferenceBook {
 public:
  enum class Tif { kDay, kGtc, kIoc, kFok };

  struct Order {
    std::uint64_t id = 0;
    std::uint32_t owner = 0;
    bool buy = true;
    std::int64_t price = 0;  // limit price (resting orders only)
    std::int64_t qty = 0;    // total quantity
    std::int64_t cum = 0;    // filled
    Tif tif = Tif::kDay;
    std::int64_t open() const { return qty - cum; }
  };

  // Outcomes are appended to `log` as text lines:
  //   "F <taker> <maker> <price> <qty>"   a fill
  //   "C <id> <reason>"                    a cancellation (reason as in
  //                                        CancelReason: ioc, fok,
  //                                        self_trade, market_no_liquidity,
  //                                        requested, mass_cancel)
  //   "E <id>"                             a Day order expired
  //   "R <id> <kept 0|1>"                  a replace applied
  explicit ReferenceBook(std::vector<std::string>* log) : log_(log) {}

  // price nullopt: market order.
  void Place(std::uint64_t id, std::uint32_t owner, bool buy,
             std::optional<std::int64_t> price, std::int64_t qty, Tif tif);
  // Removes a live order, logging "C <id> <reason>".
  bool Cancel(std::uint64_t id, const std::string& reason = "requested");
  // Removes a live order, logging "E <id>".
  bool Expire(std::uint64_t id);
  // Returns false (nothing changes) if the order is not live or qty is
  // below its filled quantity.
  bool Replace(std::uint64_t id, std::int64_t price, std::int64_t qty);
  void MassCancelOwner(std::uint32_t owner);
  void ExpireDay();

  const Order* Find(std::uint64_t id) const;
  std::vector<std::uint64_t> LiveIds() const;
  // (id, buy, price, open) bids best→worst, then asks best→worst, FIFO.
  std::vector<std::tuple<std::uint64_t, bool, std::int64_t, std::int64_t>>
  Resting() const;

 private:
  using Level = std::list<Order>;
  void Execute(Order order, std::optional<std::int64_t> limit, bool rest);
  Order* FindMutable(std::uint64_t id);
  bool Remove(std::uint64_t id, Order* out);

  std::map<std::int64_t, Level, std::greater<>> bids_;
  std::map<std::int64_t, Level> asks_;
  std::vector<std::string>* log_;
};

}  // namespace carbonex::engine::testing

#endif  // CARBONEX_TESTS_ENGINE_REFERENCE_BOOK_H_
