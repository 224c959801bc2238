#include "carbonex/stream/reference_book.h"

#include <algorithm>

namespace carbonex::stream {

template <typename Opposite, typename Crosses>
void ReferenceBook::Match(OrderId taker, Quantity* qty, Opposite* opposite,
                          Crosses crosses, std::vector<Fill>* fills) {
  while (qty->value() > 0 && !opposite->empty() &&
         crosses(opposite->begin()->first)) {
    auto level = opposite->begin();
    const OrderId maker = level->second.front();
    OrderState& resting = orders_.at(maker.value());
    const Quantity traded = std::min(*qty, resting.open_qty);
    *qty -= traded;
    resting.open_qty -= traded;
    last_price_ = level->first;
    if (fills != nullptr) {
      fills->push_back(Fill{taker, maker, level->first, traded});
    }
    if (resting.open_qty.value() == 0) {
      level->second.pop_front();
      RemoveLive(maker);
      if (level->second.empty()) {
        opposite->erase(level);
      }
    }
  }
}

void ReferenceBook::Add(OrderId id, Side side, Price price, Quantity qty,
                        std::vector<Fill>* fills) {
  if (side == Side::kBuy) {
    Match(
        id, &qty, &asks_, [price](Price ask) { return ask <= price; }, fills);
  } else {
    Match(
        id, &qty, &bids_, [price](Price bid) { return bid >= price; }, fills);
  }
  if (qty.value() == 0) {
    return;
  }
  if (side == Side::kBuy) {
    bids_[price].push_back(id);
  } else {
    asks_[price].push_back(id);
  }
  orders_.emplace(id.value(), OrderState{side, price, qty, live_.size()});
  live_.push_back(id);
}

bool ReferenceBook::Cancel(OrderId id) {
  auto it = orders_.find(id.value());
  if (it == orders_.end()) {
    return false;
  }
  const OrderState order = it->second;
  auto erase_from = [id, &order](auto* side_levels) {
    auto level = side_levels->find(order.price);
    auto pos = std::find(level->second.begin(), level->second.end(), id);
    level->second.erase(pos);
    if (level->second.empty()) {
      side_levels->erase(level);
    }
  };
  if (order.side == Side::kBuy) {
    erase_from(&bids_);
  } else {
    erase_from(&asks_);
  }
  RemoveLive(id);
  return true;
}

void ReferenceBook::RemoveLive(OrderId id) {
  auto it = orders_.find(id.value());
  const std::size_t pos = it->second.live_pos;
  const OrderId moved = live_.back();
  live_[pos] = moved;
  orders_.at(moved.value()).live_pos = pos;
  live_.pop_back();
  orders_.erase(it);
}

std::optional<Price> ReferenceBook::BestBid() const {
  if (bids_.empty()) {
    return std::nullopt;
  }
  return bids_.begin()->first;
}

std::optional<Price> ReferenceBook::BestAsk() const {
  if (asks_.empty()) {
    return std::nullopt;
  }
  return asks_.begin()->first;
}

std::vector<RestingOrder> ReferenceBook::Snapshot() const {
  std::vector<RestingOrder> book;
  book.reserve(live_.size());
  auto append = [this, &book](const auto& side_levels) {
    for (const auto& [price, level] : side_levels) {
      for (OrderId id : level) {
        const OrderState& order = orders_.at(id.value());
        book.push_back(RestingOrder{id, order.side, price, order.open_qty});
      }
    }
  };
  append(bids_);
  append(asks_);
  return book;
}

}  // namespace carbonex::stream
