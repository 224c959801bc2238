// libFuzzer target for the emissions report reader (ComputeEmissions,
// docs/mrv.md): any text must give either an error with a message or a
// report whose lines are within the documented ranges. Findings: a crash, a
// sanitizer report (UBSan catches any signed overflow in the fixed-point
// arithmetic), an exception, or a report that breaks those ranges.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "carbonex/ledger/registry.h"
#include "mrv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const carbonex::ledger::Policy policy;
  carbonex::ledger::ComputedReport report;
  const carbonex::Status s =
      carbonex::ledger::ComputeEmissions(text, "report.csv", policy, &report);
  if (!s.ok()) {
    if (s.message().empty()) {
      std::abort();
    }
    return 0;
  }
  if (report.lines.empty() || report.total_t < 0) {
    std::abort();
  }
  for (const carbonex::ledger::EmissionsLine& line : report.lines) {
    if (line.oxidation_e4 < 1 || line.oxidation_e4 > 10000 ||
        line.co2e_kg < 0 || line.activity_milli < 0 || line.factor_micro < 0) {
      std::abort();
    }
  }
  return 0;
}
