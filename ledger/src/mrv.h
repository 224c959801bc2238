// MRV arithmetic: parses an emissions report CSV (docs/mrv.md) and converts
// it to t CO2e with integer fixed-point arithmetic.
//
// Scales: activity data ×10^3, emission factor (t gas per unit of activity)
// ×10^6, oxidation factor ×10^4, GWP an integer. A line's exact value is
// AD × EF × OX × GWP in units of 10^-13 t CO2e (128-bit, cannot overflow
// within the limits below). A line is reported in kg CO2e rounded half up;
// the report's total is the exact sum rounded half up once to whole tonnes.
#ifndef CARBONEX_LEDGER_SRC_MRV_H_
#define CARBONEX_LEDGER_SRC_MRV_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "carbonex/common/status.h"
#include "carbonex/ledger/registry.h"

namespace carbonex::ledger {

struct EmissionsLine {
  std::size_t csv_line = 0;
  std::string installation;
  std::string source_stream;
  std::string gas;  // "CO2", "CH4" or "N2O"
  std::string activity_unit;
  std::int64_t activity_milli = 0;  // activity data × 10^3
  std::int64_t factor_micro = 0;    // emission factor × 10^6
  std::int64_t oxidation_e4 = 0;    // oxidation factor × 10^4, 1..10000
  std::int64_t gwp = 0;
  std::int64_t co2e_kg = 0;  // rounded half up
};

struct ComputedReport {
  std::vector<EmissionsLine> lines;
  std::int64_t total_t = 0;  // rounded half up
};

// Parses and computes. Errors: kInvalidArgument naming file, line, column.
Status ComputeEmissions(std::string_view csv, std::string_view file_name,
                        const Policy& policy, ComputedReport* out);

}  // namespace carbonex::ledger

#endif  // CARBONEX_LEDGER_SRC_MRV_H_
