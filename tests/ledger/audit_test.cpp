// AuditVerify: a clean registry verifies; tampering with any record that the
// chain or the conservation check covers is reported.
#include <lmdb.h>

#include <catch2/catch.hpp>
#include <functional>

#include "carbonex/ledger/registry.h"
#include "test_util.h"

namespace carbonex::ledger {
namespace {

using testing::OpenFresh;
using testing::TempDir;

void Populate(Registry& r) {
  REQUIRE(r.AddInstrument({"KZQ-2019", InstrumentKind::kAllowance, 2019,
                           Price(1), Quantity(1000)})
              .ok());
  REQUIRE(r.AddCompany({.id = "A", .name = "Alpha"}).ok());
  REQUIRE(r.AddCompany({.id = "B", .name = "Beta"}).ok());
  REQUIRE(
      r.IssueUnits("KZQ-2019", "A", Quantity(100), IssueReason::kAuction).ok());
  REQUIRE(r.DepositCash("B", Cash(10'000)).ok());
  ServerBatch batch;
  batch.trades = {TradeRecord{TradeId(1), InstrumentId(1), Price(50),
                              Quantity(10), AccountId(2), AccountId(1),
                              OrderId(1), OrderId(2), Timestamp(1)}};
  batch.journal_position = 1;
  REQUIRE(r.ApplyServerBatch(batch).ok());
}

// Opens the environment with LMDB directly and edits one database.
void Tamper(const std::string& dir, const char* db,
            const std::function<void(MDB_txn*, MDB_dbi)>& edit) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 32) == 0);
  REQUIRE(mdb_env_open(env, dir.c_str(), 0, 0600) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi = 0;
  REQUIRE(mdb_dbi_open(txn, db, 0, &dbi) == 0);
  edit(txn, dbi);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

// Flips one byte of the first value whose key matches, at offset `at` from
// the end of the value.
void FlipByte(const std::string& dir, const char* db, std::size_t from_end) {
  Tamper(dir, db, [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_cursor* c = nullptr;
    REQUIRE(mdb_cursor_open(txn, dbi, &c) == 0);
    MDB_val k{};
    MDB_val v{};
    REQUIRE(mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0);
    std::string value(static_cast<const char*>(v.mv_data), v.mv_size);
    value[value.size() - 1 - from_end] ^= 0x01;
    std::string key(static_cast<const char*>(k.mv_data), k.mv_size);
    mdb_cursor_close(c);
    MDB_val k2{key.size(), key.data()};
    MDB_val v2{value.size(), value.data()};
    REQUIRE(mdb_put(txn, dbi, &k2, &v2, 0) == 0);
  });
}

std::vector<std::string> ProblemsAfter(
    const std::function<void(const std::string&)>& tamper) {
  TempDir dir;
  {
    auto r = OpenFresh(dir.Db());
    Populate(*r);
    auto clean = r->AuditVerify();
    REQUIRE(clean.ok());
    REQUIRE(clean->ok());
  }
  tamper(dir.Db());
  auto r = OpenFresh(dir.Db());
  auto report = r->AuditVerify();
  REQUIRE(report.ok());
  return report->problems;
}

TEST_CASE("A clean registry verifies with the expected totals", "[audit]") {
  TempDir dir;
  auto r = OpenFresh(dir.Db());
  Populate(*r);
  auto report = r->AuditVerify();
  REQUIRE(report.ok());
  CHECK(report->ok());
  CHECK(report->entries == 6);
  CHECK(report->head_hash_hex.size() == 64);
  REQUIRE(report->instruments.size() == 1);
  CHECK(report->instruments[0].issued == Quantity(100));
  CHECK(report->instruments[0].held == Quantity(100));
  CHECK(report->deposited == Cash(10'000));
  CHECK(report->cash_held == Cash(10'000));
}

TEST_CASE("Tampering is detected", "[audit]") {
  SECTION("a holding changed behind the registry's back") {
    // Value: type, version, held (8, LE), reserved (8): this flips the
    // most significant byte of held.
    auto problems = ProblemsAfter(
        [](const std::string& dir) { FlipByte(dir, "holdings", 8); });
    REQUIRE_FALSE(problems.empty());
    CHECK_THAT(problems.front(), Catch::Contains("KZQ-2019: issued 100"));
  }
  SECTION("an audit entry's payload edited") {
    auto problems = ProblemsAfter(
        [](const std::string& dir) { FlipByte(dir, "audit", 70); });
    REQUIRE_FALSE(problems.empty());
    CHECK_THAT(problems.front(), Catch::Contains("hash mismatch"));
  }
  SECTION("an audit entry removed") {
    auto problems = ProblemsAfter([](const std::string& dir) {
      Tamper(dir, "audit", [](MDB_txn* txn, MDB_dbi dbi) {
        std::string key(8, '\0');
        key[7] = 2;
        MDB_val k{key.size(), key.data()};
        REQUIRE(mdb_del(txn, dbi, &k, nullptr) == 0);
      });
    });
    REQUIRE_FALSE(problems.empty());
    CHECK_THAT(problems.front(), Catch::Contains("out of sequence"));
  }
  SECTION("a settled trade's record edited") {
    auto problems = ProblemsAfter(
        [](const std::string& dir) { FlipByte(dir, "trades", 0); });
    REQUIRE_FALSE(problems.empty());
    CHECK_THAT(problems.front(), Catch::Contains("do not match their digest"));
  }
  SECTION("cash created from nothing") {
    auto problems = ProblemsAfter(
        [](const std::string& dir) { FlipByte(dir, "cash", 15); });
    REQUIRE_FALSE(problems.empty());
    CHECK_THAT(problems.back(), Catch::Contains("cash: deposited"));
  }
}

}  // namespace
}  // namespace carbonex::ledger
