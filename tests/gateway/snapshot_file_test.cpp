#define CATCH_CONFIG_MAIN
#include "snapshot_file.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

namespace carbonex::gateway {
namespace {

std::string TempPath() {
  std::random_device rd;
  return (std::filesystem::temp_directory_path() /
          ("carbonex-snapshot-" + std::to_string(rd())))
      .string();
}

SnapshotFile Sample() {
  SnapshotFile s;
  s.seq = 1234;
  s.last_time_ns = 1'700'000'000'000'000'000;
  s.last_close_ns = 1'690'000'000'000'000'000;
  s.state_hash = 0x0123456789abcdefULL;
  s.known.instruments = {1, 2};
  s.known.accounts = {7, 9};
  s.known.entitlements = {{3, 7}};
  s.known.positions = {{7, 1}, {9, 2}};
  s.engine = {1, 2, 3, 4, 5, 250};
  s.max_open_orders_per_account = 10;
  s.max_open_orders_per_broker = 70000;
  return s;
}

TEST_CASE("a snapshot file round-trips", "[snapshot_file]") {
  std::string path = TempPath();
  REQUIRE(WriteSnapshotFile(path, Sample()).ok());
  Result<std::optional<SnapshotFile>> read = ReadSnapshotFile(path);
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  const SnapshotFile& s = **read;
  CHECK(s.seq == 1234);
  CHECK(s.last_time_ns == Sample().last_time_ns);
  CHECK(s.last_close_ns == Sample().last_close_ns);
  CHECK(s.state_hash == Sample().state_hash);
  CHECK(s.known.instruments == Sample().known.instruments);
  CHECK(s.known.accounts == Sample().known.accounts);
  CHECK(s.known.entitlements == Sample().known.entitlements);
  CHECK(s.known.positions == Sample().known.positions);
  CHECK(s.engine == Sample().engine);
  CHECK(s.max_open_orders_per_account == 10);
  CHECK(s.max_open_orders_per_broker == 70000);
  std::filesystem::remove(path);
}

TEST_CASE("a missing snapshot is no snapshot", "[snapshot_file]") {
  Result<std::optional<SnapshotFile>> read = ReadSnapshotFile(TempPath());
  REQUIRE(read.ok());
  CHECK_FALSE(read->has_value());
}

TEST_CASE("every flipped byte is detected as corruption", "[snapshot_file]") {
  std::string path = TempPath();
  REQUIRE(WriteSnapshotFile(path, Sample()).ok());
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  in.close();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    Result<std::optional<SnapshotFile>> read = ReadSnapshotFile(path);
    INFO("byte " << i);
    REQUIRE_FALSE(read.ok());
    CHECK(read.status().code() == StatusCode::kCorruption);
  }
  // A truncated file too.
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << bytes.substr(0, bytes.size() / 2);
  CHECK(ReadSnapshotFile(path).status().code() == StatusCode::kCorruption);
  std::filesystem::remove(path);
}

TEST_CASE("a version 1 snapshot reads with no open-order limits",
          "[snapshot_file]") {
  // Version 1 is version 2 without the 8 bytes of limits before the
  // checksum (docs/server.md, "Snapshot file").
  std::string path = TempPath();
  REQUIRE(WriteSnapshotFile(path, Sample()).ok());
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  in.close();
  std::string v1 = bytes.substr(0, bytes.size() - 16);
  v1[4] = 1;
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char ch : v1) {
    hash ^= static_cast<unsigned char>(ch);
    hash *= 0x100000001b3ULL;
  }
  for (int i = 0; i < 8; ++i) {
    v1.push_back(static_cast<char>((hash >> (8 * i)) & 0xff));
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << v1;
  Result<std::optional<SnapshotFile>> read = ReadSnapshotFile(path);
  REQUIRE(read.ok());
  REQUIRE(read->has_value());
  CHECK((*read)->seq == 1234);
  CHECK((*read)->engine == Sample().engine);
  CHECK((*read)->max_open_orders_per_account == 0);
  CHECK((*read)->max_open_orders_per_broker == 0);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace carbonex::gateway
