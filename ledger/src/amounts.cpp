#include "carbonex/ledger/amounts.h"

namespace carbonex::ledger {

Result<std::int64_t> ParseFixed(std::string_view text, int decimals) {
  const std::string shown = "'" + std::string(text.substr(0, 40)) + "'";
  if (text.empty()) {
    return Status::InvalidArgument("empty number");
  }
  constexpr std::int64_t kLimit = 9'000'000'000'000'000;
  std::int64_t value = 0;
  int fraction_digits = -1;  // -1: no point seen
  bool any_digit = false;
  for (char c : text) {
    if (c == '.') {
      if (fraction_digits >= 0 || !any_digit) {
        return Status::InvalidArgument("malformed number " + shown);
      }
      fraction_digits = 0;
      continue;
    }
    if (c < '0' || c > '9') {
      return Status::InvalidArgument("malformed number " + shown);
    }
    any_digit = true;
    if (fraction_digits >= 0) {
      if (fraction_digits == decimals) {
        return Status::InvalidArgument("too many decimals in " + shown +
                                       " (at most " + std::to_string(decimals) +
                                       ")");
      }
      ++fraction_digits;
    }
    if (value > (kLimit - 9) / 10) {
      return Status::InvalidArgument("number too large " + shown);
    }
    value = value * 10 + (c - '0');
  }
  if (fraction_digits == 0) {
    return Status::InvalidArgument("malformed number " + shown);
  }
  for (int d = fraction_digits < 0 ? 0 : fraction_digits; d < decimals; ++d) {
    if (value > kLimit / 10) {
      return Status::InvalidArgument("number too large " + shown);
    }
    value *= 10;
  }
  return value;
}

Result<Cash> ParseCash(std::string_view text) {
  auto v = ParseFixed(text, 2);
  if (!v.ok()) {
    return Status::InvalidArgument("bad amount of KZT: " +
                                   v.status().message());
  }
  return Cash(*v);
}

Result<Quantity> ParseQuantity(std::string_view text) {
  auto v = ParseFixed(text, 0);
  if (!v.ok()) {
    return Status::InvalidArgument("bad quantity (whole units): " +
                                   v.status().message());
  }
  return Quantity(*v);
}

Result<int> ParseYear(std::string_view text) {
  auto v = ParseFixed(text, 0);
  if (!v.ok() || *v < 2000 || *v > 2100) {
    return Status::InvalidArgument(
        "bad year '" + std::string(text.substr(0, 40)) + "' (2000..2100)");
  }
  return static_cast<int>(*v);
}

std::string FormatCash(Cash cash) {
  std::int64_t v = cash.value();
  const bool negative = v < 0;
  // Work in unsigned to handle INT64_MIN.
  std::uint64_t u = negative ? 0 - static_cast<std::uint64_t>(v)
                             : static_cast<std::uint64_t>(v);
  std::string cents = std::to_string(u % 100);
  if (cents.size() < 2) {
    cents.insert(0, "0");
  }
  return (negative ? "-" : "") + std::to_string(u / 100) + "." + cents;
}

}  // namespace carbonex::ledger
