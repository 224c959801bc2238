// carbonex-replay: replays an ets-stream v1 file through the order book or
// the full engine and reports results and speed (docs/order-stream.md).
//
//   carbonex-replay stream.txt [--json] [--mode book|engine]
//
// Exit status: 0 on success; 1 on a bad option, an unreadable or malformed
// stream, or a replay failure (one line on standard error).
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <string>

#include "carbonex/stream/replay.h"
#include "carbonex/stream/report.h"
#include "carbonex/stream/stream.h"

namespace {

int Run(int argc, char** argv) {
  using carbonex::stream::ReplayMode;
  std::string path;
  bool json = false;
  bool no_latency = false;
  carbonex::stream::ReplayOptions options;
  CLI::App app{"Replays an ets-stream v1 order stream and reports results."};
  app.add_option("file", path, "stream file ('-' for standard input)")
      ->required();
  app.add_flag("--json", json, "print one JSON object");
  app.add_option("--mode", options.mode, "book (OrderBook alone) or engine")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, ReplayMode>{{"book", ReplayMode::kBook},
                                            {"engine", ReplayMode::kEngine}},
          CLI::ignore_case));
  app.add_option("--expected-orders", options.expected_orders,
                 "orders to reserve room for up front")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 28));
  app.add_flag("--no-latency", no_latency,
               "skip the per-event timed pass (latency figures become 0)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  options.measure_latency = !no_latency;

  carbonex::Result<carbonex::stream::Stream> stream =
      carbonex::stream::ReadStreamFile(path);
  if (!stream.ok()) {
    std::cerr << "carbonex-replay: " << stream.status().message() << '\n';
    return 1;
  }
  carbonex::Result<carbonex::stream::ReplayReport> report =
      carbonex::stream::ReplayStream(*stream, options);
  if (!report.ok()) {
    std::cerr << "carbonex-replay: " << report.status().message() << '\n';
    return 1;
  }
  if (json) {
    std::cout << carbonex::stream::ReportToJson(*report) << '\n';
  } else {
    std::cout << "mode:           "
              << (options.mode == ReplayMode::kBook ? "book" : "engine") << '\n'
              << carbonex::stream::ReportToText(
                     *report, carbonex::stream::ClockOverheadNs());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
