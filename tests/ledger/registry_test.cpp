// Operator writes and reads of Registry: every operation, every refusal, and
// for each refusal a check that nothing changed.
#include "carbonex/ledger/registry.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "test_util.h"

namespace carbonex::ledger {
namespace {

using testing::OpenFresh;
using testing::Snapshot;
using testing::TempDir;

// A small registry: two allowances, an offset, three companies (C has a
// holding limit of 1000), one verifier.
struct Fixture {
  TempDir dir;
  std::unique_ptr<Registry> r = OpenFresh(dir.Db());
  Fixture() {
    REQUIRE(r->AddInstrument({"KZQ-2019", InstrumentKind::kAllowance, 2019,
                              Price(1), Quantity(1'000'000)})
                .ok());
    REQUIRE(r->AddInstrument({"KZQ-2020", InstrumentKind::kAllowance, 2020,
                              Price(1), Quantity(1'000'000)})
                .ok());
    REQUIRE(r->AddInstrument({"KZO-2019", InstrumentKind::kOffset, 2019,
                              Price(1), Quantity(1'000'000)})
                .ok());
    CompanySpec a{.id = "A", .name = "Alpha LLP"};
    CompanySpec b{.id = "B", .name = "Beta JSC"};
    CompanySpec c{.id = "C", .name = "Gamma LLP"};
    c.holding_limit = Quantity(1000);
    REQUIRE(r->AddCompany(a).ok());
    REQUIRE(r->AddCompany(b).ok());
    REQUIRE(r->AddCompany(c).ok());
    REQUIRE(r->AddVerifier("V1", "Verifier One").ok());
  }
  Quantity Held(const std::string& account, const std::string& symbol) {
    auto h = r->Holdings(std::string_view(account));
    REQUIRE(h.ok());
    for (const auto& u : h->front().units) {
      if (u.symbol == symbol) {
        return u.held;
      }
    }
    return Quantity(0);
  }
  Cash CashHeld(const std::string& account) {
    auto h = r->Holdings(std::string_view(account));
    REQUIRE(h.ok());
    return h->front().cash_held;
  }
  // Runs a refused operation and checks its code and that nothing changed.
  template <typename F>
  void Refused(StatusCode code, F&& op) {
    const std::string before = Snapshot(*r);
    Status s = op();
    INFO(s.message());
    CHECK_FALSE(s.ok());
    CHECK(s.code() == code);
    CHECK_FALSE(s.message().empty());
    CHECK(Snapshot(*r) == before);
  }
};

TEST_CASE("Open refuses a missing registry unless asked to create it",
          "[registry]") {
  TempDir dir;
  RegistryOptions options;
  options.path = dir.Db();
  auto missing = Registry::Open(options);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  options.create_if_missing = true;
  {
    auto created = Registry::Open(options);
    REQUIRE(created.ok());
    REQUIRE((*created)->DepositCash("nobody", Cash(1)).code() ==
            StatusCode::kNotFound);
  }
  struct stat st {};
  REQUIRE(::stat(dir.Db().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat((dir.Db() + "/data.mdb").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  options.create_if_missing = false;
  CHECK(Registry::Open(options).ok());  // reopens
}

TEST_CASE("Instruments: add, list, refusals", "[registry]") {
  Fixture f;
  auto list = f.r->Instruments();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 3);
  CHECK(list->at(0).id == InstrumentId(1));
  CHECK(list->at(2).spec.symbol == "KZO-2019");
  CHECK(list->at(2).spec.kind == InstrumentKind::kOffset);
  f.Refused(StatusCode::kAlreadyExists, [&] {
    return f.r->AddInstrument(
        {"KZQ-2019", InstrumentKind::kAllowance, 2019, Price(1), Quantity(10)});
  });
  f.Refused(StatusCode::kInvalidArgument, [&] {
    return f.r->AddInstrument(
        {"kzq 2019", InstrumentKind::kAllowance, 2019, Price(1), Quantity(10)});
  });
  f.Refused(StatusCode::kInvalidArgument, [&] {
    return f.r->AddInstrument(
        {"KZQ-1990", InstrumentKind::kAllowance, 1990, Price(1), Quantity(10)});
  });
  f.Refused(StatusCode::kInvalidArgument, [&] {
    return f.r->AddInstrument(
        {"KZQ-2030", InstrumentKind::kAllowance, 2030, Price(0), Quantity(10)});
  });
  f.Refused(StatusCode::kInvalidArgument, [&] {
    return f.r->AddInstrument(
        {"KZQ-2030", InstrumentKind::kAllowance, 2030, Price(1), Quantity(0)});
  });
}

TEST_CASE("Companies: add with dense ids, refusals", "[registry]") {
  Fixture f;
  auto list = f.r->Companies();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 3);
  CHECK(list->at(0).account == AccountId(1));
  CHECK(list->at(2).account == AccountId(3));
  CHECK(list->at(2).spec.holding_limit == Quantity(1000));
  f.Refused(StatusCode::kAlreadyExists,
            [&] { return f.r->AddCompany({.id = "A", .name = "Again"}); });
  f.Refused(StatusCode::kInvalidArgument,
            [&] { return f.r->AddCompany({.id = "D E", .name = "Bad id"}); });
  f.Refused(StatusCode::kInvalidArgument,
            [&] { return f.r->AddCompany({.id = "D", .name = ""}); });
  CompanySpec bad_bin{.id = "D", .name = "Delta"};
  bad_bin.bin = "010440755848";
  f.Refused(StatusCode::kInvalidArgument,
            [&] { return f.r->AddCompany(bad_bin); });
  CompanySpec zero_limit{.id = "D", .name = "Delta"};
  zero_limit.holding_limit = Quantity(0);
  f.Refused(StatusCode::kInvalidArgument,
            [&] { return f.r->AddCompany(zero_limit); });
  CompanySpec good{.id = "D", .name = "Delta"};
  good.bin = "010440755849";
  CHECK(f.r->AddCompany(good).ok());
}

TEST_CASE("BIN check digit: both weight sets and the invalid case",
          "[registry]") {
  CHECK(IsValidBin("010440755849"));  // from the plan
  CHECK_FALSE(IsValidBin("010440755840"));
  CHECK(IsValidBin("291417776310"));  // first weights give the digit
  CHECK_FALSE(IsValidBin("291417776311"));
  CHECK(IsValidBin("377835337400"));  // first sum is 10: second weights
  CHECK_FALSE(IsValidBin("377835337401"));
  for (char d = '0'; d <= '9'; ++d) {  // both sums are 10: always invalid
    CHECK_FALSE(IsValidBin(std::string("35126360567") + d));
  }
  CHECK_FALSE(IsValidBin("01044075584"));
  CHECK_FALSE(IsValidBin("01044075584a"));
}

TEST_CASE("Issue, transfer, cancel and their refusals", "[registry]") {
  Fixture f;
  REQUIRE(
      f.r->IssueUnits("KZQ-2019", "A", Quantity(500), IssueReason::kAllocation)
          .ok());
  CHECK(f.Held("A", "KZQ-2019") == Quantity(500));
  f.Refused(StatusCode::kNotFound, [&] {
    return f.r->IssueUnits("KZQ-1999", "A", Quantity(1), IssueReason::kAuction);
  });
  f.Refused(StatusCode::kNotFound, [&] {
    return f.r->IssueUnits("KZQ-2019", "Z", Quantity(1), IssueReason::kAuction);
  });
  f.Refused(StatusCode::kInvalidArgument, [&] {
    return f.r->IssueUnits("KZQ-2019", "A", Quantity(0), IssueReason::kAuction);
  });
  f.Refused(StatusCode::kInvalidArgument, [&] {
    return f.r->IssueUnits("KZQ-2019", "A", Quantity(-5),
                           IssueReason::kAuction);
  });
  f.Refused(StatusCode::kInvalidArgument, [&] {
    return f.r->IssueUnits("KZQ-2019", "A", Quantity(5),
                           IssueReason::kOffsetProject);
  });

  REQUIRE(f.r->Transfer("KZQ-2019", "A", "B", Quantity(200)).ok());
  CHECK(f.Held("A", "KZQ-2019") == Quantity(300));
  CHECK(f.Held("B", "KZQ-2019") == Quantity(200));
  f.Refused(StatusCode::kFailedPrecondition,
            [&] { return f.r->Transfer("KZQ-2019", "A", "B", Quantity(301)); });
  f.Refused(StatusCode::kInvalidArgument,
            [&] { return f.r->Transfer("KZQ-2019", "A", "A", Quantity(1)); });
  f.Refused(StatusCode::kNotFound,
            [&] { return f.r->Transfer("KZQ-2019", "A", "Z", Quantity(1)); });
  f.Refused(StatusCode::kNotFound,
            [&] { return f.r->Transfer("NOPE", "A", "B", Quantity(1)); });
  // C may hold at most 1000 units of one instrument.
  REQUIRE(
      f.r->IssueUnits("KZQ-2020", "A", Quantity(2000), IssueReason::kAuction)
          .ok());
  REQUIRE(f.r->Transfer("KZQ-2020", "A", "C", Quantity(1000)).ok());
  f.Refused(StatusCode::kFailedPrecondition,
            [&] { return f.r->Transfer("KZQ-2020", "A", "C", Quantity(1)); });

  REQUIRE(f.r->CancelUnits("KZQ-2019", "B", Quantity(50)).ok());
  CHECK(f.Held("B", "KZQ-2019") == Quantity(150));
  f.Refused(StatusCode::kFailedPrecondition,
            [&] { return f.r->CancelUnits("KZQ-2019", "B", Quantity(151)); });
  auto audit = f.r->AuditVerify();
  REQUIRE(audit.ok());
  CHECK(audit->ok());
}

TEST_CASE("Cash deposit and withdrawal, refusals", "[registry]") {
  Fixture f;
  REQUIRE(f.r->DepositCash("A", Cash(150'050)).ok());
  CHECK(f.CashHeld("A") == Cash(150'050));
  REQUIRE(f.r->WithdrawCash("A", Cash(50)).ok());
  CHECK(f.CashHeld("A") == Cash(150'000));
  f.Refused(StatusCode::kFailedPrecondition,
            [&] { return f.r->WithdrawCash("A", Cash(150'001)); });
  f.Refused(StatusCode::kInvalidArgument,
            [&] { return f.r->DepositCash("A", Cash(0)); });
  f.Refused(StatusCode::kInvalidArgument,
            [&] { return f.r->WithdrawCash("A", Cash(-1)); });
  f.Refused(StatusCode::kNotFound,
            [&] { return f.r->DepositCash("nobody", Cash(1)); });
  auto audit = f.r->AuditVerify();
  REQUIRE(audit.ok());
  CHECK(audit->ok());
  CHECK(audit->deposited == Cash(150'050));
  CHECK(audit->withdrawn == Cash(50));
}

TEST_CASE("Brokers: password hash, entitlements, account state", "[registry]") {
  Fixture f;
  REQUIRE(f.r->AddBroker({"BRK1", "correct horse", true}).ok());
  CHECK(*f.r->VerifyBrokerPassword("BRK1", "correct horse"));
  CHECK_FALSE(*f.r->VerifyBrokerPassword("BRK1", "correct horsf"));
  CHECK_FALSE(*f.r->VerifyBrokerPassword("NOBODY", "correct horse"));
  f.Refused(StatusCode::kAlreadyExists, [&] {
    return f.r->AddBroker({"BRK1", "another pw", false});
  });
  f.Refused(StatusCode::kInvalidArgument, [&] {
    return f.r->AddBroker({"BRK2", "short", false});
  });
  REQUIRE(f.r->EntitleBroker("BRK1", "B").ok());
  f.Refused(StatusCode::kAlreadyExists,
            [&] { return f.r->EntitleBroker("BRK1", "B"); });
  f.Refused(StatusCode::kNotFound,
            [&] { return f.r->EntitleBroker("BRK9", "B"); });
  f.Refused(StatusCode::kNotFound,
            [&] { return f.r->EntitleBroker("BRK1", "Z"); });

  REQUIRE(f.r->IssueUnits("KZQ-2019", "B", Quantity(70), IssueReason::kAuction)
              .ok());
  REQUIRE(f.r->DepositCash("A", Cash(999)).ok());
  auto state = f.r->LoadAccountState();
  REQUIRE(state.ok());
  REQUIRE(state->instruments.size() == 3);
  CHECK(state->instruments[1].symbol == "KZQ-2020");
  CHECK(state->instruments[1].id == InstrumentId(2));
  REQUIRE(state->accounts.size() == 3);
  CHECK(state->accounts[0].name == "A");
  CHECK(state->accounts[0].cash == Cash(999));
  CHECK(state->accounts[2].holding_limit == Quantity(1000));
  REQUIRE(state->holdings.size() == 1);
  CHECK(state->holdings[0].account == AccountId(2));
  CHECK(state->holdings[0].instrument == InstrumentId(1));
  CHECK(state->holdings[0].units == Quantity(70));
  REQUIRE(state->brokers.size() == 1);
  CHECK(state->brokers[0].comp_id == "BRK1");
  CHECK(state->brokers[0].cancel_on_disconnect);
  REQUIRE(state->entitlements.size() == 1);
  CHECK(state->entitlements[0].broker == BrokerId(1));
  CHECK(state->entitlements[0].account == AccountId(2));
}

TEST_CASE("Verifiers: add, list, refusals", "[registry]") {
  Fixture f;
  REQUIRE(f.r->AddVerifier("V2", "Verifier Two").ok());
  auto list = f.r->Verifiers();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK(list->at(1).id == "V2");
  CHECK(list->at(1).name == "Verifier Two");
  f.Refused(StatusCode::kAlreadyExists,
            [&] { return f.r->AddVerifier("V1", "Again"); });
  f.Refused(StatusCode::kInvalidArgument,
            [&] { return f.r->AddVerifier("V 3", "Bad id"); });
  f.Refused(StatusCode::kInvalidArgument,
            [&] { return f.r->AddVerifier("V3", ""); });
}

TEST_CASE("Policy: defaults, change, refusals", "[registry]") {
  Fixture f;
  auto p = f.r->GetPolicy();
  REQUIRE(p.ok());
  CHECK(p->gwp_ch4 == 28);
  CHECK(p->gwp_n2o == 265);
  Policy changed = *p;
  changed.offset_share_bp = 500;
  REQUIRE(f.r->SetPolicy(changed).ok());
  CHECK(f.r->GetPolicy()->offset_share_bp == 500);
  Policy bad = changed;
  bad.offset_share_bp = 10'001;
  f.Refused(StatusCode::kInvalidArgument, [&] { return f.r->SetPolicy(bad); });
  bad = changed;
  bad.gwp_ch4 = 0;
  f.Refused(StatusCode::kInvalidArgument, [&] { return f.r->SetPolicy(bad); });
}

TEST_CASE("Data survives reopening", "[registry]") {
  TempDir dir;
  {
    auto r = OpenFresh(dir.Db(), /*durable=*/true);
    REQUIRE(r->AddCompany({.id = "A", .name = "Alpha"}).ok());
    REQUIRE(r->DepositCash("A", Cash(42)).ok());
  }
  auto r = OpenFresh(dir.Db());
  auto h = r->Holdings(std::string_view("A"));
  REQUIRE(h.ok());
  CHECK(h->front().cash_held == Cash(42));
  CHECK(r->AuditVerify()->entries == 2);
}

}  // namespace
}  // namespace carbonex::ledger
