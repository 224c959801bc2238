#include "carbonex/stream/report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "carbonex/stream/digest.h"

namespace carbonex::stream {
namespace {

nlohmann::json PriceOrNull(const std::optional<Price>& price) {
  if (!price.has_value()) {
    return nullptr;
  }
  return price->value();
}

std::string PriceOrNone(const std::optional<Price>& price) {
  return price.has_value() ? std::to_string(price->value()) : "none";
}

}  // namespace

std::string ReportToJson(const ReplayReport& report) {
  nlohmann::json json = nlohmann::json::object();
  json["events"] = report.events;
  json["fills"] = report.fills;
  json["volume"] = report.volume;
  json["notional"] = report.notional;
  json["fill_hash"] = HashToHex(report.fill_hash);
  json["book_hash"] = HashToHex(report.book_hash);
  json["resting_orders"] = report.resting_orders;
  json["best_bid"] = PriceOrNull(report.best_bid);
  json["best_ask"] = PriceOrNull(report.best_ask);
  json["cancel_rejects"] = report.cancel_rejects;
  json["seconds"] = report.seconds;
  json["events_per_sec"] = report.events_per_sec;
  json["latency_ns"] = {{"p50", report.latency_ns.p50},
                        {"p99", report.latency_ns.p99},
                        {"p999", report.latency_ns.p999},
                        {"max", report.latency_ns.max}};
  return json.dump();
}

std::string ReportToText(const ReplayReport& report, double clock_overhead_ns) {
  std::string text;
  auto line = [&text](std::string_view key, const std::string& value) {
    text += fmt::format("{:<16}{}\n", fmt::format("{}:", key), value);
  };
  line("events", std::to_string(report.events));
  line("fills", std::to_string(report.fills));
  line("volume", std::to_string(report.volume));
  line("notional", std::to_string(report.notional));
  line("fill_hash", HashToHex(report.fill_hash));
  line("book_hash", HashToHex(report.book_hash));
  line("resting_orders", std::to_string(report.resting_orders));
  line("best_bid", PriceOrNone(report.best_bid));
  line("best_ask", PriceOrNone(report.best_ask));
  line("cancel_rejects", std::to_string(report.cancel_rejects));
  line("seconds", fmt::format("{:.6f}", report.seconds));
  line("events_per_sec", fmt::format("{:.0f}", report.events_per_sec));
  line("cpu_seconds",
       fmt::format("{:.6f} ({:.0f} events per CPU-second)", report.cpu_seconds,
                   report.cpu_seconds > 0
                       ? static_cast<double>(report.events) / report.cpu_seconds
                       : 0.0));
  line("latency_ns",
       fmt::format("p50 {} p99 {} p999 {} max {}", report.latency_ns.p50,
                   report.latency_ns.p99, report.latency_ns.p999,
                   report.latency_ns.max));
  text += fmt::format(
      "(each latency sample includes about one steady_clock::now() call, "
      "{:.1f} ns here)\n",
      clock_overhead_ns);
  return text;
}

}  // namespace carbonex::stream
