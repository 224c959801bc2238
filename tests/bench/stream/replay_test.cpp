#include "carbonex/stream/replay.h"

#include <catch2/catch.hpp>
#include <numeric>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "carbonex/stream/generator.h"
#include "carbonex/stream/reference_book.h"
#include "test_seed.h"

namespace carbonex::stream {
namespace {

Stream Parse(const std::string& text) {
  Result<Stream> stream = ParseStream(text);
  REQUIRE(stream.ok());
  return std::move(stream).value();
}

std::vector<ReplayMode> Modes() {
  return {ReplayMode::kBook, ReplayMode::kEngine};
}

ReplayReport Replay(const Stream& stream, ReplayMode mode) {
  ReplayOptions options;
  options.mode = mode;
  options.expected_orders = 16;  // exercise the book's growth too
  Result<ReplayReport> report = ReplayStream(stream, options);
  INFO((report.ok() ? std::string() : report.status().message()));
  REQUIRE(report.ok());
  return *report;
}

// A sweep across two levels whose remainder rests, a cancel of a filled
// order, and a passive order behind it. Fills worked out by hand.
constexpr const char* kSweep =
    "# ets-stream v1 events=7 seed=0 mid=100 target=10 mix=70/20/10\n"
    "A 1 S 101 10 p\n"
    "A 2 S 101 5 p\n"
    "A 3 S 102 7 p\n"
    "A 4 B 102 30 a\n"
    "A 5 S 103 6 p\n"
    "X 1\n"
    "A 6 B 100 4 p\n";

TEST_CASE("Replay of a hand-worked sweep", "[replay]") {
  const Stream stream = Parse(kSweep);
  const std::vector<Fill> fills = {
      {OrderId(4), OrderId(1), Price(101), Quantity(10)},
      {OrderId(4), OrderId(2), Price(101), Quantity(5)},
      {OrderId(4), OrderId(3), Price(102), Quantity(7)}};
  const std::vector<RestingOrder> book = {
      {OrderId(4), Side::kBuy, Price(102), Quantity(8)},
      {OrderId(6), Side::kBuy, Price(100), Quantity(4)},
      {OrderId(5), Side::kSell, Price(103), Quantity(6)}};
  for (ReplayMode mode : Modes()) {
    INFO("mode " << static_cast<int>(mode));
    const ReplayReport report = Replay(stream, mode);
    CHECK(report.events == 7);
    CHECK(report.fills == 3);
    CHECK(report.volume == 22);
    CHECK(report.notional == 1010 + 505 + 714);
    CHECK(report.fill_hash == FillHash(fills));
    CHECK(report.book_hash == BookHash(book));
    CHECK(report.resting_orders == 3);
    CHECK(report.best_bid == Price(102));
    CHECK(report.best_ask == Price(103));
    CHECK(report.cancel_rejects == 1);
  }
}

// A cancel from the middle of a FIFO queue, then two sells that trade with
// what is left of the level in time order.
constexpr const char* kQueue =
    "# ets-stream v1 events=6 seed=0 mid=100 target=10 mix=70/20/10\n"
    "A 1 B 100 5 p\n"
    "A 2 B 100 6 p\n"
    "A 3 B 100 7 p\n"
    "X 2\n"
    "A 4 S 99 8 a\n"
    "A 5 S 100 2 a\n";

TEST_CASE("Replay of a hand-worked queue with a cancel", "[replay]") {
  const Stream stream = Parse(kQueue);
  const std::vector<Fill> fills = {
      {OrderId(4), OrderId(1), Price(100), Quantity(5)},
      {OrderId(4), OrderId(3), Price(100), Quantity(3)},
      {OrderId(5), OrderId(3), Price(100), Quantity(2)}};
  const std::vector<RestingOrder> book = {
      {OrderId(3), Side::kBuy, Price(100), Quantity(2)}};
  for (ReplayMode mode : Modes()) {
    INFO("mode " << static_cast<int>(mode));
    const ReplayReport report = Replay(stream, mode);
    CHECK(report.fills == 3);
    CHECK(report.volume == 10);
    CHECK(report.notional == 1000);
    CHECK(report.fill_hash == FillHash(fills));
    CHECK(report.book_hash == BookHash(book));
    CHECK(report.resting_orders == 1);
    CHECK(report.best_bid == Price(100));
    CHECK_FALSE(report.best_ask.has_value());
    CHECK(report.cancel_rejects == 0);
  }
}

// The results of `stream` according to the reference book.
ReplayReport ReferenceReplay(const Stream& stream) {
  ReferenceBook book;
  std::vector<Fill> fills;
  ReplayReport report;
  report.events = stream.events.size();
  for (const StreamEvent& event : stream.events) {
    if (event.kind == EventKind::kAdd) {
      book.Add(event.order_id, event.side, event.price, event.qty, &fills);
    } else if (!book.Cancel(event.order_id)) {
      ++report.cancel_rejects;
    }
  }
  report.fills = fills.size();
  for (const Fill& fill : fills) {
    report.volume += fill.qty.value();
    report.notional += fill.qty.value() * fill.price.value();
  }
  report.fill_hash = FillHash(fills);
  report.book_hash = BookHash(book.Snapshot());
  report.resting_orders = book.RestingOrders();
  report.best_bid = book.BestBid();
  report.best_ask = book.BestAsk();
  return report;
}

// Generated streams with X lines re-targeted at random ids, so that cancels
// of filled and cancelled orders occur too.
Stream RandomStream(std::uint64_t seed, int variant) {
  GeneratorOptions options;
  options.events = 20'000;
  options.seed = seed;
  options.target = variant == 0 ? 8000 : 40;
  options.passive_pct = variant == 2 ? 40 : 70;
  options.aggressive_pct = variant == 2 ? 30 : 20;
  std::ostringstream out;
  REQUIRE(GenerateStream(options, out).ok());
  Stream stream = Parse(out.str());
  if (variant == 1) {
    SplitMix64 rng(seed ^ 0x5eedULL);
    std::uint64_t added = 0;
    for (StreamEvent& event : stream.events) {
      if (event.kind == EventKind::kAdd) {
        ++added;
      } else if (rng.Below(2) == 0) {
        event.order_id = OrderId(1 + rng.Below(added));
      }
    }
  }
  return stream;
}

TEST_CASE("Replay agrees with the reference book on random streams",
          "[replay]") {
  const std::uint64_t seed = TestSeed("replay vs reference book");
  for (int variant = 0; variant < 3; ++variant) {
    const Stream stream =
        RandomStream(seed + static_cast<std::uint64_t>(variant), variant);
    const ReplayReport expected = ReferenceReplay(stream);
    if (variant == 1) {
      CHECK(expected.cancel_rejects > 0);
    }
    for (ReplayMode mode : Modes()) {
      INFO("variant " << variant << " mode " << static_cast<int>(mode));
      const ReplayReport report = Replay(stream, mode);
      CHECK(report.events == expected.events);
      CHECK(report.fills == expected.fills);
      CHECK(report.volume == expected.volume);
      CHECK(report.notional == expected.notional);
      CHECK(report.fill_hash == expected.fill_hash);
      CHECK(report.book_hash == expected.book_hash);
      CHECK(report.resting_orders == expected.resting_orders);
      CHECK(report.best_bid == expected.best_bid);
      CHECK(report.best_ask == expected.best_ask);
      CHECK(report.cancel_rejects == expected.cancel_rejects);
      CHECK(report.seconds > 0);
      CHECK(report.latency_ns.p50 <= report.latency_ns.p99);
      CHECK(report.latency_ns.p99 <= report.latency_ns.p999);
      CHECK(report.latency_ns.p999 <= report.latency_ns.max);
    }
  }
}

TEST_CASE("Without the latency pass the latency figures are zero", "[replay]") {
  ReplayOptions options;
  options.measure_latency = false;
  Result<ReplayReport> report = ReplayStream(Parse(kSweep), options);
  REQUIRE(report.ok());
  CHECK(report->fills == 3);
  CHECK(report->latency_ns.max == 0);
  CHECK(report->latency_ns.p50 == 0);
}

TEST_CASE("Engine mode counts market data unless it is turned off",
          "[replay]") {
  // Level changes per command of kSweep, worked by hand: ask 101 appears
  // (1), grows (1), ask 102 appears (1); order 4 empties asks 101 and 102
  // and rests bid 102 (3); ask 103 (1); the cancel of filled order 1 is
  // refused and changes nothing (0); bid 100 (1).
  ReplayOptions options;
  options.mode = ReplayMode::kEngine;
  Result<ReplayReport> on = ReplayStream(Parse(kSweep), options);
  REQUIRE(on.ok());
  CHECK(on->market_data_events == 8);
  CHECK(on->fills == 3);
  options.market_data = false;
  Result<ReplayReport> off = ReplayStream(Parse(kSweep), options);
  REQUIRE(off.ok());
  CHECK(off->market_data_events == 0);
  CHECK(off->fill_hash == on->fill_hash);
  CHECK(off->book_hash == on->book_hash);
}

TEST_CASE("Percentiles use the nearest rank", "[replay]") {
  std::vector<std::uint32_t> samples(1000);
  std::iota(samples.begin(), samples.end(), 1U);
  std::reverse(samples.begin(), samples.end());
  const LatencyNs latency = Percentiles(&samples);
  CHECK(latency.p50 == 500);
  CHECK(latency.p99 == 990);
  CHECK(latency.p999 == 999);
  CHECK(latency.max == 1000);

  std::vector<std::uint32_t> one = {42};
  const LatencyNs single = Percentiles(&one);
  CHECK(single.p50 == 42);
  CHECK(single.max == 42);

  std::vector<std::uint32_t> none;
  CHECK(Percentiles(&none).max == 0);
}

TEST_CASE("Engine-mode commands put buys and sells on disjoint accounts",
          "[replay]") {
  const Stream stream = Parse(kSweep);
  SyntheticAccounts accounts;
  accounts.accounts_per_side = 2;
  const std::vector<engine::Command> commands =
      StreamToCommands(stream, accounts);
  REQUIRE(commands.size() == 7);
  for (std::size_t i = 0; i < commands.size(); ++i) {
    CHECK(commands[i].header.seq == SequenceNumber(i + 1));
    CHECK(commands[i].header.broker == kReplayBroker);
  }
  const auto& sell = std::get<engine::PlaceOrder>(commands[0].body);
  CHECK(sell.cl_ord_id.view() == "1");
  CHECK(sell.side == Side::kSell);
  CHECK(sell.account == AccountId(2 + 1 % 2 + 1));
  CHECK(sell.price == Price(101));
  CHECK(sell.qty == Quantity(10));
  CHECK(sell.tif == engine::TimeInForce::kGtc);
  const auto& buy = std::get<engine::PlaceOrder>(commands[3].body);
  CHECK(buy.account == AccountId(4 % 2 + 1));
  // The cancel of order 1 carries order 1's side and account.
  const auto& cancel = std::get<engine::CancelOrder>(commands[5].body);
  CHECK(cancel.orig_cl_ord_id.view() == "1");
  CHECK(cancel.cl_ord_id.view() == "x1");
  CHECK(cancel.side == Side::kSell);
  CHECK(cancel.account == sell.account);

  const AccountState state = MakeReplayAccountState(accounts);
  REQUIRE(state.instruments.size() == 1);
  CHECK(state.instruments[0].id == kReplayInstrument);
  CHECK(state.accounts.size() == 4);
  CHECK(state.holdings.size() == 4);
  CHECK(state.entitlements.size() == 4);
  for (const AccountEntry& account : state.accounts) {
    CHECK(account.cash == accounts.cash_per_account);
    CHECK_FALSE(account.holding_limit.has_value());
  }
}

}  // namespace
}  // namespace carbonex::stream
