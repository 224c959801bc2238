// The control protocol: request parsing and execution against a registry,
// and the client side (carbonex-registry) against an in-test responder that
// plays the server: it holds the lock and answers on the socket.
#include "carbonex/ledger/control.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "run_util.h"
#include "test_util.h"

namespace carbonex::ledger {
namespace {

using nlohmann::json;
using testing::OpenFresh;
using testing::RunRegistry;
using testing::Snapshot;
using testing::TempDir;

json Exec(Registry& r, const json& request) {
  return json::parse(ExecuteControlRequest(r, request.dump()));
}

TEST_CASE("Requests parse strictly", "[control]") {
  auto ok = ParseControlRequest(R"({"verb":"cash deposit","args":{"a":1}})");
  REQUIRE(ok.ok());
  CHECK(ok->verb == "cash deposit");
  CHECK(ok->args_json == R"({"a":1})");
  CHECK_FALSE(ParseControlRequest("not json").ok());
  CHECK_FALSE(ParseControlRequest(R"(["verb"])").ok());
  CHECK_FALSE(ParseControlRequest(R"({"args":{}})").ok());
  CHECK_FALSE(ParseControlRequest(R"({"verb":"x","args":[1]})").ok());
  CHECK(IsWriteVerb("cash deposit"));
  CHECK(IsWriteVerb("close-day"));
  CHECK(IsWriteVerb("nap import"));
  CHECK_FALSE(IsWriteVerb("holdings"));
}

TEST_CASE("Requests execute against the registry", "[control]") {
  TempDir dir;
  auto r = OpenFresh(dir.Db());
  CHECK(Exec(*r, {{"verb", "company add"},
                  {"args", {{"id", "A"}, {"name", "Alpha"}}}})["ok"] == true);
  json dep = Exec(*r, {{"verb", "cash deposit"},
                       {"args", {{"account", "A"}, {"amount", "12.34"}}}});
  REQUIRE(dep["ok"] == true);
  CHECK(dep["result"]["accounts"][0]["cash"]["held_tiyn"] == 1234);
  json tiyn = Exec(*r, {{"verb", "cash deposit"},
                        {"args", {{"account", "A"}, {"amount_tiyn", 6}}}});
  CHECK(tiyn["result"]["accounts"][0]["cash"]["held_tiyn"] == 1240);

  const std::string before = Snapshot(*r);
  for (const json& bad : {
           json{{"verb", "cash withdraw"},
                {"args", {{"account", "A"}, {"amount", "99.00"}}}},
           json{{"verb", "cash deposit"},
                {"args", {{"account", "A"}, {"amount", "1.234"}}}},
           json{{"verb", "cash deposit"}, {"args", {{"account", "A"}}}},
           json{{"verb", "issue"},
                {"args", {{"symbol", "X"}, {"account", "A"}, {"qty", "5"}}}},
           json{{"verb", "close-day"}, {"args", json::object()}},
           json{{"verb", "drop everything"}, {"args", json::object()}},
       }) {
    json resp = Exec(*r, bad);
    INFO(bad.dump());
    CHECK(resp["ok"] == false);
    CHECK(resp["error"].is_string());
    CHECK_FALSE(resp["error"].get<std::string>().empty());
  }
  CHECK(json::parse(ExecuteControlRequest(*r, "{broken"))["ok"] == false);
  CHECK(Snapshot(*r) == before);
}

TEST_CASE("Without a server, close-day is a clear error", "[control]") {
  TempDir dir;
  { auto r = OpenFresh(dir.Db()); }
  auto run = RunRegistry(dir, "--db " + dir.Db() + " close-day");
  CHECK(run.code != 0);
  CHECK(run.err == "carbonex-registry: close-day: no server is running on '" +
                       dir.Db() + "'\n");
  CHECK(SendControlRequest(dir.Db(), "{}").status().code() ==
        StatusCode::kNotFound);
}

// Accepts one connection, reads one line, answers `reply`.
std::string ServeOnce(int listen_fd, const std::string& reply) {
  int fd = ::accept(listen_fd, nullptr, nullptr);
  if (fd < 0) {
    return "accept failed";
  }
  std::string line;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n') {
    line.push_back(c);
  }
  const std::string out = reply + "\n";
  (void)!::write(fd, out.data(), out.size());
  ::close(fd);
  return line;
}

TEST_CASE("With a server holding the lock, writes go over the socket",
          "[control]") {
  TempDir dir;
  { auto r = OpenFresh(dir.Db()); }
  auto lock = ServerLock::TryAcquire(dir.Db());
  REQUIRE(lock.ok());
  CHECK(ServerLock::TryAcquire(dir.Db()).status().code() == StatusCode::kBusy);
  auto listen_fd = ListenControlSocket(dir.Db());
  REQUIRE(listen_fd.ok());
  struct stat st {};
  REQUIRE(::stat(ControlSocketPath(dir.Db()).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  SECTION("a successful write prints the server's result") {
    std::string received;
    std::thread server([&] {
      received =
          ServeOnce(*listen_fd, R"({"ok":true,"result":{"verb":"cash deposit",)"
                                R"("accounts":[]}})");
    });
    auto run = RunRegistry(
        dir, "cash deposit KZ-OP-0001 1500.50 --db " + dir.Db() + " --json");
    server.join();
    json req = json::parse(received);
    CHECK(req["verb"] == "cash deposit");
    CHECK(req["args"]["account"] == "KZ-OP-0001");
    CHECK(req["args"]["amount"] == "1500.50");
    CHECK(run.code == 0);
    CHECK(json::parse(run.out)["verb"] == "cash deposit");
  }
  SECTION("the server's refusal is the program's one-line error") {
    std::thread server([&] {
      ServeOnce(*listen_fd,
                R"({"ok":false,"error":"cash withdraw: insufficient"})");
    });
    auto run = RunRegistry(dir, "--db " + dir.Db() + " cash withdraw A 1.00");
    server.join();
    CHECK(run.code == 1);
    CHECK(run.err == "carbonex-registry: cash withdraw: insufficient\n");
  }
  SECTION("close-day goes to the server") {
    std::string received;
    std::thread server([&] {
      received =
          ServeOnce(*listen_fd, R"({"ok":true,"result":{"verb":"close-day"}})");
    });
    auto run = RunRegistry(dir, "--db " + dir.Db() + " close-day");
    server.join();
    CHECK(json::parse(received)["verb"] == "close-day");
    CHECK(run.code == 0);
    CHECK_THAT(run.out, Catch::Contains("ok: close-day"));
  }
  SECTION("reads never go to the server") {
    auto run = RunRegistry(dir, "--db " + dir.Db() + " holdings --json");
    CHECK(run.code == 0);
    CHECK(json::parse(run.out)["accounts"].empty());
  }
  ::close(*listen_fd);
}

}  // namespace
}  // namespace carbonex::ledger
