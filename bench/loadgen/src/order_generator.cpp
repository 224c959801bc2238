#include "carbonex/loadgen/order_generator.h"

#include <algorithm>
#include <string>

namespace carbonex::loadgen {

std::uint64_t SplitMix64::Next() {
  state_ += 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Status Validate(const GeneratorOptions& options) {
  if (options.passive_pct < 0 || options.passive_pct > 100 ||
      options.aggressive_pct < 0 || options.aggressive_pct > 100 ||
      options.passive_pct + options.aggressive_pct > 100) {
    return Status::InvalidArgument(
        "passive and aggressive percentages must be 0..100 and sum to at "
        "most 100");
  }
  if (options.tick.value() <= 0) {
    return Status::InvalidArgument("tick must be positive");
  }
  if (options.mid.value() <= 0 ||
      options.mid.value() % options.tick.value() != 0) {
    return Status::InvalidArgument(
        "mid price must be positive and on the tick grid");
  }
  if (options.accounts == 0) {
    return Status::InvalidArgument("no accounts");
  }
  if (options.symbols == 0) {
    return Status::InvalidArgument("no symbols");
  }
  return Status::Ok();
}

OrderGenerator::OrderGenerator(const GeneratorOptions& options)
    : options_(options), random_(options.seed) {}

Action OrderGenerator::Next(std::size_t live_count) {
  Action action;
  const auto passive = static_cast<std::uint64_t>(options_.passive_pct);
  const auto aggressive = static_cast<std::uint64_t>(options_.aggressive_pct);
  const std::uint64_t r = random_.Below(100);
  if (r >= passive + aggressive && live_count > 0) {
    action.kind = Action::Kind::kCancel;
    action.live_index = static_cast<std::size_t>(random_.Below(live_count));
    return action;
  }
  action.aggressive = r >= passive && r < passive + aggressive;
  action.account = static_cast<std::size_t>(random_.Below(options_.accounts));
  action.symbol = static_cast<std::size_t>(random_.Below(options_.symbols));
  action.side = random_.Below(2) == 0 ? Side::kBuy : Side::kSell;
  const auto base = static_cast<std::int64_t>((1 + random_.Below(10)) * 10);
  action.qty = Quantity(base);
  std::int64_t ticks_away = 0;  // from mid, towards the order's own side
  if (action.aggressive) {
    ticks_away = -(1 + static_cast<std::int64_t>(random_.Below(5)));
  } else {
    const std::uint64_t u = random_.Below(100);
    const std::uint64_t d = u < 50   ? random_.Below(3)
                            : u < 85 ? random_.Below(15)
                                     : random_.Below(60);
    ticks_away = 1 + static_cast<std::int64_t>(d);
  }
  const std::int64_t tick = options_.tick.value();
  const std::int64_t price = action.side == Side::kBuy
                                 ? options_.mid.value() - ticks_away * tick
                                 : options_.mid.value() + ticks_away * tick;
  action.price = Price(std::max(price, tick));
  return action;
}

}  // namespace carbonex::loadgen
