#define CATCH_CONFIG_MAIN
#include "fix_store.h"

#include <quickfix/FileStore.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#pragma clang diagnostic ignored "-Wdynamic-exception-spec"

namespace carbonex::gateway {
namespace {

namespace fs = std::filesystem;

// A fresh directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "carbonex-fixstore-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    REQUIRE(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const FIX::SessionID kSession("FIX.4.4", "CARBONEX", "BROKER1");

std::unique_ptr<MappedStore> OpenStore(const std::string& dir) {
  Result<std::unique_ptr<MappedStore>> store = MappedStore::Open(dir, kSession);
  REQUIRE(store.ok());
  return std::move(*store);
}

std::string MessageText(int seq, std::size_t padding = 0) {
  return "8=FIX.4.4\x01"
         "34=" +
         std::to_string(seq) +
         "\x01"
         "58=" +
         std::string(padding, 'x') + "\x01";
}

TEST_CASE("a new store starts at sequence numbers 1 and holds nothing") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  CHECK(store->getNextSenderMsgSeqNum() == 1);
  CHECK(store->getNextTargetMsgSeqNum() == 1);
  std::vector<std::string> out{"stale"};
  store->get(1, 100, out);
  CHECK(out.empty());
  CHECK(store->MessageCount() == 0);
  CHECK(fs::exists(MappedStore::PathFor(dir.path(), kSession)));
  CHECK((fs::status(MappedStore::PathFor(dir.path(), kSession)).permissions() &
         (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
}

TEST_CASE("messages and sequence numbers survive reopening") {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    for (int seq = 1; seq <= 50; ++seq) {
      REQUIRE(store->set(seq, MessageText(seq)));
      store->incrNextSenderMsgSeqNum();
    }
    store->incrNextTargetMsgSeqNum();
    store->incrNextTargetMsgSeqNum();
    store->setNextTargetMsgSeqNum(store->getNextTargetMsgSeqNum() + 10);
  }
  auto store = OpenStore(dir.path());
  CHECK(store->getNextSenderMsgSeqNum() == 51);
  CHECK(store->getNextTargetMsgSeqNum() == 13);
  std::vector<std::string> out;
  store->get(10, 12, out);
  REQUIRE(out.size() == 3);
  CHECK(out[0] == MessageText(10));
  CHECK(out[2] == MessageText(12));
  store->get(45, 1000, out);
  REQUIRE(out.size() == 6);
  CHECK(out.back() == MessageText(50));
  store->get(0, 0, out);
  CHECK(out.empty());
  store->get(60, 70, out);
  CHECK(out.empty());
}

TEST_CASE("a message stored again under its number replaces the old one") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  store->set(1, MessageText(1));
  store->set(2, "first");
  store->set(2, "second");
  std::vector<std::string> out;
  store->get(1, 2, out);
  REQUIRE(out.size() == 2);
  CHECK(out[1] == "second");
  store.reset();
  store = OpenStore(dir.path());
  store->get(2, 2, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "second");
}

TEST_CASE("the store grows past its first mapping") {
  TempDir dir;
  std::uint64_t seed = 7;
  if (const char* env = std::getenv("CARBONEX_SEED")) seed = std::stoull(env);
  INFO("seed " << seed);
  std::mt19937_64 random(seed);
  std::vector<std::string> written;
  {
    auto store = OpenStore(dir.path());
    // About 6 MiB: several growth steps, one message larger than 1 MiB.
    for (int seq = 1; seq <= 3000; ++seq) {
      std::size_t padding =
          seq == 1500 ? (std::size_t{3} << 19) : random() % 3000;
      written.push_back(MessageText(seq, padding));
      REQUIRE(store->set(seq, written.back()));
    }
    store->setNextSenderMsgSeqNum(3001);
  }
  CHECK(fs::file_size(MappedStore::PathFor(dir.path(), kSession)) >
        (std::size_t{6} << 20));
  auto store = OpenStore(dir.path());
  CHECK(store->getNextSenderMsgSeqNum() == 3001);
  std::vector<std::string> out;
  store->get(1, 3000, out);
  CHECK(out == written);
}

TEST_CASE("reset forgets messages and restarts the sequence numbers") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  for (int seq = 1; seq <= 2000; ++seq) {
    store->set(seq, MessageText(seq, 1000));
    store->incrNextSenderMsgSeqNum();
  }
  store->setNextTargetMsgSeqNum(77);
  store->reset();
  CHECK(store->getNextSenderMsgSeqNum() == 1);
  CHECK(store->getNextTargetMsgSeqNum() == 1);
  CHECK(store->MessageCount() == 0);
  store->set(1, MessageText(1));
  store.reset();
  store = OpenStore(dir.path());
  CHECK(store->MessageCount() == 1);
  std::vector<std::string> out;
  store->get(1, 2000, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == MessageText(1));
}

TEST_CASE("the creation time is kept to the microsecond") {
  TempDir dir;
  FIX::UtcTimeStamp created(0, 0, 0);
  {
    auto store = OpenStore(dir.path());
    created = store->getCreationTime();
  }
  auto store = OpenStore(dir.path());
  FIX::UtcTimeStamp reopened = store->getCreationTime();
  CHECK(reopened.getTimeT() == created.getTimeT());
  CHECK(reopened.getFraction(6) == created.getFraction(6));
  CHECK(reopened.getTimeT() > 1'600'000'000);
}

TEST_CASE("sequence numbers far ahead are stored and found") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  store->set(1, "one");
  store->set(5'000'000, "far");
  store->set(5'000'001, "farther");
  store.reset();
  store = OpenStore(dir.path());
  std::vector<std::string> out;
  store->get(1, 5'000'000, out);
  REQUIRE(out.size() == 2);
  CHECK(out[1] == "far");
  store->get(4'999'999, 2'000'000'000, out);
  CHECK(out == std::vector<std::string>{"far", "farther"});
}

TEST_CASE("a record whose end offset was never published is not there") {
  TempDir dir;
  const std::string path = MappedStore::PathFor(dir.path(), kSession);
  {
    auto store = OpenStore(dir.path());
    store->set(1, MessageText(1));
  }
  {
    // What a process killed in the middle of set() leaves: bytes of a
    // record after the published end.
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096 + 8 + static_cast<std::streamoff>(MessageText(1).size()));
    // Built with its length: the header's zero bytes would end a C string.
    const char bytes[] =
        "\x10\x00\x00\x00\x02\x00\x00\x00"
        "8=FIX";
    const std::string partial(bytes, sizeof bytes - 1);
    file.write(partial.data(), static_cast<std::streamsize>(partial.size()));
  }
  auto store = OpenStore(dir.path());
  CHECK(store->MessageCount() == 1);
  store->set(2, MessageText(2));
  std::vector<std::string> out;
  store->get(1, 2, out);
  CHECK(out == std::vector<std::string>{MessageText(1), MessageText(2)});
}

TEST_CASE("a file that is not a store is refused and left alone") {
  TempDir dir;
  const std::string path = MappedStore::PathFor(dir.path(), kSession);
  {
    std::ofstream file(path, std::ios::binary);
    file << std::string(8192, 'z');
  }
  Result<std::unique_ptr<MappedStore>> store =
      MappedStore::Open(dir.path(), kSession);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == StatusCode::kCorruption);
  CHECK(fs::file_size(path) == 8192);

