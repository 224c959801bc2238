// carbonex-loadgen: drives a carbonex FIX gateway with seeded order flow over
// N sessions and reports throughput and order -> ack latency
// (docs/loadgen.md).
//
// Exit status: 0 on a completed run, 1 if a session did not log on or was
// lost during the run, 2 on bad arguments or unwritable outputs.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "carbonex/fixclient/messages.h"
#include "carbonex/loadgen/latency.h"
#include "carbonex/loadgen/load_runner.h"

namespace {

using carbonex::Price;
using carbonex::Result;
using carbonex::Status;
using carbonex::loadgen::LoadOptions;
using carbonex::loadgen::LoadReport;

std::string Trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return "";
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    item = Trim(item);
    if (!item.empty()) {
      items.push_back(item);
    }
  }
  return items;
}

// Non-empty, non-comment lines of a file, trimmed.
Result<std::vector<std::string>> ReadLines(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return Status::IoError("cannot read '" + path + "'");
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(file, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') {
      continue;
    }
    lines.push_back(line);
  }
  return lines;
}

// A password file holds either one password for every session, or lines
// "COMPID PASSWORD" (and optionally one bare line as the default).
Status ReadPasswords(const std::string& path, LoadOptions& options) {
  Result<std::vector<std::string>> lines = ReadLines(path);
  if (!lines.ok()) {
    return lines.status();
  }
  for (const std::string& line : *lines) {
    std::istringstream fields(line);
    std::string first;
    std::string second;
    std::string extra;
    fields >> first >> second >> extra;
    if (!extra.empty()) {
      std::string message = "password file '";
      message += path;
      message += "': expected 'COMPID PASSWORD' or 'PASSWORD', got '";
      message += line;
      message += "'";
      return Status::InvalidArgument(message);
    }
    if (second.empty()) {
      options.default_password = first;
    } else {
      options.passwords[first] = second;
    }
  }
  return Status::Ok();
}

void PrintText(const LoadReport& report, const LoadOptions& options) {
  const auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1e3; };
  std::printf(
      "sessions %d, sent %llu new orders + %llu cancels, acked %llu, "
      "unacked %llu\n",
      options.sessions, static_cast<unsigned long long>(report.orders_sent),
      static_cast<unsigned long long>(report.cancels_sent),
      static_cast<unsigned long long>(report.acked),
      static_cast<unsigned long long>(report.unacked));
  std::printf(
      "replies: %llu fills, %llu rejects, %llu cancel rejects, %llu business "
      "rejects; %llu send failures%s\n",
      static_cast<unsigned long long>(report.fills),
      static_cast<unsigned long long>(report.rejected),
      static_cast<unsigned long long>(report.cancel_rejects),
      static_cast<unsigned long long>(report.business_rejects),
      static_cast<unsigned long long>(report.send_failures),
      report.session_lost ? "; a session was LOST" : "");
  for (const auto& [reason, count] : report.reject_reasons) {
    std::printf("  rejects with OrdRejReason %s: %llu\n", reason.c_str(),
                static_cast<unsigned long long>(count));
  }
  std::printf("elapsed %.3f s, throughput %.1f acked requests/s\n",
              report.elapsed_s, report.throughput);
  const auto& l = report.latency;
  std::printf(
      "order->ack latency (us): p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  "
      "max %.1f  (min %.1f, mean %.1f, n=%zu)\n",
      us(l.p50), us(l.p90), us(l.p99), us(l.p999), us(l.max), us(l.min),
      l.mean / 1e3, l.count);
}

