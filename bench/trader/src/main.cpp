// carbonex-trader: runs a readable trading script over FIX against a
// carbonex gateway (the demo's scripted session; docs/loadgen.md).
//
// Exit status: 0 if every step succeeded, 1 if a session could not log on,
// a send failed or an expect was not met, 2 if the script is invalid (then
// nothing is sent).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "carbonex/trader/runner.h"
#include "carbonex/trader/script.h"

int main(int argc, char** argv) {
  CLI::App app{"carbonex-trader: a scripted FIX trading session"};
  carbonex::trader::RunOptions options;
  std::string script_path;
  double logon_timeout_s = 10;
  app.add_option("--host", options.host, "gateway host")->capture_default_str();
  app.add_option("--port", options.port, "gateway FIX port")
      ->capture_default_str();
  app.add_option("--target-comp-id", options.target_comp_id,
                 "the exchange's CompID")
      ->capture_default_str();
  app.add_option("--logon-timeout", logon_timeout_s,
                 "seconds to wait for each logon")
      ->capture_default_str();
  app.add_option("--script", script_path, "the script to run")->required();
  CLI11_PARSE(app, argc, argv);
  if (logon_timeout_s <= 0) {
    std::fprintf(stderr, "carbonex-trader: --logon-timeout must be positive\n");
    return 2;
  }
  options.logon_timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(logon_timeout_s * 1000));

  carbonex::Result<carbonex::trader::Script> script =
      carbonex::trader::ReadScript(script_path);
  if (!script.ok()) {
    std::fprintf(stderr, "carbonex-trader: %s\n",
                 script.status().message().c_str());
    return 2;
  }
  const carbonex::trader::RunSummary summary =
      carbonex::trader::RunScript(*script, options, std::cout);
  if (!summary.ok) {
    std::fprintf(stderr, "carbonex-trader: line %d: %s\n", summary.failed_line,
                 summary.failure.c_str());
    return 1;
  }
  return 0;
}
