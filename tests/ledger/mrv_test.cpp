// MRV: the emissions CSV, the fixed-point conversion to t CO2e, the report
// states, and offset surrender bounded by verified emissions.
#include <catch2/catch.hpp>

#include "carbonex/ledger/registry.h"
#include "test_util.h"

namespace carbonex::ledger {
namespace {

using testing::DataFile;
using testing::OpenFresh;
using testing::ReadText;
using testing::Snapshot;
using testing::TempDir;

struct Fixture {
  TempDir dir;
  std::unique_ptr<Registry> r = OpenFresh(dir.Db());
  std::string sample = ReadText(std::string(CARBONEX_DATA_DIR) +
                                "/samples/emissions-KZ-OP-0001-2019.csv");
  Fixture() {
    auto s = r->ImportPlan(
        ReadText(DataFile("nap-2018-2020/companies.csv")), "companies.csv",
        ReadText(DataFile("nap-2018-2020/installations.csv")),
        "installations.csv", PlanImportOptions{});
    REQUIRE(s.ok());
    REQUIRE(r->AddVerifier("VER-1", "Verifier One").ok());
  }
  template <typename F>
  void Refused(StatusCode code, const std::string& text, F&& op) {
    const std::string before = Snapshot(*r);
    Status s = op();
    INFO(s.message());
    CHECK(s.code() == code);
    CHECK_THAT(s.message(), Catch::Contains(text));
    CHECK(Snapshot(*r) == before);
  }
};

TEST_CASE("The sample report converts to t CO2e with AR5 GWPs", "[mrv]") {
  Fixture f;
  auto rep = f.r->SubmitEmissions("KZ-OP-0001", 2019, f.sample, "sample.csv");
  REQUIRE(rep.ok());
  // By hand: 1000.5*2.5*0.99 = 2476.2375; 1000.5*0.00001*28 = 0.28014;
  // 1000.5*0.000015*265 = 3.9769875; 350.25*1.9 = 665.475;
  // 12.5*0.02*0.98*28 = 6.86. Sum 3152.8296275 t -> 3153 t.
  CHECK(rep->total == Quantity(3153));
  REQUIRE(rep->lines.size() == 5);
  CHECK(rep->lines[0].co2e_kg == 2'476'238);  // 2476237.5 kg, half up
  CHECK(rep->lines[1].co2e_kg == 280);
  CHECK(rep->lines[2].co2e_kg == 3977);
  CHECK(rep->lines[3].co2e_kg == 665'475);
  CHECK(rep->lines[4].co2e_kg == 6860);
  CHECK(rep->state == EmissionsState::kSubmitted);
  CHECK(rep->version == 1);
}

TEST_CASE("GWP values come from the policy", "[mrv]") {
  Fixture f;
  Policy p = *f.r->GetPolicy();
  p.gwp_ch4 = 25;  // AR4
  p.gwp_n2o = 298;
  REQUIRE(f.r->SetPolicy(p).ok());
  const std::string csv =
      "installation_id,source_stream,gas,activity_data,activity_unit,"
      "emission_factor,oxidation_factor\n"
      "KZ-INST-0001-01,s1,CH4,100,t,1,\n"
      "KZ-INST-0001-01,s1,N2O,10,t,1,\n";
  auto rep = f.r->SubmitEmissions("KZ-OP-0001", 2019, csv, "x.csv");
  REQUIRE(rep.ok());
  CHECK(rep->total == Quantity(100 * 25 + 10 * 298));
}

TEST_CASE("Totals round half up once, on the exact sum", "[mrv]") {
  Fixture f;
  const std::string head =
      "installation_id,source_stream,gas,activity_data,activity_unit,"
      "emission_factor,oxidation_factor\n";
  // 0.5 t -> 1 t; 0.4999 t -> 0 t; three lines of 0.3 t -> 0.9 t -> 1 t.
  auto half = f.r->SubmitEmissions(
      "KZ-OP-0001", 2019, head + "KZ-INST-0001-01,a,CO2,1,t,0.5,\n", "h.csv");
  REQUIRE(half.ok());
  CHECK(half->total == Quantity(1));
  auto below = f.r->SubmitEmissions(
      "KZ-OP-0001", 2019, head + "KZ-INST-0001-01,a,CO2,1,t,0.4999,\n",
      "b.csv");
  REQUIRE(below.ok());
  CHECK(below->total == Quantity(0));
  auto three = f.r->SubmitEmissions("KZ-OP-0001", 2019,
                                    head +
                                        "KZ-INST-0001-01,a,CO2,1,t,0.3,\n"
                                        "KZ-INST-0001-01,b,CO2,1,t,0.3,\n"
                                        "KZ-INST-0001-01,c,CO2,1,t,0.3,\n",
                                    "t.csv");
  REQUIRE(three.ok());
  CHECK(three->total == Quantity(1));
}

TEST_CASE("Every line is validated, a bad report changes nothing", "[mrv]") {
  Fixture f;
  const std::string head =
      "installation_id,source_stream,gas,activity_data,activity_unit,"
      "emission_factor,oxidation_factor\n";
  const std::string good = "KZ-INST-0001-01,s1,CO2,10,t,1,\n";
  struct Case {
    std::string body;
    std::string expect;
  };
  for (const Case& c : std::vector<Case>{
           {good + "KZ-INST-0001-01,s2,SF6,1,t,1,\n",
            "e.csv line 3, column 'gas'"},
           {good + "KZ-INST-0001-01,s2,CO2,-1,t,1,\n",
            "e.csv line 3, column 'activity_data'"},
           {good + "KZ-INST-0001-01,s2,CO2,1.0001,t,1,\n",
            "e.csv line 3, column 'activity_data': too many decimals"},
           {good + "KZ-INST-0001-01,s2,CO2,1,t,abc,\n",
            "e.csv line 3, column 'emission_factor'"},
           {good + "KZ-INST-0001-01,s2,CO2,1,t,1,1.5\n",
            "e.csv line 3, column 'oxidation_factor': must be in (0, 1]"},
           {good + "KZ-INST-0001-01,s1,CO2,1,t,1,\n",
            "e.csv line 3, column 'gas': duplicate"},
           {good + "KZ-INST-0002-01,s1,CO2,1,t,1,\n",
            "e.csv line 3, column 'installation_id': 'KZ-INST-0002-01' is "
            "not an installation of 'KZ-OP-0001'"},
           {good + ",s1,CO2,1,t,1,\n",
            "e.csv line 3, column 'installation_id'"},
           {good + "KZ-INST-0001-01,s3,CO2,1,t,1\n",
            "e.csv line 3: expected 7 fields, found 6"},
           {"", "e.csv: no emission lines"},
       }) {
    f.Refused(StatusCode::kInvalidArgument, c.expect, [&] {
      return f.r->SubmitEmissions("KZ-OP-0001", 2019, head + c.body, "e.csv")
          .status();
    });
  }
  f.Refused(StatusCode::kNotFound, "unknown account", [&] {
    return f.r->SubmitEmissions("KZ-OP-9999", 2019, head + good, "e.csv")
        .status();
  });
}

TEST_CASE("Report states: submit, reject, resubmit, verify, correct", "[mrv]") {
  Fixture f;
  f.Refused(StatusCode::kFailedPrecondition, "no submitted report",
            [&] { return f.r->VerifyEmissions("KZ-OP-0001", 2019, "VER-1"); });
  REQUIRE(f.r->SubmitEmissions("KZ-OP-0001", 2019, f.sample, "s.csv").ok());
  f.Refused(StatusCode::kNotFound, "unknown verifier",
            [&] { return f.r->VerifyEmissions("KZ-OP-0001", 2019, "NOBODY"); });
  f.Refused(StatusCode::kInvalidArgument, "reason", [&] {
    return f.r->RejectEmissions("KZ-OP-0001", 2019, "VER-1", "");
  });
  REQUIRE(
      f.r->RejectEmissions("KZ-OP-0001", 2019, "VER-1", "missing meter data")
          .ok());
  f.Refused(StatusCode::kFailedPrecondition, "no submitted report",
            [&] { return f.r->VerifyEmissions("KZ-OP-0001", 2019, "VER-1"); });
  CHECK(f.r->Compliance(2019)->companies[0].status ==
        ComplianceStatus::kUnverified);
  // Back to the emitter: a new version.
  REQUIRE(f.r->SubmitEmissions("KZ-OP-0001", 2019, f.sample, "s2.csv").ok());
  REQUIRE(f.r->VerifyEmissions("KZ-OP-0001", 2019, "VER-1").ok());
  CHECK(f.r->Compliance(2019)->companies[0].verified_emissions ==
        Quantity(3153));
  // Verified is final: a correction is a new version, and until it is
  // verified the earlier verified figure stands.
  const std::string head =
      "installation_id,source_stream,gas,activity_data,activity_unit,"
      "emission_factor,oxidation_factor\n";
  REQUIRE(f.r->SubmitEmissions("KZ-OP-0001", 2019,
                               head + "KZ-INST-0001-01,s1,CO2,4000,t,1,\n",
                               "fix.csv")
              .ok());
  CHECK(f.r->Compliance(2019)->companies[0].verified_emissions ==
        Quantity(3153));
  REQUIRE(f.r->VerifyEmissions("KZ-OP-0001", 2019, "VER-1").ok());
  CHECK(f.r->Compliance(2019)->companies[0].verified_emissions ==
        Quantity(4000));
  auto versions = f.r->EmissionsReports("KZ-OP-0001", 2019);
  REQUIRE(versions.ok());
  REQUIRE(versions->size() == 3);
  CHECK(versions->at(0).state == EmissionsState::kRejected);
  CHECK(versions->at(0).reason == "missing meter data");
  CHECK(versions->at(1).state == EmissionsState::kVerified);
  CHECK(versions->at(1).total == Quantity(3153));
  CHECK(versions->at(2).state == EmissionsState::kVerified);
  CHECK(versions->at(2).verifier == "VER-1");
  CHECK(f.r->AuditVerify()->ok());
}

TEST_CASE("Offsets cover at most the policy share of verified emissions",
          "[mrv]") {
  Fixture f;
  REQUIRE(f.r->AddInstrument({"KZO-2019", InstrumentKind::kOffset, 2019,
                              Price(1), Quantity(1'000'000)})
              .ok());
  REQUIRE(f.r->IssueUnits("KZO-2019", "KZ-OP-0001", Quantity(1000),
                          IssueReason::kOffsetProject)
              .ok());
  f.Refused(StatusCode::kFailedPrecondition, "need verified emissions", [&] {
    return f.r->Surrender("KZ-OP-0001", 2019, "KZO-2019", Quantity(1));
  });
  REQUIRE(f.r->SubmitEmissions("KZ-OP-0001", 2019, f.sample, "s.csv").ok());
  REQUIRE(f.r->VerifyEmissions("KZ-OP-0001", 2019, "VER-1").ok());
  // 10 % of 3153 t = 315 t.
  REQUIRE(f.r->Surrender("KZ-OP-0001", 2019, "KZO-2019", Quantity(300)).ok());
  REQUIRE(f.r->Surrender("KZ-OP-0001", 2019, "KZO-2019", Quantity(15)).ok());
  f.Refused(StatusCode::kFailedPrecondition, "above the limit of 315 t", [&] {
    return f.r->Surrender("KZ-OP-0001", 2019, "KZO-2019", Quantity(1));
  });
  REQUIRE(f.r->Surrender("KZ-OP-0001", 2019, "KZQ-2019", Quantity(2838)).ok());
  auto comp = f.r->Compliance(2019);
  REQUIRE(comp.ok());
  const ComplianceLine& line = comp->companies[0];
  CHECK(line.surrendered_offset == Quantity(315));
  CHECK(line.surrendered_quota == Quantity(2838));
  CHECK(line.surrendered == Quantity(3153));
  CHECK(line.shortfall == Quantity(0));
  CHECK(line.status == ComplianceStatus::kCompliant);
}

}  // namespace
}  // namespace carbonex::ledger