void PrintJson(const LoadReport& report, const LoadOptions& options) {
  const auto& l = report.latency;
  nlohmann::json json = {
      {"sessions", options.sessions},
      {"rate_target", options.rate},
      {"window", options.window},
      {"nagle", options.nagle},
      {"batch_writes", options.batch_writes},
      {"seed", options.generator.seed},
      {"orders_sent", report.orders_sent},
      {"cancels_sent", report.cancels_sent},
      {"acked", report.acked},
      {"unacked", report.unacked},
      {"fills", report.fills},
      {"rejects", report.rejected},
      {"reject_reasons", report.reject_reasons},
      {"cancel_rejects", report.cancel_rejects},
      {"business_rejects", report.business_rejects},
      {"send_failures", report.send_failures},
      {"session_lost", report.session_lost},
      {"elapsed_s", report.elapsed_s},
      {"throughput_per_s", report.throughput},
      {"latency_ns",
       {{"count", l.count},
        {"min", l.min},
        {"p50", l.p50},
        {"p90", l.p90},
        {"p99", l.p99},
        {"p99_9", l.p999},
        {"max", l.max},
        {"mean", l.mean}}},
  };
  std::cout << json.dump(2) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "carbonex-loadgen: seeded FIX order flow against a carbonex gateway; "
      "prints throughput and order->ack latency percentiles"};
  LoadOptions options;
  std::string password_file;
  std::string accounts_text;
  std::string accounts_file;
  std::string symbols_text;
  std::string latency_csv;
  std::string plot_png;
  std::string mid_text = "100.00";
  std::string flow_text = "stream";
  std::string tick_text = "0.01";
  std::string tif_text = "day";
  double duration_s = 60;
  double logon_timeout_s = 10;
  bool json = false;
  bool quiet = false;

  app.add_option("--host", options.host, "gateway host")->capture_default_str();
  app.add_option("--port", options.port, "gateway FIX port")
      ->capture_default_str();
  app.add_option("--sessions", options.sessions,
                 "number of FIX sessions (CompIDs <prefix>1..<prefix>N)")
      ->capture_default_str();
  app.add_option("--comp-id-prefix", options.comp_id_prefix,
                 "SenderCompID prefix")
      ->capture_default_str();
  app.add_option("--target-comp-id", options.target_comp_id,
                 "the exchange's CompID")
      ->capture_default_str();
  app.add_option("--password-file", password_file,
                 "file with one password, or lines 'COMPID PASSWORD'")
      ->check(CLI::ExistingFile);
  auto* accounts_opt = app.add_option("--accounts", accounts_text,
                                      "comma-separated registry accounts");
  app.add_option("--accounts-file", accounts_file,
                 "file with one account per line")
      ->check(CLI::ExistingFile)
      ->excludes(accounts_opt);
  app.add_option("--symbols", symbols_text,
                 "comma-separated instruments, e.g. KZQ-2019,KZO-2025")
      ->required();
  app.add_option("--rate", options.rate,
                 "requests per second over all sessions; 0 = flat out")
      ->capture_default_str();
  app.add_option("--count", options.count,
                 "requests to send (new orders + cancels)")
      ->capture_default_str();
  app.add_option("--duration", duration_s, "longest sending time, seconds")
      ->capture_default_str();
  app.add_option("--window", options.window,
                 "max requests in flight per session")
      ->capture_default_str();
  app.add_flag("--nagle", options.nagle,
               "leave Nagle's algorithm on: orders sent while earlier ones are "
               "unacknowledged share TCP segments, as a client batching its "
               "writes would (an order sent alone is not delayed)");
  app.add_flag("--batch-writes", options.batch_writes,
               "orders ready at the same moment leave in one write per "
               "session, made before the sender waits for replies or its "
               "rate (an order sent alone is written at once)");
  app.add_option("--seed", options.generator.seed, "generator seed")
      ->capture_default_str();
  app.add_option("--passive-pct", options.generator.passive_pct,
                 "share of passive orders, %")
      ->capture_default_str();
  app.add_option("--aggressive-pct", options.generator.aggressive_pct,
                 "share of aggressive orders, % (the rest are cancels)")
      ->capture_default_str();
  app.add_option("--flow", flow_text,
                 "order flow: stream (the ets-stream generator's rules) or "
                 "generator (no book model, cancels of known-live orders)")
      ->check(CLI::IsMember({"stream", "generator"}))
      ->capture_default_str();
  app.add_option("--stream-file", options.stream_file,
                 "replay this ets-stream file (its first --count events)")
      ->check(CLI::ExistingFile);
  app.add_option("--target", options.stream_target,
                 "stream generator's book-size target")
      ->capture_default_str();
  app.add_option("--mid", mid_text,
                 "anchor price, KZT (stream: mid/tick ticks)")
      ->capture_default_str();
  app.add_option("--tick", tick_text, "tick size, KZT")->capture_default_str();
  app.add_option("--tif", tif_text, "time in force of new orders: day or gtc")
      ->check(CLI::IsMember({"day", "gtc"}))
      ->capture_default_str();
  app.add_option("--logon-timeout", logon_timeout_s,
                 "seconds to wait for every session to log on")
      ->capture_default_str();
  app.add_option("--latency-csv", latency_csv,
                 "write the latency percentile curve (CSV) here");
  app.add_option("--plot", plot_png, "plot the latency curve to this PNG");
  app.add_flag("--json", json, "print the summary as JSON");
  app.add_flag("--quiet", quiet, "no progress lines on stderr");
  CLI11_PARSE(app, argc, argv);

  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "carbonex-loadgen: %s\n", message.c_str());
    return 2;
  };
  if (!password_file.empty()) {
    if (Status s = ReadPasswords(password_file, options); !s.ok()) {
      return fail(s.message());
    }
  }
  if (!accounts_file.empty()) {
    Result<std::vector<std::string>> lines = ReadLines(accounts_file);
    if (!lines.ok()) {
      return fail(lines.status().message());
    }
    options.accounts = *lines;
  } else {
    options.accounts = SplitList(accounts_text);
  }
  options.symbols = SplitList(symbols_text);
  Result<Price> mid = carbonex::fixclient::ParsePrice(mid_text);
  Result<Price> tick = carbonex::fixclient::ParsePrice(tick_text);
  if (!mid.ok()) {
    return fail("--mid: " + mid.status().message());
  }
  if (!tick.ok()) {
    return fail("--tick: " + tick.status().message());
  }
  options.generator.mid = *mid;
  options.flow = flow_text == "generator" ? LoadOptions::Flow::kGenerator
                                          : LoadOptions::Flow::kStream;
  if (!options.stream_file.empty() &&
      options.flow != LoadOptions::Flow::kStream) {
    return fail("--stream-file needs --flow stream");
  }
  options.generator.tick = *tick;
  options.tif = tif_text == "gtc"
                    ? carbonex::fixclient::TimeInForce::kGoodTillCancel
                    : carbonex::fixclient::TimeInForce::kDay;
  if (duration_s <= 0 || logon_timeout_s <= 0) {
    return fail("--duration and --logon-timeout must be positive");
  }
  options.duration =
      std::chrono::milliseconds(static_cast<std::int64_t>(duration_s * 1000));
  options.logon_timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(logon_timeout_s * 1000));

  std::function<void(const carbonex::loadgen::Progress&)> progress;
  if (!quiet) {
    progress = [last_acked = std::uint64_t{0}](
                   const carbonex::loadgen::Progress& p) mutable {
      std::fprintf(stderr,
                   "[%6.1f s] sent %llu  acked %llu  in flight %llu  "
                   "(%llu acks/s)\n",
                   p.elapsed_s, static_cast<unsigned long long>(p.sent),
                   static_cast<unsigned long long>(p.acked),
                   static_cast<unsigned long long>(p.in_flight),
                   static_cast<unsigned long long>(p.acked - last_acked));
      last_acked = p.acked;
    };
  }

  Result<LoadReport> report = carbonex::loadgen::RunLoad(options, progress);
  if (!report.ok()) {
    std::fprintf(stderr, "carbonex-loadgen: %s\n",
                 report.status().message().c_str());
    return report.status().code() == carbonex::StatusCode::kInvalidArgument ? 2
                                                                            : 1;
  }
  if (json) {
    PrintJson(*report, options);
  } else {
    PrintText(*report, options);
  }
  if (!latency_csv.empty() || !plot_png.empty()) {
    const std::string csv_path =
        latency_csv.empty() ? plot_png + ".csv" : latency_csv;
    if (Status s = carbonex::loadgen::WriteFile(
            csv_path, carbonex::loadgen::PercentileCsv(report->latencies_ns));
        !s.ok()) {
      return fail(s.message());
    }
    if (!plot_png.empty()) {
      char title[160];
      std::snprintf(title, sizeof(title),
                    "carbonex-loadgen: %d sessions, %llu acked, p99 %.1f us",
                    options.sessions,
                    static_cast<unsigned long long>(report->acked),
                    static_cast<double>(report->latency.p99) / 1e3);
      if (Status s =
              carbonex::loadgen::PlotPercentiles(csv_path, plot_png, title);
          !s.ok()) {
        return fail(s.message());
      }
      if (latency_csv.empty()) {
        std::remove(csv_path.c_str());
      }
    }
  }
  return report->session_lost ? 1 : 0;
}
