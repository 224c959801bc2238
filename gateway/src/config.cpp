#include "carbonex/gateway/config.h"

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace carbonex::gateway {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

template <typename T>
bool ParseInt(std::string_view text, T min, T max, T* out) {
  T value{};
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

bool ParseBool(std::string_view text, bool* out) {
  if (text == "on" || text == "true" || text == "yes") {
    *out = true;
    return true;
  }
  if (text == "off" || text == "false" || text == "no") {
    *out = false;
    return true;
  }
  return false;
}

// "HH:MM" → minutes after midnight.
bool ParseClock(std::string_view text, int* out) {
  if (text.size() != 5 || text[2] != ':') return false;
  int hours = 0;
  int minutes = 0;
  if (!ParseInt(text.substr(0, 2), 0, 23, &hours) ||
      !ParseInt(text.substr(3, 2), 0, 59, &minutes)) {
    return false;
  }
  *out = hours * 60 + minutes;
  return true;
}

}  // namespace

std::string_view SyncModeName(SyncMode mode) {
  return mode == SyncMode::kDurable ? "durable" : "async";
}

Result<ServerConfig> ParseConfig(std::string_view text) {
  ServerConfig config;
  std::set<std::string, std::less<>> seen;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{}
                                         : text.substr(end + 1);
    if (std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = Trim(line);
    if (line.empty()) continue;
    std::size_t eq = line.find('=');
    auto error = [&](std::string_view what) {
      return Status::InvalidArgument("config line " +
                                     std::to_string(line_number) + ": " +
                                     std::string(what));
    };
    if (eq == std::string_view::npos) return error("expected key = value");
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    if (!seen.emplace(key).second) {
      return error("key '" + std::string(key) + "' repeated");
    }
    auto bad = [&](std::string_view expected) {
      return error("bad value '" + std::string(value) + "' for " +
                   std::string(key) + " (expected " + std::string(expected) +
                   ")");
    };
    if (key == "fix_port") {
      if (!ParseInt<std::uint16_t>(value, 1, 65535, &config.fix_port)) {
        return bad("a port 1..65535");
      }
    } else if (key == "comp_id") {
      if (value.empty() || value.size() > 32) return bad("1..32 characters");
      config.comp_id = std::string(value);
    } else if (key == "sync_mode") {
      if (value == "durable") {
        config.sync_mode = SyncMode::kDurable;
      } else if (value == "async") {
        config.sync_mode = SyncMode::kAsync;
      } else {
        return bad("durable or async");
      }
    } else if (key == "close_time") {
      int minute = 0;
      if (value == "none") {
        config.close_minute_utc.reset();
      } else if (ParseClock(value, &minute)) {
        config.close_minute_utc = minute;
      } else {
        return bad("HH:MM in UTC, or none");
      }
    } else if (key == "outbound_queue_limit") {
      if (!ParseInt<std::size_t>(value, 16, std::size_t{1} << 24,
                                 &config.outbound_queue_limit)) {
        return bad("16..16777216");
      }
    } else if (key == "data_dictionary") {
      config.data_dictionary = std::string(value);
    } else if (key == "log_level") {
      if (value == "debug") {
        config.log_level = LogLevel::kDebug;
      } else if (value == "info") {
        config.log_level = LogLevel::kInfo;
      } else if (value == "warn") {
        config.log_level = LogLevel::kWarn;
      } else if (value == "error") {
        config.log_level = LogLevel::kError;
      } else {
        return bad("debug, info, warn or error");
      }
    } else if (key == "logon_timeout_seconds") {
      if (!ParseInt(value, 1, 3600, &config.logon_timeout_seconds)) {
        return bad("1..3600");
      }
    } else if (key == "max_batch") {
      if (!ParseInt<std::size_t>(value, 1, 1 << 20, &config.max_batch)) {
        return bad("1..1048576");
      }
    } else if (key == "sequencer_spin_us") {
      if (!ParseInt(value, 0, 100000, &config.sequencer_spin_us)) {
        return bad("0..100000");
      }
    } else if (key == "fix_log") {
      if (!ParseBool(value, &config.fix_log)) return bad("on or off");
    } else if (key == "market_data") {
      if (!ParseBool(value, &config.market_data)) return bad("on or off");
    } else if (key == "max_sessions") {
      if (!ParseInt<std::size_t>(value, 1, 100000, &config.max_sessions)) {
        return bad("1..100000");
      }
    } else if (key == "max_messages_per_second") {
      if (!ParseInt<std::uint32_t>(value, 0, 100'000'000,
                                   &config.max_messages_per_second)) {
        return bad("0..100000000, 0 for no limit");
      }
    } else if (key == "max_open_orders_per_account") {
      if (!ParseInt<std::uint32_t>(value, 0, 100'000'000,
                                   &config.max_open_orders_per_account)) {
        return bad("0..100000000, 0 for no limit");
      }
    } else if (key == "max_open_orders_per_broker") {
      if (!ParseInt<std::uint32_t>(value, 0, 100'000'000,
                                   &config.max_open_orders_per_broker)) {
        return bad("0..100000000, 0 for no limit");
      }
    } else if (key == "send_timeout_seconds") {
      if (!ParseInt(value, 1, 3600, &config.send_timeout_seconds)) {
        return bad("1..3600");
      }
    } else if (key == "registry_map_size_mib") {
      if (!ParseInt<std::size_t>(value, 1, std::size_t{1} << 22,
                                 &config.registry_map_size_mib)) {
        return bad("1..4194304");
      }
    } else if (key == "logon_failures_per_comp_id") {
      if (!ParseInt(value, 1, 1000, &config.logon_failures_per_comp_id)) {
        return bad("1..1000");
      }
    } else if (key == "logon_failures_per_address") {
      if (!ParseInt(value, 1, 100000, &config.logon_failures_per_address)) {
        return bad("1..100000");
      }
    } else if (key == "logon_failure_window_seconds") {
      if (!ParseInt(value, 1, 86400, &config.logon_failure_window_seconds)) {
        return bad("1..86400");
      }
    } else if (key == "logon_backoff_seconds") {
      if (!ParseInt(value, 1, 86400, &config.logon_backoff_seconds)) {
        return bad("1..86400");
      }
    } else if (key == "logon_audit_interval_ms") {
      if (!ParseInt(value, 10, 60000, &config.logon_audit_interval_ms)) {
        return bad("10..60000");
      }
    } else if (key == "tls_certificate") {
      if (value.empty()) return bad("a PEM file");
      config.tls_certificate = std::string(value);
    } else if (key == "tls_private_key") {
      if (value.empty()) return bad("a PEM file");
      config.tls_private_key = std::string(value);
    } else if (key == "tls_ca") {
      if (value.empty()) return bad("a PEM file");
      config.tls_ca = std::string(value);
    } else {
      return error("unknown key '" + std::string(key) + "'");
    }
  }
  if (config.tls_certificate.empty() != config.tls_private_key.empty()) {
    return Status::InvalidArgument(
        "config: tls_certificate and tls_private_key go together");
  }
  if (!config.tls_ca.empty() && config.tls_certificate.empty()) {
    return Status::InvalidArgument(
        "config: tls_ca needs tls_certificate and tls_private_key");
  }
  return config;
}

Result<ServerConfig> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open config file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IoError("cannot read config file " + path);
  Result<ServerConfig> config = ParseConfig(text.str());
  if (!config.ok()) {
    return Status::InvalidArgument(path + ": " + config.status().message());
  }
  return config;
}

}  // namespace carbonex::gateway
