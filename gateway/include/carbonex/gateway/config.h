// ServerConfig: every setting of carbonex-server, with its default.
//
// The config file is plain text, one `key = value` per line; `#` starts a
// comment; blank lines are ignored; an unknown key, a repeated key or a bad
// value is an error naming the line. docs/server.md lists every key. Command
// line options (--fix-port) override the file.
//
// Thread-safety: a plain value.
#ifndef CARBONEX_GATEWAY_CONFIG_H_
#define CARBONEX_GATEWAY_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "carbonex/common/status.h"
#include "carbonex/gateway/journal.h"

namespace carbonex::gateway {

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };

struct ServerConfig {
  // FIX acceptor port (key fix_port). Default 9878.
  std::uint16_t fix_port = 9878;
  // The exchange's CompID: SenderCompID of everything it sends (comp_id).
  std::string comp_id = "CARBONEX";
  // sync_mode = durable | async. Default durable. durable: a command's
  // execution report leaves only after the journal batch holding it is on
  // disk (fdatasync), and the registry commits durably. async: reports leave
  // once the batch is written (a machine crash can lose the last commands);
  // for benchmarks only.
  SyncMode sync_mode = SyncMode::kDurable;
  // close_time = HH:MM (UTC): the trading day closes (Day orders expire)
  // at this time every day. Unset (the default, or "none"): the day closes
  // only with `carbonex-registry close-day`.
  std::optional<int> close_minute_utc;
  // outbound_queue_limit: messages waiting for one session before it is
  // disconnected as a slow reader. Default 65536.
  std::size_t outbound_queue_limit = 65536;
  // data_dictionary: path of CARBONEX-FIX44.xml. Empty (the default): the
  // file next to the program, then the source tree's copy.
  std::string data_dictionary;
  // log_level = debug | info | warn | error. Default info.
  LogLevel log_level = LogLevel::kInfo;
  // logon_timeout_seconds: how long a new connection may take to complete
  // its Logon before it is dropped. Default 10.
  int logon_timeout_seconds = 10;
  // max_batch: most commands the sequencer executes before one journal
  // commit (group commit). Default 4096.
  std::size_t max_batch = 4096;
  // sequencer_spin_us: how long the sequencer keeps looking for the next
  // command after its queue runs dry before it sleeps (0: it sleeps at
  // once). Default 200.
  int sequencer_spin_us = 200;
  // fix_log: write QuickFIX message logs under DIR/fix-log (on | off).
  // Default off.
  bool fix_log = false;
  // market_data (on | off): publish market data. Default on.
  bool market_data = true;

  // ---- Limits (docs/server.md, "Limits") ----
  // max_sessions: broker sessions logged on at once. A Logon beyond it is
  // refused with Logout and Text. Default 256.
  std::size_t max_sessions = 256;
  // max_messages_per_second: application and session messages one session
  // may send in a second (a fixed one-second window). The first message over
  // it is answered with BusinessMessageReject (j) and the session is logged
  // out; nothing more it sends is processed until it logs on again. 0: no
  // limit. Default 100000.
  std::uint32_t max_messages_per_second = 100000;
  // max_open_orders_per_account / max_open_orders_per_broker: orders resting
  // in the books at once; a new order beyond either is rejected with
  // OrdRejReason 3 (engine::RejectReason::kOpenOrderLimit). 0: no limit.
  // Defaults 10000 and 100000.
  std::uint32_t max_open_orders_per_account = 10000;
  std::uint32_t max_open_orders_per_broker = 100000;
  // send_timeout_seconds: how long one send to a broker may block (the
  // broker is not reading and its TCP buffers are full) before the session
  // is disconnected. Default 10.
  int send_timeout_seconds = 10;
  // registry_map_size_mib: the registry's LMDB map size in MiB (the most the
  // registry may hold). When a settlement batch cannot be written (the map
  // is full), new orders and replaces are refused until the server restarts
  // with a larger map; nothing acknowledged is lost. Default 1024.
  std::size_t registry_map_size_mib = 1024;
  // ---- Logon security (docs/server.md, "Security") ----
  // logon_failures_per_comp_id: failed logons of one CompID within the
  // window after which its logons are refused unchecked for the back-off.
  // Default 5.
  int logon_failures_per_comp_id = 5;
  // logon_failures_per_address: the same for one remote address (any
  // CompID). Default 20.
  int logon_failures_per_address = 20;
  // logon_failure_window_seconds: how long a failure counts. Default 60.
  int logon_failure_window_seconds = 60;
  // logon_backoff_seconds: how long logons stay refused. Default 300.
  int logon_backoff_seconds = 300;
  // logon_audit_interval_ms: logon events go to the registry's audit log at
  // most this often, as one entry. Default 1000.
  int logon_audit_interval_ms = 1000;
  // tls_certificate, tls_private_key (PEM files): when both are set, FIX is
  // served over TLS only (QuickFIX's SSL acceptor). Default unset: plain TCP.
  std::string tls_certificate;
  std::string tls_private_key;
  // tls_ca (PEM file): when set with TLS, brokers must present a client
  // certificate signed by this CA. Default unset.
  std::string tls_ca;
};

// Parses config text. Errors: kInvalidArgument naming the line and key.
[[nodiscard]] Result<ServerConfig> ParseConfig(std::string_view text);

// Reads and parses a config file. Errors: kNotFound, kIoError, and those of
// ParseConfig (prefixed with the path).
[[nodiscard]] Result<ServerConfig> LoadConfigFile(const std::string& path);

// "durable" / "async".
[[nodiscard]] std::string_view SyncModeName(SyncMode mode);

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_CONFIG_H_
