#define CATCH_CONFIG_MAIN
#include "carbonex/gateway/config.h"

#include <catch2/catch.hpp>

namespace carbonex::gateway {
namespace {

TEST_CASE("empty config gives the documented defaults", "[config]") {
  Result<ServerConfig> config = ParseConfig("");
  REQUIRE(config.ok());
  CHECK(config->fix_port == 9878);
  CHECK(config->comp_id == "CARBONEX");
  CHECK(config->sync_mode == SyncMode::kDurable);
  CHECK_FALSE(config->close_minute_utc.has_value());
  CHECK(config->outbound_queue_limit == 65536);
  CHECK(config->data_dictionary.empty());
  CHECK(config->log_level == LogLevel::kInfo);
  CHECK(config->sequencer_spin_us == 200);
  CHECK(config->market_data);
}

TEST_CASE("every key parses", "[config]") {
  Result<ServerConfig> config = ParseConfig(
      "# a comment\n"
      "fix_port = 10001\n"
      "  comp_id=EXCH   # trailing comment\n"
      "sync_mode = async\n"
      "close_time = 17:30\n"
      "outbound_queue_limit = 1024\n"
      "data_dictionary = /tmp/dd.xml\n"
      "log_level = debug\n"
      "logon_timeout_seconds = 5\n"
      "max_batch = 64\n"
      "sequencer_spin_us = 0\n"
      "fix_log = on\n"
      "market_data = off\n");
  REQUIRE(config.ok());
  CHECK(config->fix_port == 10001);
  CHECK(config->comp_id == "EXCH");
  CHECK(config->sync_mode == SyncMode::kAsync);
  CHECK(config->close_minute_utc == 17 * 60 + 30);
  CHECK(config->outbound_queue_limit == 1024);
  CHECK(config->data_dictionary == "/tmp/dd.xml");
  CHECK(config->log_level == LogLevel::kDebug);
  CHECK(config->logon_timeout_seconds == 5);
  CHECK(config->max_batch == 64);
  CHECK(config->sequencer_spin_us == 0);
  CHECK(config->fix_log);
  CHECK_FALSE(config->market_data);
}

TEST_CASE("bad config lines name the line", "[config]") {
  struct Case {
    const char* text;
    const char* needle;
  };
  const Case cases[] = {
      {"fix_port = 0\n", "line 1"},
      {"\nfix_port = abc\n", "line 2"},
      {"sync_mode = fast\n", "durable or async"},
      {"close_time = 25:00\n", "HH:MM"},
      {"colour = blue\n", "unknown key 'colour'"},
      {"fix_port = 1\nfix_port = 2\n", "repeated"},
      {"just words\n", "key = value"},
      {"outbound_queue_limit = 1\n", "16.."},
      {"sequencer_spin_us = 100001\n", "0..100000"},
      {"sequencer_spin_us = -1\n", "0..100000"},
  };
  for (const Case& c : cases) {
    Result<ServerConfig> config = ParseConfig(c.text);
    INFO(c.text);
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(config.status().message(), Catch::Contains(c.needle));
  }
}

TEST_CASE("limits have documented defaults and bounds", "[config]") {
  Result<ServerConfig> defaults = ParseConfig("");
  REQUIRE(defaults.ok());
  CHECK(defaults->max_sessions == 256);
  CHECK(defaults->max_messages_per_second == 100000);
  CHECK(defaults->max_open_orders_per_account == 10000);
  CHECK(defaults->max_open_orders_per_broker == 100000);
  CHECK(defaults->registry_map_size_mib == 1024);

  Result<ServerConfig> set = ParseConfig(
      "max_sessions = 1\n"
      "max_messages_per_second = 0\n"
      "max_open_orders_per_account = 0\n"
      "max_open_orders_per_broker = 7\n"
      "registry_map_size_mib = 4194304\n");
  REQUIRE(set.ok());
  CHECK(set->max_sessions == 1);
  CHECK(set->max_messages_per_second == 0);
  CHECK(set->max_open_orders_per_account == 0);
  CHECK(set->max_open_orders_per_broker == 7);
  CHECK(set->registry_map_size_mib == std::size_t{4194304});

  for (const char* text :
       {"max_sessions = 0\n", "max_sessions = 100001\n",
        "max_messages_per_second = -1\n",
        "max_messages_per_second = 100000001\n",
        "max_open_orders_per_account = 1.5\n",
        "max_open_orders_per_broker = many\n", "registry_map_size_mib = 0\n",
        "registry_map_size_mib = 4194305\n"}) {
    INFO(text);
    Result<ServerConfig> config = ParseConfig(text);
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.status().message(), Catch::Contains("line 1"));
  }
}

TEST_CASE("a missing config file is NotFound", "[config]") {
  Result<ServerConfig> config = LoadConfigFile("/nonexistent/carbonex.conf");
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == StatusCode::kNotFound);
}

TEST_CASE("logon security and TLS keys", "[config]") {
  Result<ServerConfig> defaults = ParseConfig("");
  REQUIRE(defaults.ok());
  CHECK(defaults->logon_failures_per_comp_id == 5);
  CHECK(defaults->logon_failures_per_address == 20);
  CHECK(defaults->logon_failure_window_seconds == 60);
  CHECK(defaults->logon_backoff_seconds == 300);
  CHECK(defaults->logon_audit_interval_ms == 1000);
  CHECK(defaults->tls_certificate.empty());
  CHECK(defaults->tls_private_key.empty());
  CHECK(defaults->tls_ca.empty());

  Result<ServerConfig> set = ParseConfig(
      "logon_failures_per_comp_id = 3\n"
      "logon_failures_per_address = 50\n"
      "logon_failure_window_seconds = 120\n"
      "logon_backoff_seconds = 30\n"
      "logon_audit_interval_ms = 250\n"
      "tls_certificate = /etc/carbonex/cert.pem\n"
      "tls_private_key = /etc/carbonex/key.pem\n"
      "tls_ca = /etc/carbonex/brokers-ca.pem\n");
  REQUIRE(set.ok());
  CHECK(set->logon_failures_per_comp_id == 3);
  CHECK(set->logon_failures_per_address == 50);
  CHECK(set->logon_failure_window_seconds == 120);
  CHECK(set->logon_backoff_seconds == 30);
  CHECK(set->logon_audit_interval_ms == 250);
  CHECK(set->tls_certificate == "/etc/carbonex/cert.pem");
  CHECK(set->tls_private_key == "/etc/carbonex/key.pem");
  CHECK(set->tls_ca == "/etc/carbonex/brokers-ca.pem");

  for (const char* bad :
       {"logon_failures_per_comp_id = 0\n", "logon_failures_per_address = x\n",
        "logon_failure_window_seconds = 86401\n",
        "logon_backoff_seconds = -1\n", "logon_audit_interval_ms = 5\n",
        "tls_certificate =\n",
        "tls_certificate = a.pem\n",  // without its key
        "tls_private_key = k.pem\n",  // without its certificate
        "tls_ca = ca.pem\n"}) {
    INFO(bad);
    Result<ServerConfig> config = ParseConfig(bad);
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace carbonex::gateway
