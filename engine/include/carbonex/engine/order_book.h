// OrderBook: one instrument's limit order book with price-time priority.
//
// The book knows orders only by OrderId, side, price, open quantity and an
// owner (the account, used for self-trade prevention). It does no risk
// checks and emits no events: the Engine wraps it with those, and the
// order-stream replay tool drives it alone.
//
// Matching: an incoming order matches while the opposite best price is at or
// better than its limit (any price for a market order); each fill prints at
// the resting (maker) order's price; within a price level the oldest order
// fills first. AddLimit rests any remainder (GTC) at the back of its level.
//
// Memory: order nodes live in a pool with a free list and are linked into
// per-level intrusive FIFO lists; price levels live in a second pool and are
// ordered per side in a sorted vector (best level at the back); OrderId →
// node is an OrderSlotIndex (a ring addressed by the id's low bits, so the
// entries of a stream's consecutive ids are neighbours; see
// order_slot_index.h). A book built without that index (the
// Engine's: it keeps each order's node handle in its own record) addresses
// resting orders by the handle RestWithHandle returns and pays for no id
// table at all. Nothing is allocated per order once the
// pools have reached the book's peak size (reserved up front from
// `expected_orders`). A resting order costs a 40-byte node (its price is
// its level's) plus 8-16 bytes of index ring (4-byte entries, at least two
// per expected order), plus 48 bytes per price level.
//
// Complexity: Cancel and ReduceOpen are O(1) (plus O(log L) to drop a level
// that became empty, L = levels on that side); resting at an existing level
// costs O(log L); matching costs O(1) per fill and per level emptied.
//
// Invariants (CheckInvariants verifies them):
//   - each side's ladder is strictly sorted, best level last;
//   - every level has ≥ 1 order, and its total/count equal its orders' sums;
//   - every resting order has open quantity > 0 and, if the book indexes
//     ids, is in its id index;
//   - the book is not crossed (best bid < best ask).
//
// Thread-safety: none. Callbacks must not call back into the book.
#ifndef CARBONEX_ENGINE_ORDER_BOOK_H_
#define CARBONEX_ENGINE_ORDER_BOOK_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "carbonex/common/types.h"
#include "carbonex/engine/id_map.h"
#include "carbonex/engine/order_slot_index.h"

namespace carbonex::engine {

// One execution between an incoming (taker) and a resting (maker) order.
struct BookFill {
  OrderId taker;
  OrderId maker;
  Price price;  // the maker's price
  Quantity qty;
  std::uint32_t maker_tag = 0;  // the tag the maker was rested with
};

// What the Engine asks of one matching pass (see OrderBook::Match).
struct MatchRequest {
  OrderId taker;
  Side side = Side::kBuy;      // the taker's side
  std::optional<Price> limit;  // nullopt: market order, any price
  Quantity qty;                // the most to fill, > 0
  // Buy only: the most notional (Σ price × qty) the taker may pay; each fill
  // is cut to what the rest of the budget pays for. nullopt: no limit.
  std::optional<Cash> budget;
  // Self-trade prevention: matching stops before the first maker with this
  // owner. nullopt: no prevention.
  std::optional<AccountId> owner;
};

// Why a matching pass stopped.
enum class MatchStop : std::uint8_t {
  kFilled = 0,       // the requested quantity filled completely
  kNoLiquidity = 1,  // opposite side empty, or its best is beyond the limit
  kSelfTrade = 2,    // the next maker has the taker's owner
  kBudget = 3,       // the budget does not pay for one more unit
};

struct MatchResult {
  Quantity filled{0};
  Cash notional{0};
  MatchStop stop = MatchStop::kFilled;
};

// A resting order as the book sees it.
struct RestingOrder {
  OrderId id;
  Side side = Side::kBuy;
  Price price;
  Quantity open;
  AccountId owner;
};

// A level's aggregate: total open quantity and number of orders.
// count == 0 means there is no such level (it is gone).
struct LevelChange {
  Side side = Side::kBuy;
  Price price;
  Quantity total;
  std::uint32_t count = 0;
};

class OrderBook {
 public:
  // Returned by RestWithHandle when nothing was rested.
  static constexpr std::uint32_t kNoHandle = 0xFFFF'FFFFU;

  // Reserves pools for `expected_orders` resting orders up front. With
  // `index_ids` false the book keeps no OrderId → node table: the caller
  // addresses resting orders by their handles (RestWithHandle,
  // CancelHandle, ReduceOpenHandle, AtHandle) and guarantees that ids are
  // unique; AddLimit, Cancel, ReduceOpen and Find are then unavailable
  // (they return false / nullopt and change nothing).
  explicit OrderBook(std::size_t expected_orders, bool index_ids = true);

