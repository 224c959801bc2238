#include "carbonex/loadgen/latency.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

namespace carbonex::loadgen {

TEST_CASE("nearest-rank percentiles", "[loadgen][latency]") {
  std::vector<std::int64_t> samples(1000);
  std::iota(samples.begin(), samples.end(), 1);  // 1..1000
  CHECK(Percentile(samples, 0) == 1);
  CHECK(Percentile(samples, 50) == 500);
  CHECK(Percentile(samples, 90) == 900);
  CHECK(Percentile(samples, 99) == 990);
  CHECK(Percentile(samples, 99.9) == 999);
  CHECK(Percentile(samples, 100) == 1000);

  const std::vector<std::int64_t> three = {10, 20, 30};
  CHECK(Percentile(three, 33) == 10);
  CHECK(Percentile(three, 34) == 20);
  CHECK(Percentile(three, 67) == 30);
  const std::vector<std::int64_t> one = {7};
  CHECK(Percentile(one, 0) == 7);
  CHECK(Percentile(one, 99.9) == 7);
}

TEST_CASE("Summarize sorts and summarises", "[loadgen][latency]") {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread starts.
  const char* seed_env = std::getenv("CARBONEX_SEED");
  const std::uint64_t seed =
      seed_env != nullptr ? std::strtoull(seed_env, nullptr, 10) : 12345;
  INFO("CARBONEX_SEED=" << seed);
  std::mt19937_64 random(seed);
  std::vector<std::int64_t> samples(10000);
  for (auto& s : samples) {
    s = static_cast<std::int64_t>(random() % 1000000);
  }
  const LatencySummary summary = Summarize(samples);
  std::vector<std::int64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  CHECK(summary.count == 10000);
  CHECK(summary.min == sorted.front());
  CHECK(summary.max == sorted.back());
  CHECK(summary.p50 == sorted[4999]);
  CHECK(summary.p90 == sorted[8999]);
  CHECK(summary.p99 == sorted[9899]);
  CHECK(summary.p999 == sorted[9989]);
  const double mean = static_cast<double>(std::accumulate(
                          sorted.begin(), sorted.end(), std::int64_t{0})) /
                      10000.0;
  CHECK(summary.mean == Approx(mean));
  CHECK(summary.min <= summary.p50);
  CHECK(summary.p50 <= summary.p90);
  CHECK(summary.p999 <= summary.max);

  const LatencySummary empty = Summarize({});
  CHECK(empty.count == 0);
  CHECK(empty.max == 0);
}

TEST_CASE("percentile CSV", "[loadgen][latency]") {
  std::vector<std::int64_t> samples(10000);
  std::iota(samples.begin(), samples.end(), 1);  // 1 ns .. 10 us
  const std::string csv = PercentileCsv(samples);
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  CHECK(line == "percentile,latency_us");
  std::vector<std::string> rows;
  while (std::getline(lines, line)) {
    rows.push_back(line);
  }
  // 0..90 by 1, 90.1..99.9 by 0.1, 99.91..100 by 0.01.
  CHECK(rows.size() == 91 + 99 + 10);
  CHECK(rows.front() == "0.00,0.001");
  CHECK(std::find(rows.begin(), rows.end(), "50.00,5.000") != rows.end());
  CHECK(std::find(rows.begin(), rows.end(), "99.90,9.990") != rows.end());
  CHECK(rows.back() == "100.00,10.000");
  CHECK(PercentileCsv({}) == "percentile,latency_us\n");
}

TEST_CASE("WriteFile reports an unwritable path", "[loadgen][latency]") {
  CHECK(WriteFile("/nonexistent-dir/x.csv", "a").code() ==
        StatusCode::kIoError);
  const auto path =
      std::filesystem::temp_directory_path() / "carbonex-latency-test.csv";
  REQUIRE(WriteFile(path.string(), "abc\n").ok());
  std::ifstream file(path);
  std::string content;
  std::getline(file, content);
  CHECK(content == "abc");
  std::filesystem::remove(path);
}

TEST_CASE("PlotPercentiles writes a PNG", "[loadgen][latency]") {
  // NOLINTNEXTLINE(concurrency-mt-unsafe,cert-env33-c): a fixed command.
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    WARN("gnuplot is not installed; plot not tested");
    return;
  }
  const auto dir = std::filesystem::temp_directory_path();
  const std::string csv = (dir / "carbonex-plot-test.csv").string();
  const std::string png = (dir / "carbonex-plot-test.png").string();
  std::vector<std::int64_t> samples = {1000, 2000, 3000, 50000};
  REQUIRE(WriteFile(csv, PercentileCsv(samples)).ok());
  Status plotted = PlotPercentiles(csv, png, "test's plot");
  INFO(plotted.message());
  REQUIRE(plotted.ok());
  std::ifstream file(png, std::ios::binary);
  char magic[4] = {};
  file.read(magic, 4);
  CHECK(std::string(magic + 1, 3) == "PNG");
  CHECK_FALSE(std::filesystem::exists(png + ".gp"));
  std::filesystem::remove(csv);
  std::filesystem::remove(png);
}

}  // namespace carbonex::loadgen
