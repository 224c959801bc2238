// Engine: the deterministic heart of the exchange.
//
// An Engine owns one price-time order book per instrument and the pre-trade
// risk state of every account (held and reserved units and cash, holding
// limits, broker entitlements). It executes one Command at a time and reports
// what happened as Events through the EventSink given at construction.
//
// Determinism: the engine reads no clock, draws no random number, does no
// I/O, uses no floating point and never orders output by hash or pointer
// values. The same AccountState and the same command sequence always produce
// the same events and the same StateHash().
//
// Thread-safety: none. An Engine is used by exactly one thread (the
// sequencer). It does not own the sink; the sink must outlive it.
#ifndef CARBONEX_ENGINE_ENGINE_H_
#define CARBONEX_ENGINE_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "carbonex/common/account_state.h"
#include "carbonex/common/status.h"
#include "carbonex/engine/commands.h"
#include "carbonex/engine/events.h"

namespace carbonex::engine {

struct EngineOptions {
  // Capacity reserved up front so that steady-state trading does not
  // allocate: orders live at once, across all books. The tables grow by
  // doubling past it; sizing it near the real peak keeps them in cache.
  std::size_t expected_orders = 1 << 20;
  // Done orders (filled, cancelled, expired) of one trading day to make
  // room for at construction. Done orders stay queryable until
  // ExpireDayOrders in a compact store of 96 bytes per order; room reserved
  // here is allocated and touched up front, so that trading does not pay
  // for fresh memory (page faults) on the first day. The store grows past
  // it as needed and keeps its memory for the following days.
  std::size_t expected_done_orders = 0;
  // Emit BookLevelChanged events (market data). Off for pure benchmarks.
  bool emit_market_data = true;
  // Check pre-trade risk (entitlements, units, cash, holding limits). Off
  // only for the book-only benchmark mode of carbonex-replay.
  bool risk_checks = true;
  // Open-order limits; 0 = unlimited (the default). A PlaceOrder that would
  // give its account more than max_open_orders_per_account open orders, or
  // its broker more than max_open_orders_per_broker, is rejected with
  // RejectReason::kOpenOrderLimit and changes nothing. An order is open
  // while it rests in a book; a done order (filled, cancelled, expired)
  // frees its place. Replaces do not count as new orders. Operator orders
  // (kOperatorBroker) are subject to the account limit only. Applied with
  // and without risk_checks. The limits are settings, not state: they are
  // not part of snapshots or StateHash(), and a restored engine applies the
  // options it is given.
  std::uint32_t max_open_orders_per_account = 0;
  std::uint32_t max_open_orders_per_broker = 0;
};

// One aggregated price level, for depth snapshots.
struct LevelView {
  Price price;
  Quantity total_qty;
  std::uint32_t order_count = 0;
};

struct DepthSnapshot {
  InstrumentId instrument;
  std::vector<LevelView> bids;  // best first
  std::vector<LevelView> asks;  // best first
};

// Risk view of one account for one instrument, and of its cash.
struct PositionView {
  Quantity held;
  Quantity reserved;      // by open sells
  Quantity pending_buys;  // open buy quantity (holding-limit check)
};
struct CashView {
  Cash held;
  Cash reserved;  // by open buys
};

class Engine {
 public:
  // Loads the starting account state. `sink` must outlive the engine.
  Engine(const EngineOptions& options, const AccountState& state,
         EventSink* sink);
  ~Engine();
  Engine(const Engine&) = delete;

  // Like the constructor, but first checks `state`: ids unique, ticks and
  // maximum order quantities in range, no negative cash, units or holding
  // limit, holdings and entitlements only for listed accounts (and
  // instruments). Returns InvalidArgument naming the first bad entry.
  // (The constructor's precondition is such a valid state.)
  [[nodiscard]] static Result<std::unique_ptr<Engine>> Create(
      const EngineOptions& options, const AccountState& state, EventSink* sink);

  Engine& operator=(const Engine&) = delete;

  // Executes one command and emits its events before returning.
  // Precondition: command.header.seq is greater than every earlier one.
  // Never fails: every refusal is an event.
  void Execute(const Command& command);

  // Market data and risk queries; they do not change state.
  [[nodiscard]] DepthSnapshot Depth(InstrumentId instrument,
                                    std::size_t max_levels) const;
  [[nodiscard]] std::optional<OrderView> FindOrder(OrderId id) const;
  [[nodiscard]] PositionView Position(AccountId account,
                                      InstrumentId instrument) const;
  [[nodiscard]] CashView CashOf(AccountId account) const;
  [[nodiscard]] std::size_t RestingOrderCount() const;

  // A 64-bit digest of the whole state: books (every resting order, in
  // priority order), account balances and reservations, id counters.
  [[nodiscard]] std::uint64_t StateHash() const;

  // Checks: no crossed book, level totals equal their orders, reservations
  // equal what open orders need, no negative balance. Returns the first
  // violation found, or OK.
  [[nodiscard]] Status CheckInvariants() const;

  // The whole state as bytes (format in docs/engine.md), and back. Restoring
  // a snapshot and executing the commands after it gives the same events and
  // StateHash() as executing everything from the start.
  [[nodiscard]] std::vector<std::uint8_t> SaveSnapshot() const;
  [[nodiscard]] static Result<std::unique_ptr<Engine>> LoadSnapshot(
      const EngineOptions& options, const std::vector<std::uint8_t>& bytes,
      EventSink* sink);

 private:
  class Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carbonex::engine

#endif  // CARBONEX_ENGINE_ENGINE_H_