  std::ofstream(path, std::ios::binary | std::ios::trunc) << "short";
  store = MappedStore::Open(dir.path(), kSession);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == StatusCode::kCorruption);
}

TEST_CASE("a store whose end offset points past the file is refused") {
  TempDir dir;
  const std::string path = MappedStore::PathFor(dir.path(), kSession);
  { auto store = OpenStore(dir.path()); }
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(32);
    std::uint64_t end = std::uint64_t{1} << 40;
    file.write(reinterpret_cast<const char*>(&end), sizeof(end));
  }
  Result<std::unique_ptr<MappedStore>> store =
      MappedStore::Open(dir.path(), kSession);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == StatusCode::kCorruption);
}

TEST_CASE("a QuickFIX file store of the session is carried over") {
  TempDir dir;
  std::vector<std::string> sent;
  FIX::UtcTimeStamp created(0, 0, 0);
  {
    FIX::FileStore old(dir.path(), kSession);
    for (int seq = 1; seq <= 20; ++seq) {
      FIX::Message message;
      message.getHeader().setField(FIX::BeginString("FIX.4.4"));
      message.getHeader().setField(FIX::MsgType("8"));
      message.getHeader().setField(FIX::MsgSeqNum(seq));
      message.setField(FIX::Text("report " + std::to_string(seq)));
      sent.push_back(message.toString());
      old.set(seq, sent.back());
      old.incrNextSenderMsgSeqNum();
    }
    old.setNextTargetMsgSeqNum(9);
    created = old.getCreationTime();
  }
  auto store = OpenStore(dir.path());
  CHECK(store->getNextSenderMsgSeqNum() == 21);
  CHECK(store->getNextTargetMsgSeqNum() == 9);
  CHECK(store->getCreationTime().getTimeT() == created.getTimeT());
  std::vector<std::string> out;
  store->get(1, 20, out);
  CHECK(out == sent);
  // Later opens use the store, not the old files.
  store->incrNextSenderMsgSeqNum();
  store.reset();
  store = OpenStore(dir.path());
  CHECK(store->getNextSenderMsgSeqNum() == 22);
}

TEST_CASE("the factory makes the directory and refuses a bad store") {
  TempDir dir;
  const std::string sub = dir.path() + "/fix-store";
  MappedStoreFactory factory(sub);
  FIX::MessageStore* store = factory.create(kSession);
  REQUIRE(store != nullptr);
  store->incrNextTargetMsgSeqNum();
  factory.destroy(store);
  CHECK(fs::is_directory(sub));
  std::ofstream(MappedStore::PathFor(sub, kSession), std::ios::trunc)
      << std::string(5000, 'q');
  CHECK_THROWS_AS(factory.create(kSession), FIX::ConfigError);
}

}  // namespace
}  // namespace carbonex::gateway
