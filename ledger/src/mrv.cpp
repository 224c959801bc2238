#include "mrv.h"

#include <set>
#include <tuple>

#include "carbonex/ledger/amounts.h"
#include "csv_reader.h"

namespace carbonex::ledger {
namespace {

using Int128 = __int128;

constexpr std::int64_t kMaxActivityMilli = 1'000'000'000'000'000;  // 10^12
constexpr std::int64_t kMaxFactorMicro = 1'000'000'000'000;        // 10^6
constexpr std::size_t kMaxLines = 100'000;

// Rounds value / divisor half up. Precondition: value >= 0, divisor > 0.
Int128 RoundHalfUp(Int128 value, Int128 divisor) {
  return (value + divisor / 2) / divisor;
}

bool PrintableId(std::string_view s) {
  if (s.empty() || s.size() > 64) {
    return false;
  }
  for (char c : s) {
    if (c <= ' ' || c > '~' || c == ',') {
      return false;
    }
  }
  return true;
}

}  // namespace

Status ComputeEmissions(std::string_view csv, std::string_view file_name,
                        const Policy& policy, ComputedReport* out) {
  out->lines.clear();
  out->total_t = 0;
  CsvTable table;
  Status s = CsvTable::Parse(csv, file_name, &table);
  if (!s.ok()) {
    return s;
  }
  s = table.RequireColumns({"installation_id", "source_stream", "gas",
                            "activity_data", "activity_unit", "emission_factor",
                            "oxidation_factor"});
  if (!s.ok()) {
    return s;
  }
  if (table.Rows().empty()) {
    return Status::InvalidArgument(std::string(file_name) +
                                   ": no emission lines");
  }
  if (table.Rows().size() > kMaxLines) {
    return Status::InvalidArgument(std::string(file_name) + ": more than " +
                                   std::to_string(kMaxLines) + " lines");
  }
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  Int128 total = 0;
  for (const CsvRecord& row : table.Rows()) {
    EmissionsLine line;
    line.csv_line = row.line;
    line.installation = table.Field(row, "installation_id");
    if (!PrintableId(line.installation)) {
      return table.Error(row, "installation_id", "missing or malformed id");
    }
    line.source_stream = table.Field(row, "source_stream");
    if (!PrintableId(line.source_stream)) {
      return table.Error(row, "source_stream",
                         "missing or malformed name (no spaces)");
    }
    line.gas = table.Field(row, "gas");
    if (line.gas == "CO2") {
      line.gwp = policy.gwp_co2;
    } else if (line.gas == "CH4") {
      line.gwp = policy.gwp_ch4;
    } else if (line.gas == "N2O") {
      line.gwp = policy.gwp_n2o;
    } else {
      return table.Error(row, "gas",
                         "'" + line.gas + "' is not one of CO2, CH4, N2O");
    }
    if (!seen.emplace(line.installation, line.source_stream, line.gas).second) {
      return table.Error(row, "gas",
                         "duplicate installation, source stream and gas");
    }
    auto ad = ParseFixed(table.Field(row, "activity_data"), 3);
    if (!ad.ok()) {
      return table.Error(row, "activity_data", ad.status().message());
    }
    if (*ad > kMaxActivityMilli) {
      return table.Error(row, "activity_data", "above 10^12");
    }
    line.activity_milli = *ad;
    line.activity_unit = table.Field(row, "activity_unit");
    if (!PrintableId(line.activity_unit)) {
      return table.Error(row, "activity_unit", "missing or malformed unit");
    }
    auto ef = ParseFixed(table.Field(row, "emission_factor"), 6);
    if (!ef.ok()) {
      return table.Error(row, "emission_factor", ef.status().message());
    }
    if (*ef > kMaxFactorMicro) {
      return table.Error(row, "emission_factor", "above 10^6");
    }
    line.factor_micro = *ef;
    const std::string& ox_text = table.Field(row, "oxidation_factor");
    if (ox_text.empty()) {
      line.oxidation_e4 = 10'000;
    } else {
      auto ox = ParseFixed(ox_text, 4);
      if (!ox.ok()) {
        return table.Error(row, "oxidation_factor", ox.status().message());
      }
      if (*ox <= 0 || *ox > 10'000) {
        return table.Error(row, "oxidation_factor", "must be in (0, 1]");
      }
      line.oxidation_e4 = *ox;
    }
    const Int128 exact = Int128{line.activity_milli} * line.factor_micro *
                         line.oxidation_e4 * line.gwp;  // 10^-13 t
    if (exact > Int128{1'000'000'000'000'000} * 10'000'000'000'000) {
      return table.Error(row, "emission_factor",
                         "line emissions above 10^15 t CO2e");
    }
    line.co2e_kg =
        static_cast<std::int64_t>(RoundHalfUp(exact, Int128{10'000'000'000}));
    total += exact;
    out->lines.push_back(std::move(line));
  }
  const Int128 scale = Int128{10'000'000'000'000};
  const Int128 total_t = RoundHalfUp(total, scale);
  if (total_t > Int128{1'000'000'000'000'000}) {
    return Status::InvalidArgument(std::string(file_name) +
                                   ": total emissions above 10^15 t");
  }
  out->total_t = static_cast<std::int64_t>(total_t);
  return Status::Ok();
}

}  // namespace carbonex::ledger
