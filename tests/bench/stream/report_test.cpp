#include "carbonex/stream/report.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace carbonex::stream {
namespace {

ReplayReport SampleReport() {
  ReplayReport report;
  report.events = 7;
  report.fills = 3;
  report.volume = 22;
  report.notional = 2229;
  report.fill_hash = 0xd2c833ef5ff1f5efULL;
  report.book_hash = 0x1ULL;
  report.resting_orders = 3;
  report.best_bid = Price(102);
  report.cancel_rejects = 1;
  report.seconds = 0.5;
  report.events_per_sec = 14;
  report.cpu_seconds = 0.25;
  report.latency_ns = {100, 200, 300, 400};
  return report;
}

TEST_CASE("ReportToJson prints exactly the documented keys", "[report]") {
  // cpu_seconds is deliberately not among them (text output only).
  const nlohmann::json json =
      nlohmann::json::parse(ReportToJson(SampleReport()));
  std::set<std::string> keys;
  for (const auto& item : json.items()) {
    keys.insert(item.key());
  }
  CHECK(keys == std::set<std::string>{"events", "fills", "volume", "notional",
                                      "fill_hash", "book_hash",
                                      "resting_orders", "best_bid", "best_ask",
                                      "cancel_rejects", "seconds",
                                      "events_per_sec", "latency_ns"});
  CHECK(json["events"] == 7);
  CHECK(json["notional"] == 2229);
  CHECK(json["fill_hash"] == "d2c833ef5ff1f5ef");
  CHECK(json["book_hash"] == "0000000000000001");
  CHECK(json["best_bid"] == 102);
  CHECK(json["best_ask"].is_null());
  CHECK(json["seconds"] == 0.5);
  CHECK(
      json["latency_ns"] ==
      nlohmann::json{{"p50", 100}, {"p99", 200}, {"p999", 300}, {"max", 400}});
}

TEST_CASE("ReportToText prints one line per result", "[report]") {
  const std::string text = ReportToText(SampleReport(), 20.0);
  CHECK_THAT(text, Catch::Contains("fills:          3\n"));
  CHECK_THAT(text, Catch::Contains("fill_hash:      d2c833ef5ff1f5ef\n"));
  CHECK_THAT(text, Catch::Contains("best_ask:       none\n"));
  CHECK_THAT(text, Catch::Contains("latency_ns:     p50 100 p99 200 p999 300 "
                                   "max 400\n"));
  CHECK_THAT(
      text,
      Catch::Contains("cpu_seconds:    0.250000 (28 events per CPU-second)\n"));
  CHECK_THAT(text, Catch::Contains("20.0 ns"));
}

}  // namespace
}  // namespace carbonex::stream
