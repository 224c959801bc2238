#include "carbonex/loadgen/load_runner.h"

#include <quickfix/FieldNumbers.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "carbonex/fixclient/fake_exchange.h"
#include "carbonex/stream/generator.h"
#include "carbonex/stream/stream.h"

namespace carbonex::loadgen {
namespace {

using namespace std::chrono_literals;
using fixclient::FakeExchange;

LoadOptions OptionsFor(const FakeExchange& exchange) {
  LoadOptions options;
  options.port = exchange.Port();
  options.sessions = 2;
  options.comp_id_prefix = "LG";
  options.passwords = {{"LG1", "pw1"}, {"LG2", "pw2"}};
  options.accounts = {"KZ-OP-0001", "KZ-OP-0002"};
  options.symbols = {"KZQ-2019", "KZO-2025"};
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread starts.
  const char* seed = std::getenv("CARBONEX_SEED");
  options.generator.seed =
      seed != nullptr ? std::strtoull(seed, nullptr, 10) : 7;
  options.logon_timeout = 5000ms;
  options.drain_timeout = 5000ms;
  return options;
}

}  // namespace

TEST_CASE("a bounded run gets every request acknowledged",
          "[loadgen][runner]") {
  // With TCP_NODELAY, and with Nagle's algorithm coalescing the orders in
  // flight (--nagle); each with one write per order, and with the orders
  // ready together written together (--batch-writes).
  const bool nagle = GENERATE(false, true);
  const bool batch_writes = GENERATE(false, true);
  FakeExchange exchange({.passwords = {{"LG1", "pw1"}, {"LG2", "pw2"}}});
  REQUIRE(exchange.Start().ok());
  LoadOptions options = OptionsFor(exchange);
  INFO("seed " << options.generator.seed << ", nagle " << nagle
               << ", batch_writes " << batch_writes);
  options.count = 400;
  options.window = 8;
  options.nagle = nagle;
  options.batch_writes = batch_writes;
  std::atomic<int> progress_calls{0};
  Result<LoadReport> report =
      RunLoad(options, [&](const Progress&) { ++progress_calls; });
  INFO(report.status().message());
  REQUIRE(report.ok());
  CHECK(report->orders_sent + report->cancels_sent == 400);
  CHECK(report->cancels_sent > 0);
  CHECK(report->acked == 400);
  CHECK(report->unacked == 0);
  CHECK(report->send_failures == 0);
  CHECK_FALSE(report->session_lost);
  CHECK(report->fills > 0);
  CHECK(report->rejected == 0);
  CHECK(report->cancel_rejects <= report->cancels_sent);
  CHECK(report->latencies_ns.size() == 400);
  CHECK(
      std::is_sorted(report->latencies_ns.begin(), report->latencies_ns.end()));
  CHECK(report->latency.count == 400);
  CHECK(report->latency.p50 > 0);
  CHECK(report->latency.max == report->latencies_ns.back());
  CHECK(report->throughput > 0);

  // The exchange saw exactly the new orders, spread over both sessions,
  // accounts and symbols, each with a unique ClOrdID.
  CHECK(exchange.OrdersReceived() == static_cast<int>(report->orders_sent));
  std::set<std::string> senders;
  std::set<std::string> accounts;
  std::set<std::string> symbols;
  std::set<std::string> ids;
  for (const FIX::Message& m : exchange.Received()) {
    senders.insert(m.getHeader().getField(FIX::FIELD::SenderCompID));
    ids.insert(m.getField(FIX::FIELD::ClOrdID));
    accounts.insert(m.getField(FIX::FIELD::Account));
    symbols.insert(m.getField(FIX::FIELD::Symbol));
  }
  CHECK(senders == std::set<std::string>{"LG1", "LG2"});
  CHECK(accounts.size() == 2);
  CHECK(symbols.size() == 2);
  CHECK(ids.size() == 400);
}

TEST_CASE("a stream file is replayed in order, cancels on the owning session",
          "[loadgen][runner]") {
  FakeExchange exchange({.passwords = {{"LG1", "pw1"}, {"LG2", "pw2"}}});
  REQUIRE(exchange.Start().ok());
  LoadOptions options = OptionsFor(exchange);
  INFO("seed " << options.generator.seed);
  options.window = 1;  // one request in flight: arrival order = stream order
  options.sessions = 1;
  options.generator.tick = Price(5);

  std::ostringstream text;
  stream::GeneratorOptions generator;
  generator.events = 300;
  generator.seed = options.generator.seed;
  REQUIRE(stream::GenerateStream(generator, text).ok());
  const auto path = std::filesystem::temp_directory_path() /
                    ("carbonex-loadgen-stream-" +
                     std::to_string(options.generator.seed) + ".txt");
  {
    std::ofstream file(path);
    file << text.str();
  }
  options.stream_file = path.string();
  options.count = 250;  // the first 250 of the file's 300 events
  Result<LoadReport> report = RunLoad(options, {});
  std::filesystem::remove(path);
  INFO(report.status().message());
  REQUIRE(report.ok());
  CHECK(report->acked == 250);

  Result<stream::Stream> expected = stream::ParseStream(text.str());
  REQUIRE(expected.ok());
  const std::vector<FIX::Message> received = exchange.Received();
  REQUIRE(received.size() == 250);
  std::vector<std::string> cl_ord_ids;  // by stream order id - 1
  for (std::size_t i = 0; i < received.size(); ++i) {
    const stream::StreamEvent& event = expected->events[i];
    const FIX::Message& m = received[i];
    if (event.kind == stream::EventKind::kAdd) {
      REQUIRE(m.getHeader().getField(FIX::FIELD::MsgType) == "D");
      CHECK(m.getField(FIX::FIELD::Side) ==
            (event.side == Side::kBuy ? "1" : "2"));
      CHECK(m.getField(FIX::FIELD::Price) ==
            fixclient::FormatPrice(Price(event.price.value() * 5)));
      CHECK(m.getField(FIX::FIELD::OrderQty) ==
            std::to_string(event.qty.value()));
      cl_ord_ids.push_back(m.getField(FIX::FIELD::ClOrdID));
    } else {
      REQUIRE(m.getHeader().getField(FIX::FIELD::MsgType) == "F");
      CHECK(m.getField(FIX::FIELD::OrigClOrdID) ==
            cl_ord_ids.at(event.order_id.value() - 1));
    }
  }
}

TEST_CASE("the generator flow cancels only orders it knows live",
          "[loadgen][runner]") {
  FakeExchange exchange(
      {.passwords = {{"LG1", "pw1"}, {"LG2", "pw2"}}, .match = false});
  REQUIRE(exchange.Start().ok());
  LoadOptions options = OptionsFor(exchange);
  options.flow = LoadOptions::Flow::kGenerator;
  options.count = 300;
  options.window = 4;
  Result<LoadReport> report = RunLoad(options, {});
  REQUIRE(report.ok());
  CHECK(report->acked == 300);
  CHECK(report->cancels_sent > 0);
  // Nothing trades on a non-matching exchange, so every cancel names an
  // order that is still resting.
  CHECK(report->cancel_rejects == 0);
  CHECK(report->fills == 0);
}

TEST_CASE("a paced run sends no faster than the rate", "[loadgen][runner]") {
  FakeExchange exchange({.passwords = {{"LG1", "pw1"}, {"LG2", "pw2"}}});
  REQUIRE(exchange.Start().ok());
  LoadOptions options = OptionsFor(exchange);
  options.count = 50;
  options.rate = 100;  // the 50th request is due at 0.49 s
  Result<LoadReport> report = RunLoad(options, {});
  REQUIRE(report.ok());
  CHECK(report->acked == 50);
  CHECK(report->elapsed_s >= 0.49);
}

TEST_CASE("a run stops at its duration", "[loadgen][runner]") {
  FakeExchange exchange({.passwords = {{"LG1", "pw1"}, {"LG2", "pw2"}}});
  REQUIRE(exchange.Start().ok());
  LoadOptions options = OptionsFor(exchange);
  options.count = 5000;
  options.rate = 100;
  options.duration = 300ms;  // due times 0, 10, ..., 290 ms: 30 requests
  Result<LoadReport> report = RunLoad(options, {});
  REQUIRE(report.ok());
  const std::uint64_t sent = report->orders_sent + report->cancels_sent;
  CHECK(sent <= 30);
  CHECK(sent >= 1);
  CHECK(report->acked == sent);
}

TEST_CASE("a session that cannot log on fails the run", "[loadgen][runner]") {
  FakeExchange exchange({.passwords = {{"LG1", "pw1"}, {"LG2", "pw2"}}});
  REQUIRE(exchange.Start().ok());
  LoadOptions options = OptionsFor(exchange);
  options.passwords["LG2"] = "wrong";
  options.logon_timeout = 1500ms;
  Result<LoadReport> report = RunLoad(options, {});
  REQUIRE_FALSE(report.ok());
  CHECK(report.status().code() == StatusCode::kFailedPrecondition);
  CHECK(report.status().message().find("LG2") != std::string::npos);
  CHECK(exchange.OrdersReceived() == 0);
}

TEST_CASE("bad load options are refused", "[loadgen][runner]") {
  LoadOptions options;
  options.accounts = {"A"};
  options.symbols = {"S"};
  SECTION("no symbols") {
    options.symbols.clear();
    CHECK(RunLoad(options, {}).status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("no accounts") {
    options.accounts.clear();
    CHECK(RunLoad(options, {}).status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("window") {
    options.window = 0;
    CHECK(RunLoad(options, {}).status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("mix") {
    options.generator.passive_pct = 101;
    CHECK(RunLoad(options, {}).status().code() == StatusCode::kInvalidArgument);
  }
}

}  // namespace carbonex::loadgen
