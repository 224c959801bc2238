// Logon events in the audit log (Registry::RecordLogonEvents), reading the
// audit log back (Registry::AuditEntries, `carbonex-registry audit log`), and
// how broker passwords are stored: salted crypto_pwhash strings only, never
// the password itself, in the data file, the audit log or the CLI's output.
#include <nlohmann/json.hpp>
#include <set>

#include "run_util.h"
#include "test_util.h"

namespace carbonex::ledger {
namespace {

using testing::OpenFresh;
using testing::ReadText;
using testing::RunRegistry;
using testing::TempDir;

LogonEvent Event(std::string comp, LogonOutcome outcome, std::uint32_t count,
                 std::string reason = "") {
  LogonEvent e;
  e.comp_id = std::move(comp);
  e.address = "10.1.2.3";
  e.outcome = outcome;
  e.reason = std::move(reason);
  e.count = count;
  e.first = Timestamp(1'000);
  e.last = Timestamp(2'000);
  return e;
}

TEST_CASE("logon events are audit entries that keep the chain valid",
          "[security]") {
  TempDir tmp;
  auto r = OpenFresh(tmp.Db());
  REQUIRE(r->AddBroker({"BRK1", "password-1", false}).ok());
  REQUIRE(r->RecordLogonEvents(
               {Event("BRK1", LogonOutcome::kRefused, 3, "invalid password"),
                Event("BRK1", LogonOutcome::kThrottled, 7, "too many"),
                Event("BRK1", LogonOutcome::kAccepted, 1)},
               12)
              .ok());
  REQUIRE(r->RecordLogonEvents({}, 5).ok());  // only dropped ones

  auto all = r->AuditEntries({});
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].op == "broker add");
  CHECK((*all)[1].op == "logon");
  CHECK((*all)[1].seq == 2);
  CHECK((*all)[1].time.value() > 0);
  auto args = nlohmann::json::parse((*all)[1].args_json);
  CHECK(args.at("dropped") == 12);
  REQUIRE(args.at("events").size() == 3);
  const auto& refused = args.at("events")[0];
  CHECK(refused.at("comp_id") == "BRK1");
  CHECK(refused.at("address") == "10.1.2.3");
  CHECK(refused.at("outcome") == "refused");
  CHECK(refused.at("reason") == "invalid password");
  CHECK(refused.at("count") == 3);
  CHECK(refused.at("first_ns") == 1'000);
  CHECK(refused.at("last_ns") == 2'000);
  CHECK(args.at("events")[1].at("outcome") == "throttled");
  CHECK(args.at("events")[2].at("outcome") == "accepted");
  CHECK_FALSE(args.at("events")[2].contains("reason"));

  auto report = r->AuditVerify();
  REQUIRE(report.ok());
  CHECK(report->ok());
  CHECK(report->entries == 3);

  // Filter and limit: the newest matching entries, oldest first.
  AuditFilter filter;
  filter.op = "logon";
  filter.limit = 1;
  auto newest = r->AuditEntries(filter);
  REQUIRE(newest.ok());
  REQUIRE(newest->size() == 1);
  CHECK((*newest)[0].seq == 3);
  filter.op = "no such op";
  auto none = r->AuditEntries(filter);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("bad logon records are refused and change nothing", "[security]") {
  TempDir tmp;
  auto r = OpenFresh(tmp.Db());
  const std::string before = testing::Snapshot(*r);
  CHECK(r->RecordLogonEvents({}, 0).code() == StatusCode::kInvalidArgument);
  CHECK(
      r->RecordLogonEvents({Event("X", LogonOutcome::kRefused, 0)}, 0).code() ==
      StatusCode::kInvalidArgument);
  CHECK(r->RecordLogonEvents({Event("X", static_cast<LogonOutcome>(9), 1)}, 0)
            .code() == StatusCode::kInvalidArgument);
  std::vector<LogonEvent> many(4097, Event("X", LogonOutcome::kRefused, 1));
  CHECK(r->RecordLogonEvents(many, 0).code() == StatusCode::kInvalidArgument);
  CHECK(testing::Snapshot(*r) == before);
}

TEST_CASE("hostile names are bounded and stored as valid JSON", "[security]") {
  TempDir tmp;
  auto r = OpenFresh(tmp.Db());
  LogonEvent e = Event(std::string(500, 'C'), LogonOutcome::kRefused, 1,
                       "\"\\\x01\xff" + std::string(1000, 'r'));
  REQUIRE(r->RecordLogonEvents({e}, 0).ok());
  auto entries = r->AuditEntries({});
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 1);
  auto args = nlohmann::json::parse((*entries)[0].args_json);
  const auto& stored = args.at("events")[0];
  CHECK(stored.at("comp_id").get<std::string>().size() == 64);
  // 200 bytes kept; the invalid byte among them became U+FFFD (3 bytes).
  CHECK(stored.at("reason").get<std::string>().size() <= 202);
  auto report = r->AuditVerify();
  REQUIRE(report.ok());
  CHECK(report->ok());
}

TEST_CASE("broker passwords are stored only as salted slow hashes",
          "[security]") {
  TempDir tmp;
  const std::string password = "Unique-Passw0rd-4417";
  {
    auto r = OpenFresh(tmp.Db(), true);
    REQUIRE(r->AddBroker({"BRK1", password, false}).ok());
    REQUIRE(r->AddBroker({"BRK2", password, false}).ok());
    auto ok = r->VerifyBrokerPassword("BRK1", password);
    REQUIRE(ok.ok());
    CHECK(*ok);
    auto wrong = r->VerifyBrokerPassword("BRK1", password + "x");
    REQUIRE(wrong.ok());
    CHECK_FALSE(*wrong);
    auto unknown = r->VerifyBrokerPassword("NOBODY", password);
    REQUIRE(unknown.ok());
    CHECK_FALSE(*unknown);
    // The audit log records the broker, not its password or hash.
    auto entries = r->AuditEntries({});
    REQUIRE(entries.ok());
    for (const auto& e : *entries) {
      CHECK(e.args_json.find(password) == std::string::npos);
      CHECK(e.args_json.find("$argon2") == std::string::npos);
    }
  }
  const std::string data = ReadText(tmp.Db() + "/data.mdb");
  CHECK(data.find(password) == std::string::npos);
  // Two argon2id strings (libsodium's crypto_pwhash_str), each with its own
  // salt: the same password hashes differently. (LMDB's copy-on-write pages
  // may hold a record twice.)
  std::set<std::string> hashes;
  for (std::size_t at = data.find("$argon2id$"); at != std::string::npos;
       at = data.find("$argon2id$", at + 1)) {
    hashes.insert(data.substr(at, data.find('\0', at) - at));
  }
  CHECK(hashes.size() == 2);
}

TEST_CASE("the CLI never prints a password and lists logon events",
          "[security]") {
  TempDir tmp;
  const std::string db = " --db " + tmp.Db();
  const std::string password = "Cli-Secret-99871";
  std::ofstream(tmp.Path() + "/pw") << password << "\n";
  std::ofstream(tmp.Path() + "/short") << "abc\n";
  REQUIRE(RunRegistry(tmp, "init" + db).code == 0);
  auto added = RunRegistry(tmp, "broker add BRK1 --password-file " +
                                    tmp.Path() + "/pw" + db + " --json");
  CHECK(added.code == 0);
  CHECK(added.out.find(password) == std::string::npos);
  CHECK(added.err.find(password) == std::string::npos);
  auto refused = RunRegistry(
      tmp, "broker add BRK2 --password-file " + tmp.Path() + "/short" + db);
  CHECK(refused.code != 0);
  CHECK(refused.err.find("8..256") != std::string::npos);
  CHECK(refused.err.find("abc") == std::string::npos);
  {
    RegistryOptions options;
    options.path = tmp.Db();
    auto r = Registry::Open(options);
    REQUIRE(r.ok());
    REQUIRE((*r)->RecordLogonEvents({Event("BRK1", LogonOutcome::kRefused, 2,
                                           "invalid password")},
                                    0)
                .ok());
  }
  auto log = RunRegistry(tmp, "audit log --op logon --json" + db);
  REQUIRE(log.code == 0);
  auto doc = nlohmann::json::parse(log.out);
  REQUIRE(doc.at("entries").size() == 1);
  CHECK(doc["entries"][0].at("op") == "logon");
  CHECK(doc["entries"][0]["args"]["events"][0].at("count") == 2);
  auto text = RunRegistry(tmp, "audit log" + db);
  REQUIRE(text.code == 0);
  CHECK(text.out.find("broker add") != std::string::npos);
  CHECK(text.out.find("invalid password") != std::string::npos);
  CHECK(text.out.find(password) == std::string::npos);
  CHECK(RunRegistry(tmp, "audit log --limit 0" + db).code != 0);
}

}  // namespace
}  // namespace carbonex::ledger
