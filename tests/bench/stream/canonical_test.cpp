// The canonical benchmark stream (docs/order-stream.md): generate it, check
// its sha256 against the published one, and replay it in book and engine
// mode against the expected results of data/streams/stream_1m_s42.meta.json.
#include <sodium.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "carbonex/stream/digest.h"
#include "carbonex/stream/generator.h"
#include "carbonex/stream/replay.h"
#include "carbonex/stream/stream.h"

namespace carbonex::stream {
namespace {

nlohmann::json ReadMeta() {
  std::ifstream in(CARBONEX_STREAM_META);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Sha256Hex(const std::string& bytes) {
  REQUIRE(sodium_init() >= 0);
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(),
                     reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  std::array<char, 2 * crypto_hash_sha256_BYTES + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return hex.data();
}

// A directory removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("carbonex-stream-" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& Path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void CheckExpected(const ReplayReport& report, const nlohmann::json& expected) {
  CHECK(report.fills == expected["fills"].get<std::uint64_t>());
  CHECK(report.volume == expected["volume"].get<std::int64_t>());
  CHECK(report.notional == expected["notional"].get<std::int64_t>());
  CHECK(HashToHex(report.fill_hash) ==
        expected["fill_hash_fnv1a64"].get<std::string>());
  CHECK(HashToHex(report.book_hash) ==
        expected["final_book_hash_fnv1a64"].get<std::string>());
  CHECK(report.resting_orders ==
        expected["final_resting_orders"].get<std::uint64_t>());
  REQUIRE(report.best_bid.has_value());
  REQUIRE(report.best_ask.has_value());
  CHECK(report.best_bid->value() ==
        expected["final_best_bid"].get<std::int64_t>());
  CHECK(report.best_ask->value() ==
        expected["final_best_ask"].get<std::int64_t>());
  CHECK(report.cancel_rejects ==
        expected["cancel_rejects"].get<std::uint64_t>());
}

TEST_CASE("The canonical 1M stream is reproduced and replays as expected",
          "[canonical]") {
  const nlohmann::json meta = ReadMeta();
  const nlohmann::json& params = meta["params"];
  GeneratorOptions options;
  options.events = params["events"].get<std::uint64_t>();
  options.seed = params["seed"].get<std::uint64_t>();
  options.mid = params["mid"].get<std::int64_t>();
  options.target = params["target"].get<std::int64_t>();
  options.passive_pct = params["passive_pct"].get<int>();
  options.aggressive_pct = params["aggressive_pct"].get<int>();

  TempDir dir;
  const std::filesystem::path file = dir.Path() / "stream.txt";
  GeneratorStats stats;
  {
    std::ofstream out(file, std::ios::binary);
    Result<GeneratorStats> result = GenerateStream(options, out);
    REQUIRE(result.ok());
    stats = *result;
  }
  const std::string text = ReadFile(file);
  CHECK(Sha256Hex(text) == meta["sha256"].get<std::string>());
  CHECK(stats.passive == meta["counts"]["passive"].get<std::uint64_t>());
  CHECK(stats.aggressive == meta["counts"]["aggressive"].get<std::uint64_t>());
  CHECK(stats.cancel == meta["counts"]["cancel"].get<std::uint64_t>());
  CHECK(stats.fallback_passive ==
        meta["counts"]["fallback_passive"].get<std::uint64_t>());
  CHECK(stats.orders_added == meta["orders_added"].get<std::uint64_t>());

  Result<Stream> stream = ReadStreamFile(file.string());
  REQUIRE(stream.ok());
  CHECK(stream->events.size() == options.events);

  SECTION("book mode") {
    ReplayOptions replay;
    replay.mode = ReplayMode::kBook;
    Result<ReplayReport> report = ReplayStream(*stream, replay);
    INFO((report.ok() ? std::string() : report.status().message()));
    REQUIRE(report.ok());
    CheckExpected(*report, meta["expected"]);
  }
  SECTION("engine mode") {
    // ReplayStream fails with Internal if the engine's CheckInvariants()
    // reports a violation after either pass.
    ReplayOptions replay;
    replay.mode = ReplayMode::kEngine;
    replay.measure_latency = false;  // one pass keeps the test short
    Result<ReplayReport> report = ReplayStream(*stream, replay);
    INFO((report.ok() ? std::string() : report.status().message()));
    REQUIRE(report.ok());
    CheckExpected(*report, meta["expected"]);
  }
}

}  // namespace
}  // namespace carbonex::stream
