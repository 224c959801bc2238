#include "reference_book.h"

#include <algorithm>

namespace carbonex::engine::testing {

void ReferenceBook::Place(std::uint64_t id, std::uint32_t owner, bool buy,
                          std::optional<std::int64_t> price, std::int64_t qty,
                          Tif tif) {
  Order o;
  o.id = id;
  o.owner = owner;
  o.buy = buy;
  o.price = price.value_or(0);
  o.qty = qty;
  o.tif = tif;
  const bool rest = price.has_value() && (tif == Tif::kDay || tif == Tif::kGtc);
  if (tif == Tif::kFok) {
    // Count what could fill before the limit or the first own order.
    std::int64_t can = 0;
    bool blocked = false;
    auto count = [&](const auto& side) {
      for (const auto& [px, level] : side) {
        if (price && (buy ? px > *price : px < *price)) break;
        for (const Order& m : level) {
          if (m.owner == owner) {
            blocked = true;
            return;
          }
          can += m.open();
        }
      }
    };
    if (buy) {
      count(asks_);
    } else {
      count(bids_);
    }
    if (can < qty) {
      log_->push_back("C " + std::to_string(id) + " fok");
      return;
    }
    (void)blocked;
  }
  Execute(o, price, rest);
}

void ReferenceBook::Execute(Order o, std::optional<std::int64_t> limit,
                            bool rest) {
  bool self_trade = false;
  auto match = [&](auto& side) {
    while (o.open() > 0 && !side.empty()) {
      auto it = side.begin();
      if (limit && (o.buy ? it->first > *limit : it->first < *limit)) break;
      Level& level = it->second;
      while (o.open() > 0 && !level.empty()) {
        Order& m = level.front();
        if (m.owner == o.owner) {
          self_trade = true;
          return;
        }
        const std::int64_t q = std::min(o.open(), m.open());
        m.cum += q;
        o.cum += q;
        log_->push_back("F " + std::to_string(o.id) + " " +
                        std::to_string(m.id) + " " + std::to_string(it->first) +
                        " " + std::to_string(q));
        if (m.open() == 0) level.pop_front();
      }
      if (level.empty()) side.erase(it);
    }
  };
  if (o.buy) {
    match(asks_);
  } else {
    match(bids_);
  }
  if (o.open() == 0) return;
  const std::string id = std::to_string(o.id);
  if (self_trade) {
    log_->push_back("C " + id + " self_trade");
  } else if (!limit) {
    log_->push_back("C " + id + " market_no_liquidity");
  } else if (!rest) {
    log_->push_back("C " + id + " ioc");
  } else if (o.buy) {
    bids_[*limit].push_back(o);
  } else {
    asks_[*limit].push_back(o);
  }
}

ReferenceBook::Order* ReferenceBook::FindMutable(std::uint64_t id) {
  for (auto& [px, level] : bids_) {
    for (Order& o : level) {
      if (o.id == id) return &o;
    }
  }
  for (auto& [px, level] : asks_) {
    for (Order& o : level) {
      if (o.id == id) return &o;
    }
  }
  return nullptr;
}

const ReferenceBook::Order* ReferenceBook::Find(std::uint64_t id) const {
  return const_cast<ReferenceBook*>(this)->FindMutable(id);
}

bool ReferenceBook::Remove(std::uint64_t id, Order* out) {
  auto remove = [&](auto& side) {
    for (auto it = side.begin(); it != side.end(); ++it) {
      Level& level = it->second;
      for (auto o = level.begin(); o != level.end(); ++o) {
        if (o->id != id) continue;
        *out = *o;
        level.erase(o);
        if (level.empty()) side.erase(it);
        return true;
      }
    }
    return false;
  };
  return remove(bids_) || remove(asks_);
}

bool ReferenceBook::Cancel(std::uint64_t id, const std::string& reason) {
  Order o;
  if (!Remove(id, &o)) return false;
  log_->push_back("C " + std::to_string(id) + " " + reason);
  return true;
}

bool ReferenceBook::Expire(std::uint64_t id) {
  Order o;
  if (!Remove(id, &o)) return false;
  log_->push_back("E " + std::to_string(id));
  return true;
}

bool ReferenceBook::Replace(std::uint64_t id, std::int64_t price,
                            std::int64_t qty) {
  Order* o = FindMutable(id);
  if (o == nullptr || qty < o->cum) return false;
  const bool keep = price == o->price && qty <= o->qty;
  if (qty == o->cum) {
    Order gone;
    Remove(id, &gone);
    log_->push_back("R " + std::to_string(id) + " 0");
    return true;
  }
  if (keep) {
    o->qty = qty;
    log_->push_back("R " + std::to_string(id) + " 1");
    return true;
  }
  Order moved;
  Remove(id, &moved);
  moved.qty = qty;
  moved.price = price;
  log_->push_back("R " + std::to_string(id) + " 0");
  Execute(moved, price, true);
  return true;
}

void ReferenceBook::MassCancelOwner(std::uint32_t owner) {
  std::vector<std::uint64_t> ids;
  for (std::uint64_t id : LiveIds()) {
    if (Find(id)->owner == owner) ids.push_back(id);
  }
  for (std::uint64_t id : ids) Cancel(id, "mass_cancel");
}

void ReferenceBook::ExpireDay() {
  std::vector<std::uint64_t> ids;
  for (std::uint64_t id : LiveIds()) {
    if (Find(id)->tif == Tif::kDay) ids.push_back(id);
  }
  for (std::uint64_t id : ids) Expire(id);
}

std::vector<std::uint64_t> ReferenceBook::LiveIds() const {
  std::vector<std::uint64_t> ids;
  for (const auto& r : Resting()) ids.push_back(std::get<0>(r));
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::tuple<std::uint64_t, bool, std::int64_t, std::int64_t>>
ReferenceBook::Resting() const {
  std::vector<std::tuple<std::uint64_t, bool, std::int64_t, std::int64_t>> out;
  for (const auto& [px, level] : bids_) {
    for (const Order& o : level) out.emplace_back(o.id, true, px, o.open());
  }
  for (const auto& [px, level] : asks_) {
    for (const Order& o : level) out.emplace_back(o.id, false, px, o.open());
  }
  return out;
}

}  // namespace carbonex::engine::testing
