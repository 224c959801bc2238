// carbonex-server: the exchange. See docs/server.md.
//
//   carbonex-server --db DIR [--fix-port PORT] [--config FILE]
//
// Logs to stderr; prints one line with "ready" and the FIX port on stdout
// once it accepts logons; on SIGINT/SIGTERM stops accepting, drains, commits
// and exits 0.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "carbonex/gateway/config.h"
#include "carbonex/gateway/server.h"

namespace {

spdlog::level::level_enum SpdLevel(carbonex::gateway::LogLevel level) {
  using carbonex::gateway::LogLevel;
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string ProgramDir(const char* argv0) {
  std::error_code ec;
  std::filesystem::path self =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) self = std::filesystem::absolute(argv0, ec);
  return self.parent_path().string();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "carbonex-server: the carbonex exchange (FIX gateway, matching "
      "engine, registry writer)"};
  std::string db = "./carbonex-data";
  std::string config_path;
  int fix_port = 0;
  app.add_option("--db", db, "registry directory (LMDB environment)")
      ->capture_default_str();
  app.add_option("--config", config_path, "config file (docs/server.md)");
  app.add_option("--fix-port", fix_port, "FIX port (overrides the config)")
      ->check(CLI::Range(1, 65535));
  CLI11_PARSE(app, argc, argv);
  // Everything the server creates (QuickFIX's store and logs included) is
  // readable by its owner only; docs/server.md, "Security".
  ::umask(077);

  auto logger = spdlog::stderr_color_mt("carbonex-server");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v",
                      spdlog::pattern_time_type::utc);

  carbonex::gateway::ServerOptions options;
  options.db_dir = db;
  options.program_dir = ProgramDir(argv[0]);
  if (!config_path.empty()) {
    carbonex::Result<carbonex::gateway::ServerConfig> config =
        carbonex::gateway::LoadConfigFile(config_path);
    if (!config.ok()) {
      std::fprintf(stderr, "carbonex-server: %s\n",
                   config.status().message().c_str());
      return 2;
    }
    options.config = *config;
  }
  if (fix_port != 0) {
    options.config.fix_port = static_cast<std::uint16_t>(fix_port);
  }
  spdlog::set_level(SpdLevel(options.config.log_level));

  // Every thread inherits this mask; main waits for the signals below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  spdlog::info("starting on {} (sync mode {}, FIX port {})", db,
               carbonex::gateway::SyncModeName(options.config.sync_mode),
               options.config.fix_port);
  carbonex::Result<std::unique_ptr<carbonex::gateway::Server>> server =
      carbonex::gateway::Server::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "carbonex-server: %s\n",
                 server.status().message().c_str());
    return 1;
  }
  std::printf("carbonex-server ready: FIX port %u, CompID %s\n",
              static_cast<unsigned>((*server)->fix_port()),
              options.config.comp_id.c_str());
  std::fflush(stdout);

  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("signal {}: stopping", received);
  // A stop must never take longer than the contract's 10 seconds.
  std::thread watchdog([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(9500));
    spdlog::critical("stop took longer than 9.5 s: exiting now");
    std::fflush(nullptr);
    _exit(3);
  });
  watchdog.detach();
  carbonex::Status stopped = (*server)->Stop();
  if (!stopped.ok()) {
    spdlog::error("stop: {}", stopped.message());
    return 1;
  }
  server->reset();
  spdlog::info("stopped cleanly");
  return 0;
}
