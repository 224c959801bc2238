// Shared value types of carbonex: strong integer ids and fixed-point amounts.
//
// Every module speaks in these types. They are plain, trivially copyable values
// (safe to copy across threads and into lock-free queues) with no behaviour
// beyond comparison and the arithmetic that makes sense for them.
//
// Scales (documented once, used everywhere):
//   Price     integer tiyn per unit (1 KZT = 100 tiyn); an instrument's tick
//             size is a whole number of tiyn, and a valid price is a positive
//             multiple of it. Order-stream prices are read as tiyn (tick = 1).
//   Quantity  whole units; one unit is one tonne CO2e.
//   Cash      integer tiyn.
//   Timestamp nanoseconds since the Unix epoch, UTC, stamped once by the
//             sequencer; the engine never reads a clock.
#ifndef CARBONEX_COMMON_TYPES_H_
#define CARBONEX_COMMON_TYPES_H_

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace carbonex {

// A strongly typed integer. Tag makes each instantiation a distinct type, so
// an OrderId cannot be passed where an AccountId is expected.
template <typename Tag, typename Rep>
class StrongInt {
 public:
  using ValueType = Rep;

  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep value) : value_(value) {}

  [[nodiscard]] constexpr Rep value() const { return value_; }

  // clang-tidy 14 reports the defaulted <=>'s implicit `0` comparison.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  friend constexpr auto operator<=>(StrongInt, StrongInt) = default;

 private:
  Rep value_{};
};

// An amount: a StrongInt that also adds, subtracts and negates.
template <typename Tag, typename Rep>
class Amount {
 public:
  using ValueType = Rep;

  constexpr Amount() = default;
  constexpr explicit Amount(Rep value) : value_(value) {}

  [[nodiscard]] constexpr Rep value() const { return value_; }

  // clang-tidy 14 reports the defaulted <=>'s implicit `0` comparison.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  friend constexpr auto operator<=>(Amount, Amount) = default;
  friend constexpr Amount operator+(Amount a, Amount b) {
    return Amount(a.value_ + b.value_);
  }
  friend constexpr Amount operator-(Amount a, Amount b) {
    return Amount(a.value_ - b.value_);
  }
  constexpr Amount operator-() const { return Amount(-value_); }
  constexpr Amount& operator+=(Amount other) {
    value_ += other.value_;
    return *this;
  }
  constexpr Amount& operator-=(Amount other) {
    value_ -= other.value_;
    return *this;
  }

 private:
  Rep value_{};
};

using OrderId = StrongInt<struct OrderIdTag, std::uint64_t>;
using TradeId = StrongInt<struct TradeIdTag, std::uint64_t>;
using AccountId = StrongInt<struct AccountIdTag, std::uint32_t>;
using InstrumentId = StrongInt<struct InstrumentIdTag, std::uint32_t>;
using BrokerId = StrongInt<struct BrokerIdTag, std::uint32_t>;
using SequenceNumber = StrongInt<struct SequenceNumberTag, std::uint64_t>;
using Timestamp = StrongInt<struct TimestampTag, std::int64_t>;

using Price = Amount<struct PriceTag, std::int64_t>;
using Quantity = Amount<struct QuantityTag, std::int64_t>;
using Cash = Amount<struct CashTag, std::int64_t>;

// Price × quantity in tiyn. The caller keeps both within the bounds the
// engine validates (price and quantity limits), so this cannot overflow.
constexpr Cash Notional(Price price, Quantity qty) {
  return Cash(price.value() * qty.value());
}

enum class Side : std::uint8_t { kBuy = 1, kSell = 2 };

constexpr Side Opposite(Side side) {
  return side == Side::kBuy ? Side::kSell : Side::kBuy;
}

// A client-chosen order identifier (FIX ClOrdID), stored inline so commands
// and events stay trivially copyable. At most kMaxLength bytes; the gateway
// rejects longer ones before they reach the engine.
class ClientOrderId {
 public:
  static constexpr std::size_t kMaxLength = 31;

  constexpr ClientOrderId() = default;

  // Precondition: text.size() <= kMaxLength (checked: longer text is cut,
  // which the gateway prevents by rejecting it first).
  explicit ClientOrderId(std::string_view text) {
    size_ = static_cast<std::uint8_t>(text.size() < kMaxLength ? text.size()
                                                               : kMaxLength);
    std::memcpy(data_.data(), text.data(), size_);
  }

  [[nodiscard]] std::string_view view() const { return {data_.data(), size_}; }
  [[nodiscard]] bool empty() const { return size_ == 0; }

  friend bool operator==(const ClientOrderId& a, const ClientOrderId& b) {
    return a.view() == b.view();
  }

 private:
  std::array<char, kMaxLength> data_{};
  std::uint8_t size_ = 0;
};

}  // namespace carbonex

#endif  // CARBONEX_COMMON_TYPES_H_
