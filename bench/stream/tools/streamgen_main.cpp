// carbonex-streamgen: writes an ets-stream v1 order stream
// (docs/order-stream.md).
//
//   carbonex-streamgen --events 1000000 --seed 42 --out stream.txt
//
// Exit status: 0 on success, 1 on a bad option or an I/O error (one line on
// standard error saying what went wrong).
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "carbonex/stream/generator.h"

namespace {

int Run(int argc, char** argv) {
  carbonex::stream::GeneratorOptions options;
  std::string out_path;
  CLI::App app{"Writes a deterministic ets-stream v1 order stream."};
  app.add_option("--events", options.events, "number of events (required)")
      ->required();
  app.add_option("--seed", options.seed, "splitmix64 seed")->required();
  app.add_option("--mid", options.mid, "anchor price in ticks")
      ->capture_default_str();
  app.add_option("--target", options.target, "book-size feedback target")
      ->capture_default_str();
  app.add_option("--passive-pct", options.passive_pct,
                 "percentage of passive orders")
      ->capture_default_str();
  app.add_option("--aggressive-pct", options.aggressive_pct,
                 "percentage of aggressive orders (the rest are cancels)")
      ->capture_default_str();
  app.add_option("--out", out_path, "output file ('-' for standard output)")
      ->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }

  if (carbonex::Status status = carbonex::stream::ValidateOptions(options);
      !status.ok()) {
    std::cerr << "carbonex-streamgen: " << status.message() << '\n';
    return 1;
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (out_path != "-") {
    file.open(out_path, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "carbonex-streamgen: cannot create " << out_path << ": "
                << std::strerror(errno)  // NOLINT(concurrency-mt-unsafe)
                << '\n';
      return 1;
    }
    out = &file;
  }
  carbonex::Result<carbonex::stream::GeneratorStats> stats =
      carbonex::stream::GenerateStream(options, *out);
  if (stats.ok() && file.is_open()) {
    file.close();
    if (!file) {
      stats = carbonex::Status::IoError("closing the output failed");
    }
  }
  if (!stats.ok()) {
    std::cerr << "carbonex-streamgen: " << out_path << ": "
              << stats.status().message() << '\n';
    if (file.is_open() || out_path != "-") {
      std::remove(out_path.c_str());
    }
    return 1;
  }
  std::cerr << "carbonex-streamgen: wrote " << options.events << " events ("
            << stats->passive << " passive, " << stats->aggressive
            << " aggressive, " << stats->cancel << " cancels, "
            << stats->fallback_passive << " fallbacks) to " << out_path << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
