// Replay: runs an in-memory ets-stream through carbonex's matching code and
// reports what came out (fills, volume, digests, final book) and how fast.
//
// Two modes:
//   kBook    carbonex::engine::OrderBook alone: the matching core, nothing
//            else. Its results must equal the stream's `expected` values.
//   kEngine  the full carbonex::engine::Engine (validation, pre-trade risk,
//            reservations, events) on one instrument with synthetic funded
//            accounts (SyntheticAccounts below). Because a buy and a sell
//            never share an account, self-trade prevention cannot trigger
//            and the results must equal book mode's too.
//
// Each replay runs twice on fresh state: a throughput pass timed as a whole
// (`seconds`, `events_per_sec`, and every result), then a latency pass that
// reads std::chrono::steady_clock before and after every event. The latency
// pass must reproduce the throughput pass's results; a difference is an
// Internal error (the code under test is not deterministic).
//
// Engine mode is built from two reusable steps, so that other command
// sources (a server journal) can be replayed the same way: translate the
// source into an AccountState plus a vector of engine Commands, then
// ReplayCommands().
//
// Thread-safety: free functions without shared state; each call builds its
// own book or engine.
#ifndef CARBONEX_STREAM_REPLAY_H_
#define CARBONEX_STREAM_REPLAY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "carbonex/common/account_state.h"
#include "carbonex/common/status.h"
#include "carbonex/common/types.h"
#include "carbonex/engine/commands.h"
#include "carbonex/stream/digest.h"
#include "carbonex/stream/stream.h"

namespace carbonex::stream {

enum class ReplayMode : std::uint8_t { kBook = 0, kEngine = 1 };

struct ReplayOptions {
  ReplayMode mode = ReplayMode::kBook;
  // Live orders the book or engine reserves room for up front. The
  // canonical stream peaks at 12,868 live orders. In engine mode the
  // engine's done-order store is also reserved, for one done order per
  // command (EngineOptions::expected_done_orders).
  std::size_t expected_orders = 1 << 16;
  // Run the second, per-event timed pass. When false the latency figures
  // are all zero.
  bool measure_latency = true;
  // Engine mode only: emit market data (BookLevelChanged events), as a
  // server does. The sink counts them (market_data_events) and does no
  // other work per event. Book mode has no market data.
  bool market_data = true;
};

// Per-event latency percentiles in nanoseconds (nearest-rank).
struct LatencyNs {
  std::uint64_t p50 = 0;
  std::uint64_t p99 = 0;
  std::uint64_t p999 = 0;
  std::uint64_t max = 0;
};

struct ReplayReport {
  std::uint64_t events = 0;
  std::uint64_t fills = 0;
  std::int64_t volume = 0;    // Σ fill qty
  std::int64_t notional = 0;  // Σ fill qty × fill price
  std::uint64_t fill_hash = 0;
  std::uint64_t book_hash = 0;
  std::uint64_t resting_orders = 0;
  std::optional<Price> best_bid;
  std::optional<Price> best_ask;
  std::uint64_t cancel_rejects = 0;  // X lines whose order was not live
  double seconds = 0;                // throughput pass, matching only
  double events_per_sec = 0;
  // CPU time of the throughput pass. On a busy machine `seconds` includes
  // time spent waiting for a CPU; this does not.
  double cpu_seconds = 0;
  LatencyNs latency_ns;
  // Engine mode: BookLevelChanged events the throughput pass emitted (0
  // with market data off, and in book mode). Not a --json key.
  std::uint64_t market_data_events = 0;
};

// Replays `stream`. Errors: Internal if the code under test misbehaves
// (the two passes disagree, an order the stream sends is refused, the
// engine's invariants fail afterwards); the message says what happened.
[[nodiscard]] Result<ReplayReport> ReplayStream(const Stream& stream,
                                                const ReplayOptions& options);

// ---- Engine mode's building blocks. ----

// How engine mode maps the stream onto accounts. Order n (its stream id) on
// the buy side belongs to buyer account (n mod accounts_per_side) + 1; on the
// sell side to seller account accounts_per_side + (n mod accounts_per_side)
// + 1. Every account is funded far beyond what the stream can use, has no
// holding limit, and broker 1 is entitled to all of them.
struct SyntheticAccounts {
  std::uint32_t accounts_per_side = 8;
  Cash cash_per_account{1'000'000'000'000'000};   // 10^15 tiyn
  Quantity units_per_account{1'000'000'000'000};  // 10^12 units
};

inline constexpr InstrumentId kReplayInstrument{1};
inline constexpr BrokerId kReplayBroker{1};

// The registry state engine mode starts from: one instrument (tick 1, max
// order quantity kMaxQty, open) and the funded accounts of `accounts`.
[[nodiscard]] AccountState MakeReplayAccountState(
    const SyntheticAccounts& accounts);

// Translates the stream into engine commands: `A` → PlaceOrder (GTC limit,
// ClOrdID = the decimal stream id), `X` → CancelOrder by that ClOrdID.
// Sequence numbers and times count 1, 2, 3, … .
[[nodiscard]] std::vector<engine::Command> StreamToCommands(
    const Stream& stream, const SyntheticAccounts& accounts);

// What an engine replay produced, in engine terms. Trades name engine order
// ids; `accepted` pairs each accepted order's engine id with the ClOrdID
// it was placed with, in acceptance order.
struct EngineRun {
  struct Trade {
    OrderId taker;
    OrderId maker;
    Price price;
    Quantity qty;
  };
  std::vector<Trade> trades;
  std::vector<std::pair<OrderId, ClientOrderId>> accepted;
  std::uint64_t orders_rejected = 0;
  std::uint64_t cancel_rejects = 0;
  std::uint64_t market_data_events = 0;  // BookLevelChanged
  std::uint64_t engine_state_hash = 0;
  std::uint64_t resting_orders = 0;
  std::optional<Price> best_bid;  // of kReplayInstrument
  std::optional<Price> best_ask;
  // Resting orders of kReplayInstrument with engine ids, bids best→worst
  // then asks best→worst, FIFO within a level.
  std::vector<RestingOrder> book;
  double seconds = 0;
  double cpu_seconds = 0;
  LatencyNs latency_ns;
};

// Executes `commands` on a fresh Engine loaded with `state`, twice as
// described above, and returns the first pass's results. The final book is
// rebuilt from FindOrder() on every accepted order, FIFO taken as acceptance
// order: exact for streams, which never replace orders.
// Errors: Internal if the passes disagree or CheckInvariants() fails
// afterwards.
[[nodiscard]] Result<EngineRun> ReplayCommands(
    const AccountState& state, std::span<const engine::Command> commands,
    const ReplayOptions& options);

// Nearest-rank percentiles of `samples` (reordered in place). All zero when
// `samples` is empty.
[[nodiscard]] LatencyNs Percentiles(std::vector<std::uint32_t>* samples);

// The average cost of one std::chrono::steady_clock::now() call on this
// machine, in nanoseconds (measured over many back-to-back calls). Each
// latency sample contains about one such call.
[[nodiscard]] double ClockOverheadNs();

}  // namespace carbonex::stream

#endif  // CARBONEX_STREAM_REPLAY_H_