  // Matches an incoming limit order while the opposite best is at or better
  // than `price`, fills print at the maker's price, calls
  // on_fill(const BookFill&) per fill in order, then rests the remainder
  // (GTC) at the back of its level.
  //
  // Returns false and changes nothing if `price` or `qty` is not positive or
  // `id` is already resting (or is the reserved id 2^64-1). Resting orders
  // added this way have owner AccountId{0}; there is no self-trade
  // prevention on this path.
  template <typename OnFill>
  bool AddLimit(OrderId id, Side side, Price price, Quantity qty,
                OnFill&& on_fill);

  // Removes a resting order. Returns false if `id` is not resting. O(1).
  bool Cancel(OrderId id);

  [[nodiscard]] std::optional<Price> BestBid() const;
  [[nodiscard]] std::optional<Price> BestAsk() const;
  [[nodiscard]] std::size_t RestingOrders() const { return resting_; }
  [[nodiscard]] bool IndexesIds() const { return index_ids_; }

  // Visits resting orders: bids best→worst, then asks best→worst, FIFO in a
  // level: f(OrderId id, Side side, Price price, Quantity open_qty).
  template <typename F>
  void ForEachResting(F&& f) const;

  // ---- What the Engine needs beyond the replay API. ----

  // One matching pass without resting anything: fills against the opposite
  // side within the request's limit, budget and self-trade rule, calling
  // on_fill(const BookFill&) per fill. Makers are removed once filled.
  // Preconditions: request.qty > 0; request.taker is not resting.
  template <typename OnFill>
  MatchResult Match(const MatchRequest& request, OnFill&& on_fill);

  // Dry run of Match: how much would fill, changing nothing.
  [[nodiscard]] MatchResult Fillable(const MatchRequest& request) const;

  // Rests an order at the back of its level without matching. Returns false
  // and changes nothing if price/open is not positive, the id is resting, or
  // the order would cross the opposite best (the caller matches first).
  // `tag` is the caller's handle for the order (the engine's record slot);
  // fills against it carry it back in BookFill::maker_tag, so the caller
  // needs no lookup by OrderId per fill.
  bool Rest(OrderId id, Side side, Price price, Quantity open, AccountId owner,
            std::uint32_t tag = 0) {
    return RestWithHandle(id, side, price, open, owner, tag) != kNoHandle;
  }
  // Rest, returning the resting order's handle (kNoHandle when it changed
  // nothing). The handle stays valid until the order leaves the book
  // (filled by Match, CancelHandle or Cancel); the caller must then forget
  // it. On a book without the id index, `id` must not be resting already
  // (not checked).
  std::uint32_t RestWithHandle(OrderId id, Side side, Price price,
                               Quantity open, AccountId owner,
                               std::uint32_t tag = 0);

  // By handle (precondition: `handle` is resting): remove the order; lower
  // its open quantity in place (false and no change unless 0 < new_open <=
  // open); read it. O(1), no id lookup.
  void CancelHandle(std::uint32_t handle) { RemoveNode(handle); }
  bool ReduceOpenHandle(std::uint32_t handle, Quantity new_open);
  [[nodiscard]] RestingOrder AtHandle(std::uint32_t handle) const;

  // Lowers a resting order's open quantity in place, keeping its priority.
  // Returns false and changes nothing unless 0 < new_open <= open.
  bool ReduceOpen(OrderId id, Quantity new_open);

  [[nodiscard]] std::optional<RestingOrder> Find(OrderId id) const;

  // Aggregate of the level at `price` on `side`; count 0 if there is none.
  [[nodiscard]] LevelChange LevelAt(Side side, Price price) const;

  // Visits one side's levels best→worst: f(Price, Quantity total, uint32
  // count). Stops early when f returns false (f must return bool).
  template <typename F>
  void ForEachLevel(Side side, F&& f) const;

  // Level-change tracking for market data. While enabled, the book records
  // every level it touches. TakeLevelChanges() then calls
  // f(const LevelChange&) once per level whose (total, count) differs from
  // when the window opened, bids best→worst then asks best→worst, and opens
  // a new window. Recording does not allocate once the change buffer has
  // grown to the largest window seen.
  void EnableLevelTracking(bool enabled);
  template <typename F>
  void TakeLevelChanges(F&& f);

  // Checks the invariants listed at the top of this file. Returns an empty
  // string when they hold, else a description of the first violation.
  [[nodiscard]] std::string CheckInvariants() const;

  [[nodiscard]] std::size_t LevelCount(Side side) const {
    return side == Side::kBuy ? bids_.size() : asks_.size();
  }

