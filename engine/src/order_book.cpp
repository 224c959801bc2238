#include "carbonex/engine/order_book.h"

#include <string>

namespace carbonex::engine {

OrderBook::OrderBook(std::size_t expected_orders, bool index_ids)
    : index_ids_(index_ids), order_map_(index_ids ? expected_orders : 0) {
  nodes_.reserve(expected_orders);
  // Levels are far fewer than orders; a few hundred per side is typical.
  levels_.reserve(1024);
  bids_.reserve(512);
  asks_.reserve(512);
  recorded_.reserve(256);
}

std::optional<Price> OrderBook::BestBid() const {
  if (bids_.empty()) return std::nullopt;
  return bids_.back().price;
}

std::optional<Price> OrderBook::BestAsk() const {
  if (asks_.empty()) return std::nullopt;
  return asks_.back().price;
}

std::size_t OrderBook::LadderPos(Side side, Price price) const {
  const std::vector<Rung>& ladder = Ladder(side);
  // Ladder is sorted worst → best: find the first rung that is not worse
  // than `price`. Most work happens near the touch (the back), so look at
  // the last few rungs first; a binary search over the rest keeps
  // far-away prices cheap too.
  constexpr std::size_t kScan = 8;
  const std::size_t n = ladder.size();
  const std::size_t stop = n > kScan ? n - kScan : 0;
  std::size_t i = n;
  while (i > stop && !Better(side, price, ladder[i - 1].price)) --i;
  if (i > stop || stop == 0) return i;  // ladder[i - 1] is worse, or none
  auto it = std::lower_bound(
      ladder.begin(), ladder.begin() + static_cast<std::ptrdiff_t>(stop), price,
      [side](const Rung& r, Price p) { return Better(side, p, r.price); });
  return static_cast<std::size_t>(it - ladder.begin());
}

std::uint32_t OrderBook::AllocNode() {
  if (free_node_ != kNil) {
    const std::uint32_t idx = free_node_;
    free_node_ = nodes_[idx].next;
    return idx;
  }
  nodes_.emplace_back();
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void OrderBook::FreeNode(std::uint32_t idx) {
  Node& n = nodes_[idx];
  n.level = kNil;
  n.prev = kNil;
  n.next = free_node_;
  n.open = Quantity{0};
  free_node_ = idx;
}

std::uint32_t OrderBook::AllocLevel(Side side, Price price) {
  std::uint32_t idx;
  if (free_level_ != kNil) {
    idx = free_level_;
    free_level_ = levels_[idx].next_free;
  } else {
    levels_.emplace_back();
    idx = static_cast<std::uint32_t>(levels_.size() - 1);
  }
  Level& level = levels_[idx];
  level = Level{};
  level.side = side;
  level.price = price;
  return idx;
}

void OrderBook::FreeLevel(std::uint32_t idx) {
  Level& level = levels_[idx];
  if (tracking_ && level.epoch == epoch_) recorded_[level.record].gone = true;
  level.head = kNil;
  level.tail = kNil;
  level.count = 0;
  level.total = Quantity{0};
  level.next_free = free_level_;
  free_level_ = idx;
}

std::uint32_t OrderBook::RestWithHandle(OrderId id, Side side, Price price,
                                        Quantity open, AccountId owner,
                                        std::uint32_t tag) {
  if (price.value() <= 0 || open.value() <= 0 ||
      id.value() == IdMap::kEmptyKey) {
    return kNoHandle;
  }
  const std::vector<Rung>& opposite = Ladder(Opposite(side));
  if (!opposite.empty() && Crosses(side, price, opposite.back().price)) {
    return kNoHandle;
  }
  if (index_ids_ &&
      order_map_.Find(id.value(), IdOfNode()) != OrderSlotIndex::kNotFound) {
    return kNoHandle;
  }
  const std::uint32_t idx = AllocNode();
  ++resting_;

  std::vector<Rung>& ladder = Ladder(side);
  const std::size_t pos = LadderPos(side, price);
  std::uint32_t level_idx;
  if (pos < ladder.size() && ladder[pos].price == price) {
    level_idx = ladder[pos].level;
  } else {
    level_idx = AllocLevel(side, price);
    ladder.insert(ladder.begin() + static_cast<std::ptrdiff_t>(pos),
                  Rung{price, level_idx});
  }
  Node& n = nodes_[idx];
  n.id = id;
  n.open = open;
  n.owner = owner;
  n.level = level_idx;
  n.next = kNil;
  n.tag = tag;
  if (index_ids_) order_map_.Insert(id.value(), idx, IdOfNode());

  Level& level = levels_[level_idx];
  Record(level);
  n.prev = level.tail;
  if (level.tail != kNil) {
    nodes_[level.tail].next = idx;
  } else {
    level.head = idx;
  }
  level.tail = idx;
  ++level.count;
  level.total += open;
  return idx;
}

void OrderBook::RemoveLevelFromLadder(const Level& level) {
  std::vector<Rung>& ladder = Ladder(level.side);
  if (!ladder.empty() && ladder.back().price == level.price) {
    ladder.pop_back();  // the usual case: the touch emptied
    return;
  }
  const std::size_t pos = LadderPos(level.side, level.price);
  ladder.erase(ladder.begin() + static_cast<std::ptrdiff_t>(pos));
}

void OrderBook::RemoveNode(std::uint32_t idx) {
  Node& n = nodes_[idx];
  const std::uint32_t level_idx = n.level;
  Level& level = levels_[level_idx];
  Record(level);
  if (n.prev != kNil) {
    nodes_[n.prev].next = n.next;
  } else {
    level.head = n.next;
  }
  if (n.next != kNil) {
    nodes_[n.next].prev = n.prev;
  } else {
    level.tail = n.prev;
  }
  --level.count;
  level.total -= n.open;
  if (index_ids_) order_map_.Erase(n.id.value(), idx);
  --resting_;
  FreeNode(idx);
  if (level.count == 0) {
    RemoveLevelFromLadder(level);
    FreeLevel(level_idx);
  }
}

bool OrderBook::Cancel(OrderId id) {
  const std::uint32_t idx = order_map_.Find(id.value(), IdOfNode());
  if (idx == OrderSlotIndex::kNotFound) return false;
  RemoveNode(idx);
  return true;
}

bool OrderBook::ReduceOpen(OrderId id, Quantity new_open) {
  const std::uint32_t idx = order_map_.Find(id.value(), IdOfNode());
  if (idx == OrderSlotIndex::kNotFound) return false;
  return ReduceOpenHandle(idx, new_open);
}

bool OrderBook::ReduceOpenHandle(std::uint32_t handle, Quantity new_open) {
  Node& n = nodes_[handle];
  if (new_open.value() <= 0 || new_open > n.open) return false;
  Level& level = levels_[n.level];
  Record(level);
  level.total -= n.open - new_open;
  n.open = new_open;
  return true;
}

std::optional<RestingOrder> OrderBook::Find(OrderId id) const {
  const std::uint32_t idx = order_map_.Find(id.value(), IdOfNode());
  if (idx == OrderSlotIndex::kNotFound) return std::nullopt;
  return AtHandle(idx);
}

RestingOrder OrderBook::AtHandle(std::uint32_t handle) const {
  const Node& n = nodes_[handle];
  const Level& level = levels_[n.level];
  return RestingOrder{n.id, level.side, level.price, n.open, n.owner};
}

LevelChange OrderBook::LevelAt(Side side, Price price) const {
  const std::vector<Rung>& ladder = Ladder(side);
  const std::size_t pos = LadderPos(side, price);
  LevelChange out{side, price, Quantity{0}, 0};
  if (pos < ladder.size() && ladder[pos].price == price) {
    const Level& level = levels_[ladder[pos].level];
    out.total = level.total;
    out.count = level.count;
  }
  return out;
}

MatchResult OrderBook::Fillable(const MatchRequest& request) const {
  MatchResult result;
  const std::vector<Rung>& ladder = Ladder(Opposite(request.side));
  Quantity remaining = request.qty;
  for (auto it = ladder.rbegin(); it != ladder.rend(); ++it) {
    if (request.limit && !Crosses(request.side, *request.limit, it->price)) {
      result.stop = MatchStop::kNoLiquidity;
      return result;
    }
    const Level& level = levels_[it->level];
    for (std::uint32_t i = level.head; i != kNil; i = nodes_[i].next) {
      if (remaining.value() <= 0) {
        result.stop = MatchStop::kFilled;
        return result;
      }
      const Node& maker = nodes_[i];
      if (request.owner && maker.owner == *request.owner) {
        result.stop = MatchStop::kSelfTrade;
        return result;
      }
      Quantity qty = std::min(remaining, maker.open);
      if (request.budget) {
        const Cash left = *request.budget - result.notional;
        const Quantity affordable(left.value() / level.price.value());
        if (affordable < qty) {
          // What is left after this fill cannot pay for one more unit at
          // this maker's price, where Match would stop next.
          if (affordable.value() > 0) {
            result.filled += affordable;
            result.notional += Notional(level.price, affordable);
          }
          result.stop = MatchStop::kBudget;
          return result;
        }
      }
      remaining -= qty;
      result.filled += qty;
      result.notional += Notional(level.price, qty);
    }
  }
  result.stop =
      remaining.value() <= 0 ? MatchStop::kFilled : MatchStop::kNoLiquidity;
  return result;
}

void OrderBook::EnableLevelTracking(bool enabled) {
  tracking_ = enabled;
  recorded_.clear();
  ++epoch_;
}

void OrderBook::RecordSlow(Level& level) {
  // Called through Record() only, on the first touch of `level` in this
  // window; `level` is live, so its aggregate is the "before" state. A level
  // that empties and is re-created in the same window is recorded twice
  // (FreeLevel marks the first record gone); TakeLevelChanges takes the
  // "before" from the first record and the state now from the last.
  level.epoch = epoch_;
  const auto order = static_cast<std::uint32_t>(recorded_.size());
  level.record = order;
  recorded_.push_back(
      Recorded{level.side, false, level.price, level.total, level.count, order,
               static_cast<std::uint32_t>(&level - levels_.data())});
}

std::string OrderBook::CheckInvariants() const {
  std::size_t orders = 0;
  for (Side side : {Side::kBuy, Side::kSell}) {
    const std::vector<Rung>& ladder = Ladder(side);
    const char* name = side == Side::kBuy ? "bid" : "ask";
    for (std::size_t i = 0; i < ladder.size(); ++i) {
      const Rung& rung = ladder[i];
      if (i > 0 && !Better(side, rung.price, ladder[i - 1].price)) {
        return std::string(name) + " ladder not sorted at price " +
               std::to_string(rung.price.value());
      }
      const Level& level = levels_[rung.level];
      if (level.price != rung.price || level.side != side) {
        return std::string(name) + " rung/level mismatch at price " +
               std::to_string(rung.price.value());
      }
      if (level.count == 0 || level.head == kNil) {
        return std::string(name) + " empty level at price " +
               std::to_string(level.price.value());
      }
      Quantity total{0};
      std::uint32_t count = 0;
      std::uint32_t prev = kNil;
      for (std::uint32_t n = level.head; n != kNil; n = nodes_[n].next) {
        const Node& node = nodes_[n];
        if (node.prev != prev || node.level != rung.level) {
          return "broken FIFO links in " + std::string(name) +
                 " level at price " + std::to_string(level.price.value());
        }
        if (node.open.value() <= 0) {
          return "order " + std::to_string(node.id.value()) +
                 " rests with open quantity <= 0";
        }
        if (index_ids_ && order_map_.Find(node.id.value(), IdOfNode()) != n) {
          return "order " + std::to_string(node.id.value()) +
                 " missing from the id map";
        }
        total += node.open;
        ++count;
        prev = n;
      }
      if (prev != level.tail || total != level.total || count != level.count) {
        return std::string(name) + " level aggregate wrong at price " +
               std::to_string(level.price.value());
      }
      orders += count;
    }
  }
  if (index_ids_ && orders != order_map_.size()) {
    return "id map holds " + std::to_string(order_map_.size()) +
           " orders, levels hold " + std::to_string(orders);
  }
  if (orders != resting_) {
    return "book counts " + std::to_string(resting_) +
           " resting orders, levels hold " + std::to_string(orders);
  }
  if (!bids_.empty() && !asks_.empty() &&
      bids_.back().price >= asks_.back().price) {
    return "book crossed: bid " + std::to_string(bids_.back().price.value()) +
           " >= ask " + std::to_string(asks_.back().price.value());
  }
  return {};
}

}  // namespace carbonex::engine
