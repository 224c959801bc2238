#include <algorithm>
#include <charconv>
#include <string>
#include <unordered_map>

#include "carbonex/engine/commands.h"
#include "carbonex/stream/replay.h"
#include "replay_internal.h"

namespace carbonex::stream {
namespace {

ClientOrderId DecimalId(char prefix, std::uint64_t id) {
  std::array<char, 24> text{};
  std::size_t start = 0;
  if (prefix != '\0') {
    text[0] = prefix;
    start = 1;
  }
  auto [end, ec] =
      std::to_chars(text.data() + start, text.data() + text.size(), id);
  return ClientOrderId(std::string_view(
      text.data(), static_cast<std::size_t>(end - text.data())));
}

}  // namespace

Result<ReplayReport> internal::ReplayEngine(const Stream& stream,
                                            const ReplayOptions& options) {
  const SyntheticAccounts accounts;
  const std::vector<engine::Command> commands =
      StreamToCommands(stream, accounts);
  // EngineOptions::expected_orders is the live peak (the engine moves done
  // orders out of its hot tables), which options.expected_orders covers.
  const ReplayOptions& engine_options = options;
  Result<EngineRun> run = ReplayCommands(MakeReplayAccountState(accounts),
                                         commands, engine_options);
  if (!run.ok()) {
    return run.status();
  }
  if (run->orders_rejected != 0) {
    return Status::Internal("the engine rejected " +
                            std::to_string(run->orders_rejected) +
                            " of the stream's orders");
  }
  // Engine order id → stream order id, from the ClOrdIDs.
  std::unordered_map<std::uint64_t, std::uint64_t> stream_id;
  stream_id.reserve(run->accepted.size());
  for (const auto& [id, cl_ord_id] : run->accepted) {
    const std::string_view text = cl_ord_id.view();
    std::uint64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    stream_id.emplace(id.value(), value);
  }
  auto to_stream = [&stream_id](OrderId id) {
    auto it = stream_id.find(id.value());
    return it == stream_id.end() ? OrderId(0) : OrderId(it->second);
  };
  std::vector<Fill> fills;
  fills.reserve(run->trades.size());
  for (const EngineRun::Trade& trade : run->trades) {
    fills.push_back(Fill{to_stream(trade.taker), to_stream(trade.maker),
                         trade.price, trade.qty});
  }
  for (RestingOrder& order : run->book) {
    order.id = to_stream(order.id);
  }
  if (run->book.size() != run->resting_orders) {
    return Status::Internal("engine reports " +
                            std::to_string(run->resting_orders) +
                            " resting orders but FindOrder shows " +
                            std::to_string(run->book.size()));
  }
  ReplayReport report;
  report.events = stream.events.size();
  internal::SummariseFills(fills, &report);
  report.book_hash = BookHash(run->book);
  report.resting_orders = run->resting_orders;
  report.best_bid = run->best_bid;
  report.best_ask = run->best_ask;
  report.cancel_rejects = run->cancel_rejects;
  report.market_data_events = run->market_data_events;
  report.seconds = run->seconds;
  report.cpu_seconds = run->cpu_seconds;
  report.latency_ns = run->latency_ns;
  return report;
}

AccountState MakeReplayAccountState(const SyntheticAccounts& accounts) {
  AccountState state;
  InstrumentState instrument;
  instrument.id = kReplayInstrument;
  instrument.symbol = "STREAM";
  instrument.tick = Price(1);
  instrument.max_order_qty = Quantity(kMaxQty);
  state.instruments.push_back(instrument);
  state.brokers.push_back(BrokerEntry{kReplayBroker, "REPLAY", false});
  const std::uint32_t count = 2 * accounts.accounts_per_side;
  for (std::uint32_t n = 1; n <= count; ++n) {
    const AccountId id(n);
    state.accounts.push_back(AccountEntry{id, "REPLAY-" + std::to_string(n),
                                          accounts.cash_per_account,
                                          std::nullopt});
    state.holdings.push_back(
        HoldingEntry{id, kReplayInstrument, accounts.units_per_account});
    state.entitlements.push_back(EntitlementEntry{kReplayBroker, id});
  }
  return state;
}

std::vector<engine::Command> StreamToCommands(
    const Stream& stream, const SyntheticAccounts& accounts) {
  const std::uint64_t per_side = std::max(accounts.accounts_per_side, 1U);
  auto account_of = [per_side](OrderId id, Side side) {
    const std::uint64_t offset = side == Side::kBuy ? 0 : per_side;
    return AccountId(
        static_cast<std::uint32_t>(offset + id.value() % per_side + 1));
  };
  // Side of every added order, by stream id, for the cancels.
  std::vector<Side> sides(static_cast<std::size_t>(stream.orders_added + 1),
                          Side::kBuy);
  std::vector<engine::Command> commands;
  commands.reserve(stream.events.size());
  std::uint64_t seq = 0;
  for (const StreamEvent& event : stream.events) {
    ++seq;
    engine::Command command;
    command.header.seq = SequenceNumber(seq);
    command.header.time = Timestamp(static_cast<std::int64_t>(seq));
    command.header.broker = kReplayBroker;
    if (event.kind == EventKind::kAdd) {
      sides[static_cast<std::size_t>(event.order_id.value())] = event.side;
      engine::PlaceOrder place;
      place.cl_ord_id = DecimalId('\0', event.order_id.value());
      place.account = account_of(event.order_id, event.side);
      place.instrument = kReplayInstrument;
      place.side = event.side;
      place.type = engine::OrderType::kLimit;
      place.price = event.price;
      place.qty = event.qty;
      place.tif = engine::TimeInForce::kGtc;
      command.body = place;
    } else {
      const Side side = sides[static_cast<std::size_t>(event.order_id.value())];
      engine::CancelOrder cancel;
      cancel.cl_ord_id = DecimalId('x', event.order_id.value());
      cancel.orig_cl_ord_id = DecimalId('\0', event.order_id.value());
      cancel.account = account_of(event.order_id, side);
      cancel.instrument = kReplayInstrument;
      cancel.side = side;
      command.body = cancel;
    }
    commands.push_back(command);
  }
  return commands;
}

}  // namespace carbonex::stream
