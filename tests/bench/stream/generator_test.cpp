#include "carbonex/stream/generator.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "carbonex/stream/reference_book.h"
#include "carbonex/stream/stream.h"
#include "test_seed.h"

namespace carbonex::stream {
namespace {

std::string Generate(const GeneratorOptions& options,
                     GeneratorStats* stats = nullptr) {
  std::ostringstream out;
  Result<GeneratorStats> result = GenerateStream(options, out);
  REQUIRE(result.ok());
  if (stats != nullptr) {
    *stats = *result;
  }
  return out.str();
}

GeneratorOptions Options(std::uint64_t events, std::uint64_t seed) {
  GeneratorOptions options;
  options.events = events;
  options.seed = seed;
  return options;
}

TEST_CASE("SplitMix64 produces the reference sequence", "[generator]") {
  // Reference values of splitmix64 seeded with 0 (Vigna's splitmix64.c).
  SplitMix64 rng(0);
  CHECK(rng.Next() == 0xe220a8397b1dcdafULL);
  CHECK(rng.Next() == 0x6e789e6aa1b965f4ULL);
  CHECK(rng.Next() == 0x06c45d188009454fULL);
}

TEST_CASE("The seed-42 stream starts like the canonical one", "[generator]") {
  // The first lines of the published canonical stream (stream_1m_s42.txt).
  GeneratorOptions options = Options(1'000'000, 42);
  options.events = 18;
  const std::string text = Generate(options);
  CHECK(text ==
        "# ets-stream v1 events=18 seed=42 mid=10000 target=8000 mix=70/20/10\n"
        "A 1 S 10011 90 p\nA 2 S 10013 90 p\nA 3 B 9954 90 p\n"
        "A 4 S 9955 20 p\nA 5 S 9950 60 a\nA 6 S 9998 80 p\n"
        "A 7 S 10013 30 p\nA 8 S 9959 40 p\nA 9 B 9953 80 p\n"
        "A 10 B 9955 70 a\nA 11 S 9957 100 p\nA 12 B 9961 40 a\n"
        "A 13 B 9956 50 p\nA 14 B 9955 30 p\nA 15 S 9955 30 a\n"
        "A 16 B 9957 50 a\nA 17 S 9957 50 p\nX 13\n");
}

TEST_CASE("Generation is deterministic and depends on the seed",
          "[generator]") {
  const std::string a = Generate(Options(5'000, 7));
  const std::string b = Generate(Options(5'000, 7));
  const std::string c = Generate(Options(5'000, 8));
  CHECK(a == b);
  CHECK(a != c);
}

// Replays a generated stream through the reference book and checks the
// format's promises: ids in sequence, `p` orders do not cross when they are
// generated, `a` orders are priced 0..4 ticks through the opposite best,
// every X names a live order, and the counts agree with the stats.
void CheckStreamPromises(const GeneratorOptions& options) {
  GeneratorStats stats;
  const std::string text = Generate(options, &stats);
  Result<Stream> stream = ParseStream(text);
  REQUIRE(stream.ok());
  CHECK(stream->header.events == options.events);
  CHECK(stream->header.passive_pct == options.passive_pct);
  CHECK(stream->header.aggressive_pct == options.aggressive_pct);
  CHECK(stream->header.cancel_pct ==
        100 - options.passive_pct - options.aggressive_pct);
  ReferenceBook book(Price(options.mid));
  std::uint64_t passive = 0;
  std::uint64_t aggressive = 0;
  std::uint64_t cancels = 0;
  for (const StreamEvent& event : stream->events) {
    if (event.kind == EventKind::kCancel) {
      ++cancels;
      REQUIRE(book.Cancel(event.order_id));
      continue;
    }
    const std::optional<Price> bid = book.BestBid();
    const std::optional<Price> ask = book.BestAsk();
    const auto live = static_cast<std::int64_t>(book.Live().size());
    if (event.intent == Intent::kPassive) {
      ++passive;
      // qty = base ∈ {10, 20, …, 100}.
      REQUIRE(event.qty.value() % 10 == 0);
      REQUIRE(event.qty.value() >= 10);
      REQUIRE(event.qty.value() <= 100);
      // A buy can only touch the ask when the price floor of 1 lifts it.
      if (event.side == Side::kBuy && ask.has_value()) {
        REQUIRE((event.price < *ask || event.price == Price(1)));
      }
      if (event.side == Side::kSell && bid.has_value()) {
        REQUIRE(event.price > *bid);
      }
    } else {
      ++aggressive;
      // qty = base × (10 + 40·live // target) // 10 for some base.
      bool qty_from_a_base = false;
      for (std::int64_t base = 10; base <= 100; base += 10) {
        qty_from_a_base =
            qty_from_a_base ||
            event.qty.value() == base * (10 + 40 * live / options.target) / 10;
      }
      REQUIRE(qty_from_a_base);
      if (event.side == Side::kBuy) {
        REQUIRE(ask.has_value());
        REQUIRE(event.price >= *ask);
        REQUIRE(event.price.value() - ask->value() <= 4);
      } else {
        REQUIRE(bid.has_value());
        REQUIRE(event.price <= *bid);
        REQUIRE(bid->value() - event.price.value() <= 4);
      }
    }
    book.Add(event.order_id, event.side, event.price, event.qty, nullptr);
  }
  CHECK(stats.passive == passive);
  CHECK(stats.aggressive == aggressive);
  CHECK(stats.cancel == cancels);
  CHECK(stats.orders_added == stream->orders_added);
  CHECK(passive + aggressive + cancels == options.events);
}

TEST_CASE("Generated streams keep the format's promises", "[generator]") {
  const std::uint64_t seed = TestSeed("generator promises");
  SECTION("canonical mix") { CheckStreamPromises(Options(20'000, seed)); }
  SECTION("cancel-heavy mix with a small target") {
    GeneratorOptions options = Options(20'000, seed);
    options.passive_pct = 40;
    options.aggressive_pct = 10;
    options.target = 50;
    CheckStreamPromises(options);
  }
  SECTION("aggressive-heavy mix near price 1") {
    GeneratorOptions options = Options(20'000, seed);
    options.mid = 3;
    options.passive_pct = 30;
    options.aggressive_pct = 60;
    CheckStreamPromises(options);
  }
}

TEST_CASE("Draws with nothing to act on fall back to passive orders",
          "[generator]") {
  GeneratorOptions all_cancels = Options(101, 3);
  all_cancels.passive_pct = 0;
  all_cancels.aggressive_pct = 0;
  GeneratorStats stats;
  const std::string text = Generate(all_cancels, &stats);
  // Empty book → passive order, then it is cancelled, and so on.
  CHECK(stats.passive == 51);
  CHECK(stats.cancel == 50);
  CHECK(stats.fallback_passive == 51);
  CheckStreamPromises(all_cancels);

  GeneratorOptions all_aggressive = Options(50, 3);
  all_aggressive.passive_pct = 0;
  all_aggressive.aggressive_pct = 100;
  Generate(all_aggressive, &stats);
  CHECK(stats.fallback_passive >= 1);  // the very first order
  CHECK(stats.aggressive + stats.passive == 50);
}

TEST_CASE("Invalid options are rejected before anything is written",
          "[generator]") {
  struct Case {
    GeneratorOptions options;
    std::string message;
  };
  GeneratorOptions base = Options(10, 1);
  std::vector<Case> cases;
  GeneratorOptions o = base;
  o.events = 0;
  cases.push_back({o, "--events must be between 1 and"});
  o = base;
  o.mid = 0;
  cases.push_back({o, "--mid must be between 1 and"});
  o = base;
  o.target = -5;
  cases.push_back({o, "--target must be between 1 and"});
  o = base;
  o.passive_pct = 101;
  cases.push_back({o, "--passive-pct must be between 0 and 100, got 101"});
  o = base;
  o.aggressive_pct = -1;
  cases.push_back({o, "--aggressive-pct must be between 0 and 100, got -1"});
  o = base;
  o.passive_pct = 80;
  o.aggressive_pct = 30;
  cases.push_back(
      {o, "--passive-pct + --aggressive-pct must be at most 100, got 80 + 30"});
  for (const Case& c : cases) {
    INFO(c.message);
    CHECK(ValidateOptions(c.options).code() == StatusCode::kInvalidArgument);
    CHECK_THAT(ValidateOptions(c.options).message(),
               Catch::StartsWith(c.message));
    std::ostringstream out;
    Result<GeneratorStats> result = GenerateStream(c.options, out);
    CHECK_FALSE(result.ok());
    CHECK(out.str().empty());
  }
  CHECK(ValidateOptions(base).ok());
}

}  // namespace
}  // namespace carbonex::stream
