#include "carbonex/stream/generator.h"

#include <algorithm>
#include <string>
#include <vector>

#include "carbonex/stream/reference_book.h"
#include "carbonex/stream/stream.h"

namespace carbonex::stream {
namespace {

constexpr std::uint64_t kMaxEvents = 1'000'000'000;
constexpr std::int64_t kMaxMid = 100'000'000;
constexpr std::int64_t kMaxTarget = 1'000'000'000;
// Output is flushed to the stream in chunks of about this many bytes.
constexpr std::size_t kFlushBytes = 1 << 16;

std::int64_t Draw(SplitMix64* rng, std::uint64_t n) {
  return static_cast<std::int64_t>(rng->Below(n));
}

// Offset of a passive order from the touch: usually at or next to it,
// sometimes deeper in the book.
std::int64_t PassiveOffset(SplitMix64* rng) {
  const std::uint64_t u = rng->Below(100);
  if (u < 50) {
    return Draw(rng, 3);
  }
  if (u < 85) {
    return Draw(rng, 15);
  }
  return Draw(rng, 60);
}

// Generation state: the options, the PRNG and the model of the book.
class Generator {
 public:
  explicit Generator(const GeneratorOptions& options)
      : options_(options), rng_(options.seed), book_(Price(options.mid)) {}

  // Draws the next event, applies it to the model and returns it.
  StreamEvent Next() {
    const std::uint64_t r = rng_.Below(100);
    const auto passive = static_cast<std::uint64_t>(options_.passive_pct);
    const auto aggressive = static_cast<std::uint64_t>(options_.aggressive_pct);
    if (r < passive) {
      return Passive(std::nullopt);
    }
    if (r < passive + aggressive) {
      return Aggressive();
    }
    if (book_.Live().empty()) {
      ++stats_.fallback_passive;
      return Passive(std::nullopt);
    }
    const auto& live = book_.Live();
    const OrderId id = live[rng_.Below(live.size())];
    book_.Cancel(id);
    ++stats_.cancel;
    StreamEvent event;
    event.kind = EventKind::kCancel;
    event.order_id = id;
    return event;
  }

  [[nodiscard]] const GeneratorStats& Stats() const { return stats_; }

 private:
  StreamEvent Aggressive() {
    const std::int64_t bias = std::clamp<std::int64_t>(
        2 * (options_.mid - book_.LastTradePrice().value()), -200, 200);
    const Side side = Draw(&rng_, 1000) < 500 + bias ? Side::kBuy : Side::kSell;
    const std::optional<Price> opposite =
        side == Side::kBuy ? book_.BestAsk() : book_.BestBid();
    if (!opposite.has_value()) {
      ++stats_.fallback_passive;
      return Passive(std::nullopt);
    }
    const std::int64_t base = (1 + Draw(&rng_, 10)) * 10;
    const std::int64_t k = Draw(&rng_, 5);
    const std::int64_t price =
        side == Side::kBuy ? opposite->value() + k
                           : std::max<std::int64_t>(1, opposite->value() - k);
    const auto live_count = static_cast<std::int64_t>(book_.Live().size());
    const std::int64_t qty =
        base * (10 + 40 * live_count / options_.target) / 10;
    ++stats_.aggressive;
    return AddOrder(side, price, qty, Intent::kAggressive);
  }

  // `side` is set when the draw already chose it.
  StreamEvent Passive(std::optional<Side> side) {
    if (!side.has_value()) {
      side = rng_.Below(2) == 0 ? Side::kBuy : Side::kSell;
    }
    const std::int64_t base = (1 + Draw(&rng_, 10)) * 10;
    const std::int64_t d = PassiveOffset(&rng_);
    const std::optional<Price> bid = book_.BestBid();
    const std::optional<Price> ask = book_.BestAsk();
    const std::int64_t last = book_.LastTradePrice().value();
    std::int64_t price = 0;
    if (*side == Side::kBuy) {
      price = ask   ? ask->value() - 1 - d
              : bid ? bid->value() - d
                    : last - 1 - d;
    } else {
      price = bid   ? bid->value() + 1 + d
              : ask ? ask->value() + d
                    : last + 1 + d;
    }
    ++stats_.passive;
    return AddOrder(*side, std::max<std::int64_t>(1, price), base,
                    Intent::kPassive);
  }

  StreamEvent AddOrder(Side side, std::int64_t price, std::int64_t qty,
                       Intent intent) {
    StreamEvent event;
    event.kind = EventKind::kAdd;
    event.side = side;
    event.intent = intent;
    event.order_id = OrderId(++stats_.orders_added);
    event.price = Price(price);
    event.qty = Quantity(qty);
    book_.Add(event.order_id, side, event.price, event.qty, nullptr);
    return event;
  }

  GeneratorOptions options_;
  SplitMix64 rng_;
  ReferenceBook book_;
  GeneratorStats stats_;
};

}  // namespace

Status ValidateOptions(const GeneratorOptions& options) {
  if (options.events < 1 || options.events > kMaxEvents) {
    return Status::InvalidArgument("--events must be between 1 and " +
                                   std::to_string(kMaxEvents) + ", got " +
                                   std::to_string(options.events));
  }
  if (options.mid < 1 || options.mid > kMaxMid) {
    return Status::InvalidArgument("--mid must be between 1 and " +
                                   std::to_string(kMaxMid) + ", got " +
                                   std::to_string(options.mid));
  }
  if (options.target < 1 || options.target > kMaxTarget) {
    return Status::InvalidArgument("--target must be between 1 and " +
                                   std::to_string(kMaxTarget) + ", got " +
                                   std::to_string(options.target));
  }
  if (options.passive_pct < 0 || options.passive_pct > 100) {
    return Status::InvalidArgument(
        "--passive-pct must be between 0 and 100, got " +
        std::to_string(options.passive_pct));
  }
  if (options.aggressive_pct < 0 || options.aggressive_pct > 100) {
    return Status::InvalidArgument(
        "--aggressive-pct must be between 0 and 100, got " +
        std::to_string(options.aggressive_pct));
  }
  if (options.passive_pct + options.aggressive_pct > 100) {
    return Status::InvalidArgument(
        "--passive-pct + --aggressive-pct must be at most 100, got " +
        std::to_string(options.passive_pct) + " + " +
        std::to_string(options.aggressive_pct));
  }
  return Status::Ok();
}

Result<GeneratorStats> GenerateStream(const GeneratorOptions& options,
                                      std::ostream& out) {
  if (Status status = ValidateOptions(options); !status.ok()) {
    return status;
  }
  StreamHeader header;
  header.events = options.events;
  header.seed = options.seed;
  header.mid = options.mid;
  header.target = options.target;
  header.passive_pct = options.passive_pct;
  header.aggressive_pct = options.aggressive_pct;
  header.cancel_pct = 100 - options.passive_pct - options.aggressive_pct;

  std::string buffer = FormatHeader(header);
  buffer.push_back('\n');
  buffer.reserve(kFlushBytes + 64);
  Generator generator(options);
  for (std::uint64_t i = 0; i < options.events; ++i) {
    AppendEvent(generator.Next(), &buffer);
    if (buffer.size() >= kFlushBytes) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  out.flush();
  if (!out) {
    return Status::IoError("writing the stream failed");
  }
  return generator.Stats();
}

}  // namespace carbonex::stream
