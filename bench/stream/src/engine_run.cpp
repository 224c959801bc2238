#include <algorithm>
#include <array>
#include <span>
#include <type_traits>
#include <variant>
#include <vector>

#include "carbonex/engine/engine.h"
#include "carbonex/engine/events.h"
#include "carbonex/stream/replay.h"
#include "replay_internal.h"

namespace carbonex::stream {
namespace {

using internal::SortBook;
using internal::TimeEach;
using internal::TimeWhole;

// Position of T in a std::variant's alternatives.
template <typename T, typename... Ts>
constexpr std::size_t IndexIn(const std::variant<Ts...>* /*unused*/) {
  constexpr std::array<bool, sizeof...(Ts)> kSame{std::is_same_v<T, Ts>...};
  for (std::size_t i = 0; i < kSame.size(); ++i) {
    if (kSame[i]) return i;
  }
  return kSame.size();
}
template <typename T>
constexpr std::size_t kIndex =
    IndexIn<T>(static_cast<const engine::EventBody*>(nullptr));

// Records what ReplayCommands reports and counts the market data, as a
// server's sink hands events on: one switch on the event kind, no copy of
// the event, no per-event work beyond that for the ones not recorded.
// Trades and accepted orders are written into buffers sized (and touched)
// before the timed loop; Finish() trims them to what was written.
class RecordingSink final : public engine::EventSink {
 public:
  RecordingSink(EngineRun* run, std::size_t commands) : run_(run) {
    // A command accepts at most one order; each fill removes its maker or
    // completes its taker, so a stream of n commands has at most 2n fills.
    run_->trades.assign(2 * commands, EngineRun::Trade{});
    run_->accepted.assign(commands, {});
  }

  void Finish() {
    run_->trades.resize(trades_);
    run_->accepted.resize(accepted_);
  }

  void OnEvent(const engine::Event& event) override {
    switch (event.body.index()) {
      case kIndex<engine::BookLevelChanged>:
        ++run_->market_data_events;
        break;
      case kIndex<engine::TradeExecuted>: {
        const auto& trade = *std::get_if<engine::TradeExecuted>(&event.body);
        const bool buy_took = trade.aggressor == Side::kBuy;
        const EngineRun::Trade record{
            buy_took ? trade.buy_order : trade.sell_order,
            buy_took ? trade.sell_order : trade.buy_order, trade.price,
            trade.qty};
        if (trades_ < run_->trades.size()) {
          run_->trades[trades_] = record;
        } else {
          Grow(&run_->trades, record);
        }
        ++trades_;
        break;
      }
      case kIndex<engine::OrderAccepted>: {
        const auto& accepted = *std::get_if<engine::OrderAccepted>(&event.body);
        std::pair<OrderId, ClientOrderId> record{accepted.order.order_id,
                                                 accepted.order.cl_ord_id};
        if (accepted_ < run_->accepted.size()) {
          run_->accepted[accepted_] = record;
        } else {
          Grow(&run_->accepted, record);
        }
        ++accepted_;
        break;
      }
      case kIndex<engine::CancelRejected>:
        ++run_->cancel_rejects;
        break;
      case kIndex<engine::OrderRejected>:
        ++run_->orders_rejected;
        break;
      default:
        break;
    }
  }

 private:
  // Past the sized buffer (a command source that breaks the bounds above):
  // append, out of the common path.
  template <typename T>
  [[gnu::noinline]] static void Grow(std::vector<T>* buffer, const T& item) {
    buffer->push_back(item);
  }

  EngineRun* run_;
  std::size_t trades_ = 0;
  std::size_t accepted_ = 0;
};

Result<EngineRun> RunEnginePass(const AccountState& state,
                                std::span<const engine::Command> commands,
                                const ReplayOptions& options,
                                std::vector<std::uint32_t>* latency_samples) {
  EngineRun run;
  RecordingSink sink(&run, commands.size());
  engine::EngineOptions engine_options;
  engine_options.expected_orders = options.expected_orders;
  // The stream is one trading day: make room for its done orders up front
  // (at most one per command), as a server does for a day's expected flow.
  engine_options.expected_done_orders = commands.size();
  engine_options.emit_market_data = options.market_data;
  engine_options.risk_checks = true;
  engine::Engine engine(engine_options, state, &sink);
  const engine::Command* data = commands.data();
  auto step = [&engine, data](std::size_t i) { engine.Execute(data[i]); };
  if (latency_samples == nullptr) {
    const internal::LoopTime time = TimeWhole(commands.size(), step);
    run.seconds = time.wall_seconds;
    run.cpu_seconds = time.cpu_seconds;
  } else {
    TimeEach(commands.size(), step, latency_samples);
  }
  sink.Finish();
  if (Status status = engine.CheckInvariants(); !status.ok()) {
    return Status::Internal("engine invariant violated after replay: " +
                            status.message());
  }
  run.engine_state_hash = engine.StateHash();
  run.resting_orders = engine.RestingOrderCount();
  const engine::DepthSnapshot depth = engine.Depth(kReplayInstrument, 1);
  if (!depth.bids.empty()) {
    run.best_bid = depth.bids.front().price;
  }
  if (!depth.asks.empty()) {
    run.best_ask = depth.asks.front().price;
  }
  for (const auto& [id, cl_ord_id] : run.accepted) {
    const std::optional<engine::OrderView> order = engine.FindOrder(id);
    if (!order.has_value() || order->instrument != kReplayInstrument ||
        order->leaves_qty.value() <= 0 || !order->price.has_value() ||
        (order->status != engine::OrderStatus::kNew &&
         order->status != engine::OrderStatus::kPartiallyFilled)) {
      continue;
    }
    run.book.push_back(
        RestingOrder{id, order->side, *order->price, order->leaves_qty});
  }
  SortBook(&run.book);
  return run;
}

bool SameTrades(const EngineRun& a, const EngineRun& b) {
  return std::equal(a.trades.begin(), a.trades.end(), b.trades.begin(),
                    b.trades.end(),
                    [](const EngineRun::Trade& x, const EngineRun::Trade& y) {
                      return x.taker == y.taker && x.maker == y.maker &&
                             x.price == y.price && x.qty == y.qty;
                    });
}

}  // namespace

Result<EngineRun> ReplayCommands(const AccountState& state,
                                 std::span<const engine::Command> commands,
                                 const ReplayOptions& options) {
  Result<EngineRun> first = RunEnginePass(state, commands, options, nullptr);
  if (!first.ok() || !options.measure_latency) {
    return first;
  }
  std::vector<std::uint32_t> samples;
  Result<EngineRun> second = RunEnginePass(state, commands, options, &samples);
  if (!second.ok()) {
    return second.status();
  }
  if (!SameTrades(*first, *second) ||
      first->engine_state_hash != second->engine_state_hash ||
      first->cancel_rejects != second->cancel_rejects ||
      first->market_data_events != second->market_data_events ||
      first->orders_rejected != second->orders_rejected) {
    return Status::Internal(
        "the engine gave different results on the second pass over the same "
        "commands");
  }
  first->latency_ns = Percentiles(&samples);
  return first;
}

}  // namespace carbonex::stream
