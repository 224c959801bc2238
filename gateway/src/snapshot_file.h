// The server's snapshot file (DIR/engine.snapshot): the engine's state at a
// journal sequence number plus what the gateway knows about it. Format in
// docs/server.md ("Snapshot file").
#ifndef CARBONEX_GATEWAY_SRC_SNAPSHOT_FILE_H_
#define CARBONEX_GATEWAY_SRC_SNAPSHOT_FILE_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "carbonex/common/account_state.h"
#include "carbonex/common/status.h"
#include "carbonex/engine/engine.h"

namespace carbonex::gateway {

// Registry entities the engine has been told about (by its starting state or
// by operator commands), so that reconciliation knows what to add.
struct KnownEntities {
  std::set<std::uint32_t> instruments;
  std::set<std::uint32_t> accounts;
  std::set<std::pair<std::uint32_t, std::uint32_t>> entitlements;  // broker,
                                                                   // account
  std::set<std::pair<std::uint32_t, std::uint32_t>> positions;     // account,
                                                                   // instrument
  static KnownEntities From(const AccountState& state);
};

struct SnapshotFile {
  std::uint64_t seq = 0;           // the last command the engine state holds
  std::int64_t last_time_ns = 0;   // that command's time
  std::int64_t last_close_ns = 0;  // the last close of the trading day
  std::uint64_t state_hash = 0;    // engine StateHash() at seq
  KnownEntities known;
  std::vector<std::uint8_t> engine;  // Engine::SaveSnapshot()
  // The open-order limits (EngineOptions) the engine applied to the
  // commands journaled after seq: the config of the run that wrote the
  // snapshot, which every start renews. Recovery replays with these, so a
  // changed config never turns a journaled accept into a reject or the
  // reverse. 0 = no limit; version 1 files had none.
  std::uint32_t max_open_orders_per_account = 0;
  std::uint32_t max_open_orders_per_broker = 0;
};

// Writes atomically (temporary file, fsync, rename, fsync of the directory).
// Errors: kIoError.
[[nodiscard]] Status WriteSnapshotFile(const std::string& path,
                                       const SnapshotFile& snapshot);

// nullopt when there is no file. Errors: kIoError, kCorruption (bad magic,
// version, length or checksum).
[[nodiscard]] Result<std::optional<SnapshotFile>> ReadSnapshotFile(
    const std::string& path);

// The operator commands that bring the engine's view in line with the
// registry's state: new instruments and accounts, entitlement changes, and
// the difference of held cash and units. Updates `known`. Precondition: every
// trade the engine executed is settled in the registry.
[[nodiscard]] std::vector<engine::CommandBody> ReconcileCommands(
    const AccountState& registry, const engine::Engine& engine,
    KnownEntities* known);

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_SRC_SNAPSHOT_FILE_H_
