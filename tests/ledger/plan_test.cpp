// ImportPlan against the synthetic 2018-2020 plan: totals, idempotence,
// refusals naming line and column, and the whole compliance path.
#include <catch2/catch.hpp>
#include <map>
#include <sstream>

#include "carbonex/ledger/registry.h"
#include "csv_reader.h"
#include "test_util.h"

namespace carbonex::ledger {
namespace {

using testing::DataFile;
using testing::OpenFresh;
using testing::ReadText;
using testing::Snapshot;
using testing::TempDir;

const std::string& Companies() {
  static const std::string kText =
      ReadText(DataFile("nap-2018-2020/companies.csv"));
  return kText;
}
const std::string& Installations() {
  static const std::string kText =
      ReadText(DataFile("nap-2018-2020/installations.csv"));
  return kText;
}

// The published totals (row "ALL" and per sector) from totals.csv.
std::map<std::string, std::map<std::string, std::int64_t>> Totals() {
  CsvTable t;
  REQUIRE(CsvTable::Parse(ReadText(DataFile("nap-2018-2020/totals.csv")),
                          "totals.csv", &t)
              .ok());
  std::map<std::string, std::map<std::string, std::int64_t>> out;
  for (const auto& row : t.Rows()) {
    for (std::size_t i = 1; i < t.Header().size(); ++i) {
      out[row.fields[0]][t.Header()[i]] = std::stoll(row.fields[i]);
    }
  }
  return out;
}

// Replaces field `column` of data line `line` (1-based, header = 1).
std::string WithField(const std::string& csv, std::size_t line,
                      std::size_t column, const std::string& value) {
  std::istringstream in(csv);
  std::ostringstream out;
  std::string l;
  std::size_t n = 0;
  while (std::getline(in, l)) {
    ++n;
    if (n == line) {
      std::vector<std::string> fields;
      std::stringstream ls(l);
      std::string f;
      while (std::getline(ls, f, ',')) {
        fields.push_back(f);
      }
      fields.at(column) = value;
      l.clear();
      for (std::size_t i = 0; i < fields.size(); ++i) {
        l += (i ? "," : "") + fields[i];
      }
    }
    out << l << '\n';
  }
  return out.str();
}

TEST_CASE("The 2018-2020 plan imports and matches the published totals",
          "[plan]") {
  TempDir dir;
  auto r = OpenFresh(dir.Db());
  PlanImportOptions options;
  options.with_emissions = true;
  auto summary = r->ImportPlan(Companies(), "companies.csv", Installations(),
                               "installations.csv", options);
  REQUIRE(summary.ok());
  const auto totals = Totals();
  const auto& all = totals.at("ALL");
  CHECK(summary->companies_created == all.at("companies"));
  CHECK(summary->installations_loaded == all.at("installations"));
  CHECK(summary->instruments_created == 3);
  CHECK(summary->allocations_issued == 3 * all.at("companies"));
  CHECK(summary->units_issued.value() ==
        all.at("cap_2018") + all.at("cap_2019") + all.at("cap_2020"));

  auto companies = r->Companies();
  REQUIRE(companies.ok());
  std::map<std::string, std::int64_t> cap2019_by_sector;
  for (const auto& c : *companies) {
    for (const auto& [year, cap] : c.caps) {
      if (year == 2019) {
        cap2019_by_sector[c.spec.sector] += cap.value();
      }
    }
  }
  for (const auto& [sector, row] : totals) {
    if (sector == "ALL") {
      continue;
    }
    CHECK(cap2019_by_sector[sector] == row.at("cap_2019"));
  }
  for (int year : {2018, 2019, 2020}) {
    auto comp = r->Compliance(year);
    REQUIRE(comp.ok());
    std::int64_t cap = 0;
    std::int64_t ve = 0;
    for (const auto& l : comp->companies) {
      cap += l.cap.value();
      ve += l.verified_emissions.value();
      CHECK(l.status == ComplianceStatus::kShort);  // nothing surrendered yet
    }
    CHECK(cap == all.at("cap_" + std::to_string(year)));
    CHECK(ve == all.at("ve_" + std::to_string(year)));
  }
  auto audit = r->AuditVerify();
  REQUIRE(audit.ok());
  CHECK(audit->ok());
  CHECK(audit->entries == 1);

  SECTION("importing the same plan again changes nothing") {
    const std::string before = Snapshot(*r);
    auto again = r->ImportPlan(Companies(), "companies.csv", Installations(),
                               "installations.csv", options);
    REQUIRE(again.ok());
    CHECK(again->companies_created == 0);
    CHECK(again->companies_existing == all.at("companies"));
    CHECK(again->units_issued == Quantity(0));
    CHECK(Snapshot(*r) == before);
  }

  SECTION("surrender and compliance add up") {
    // Every company surrenders min(its 2018 allowances, its 2018 emissions).
    std::int64_t expected_short = 0;
    std::int64_t surrendered_total = 0;
    auto before = r->Compliance(2018);
    REQUIRE(before.ok());
    auto policy = r->GetPolicy();
    REQUIRE(policy.ok());
    for (const auto& l : before->companies) {
      auto h = r->Holdings(std::string_view(l.company));
      REQUIRE(h.ok());
      std::int64_t held = 0;
      for (const auto& u : h->front().units) {
        if (u.symbol == "KZQ-2018") {
          held = u.held.value();
        }
      }
      const std::int64_t give = std::min(held, l.verified_emissions.value());
      REQUIRE(r->Surrender(l.company, 2018, "KZQ-2018", Quantity(give)).ok());
      surrendered_total += give;
      expected_short += l.verified_emissions.value() - give;
    }
    auto after = r->Compliance(2018);
    REQUIRE(after.ok());
    std::int64_t shortfall = 0;
    std::int64_t surrendered = 0;
    std::int64_t penalty = 0;
    int compliant = 0;
    for (const auto& l : after->companies) {
      shortfall += l.shortfall.value();
      surrendered += l.surrendered.value();
      penalty += l.penalty.value();
      CHECK(l.surrendered + l.shortfall >= l.verified_emissions);
      if (l.status == ComplianceStatus::kCompliant) {
        ++compliant;
      }
    }
    CHECK(surrendered == surrendered_total);
    CHECK(shortfall == expected_short);
    CHECK(penalty == shortfall * policy->penalty_per_tonne.value());
    CHECK(surrendered + shortfall == all.at("ve_2018"));
    CHECK(compliant > 0);
    // A 2019 allowance cannot cover 2018.
    const std::string snap = Snapshot(*r);
    CHECK(r->Surrender("KZ-OP-0001", 2018, "KZQ-2019", Quantity(1)).code() ==
          StatusCode::kFailedPrecondition);
    CHECK(Snapshot(*r) == snap);
    auto audit2 = r->AuditVerify();
    REQUIRE(audit2.ok());
    CHECK(audit2->ok());
    for (const auto& line : audit2->instruments) {
      if (line.symbol == "KZQ-2018") {
        CHECK(line.surrendered.value() == surrendered_total);
      }
    }
  }
}

TEST_CASE("A bad plan is refused whole, naming the line and column", "[plan]") {
  TempDir dir;
  auto r = OpenFresh(dir.Db());
  REQUIRE(r->AddCompany({.id = "X", .name = "Existing"}).ok());
  const std::string before = Snapshot(*r);
  struct Case {
    std::string companies;
    std::string installations;
    std::string expect;
  };
  // Columns: 0 company_id, 3 bin, 10 cap_2018, 13 cap_total.
  const std::vector<Case> cases = {
      {WithField(Companies(), 5, 3, "140240079793"), "",
       "companies.csv line 5, column 'bin'"},
      {WithField(Companies(), 7, 10, "-5"), "",
       "companies.csv line 7, column 'cap_2018': negative value"},
      {WithField(Companies(), 9, 1, ""), "",
       "companies.csv line 9, column 'name': missing value"},
      {WithField(Companies(), 12, 0, "KZ-OP-0001"), "",
       "companies.csv line 12, column 'company_id': duplicate company "
       "'KZ-OP-0001' (first on line 2)"},
      {WithField(Companies(), 4, 13, "1"), "",
       "companies.csv line 4, column 'cap_total'"},
      {WithField(Companies(), 3, 10, "12x"), "",
       "companies.csv line 3, column 'cap_2018'"},
      {Companies(), WithField(Installations(), 3, 5, "1"),
       "installation caps of 'KZ-OP-0001' for 2018 sum to"},
      {Companies() + "KZ-OP-0999,Short row\n", "",
       "companies.csv line 131: expected 18 fields, found 2"},
  };
  for (const Case& c : cases) {
    auto result = r->ImportPlan(c.companies, "companies.csv", c.installations,
                                "installations.csv", PlanImportOptions{});
    REQUIRE_FALSE(result.ok());
    INFO(result.status().message());
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(result.status().message(), Catch::Contains(c.expect));
    CHECK(Snapshot(*r) == before);
  }
}

TEST_CASE("A plan conflicting with the registry is refused whole", "[plan]") {
  TempDir dir;
  auto r = OpenFresh(dir.Db());
  REQUIRE(r->AddCompany({.id = "KZ-OP-0050", .name = "Someone else"}).ok());
  const std::string before = Snapshot(*r);
  auto result =
      r->ImportPlan(Companies(), "companies.csv", "", "", PlanImportOptions{});
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.status().message(),
             Catch::Contains("line 51, column 'company_id'"));
  CHECK(Snapshot(*r) == before);
}

}  // namespace
}  // namespace carbonex::ledger
