// End-to-end tests of carbonex-registry: output, JSON, exit codes.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_util.h"
#include "test_util.h"

namespace carbonex::ledger {
namespace {

using nlohmann::json;
using testing::DataFile;
using testing::RunRegistry;
using testing::TempDir;

struct Cli {
  TempDir tmp;
  std::string db = tmp.Db();
  testing::RunResult Run(const std::string& args) {
    return RunRegistry(tmp, args + " --db " + db);
  }
  testing::RunResult Ok(const std::string& args) {
    auto r = Run(args);
    INFO(args << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.code == 0);
    return r;
  }
  testing::RunResult Refused(const std::string& args,
                             const std::string& error) {
    const std::string before = Ok("holdings --json").out +
                               Ok("trades --json").out +
                               Ok("audit verify --json").out;
    auto r = Run(args);
    INFO(args << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::StartsWith("carbonex-registry: " + error));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(Ok("holdings --json").out + Ok("trades --json").out +
              Ok("audit verify --json").out ==
          before);
    return r;
  }
};

TEST_CASE("help on every verb", "[cli]") {
  Cli c;
  for (const char* verb : {"",
                           "init",
                           "instrument add",
                           "company add",
                           "broker add",
                           "broker entitle",
                           "verifier add",
                           "cash deposit",
                           "cash withdraw",
                           "issue",
                           "transfer",
                           "nap import",
                           "holdings",
                           "trades",
                           "emissions submit",
                           "emissions verify",
                           "emissions reject",
                           "surrender",
                           "compliance",
                           "close-day",
                           "audit verify",
                           "cancel",
                           "policy set"}) {
    auto r = RunRegistry(c.tmp, std::string(verb) + " --help");
    INFO(verb);
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("Usage"));
  }
}

TEST_CASE("a registry from the plan, end to end", "[cli]") {
  Cli c;
  auto missing = c.Run("holdings");
  CHECK(missing.code != 0);
  CHECK_THAT(missing.err, Catch::Contains("no registry"));
  c.Ok("init");
  c.Ok("init");  // idempotent
  const std::string plan = DataFile("nap-2018-2020/companies.csv");
  const std::string inst = DataFile("nap-2018-2020/installations.csv");
  auto imported =
      json::parse(c.Ok("--json nap import " + plan + " --installations " +
                       inst + " --with-emissions")
                      .out);
  CHECK(imported["companies_created"] == 129);
  CHECK(imported["installations_loaded"] == 225);
  auto again = json::parse(c.Ok("nap import " + plan + " --json").out);
  CHECK(again["units_issued"] == 0);

  // Global options before or after the verb.
  auto h1 = c.Ok("--json holdings KZ-OP-0002").out;
  auto h2 = c.Ok("holdings KZ-OP-0002 --json").out;
  CHECK(h1 == h2);
  json h = json::parse(h1);
  REQUIRE(h["accounts"].size() == 1);
  const json& acct = h["accounts"][0];
  CHECK(acct["account"] == "KZ-OP-0002");
  CHECK(acct["units"][0]["symbol"] == "KZQ-2018");
  CHECK(acct["units"][0]["held"] == 12538700);
  CHECK(acct["units"][0]["free"] == 12538700);
  CHECK(acct["cash"]["held_tiyn"] == 0);
  CHECK(acct["cash"].contains("reserved_tiyn"));
  CHECK(acct["cash"].contains("free_tiyn"));

  c.Ok("cash deposit KZ-OP-0002 1500.50");
  auto table = c.Ok("holdings KZ-OP-0002").out;
  CHECK_THAT(table, Catch::Contains("KZ-OP-0002  KZQ-2018  12538700"));
  CHECK_THAT(table, Catch::Contains("1500.50"));
  c.Refused("cash withdraw KZ-OP-0002 1500.51",
            "cash withdraw: insufficient free cash in 'KZ-OP-0002'");
  c.Refused("cash deposit KZ-OP-0002 1.001", "bad amount of KZT");
  c.Refused("cash deposit KZ-OP-9999 1", "cash deposit: unknown account");
  c.Refused("transfer KZQ-2018 KZ-OP-0002 KZ-OP-0003 99999999",
            "transfer: insufficient free KZQ-2018 units in 'KZ-OP-0002'");
  c.Refused("issue KZQ-2099 KZ-OP-0002 5", "issue: unknown instrument");
  c.Refused("surrender KZ-OP-0002 2018 KZQ-2019 5",
            "surrender: KZQ-2019 has vintage 2019");
  c.Refused("frobnicate", "");
  c.Refused("cash deposit KZ-OP-0002", "");

  c.Ok("instrument add KZO-2018 --kind offset --vintage 2018 --tick 0.50");
  c.Ok("issue KZO-2018 KZ-OP-0002 100 --reason offset-project");
  c.Ok("company add TRADER-1 --name \"Trader One\" --holding-limit 5000");
  c.Ok("transfer KZQ-2018 KZ-OP-0002 TRADER-1 4000");
  c.Refused("transfer KZQ-2018 KZ-OP-0002 TRADER-1 1001",
            "transfer: 'TRADER-1' would exceed its holding limit");
  c.Ok("verifier add VER-1 --name \"Verifier One\"");

  // Emissions through the CLI: the sample for KZ-OP-0001.
  const std::string sample =
      std::string(CARBONEX_DATA_DIR) + "/samples/emissions-KZ-OP-0001-2019.csv";
  auto sub = json::parse(
      c.Ok("emissions submit KZ-OP-0001 2019 " + sample + " --json").out);
  CHECK(sub["version"] == 2);  // version 1 came from the plan
  CHECK(sub["total_t"] == 3153);
  c.Ok("emissions verify KZ-OP-0001 2019 --verifier VER-1");
  c.Refused("emissions verify KZ-OP-0001 2019 --verifier VER-1",
            "emissions verify: no submitted report");

  c.Ok("surrender KZ-OP-0002 2018 KZQ-2018 1000000");
  c.Ok("surrender KZ-OP-0002 2018 KZO-2018 100");
  auto comp = json::parse(c.Ok("compliance 2018 --json").out);
  CHECK(comp["year"] == 2018);
  REQUIRE(comp["companies"].size() == 130);
  const json& line = comp["companies"][1];
  for (const char* key :
       {"company", "cap", "verified_emissions", "surrendered_quota",
        "surrendered_offset", "surrendered", "shortfall", "penalty_tiyn",
        "status"}) {
    CHECK(line.contains(key));
  }
  CHECK(line["company"] == "KZ-OP-0002");
  CHECK(line["surrendered_quota"] == 1000000);
  CHECK(line["surrendered_offset"] == 100);
  CHECK(line["surrendered"] == 1000100);
  CHECK(line["shortfall"] ==
        line["verified_emissions"].get<std::int64_t>() - 1000100);
  CHECK(line["status"] == "short");
  CHECK(comp["companies"][129]["status"] == "unverified");  // TRADER-1
  auto comp_table = c.Ok("compliance 2018").out;
  CHECK_THAT(comp_table, Catch::Contains("COMPANY"));
  CHECK_THAT(comp_table, Catch::Contains("short by"));

  auto trades = json::parse(c.Ok("trades --json").out);
  CHECK(trades["trades"].empty());

  auto audit = json::parse(c.Ok("audit verify --json").out);
  CHECK(audit["ok"] == true);
  CHECK(audit["problems"].empty());
  CHECK_THAT(c.Ok("audit verify").out, Catch::Contains("audit: OK"));

  // Brokers: password file with one trailing newline stripped.
  {
    std::ofstream pw(c.tmp.Path() + "/pw");
    pw << "s3cret-password\n";
  }
  c.Ok("broker add BRK-1 --password-file " + c.tmp.Path() +
       "/pw --cancel-on-disconnect");
  c.Ok("broker entitle BRK-1 KZ-OP-0002");
  c.Refused("broker entitle BRK-1 KZ-OP-0002",
            "broker entitle: 'BRK-1' is "
            "already entitled");
  c.Refused("broker add BRK-2 --password-file /nonexistent/pw",
            "cannot read '/nonexistent/pw'");
  auto reg = testing::OpenFresh(c.db);
  CHECK(*reg->VerifyBrokerPassword("BRK-1", "s3cret-password"));
}

TEST_CASE("a bad plan names the line and column and changes nothing", "[cli]") {
  Cli c;
  c.Ok("init");
  const std::string bad = c.tmp.Path() + "/bad.csv";
  {
    std::ofstream out(bad);
    std::ifstream in(DataFile("nap-2018-2020/companies.csv"));
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      if (++n == 4) {
        line.replace(line.find(",6,grand"), 3, ",-6,");
      }
      out << line << '\n';
    }
  }
  c.Refused("nap import " + bad, "bad.csv line 4, column 'installation_count'");
}

}  // namespace
}  // namespace carbonex::ledger
