// Text forms of amounts, shared by the registry, its control protocol and
// carbonex-registry: strict parsing (no signs unless allowed, no exponent, no
// spaces, no more decimals than the scale) and canonical formatting.
#ifndef CARBONEX_LEDGER_AMOUNTS_H_
#define CARBONEX_LEDGER_AMOUNTS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "carbonex/common/status.h"
#include "carbonex/common/types.h"

namespace carbonex::ledger {

// A non-negative decimal with at most `decimals` fraction digits, scaled by
// 10^decimals: ParseFixed("12.5", 3) = 12500. Errors: kInvalidArgument
// (empty, not a decimal, too many decimals, above 9e15 after scaling).
[[nodiscard]] Result<std::int64_t> ParseFixed(std::string_view text,
                                              int decimals);

// KZT with at most two decimals ("1500", "1500.5", "1500.50") as tiyn.
[[nodiscard]] Result<Cash> ParseCash(std::string_view text);

// A whole number of units, >= 0.
[[nodiscard]] Result<Quantity> ParseQuantity(std::string_view text);

// A calendar year 2000..2100.
[[nodiscard]] Result<int> ParseYear(std::string_view text);

// tiyn as KZT with two decimals: 150050 -> "1500.50", -5 -> "-0.05".
[[nodiscard]] std::string FormatCash(Cash cash);

}  // namespace carbonex::ledger

#endif  // CARBONEX_LEDGER_AMOUNTS_H_
