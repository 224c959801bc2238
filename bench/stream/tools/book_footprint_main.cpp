// carbonex-book-footprint: measures the heap bytes per resting order of the
// order book and of the engine (docs/benchmarks.md).
//
//   carbonex-book-footprint [--orders N] [--levels L]
//
// Builds a book (or engine) sized for N orders, rests N non-crossing orders
// spread over L price levels per side, and divides the growth of the heap in
// use (glibc mallinfo2: bytes handed out by malloc, mmap'd blocks included) by
// N. The figure includes everything the structure allocates for those orders:
// nodes, levels, the id index, and in engine mode the order records and risk
// state.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>

#include "carbonex/engine/engine.h"
#include "carbonex/engine/order_book.h"
#include "carbonex/stream/replay.h"
#include "carbonex/stream/stream.h"

namespace {

// Bytes malloc has handed out: small chunks (uordblks) plus the large ones
// it serves with mmap (hblkhd).
std::size_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// The i-th order: alternating sides, prices cycling over `levels` levels
// below 10000 (bids) and above it (asks), so nothing crosses.
carbonex::stream::StreamEvent OrderAt(std::uint64_t i, std::uint64_t levels) {
  carbonex::stream::StreamEvent event;
  event.kind = carbonex::stream::EventKind::kAdd;
  event.order_id = carbonex::OrderId(i + 1);
  event.side = i % 2 == 0 ? carbonex::Side::kBuy : carbonex::Side::kSell;
  const auto offset = static_cast<std::int64_t>((i / 2) % levels);
  event.price = carbonex::Price(
      event.side == carbonex::Side::kBuy ? 9999 - offset : 10001 + offset);
  event.qty = carbonex::Quantity(10);
  return event;
}

double BookBytesPerOrder(std::uint64_t orders, std::uint64_t levels) {
  const std::size_t before = HeapInUse();
  auto book = std::make_unique<carbonex::engine::OrderBook>(
      static_cast<std::size_t>(orders));
  for (std::uint64_t i = 0; i < orders; ++i) {
    const carbonex::stream::StreamEvent e = OrderAt(i, levels);
    book->AddLimit(e.order_id, e.side, e.price, e.qty,
                   [](const carbonex::engine::BookFill&) {});
  }
  if (book->RestingOrders() != orders) {
    std::cerr << "carbonex-book-footprint: book holds " << book->RestingOrders()
              << " orders, expected " << orders << '\n';
    std::exit(1);  // NOLINT(concurrency-mt-unsafe)
  }
  return static_cast<double>(HeapInUse() - before) /
         static_cast<double>(orders);
}

class NullSink final : public carbonex::engine::EventSink {
 public:
  void OnEvent(const carbonex::engine::Event& /*event*/) override {}
};

double EngineBytesPerOrder(std::uint64_t orders, std::uint64_t levels) {
  carbonex::stream::Stream stream;
  stream.header.events = orders;
  stream.orders_added = orders;
  for (std::uint64_t i = 0; i < orders; ++i) {
    stream.events.push_back(OrderAt(i, levels));
  }
  const carbonex::stream::SyntheticAccounts accounts;
  const carbonex::AccountState state =
      carbonex::stream::MakeReplayAccountState(accounts);
  const std::vector<carbonex::engine::Command> commands =
      carbonex::stream::StreamToCommands(stream, accounts);
  NullSink sink;
  carbonex::engine::EngineOptions options;
  options.expected_orders = static_cast<std::size_t>(orders);
  options.emit_market_data = false;
  const std::size_t before = HeapInUse();
  auto engine =
      std::make_unique<carbonex::engine::Engine>(options, state, &sink);
  for (const carbonex::engine::Command& command : commands) {
    engine->Execute(command);
  }
  if (engine->RestingOrderCount() != orders) {
    std::cerr << "carbonex-book-footprint: engine holds "
              << engine->RestingOrderCount() << " orders, expected " << orders
              << '\n';
    std::exit(1);  // NOLINT(concurrency-mt-unsafe)
  }
  return static_cast<double>(HeapInUse() - before) /
         static_cast<double>(orders);
}

int Run(int argc, char** argv) {
  std::uint64_t orders = 12'868;  // the canonical stream's peak
  std::uint64_t levels = 75;      // ~150 levels in all, as in that stream
  bool engine = false;
  CLI::App app{"Measures heap bytes per resting order."};
  app.add_option("--orders", orders, "resting orders")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  app.add_option("--levels", levels, "price levels per side")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{9'000}));
  app.add_flag("--engine", engine, "measure the full engine, not the book");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  const double bytes = engine ? EngineBytesPerOrder(orders, levels)
                              : BookBytesPerOrder(orders, levels);
  std::printf(
      "%s: %llu resting orders over %llu levels per side: %.1f heap "
      "bytes per resting order\n",
      engine ? "engine" : "book", static_cast<unsigned long long>(orders),
      static_cast<unsigned long long>(levels), bytes);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