 private:
  static constexpr std::uint32_t kNil = 0xFFFF'FFFFU;

  struct Node {  // 40 bytes; the price is the level's
    OrderId id;
    Quantity open;
    AccountId owner;
    std::uint32_t level = kNil;  // index into levels_
    std::uint32_t prev = kNil;   // FIFO neighbours within the level
    std::uint32_t next = kNil;   // (next doubles as the free-list link)
    std::uint32_t tag = 0;       // the caller's handle (Rest)
  };
  static_assert(sizeof(Node) == 40, "docs/engine.md quotes the node size");

  struct Level {
    Price price;
    Quantity total;
    std::uint32_t count = 0;
    std::uint32_t head = kNil;  // oldest order
    std::uint32_t tail = kNil;  // newest order
    std::uint32_t next_free = kNil;
    std::uint64_t epoch = 0;   // tracking window that last recorded it
    std::uint32_t record = 0;  // its entry in recorded_ (epoch == epoch_)
    Side side = Side::kBuy;
  };
  static_assert(sizeof(Level) == 48, "docs/engine.md quotes the level size");

  // Ladder entry: sorted worst → best, so the best level is at the back and
  // the common operations (match at the touch, add near the touch) shift
  // few entries.
  struct Rung {
    Price price;
    std::uint32_t level;
  };

  struct Recorded {
    Side side;
    bool gone;  // the level emptied (and was freed) after this record
    Price price;
    Quantity before_total;
    std::uint32_t before_count;
    std::uint32_t order;  // position in the window, for a stable sort
    std::uint32_t level;  // index into levels_ while !gone
  };
  // The recorded level's aggregate now.
  [[nodiscard]] LevelChange Now(const Recorded& r) const {
    if (r.gone) return LevelChange{r.side, r.price, Quantity{0}, 0};
    const Level& level = levels_[r.level];
    return LevelChange{r.side, r.price, level.total, level.count};
  }

  // True if `a` is a better price than `b` for `side`.
  static bool Better(Side side, Price a, Price b) {
    return side == Side::kBuy ? a > b : a < b;
  }
  // True if a taker on `taker_side` with limit `limit` can trade at `maker`.
  static bool Crosses(Side taker_side, Price limit, Price maker) {
    return taker_side == Side::kBuy ? maker <= limit : maker >= limit;
  }

  std::vector<Rung>& Ladder(Side side) {
    return side == Side::kBuy ? bids_ : asks_;
  }
  [[nodiscard]] const std::vector<Rung>& Ladder(Side side) const {
    return side == Side::kBuy ? bids_ : asks_;
  }

  // Position of `price` in the ladder: first rung not worse than it.
  [[nodiscard]] std::size_t LadderPos(Side side, Price price) const;

  std::uint32_t AllocNode();
  void FreeNode(std::uint32_t idx);
  std::uint32_t AllocLevel(Side side, Price price);
  void FreeLevel(std::uint32_t idx);

  // Unlinks node `idx` from its level, drops an emptied level from the
  // ladder, frees the node and erases it from the map.
  void RemoveNode(std::uint32_t idx);
  void RemoveLevelFromLadder(const Level& level);

  void Record(Level& level) {
    if (tracking_ && level.epoch != epoch_) RecordSlow(level);
  }
  void RecordSlow(Level& level);

  std::vector<Node> nodes_;
  std::uint32_t free_node_ = kNil;
  std::vector<Level> levels_;
  std::uint32_t free_level_ = kNil;
  std::vector<Rung> bids_;
  std::vector<Rung> asks_;
  bool index_ids_ = true;
  std::size_t resting_ = 0;
  OrderSlotIndex order_map_;  // empty unless index_ids_
  // The id of the order at a node, for order_map_.
  auto IdOfNode() const {
    return [this](std::uint32_t idx) { return nodes_[idx].id.value(); };
  }

  bool tracking_ = false;
  std::uint64_t epoch_ = 1;
  std::vector<Recorded> recorded_;
};

// ---- Template implementations. ----

template <typename OnFill>
bool OrderBook::AddLimit(OrderId id, Side side, Price price, Quantity qty,
                         OnFill&& on_fill) {
  if (!index_ids_ || price.value() <= 0 || qty.value() <= 0 ||
      id.value() == IdMap::kEmptyKey ||
      order_map_.Find(id.value(), IdOfNode()) != OrderSlotIndex::kNotFound) {
    return false;
  }
  MatchRequest request;
  request.taker = id;
  request.side = side;
  request.limit = price;
  request.qty = qty;
  const MatchResult result = Match(request, on_fill);
  if (result.filled < qty) {
    Rest(id, side, price, qty - result.filled, AccountId{0});
  }
  return true;
}

template <typename OnFill>
MatchResult OrderBook::Match(const MatchRequest& request, OnFill&& on_fill) {
  MatchResult result;
  const Side maker_side = Opposite(request.side);
  std::vector<Rung>& ladder = Ladder(maker_side);
  Quantity remaining = request.qty;
  while (true) {
    if (remaining.value() <= 0) {
      result.stop = MatchStop::kFilled;
      break;
    }
    if (ladder.empty()) {
      result.stop = MatchStop::kNoLiquidity;
      break;
    }
    const Rung rung = ladder.back();
    if (request.limit && !Crosses(request.side, *request.limit, rung.price)) {
      result.stop = MatchStop::kNoLiquidity;
      break;
    }
    Level& level = levels_[rung.level];
    const Price price = level.price;
    Record(level);
    bool stopped = false;
    while (level.head != kNil && remaining.value() > 0) {
      const std::uint32_t idx = level.head;
      Node& maker = nodes_[idx];
      if (request.owner && maker.owner == *request.owner) {
        result.stop = MatchStop::kSelfTrade;
        stopped = true;
        break;
      }
      Quantity qty = std::min(remaining, maker.open);
      if (request.budget) {
        const Cash left = *request.budget - result.notional;
        const Quantity affordable(left.value() / price.value());
        if (affordable < qty) qty = affordable;
        if (qty.value() <= 0) {
          result.stop = MatchStop::kBudget;
          stopped = true;
          break;
        }
      }
      maker.open -= qty;
      level.total -= qty;
      remaining -= qty;
      result.filled += qty;
      result.notional += Notional(price, qty);
      const OrderId maker_id = maker.id;
      const std::uint32_t maker_tag = maker.tag;
      const bool done = maker.open.value() == 0;
      on_fill(BookFill{request.taker, maker_id, price, qty, maker_tag});
      if (done) RemoveNode(idx);  // may free `level` when it empties
    }
    if (stopped) break;
    // The level emptied (RemoveNode dropped it) or the taker is filled.
  }
  return result;
}

template <typename F>
void OrderBook::ForEachResting(F&& f) const {
  for (Side side : {Side::kBuy, Side::kSell}) {
    const std::vector<Rung>& ladder = Ladder(side);
    for (auto it = ladder.rbegin(); it != ladder.rend(); ++it) {
      const Level& level = levels_[it->level];
      for (std::uint32_t i = level.head; i != kNil; i = nodes_[i].next) {
        const Node& n = nodes_[i];
        f(n.id, side, level.price, n.open);
      }
    }
  }
}

template <typename F>
void OrderBook::ForEachLevel(Side side, F&& f) const {
  const std::vector<Rung>& ladder = Ladder(side);
  for (auto it = ladder.rbegin(); it != ladder.rend(); ++it) {
    const Level& level = levels_[it->level];
    if (!f(level.price, level.total, level.count)) return;
  }
}

template <typename F>
void OrderBook::TakeLevelChanges(F&& f) {
  // Every record knows its level (or that the level is gone), so the
  // aggregate now needs no ladder search. The common window records one
  // level: no sorting.
  if (recorded_.size() == 1) {
    const Recorded& r = recorded_.front();
    const LevelChange now = Now(r);
    if (now.total != r.before_total || now.count != r.before_count) f(now);
  } else if (!recorded_.empty()) {
    // Sort by side (bids first), then best → worst, then by first record:
    // the first entry of each (side, price) run holds the window's
    // "before"; the last, the level that exists now, if any (a price's
    // level is re-created only after the previous one is gone).
    std::sort(recorded_.begin(), recorded_.end(),
              [](const Recorded& a, const Recorded& b) {
                if (a.side != b.side) return a.side == Side::kBuy;
                if (a.price != b.price) return Better(a.side, a.price, b.price);
                return a.order < b.order;
              });
    std::size_t i = 0;
    while (i < recorded_.size()) {
      const Recorded& first = recorded_[i];
      std::size_t last = i;
      while (last + 1 < recorded_.size() &&
             recorded_[last + 1].side == first.side &&
             recorded_[last + 1].price == first.price) {
        ++last;
      }
      const LevelChange now = Now(recorded_[last]);
      if (now.total != first.before_total || now.count != first.before_count) {
        f(now);
      }
      i = last + 1;
    }
  }
  recorded_.clear();
  ++epoch_;
}

}  // namespace carbonex::engine

#endif  // CARBONEX_ENGINE_ORDER_BOOK_H_
