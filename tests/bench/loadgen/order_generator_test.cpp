#include "carbonex/loadgen/order_generator.h"

#include <catch2/catch.hpp>
#include <cstdlib>

namespace carbonex::loadgen {
namespace {

std::uint64_t SeedFromEnv() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread starts.
  const char* text = std::getenv("CARBONEX_SEED");
  return text != nullptr ? std::strtoull(text, nullptr, 10) : 42;
}

}  // namespace

TEST_CASE("splitmix64 matches the order-stream definition",
          "[loadgen][generator]") {
  // Reference values of splitmix64 seeded with 0 (Vigna's reference code).
  SplitMix64 random(0);
  CHECK(random.Next() == 0xE220A8397B1DCDAFULL);
  CHECK(random.Next() == 0x6E789E6AA1B965F4ULL);
  CHECK(random.Next() == 0x06C45D188009454FULL);
}

TEST_CASE("generator options are validated", "[loadgen][generator]") {
  GeneratorOptions ok;
  CHECK(Validate(ok).ok());
  GeneratorOptions bad = ok;
  bad.passive_pct = 90;
  bad.aggressive_pct = 20;
  CHECK(Validate(bad).code() == StatusCode::kInvalidArgument);
  bad = ok;
  bad.tick = Price(0);
  CHECK_FALSE(Validate(bad).ok());
  bad = ok;
  bad.tick = Price(5);
  bad.mid = Price(250003);
  CHECK_FALSE(Validate(bad).ok());
  bad = ok;
  bad.accounts = 0;
  CHECK_FALSE(Validate(bad).ok());
}

TEST_CASE("generated flow follows the mix and the price rules",
          "[loadgen][generator]") {
  const std::uint64_t seed = SeedFromEnv();
  INFO("CARBONEX_SEED=" << seed);
  GeneratorOptions options;
  options.seed = seed;
  options.accounts = 3;
  options.symbols = 2;
  options.tick = Price(5);
  options.mid = Price(100000);
  OrderGenerator generator(options);
  int passive = 0;
  int aggressive = 0;
  int cancels = 0;
  std::size_t live = 0;
  for (int i = 0; i < 20000; ++i) {
    const Action action = generator.Next(live);
    if (action.kind == Action::Kind::kCancel) {
      REQUIRE(live > 0);
      REQUIRE(action.live_index < live);
      --live;
      ++cancels;
      continue;
    }
    ++live;
    REQUIRE(action.account < 3);
    REQUIRE(action.symbol < 2);
    REQUIRE(action.qty.value() % 10 == 0);
    REQUIRE(action.qty.value() >= 10);
    REQUIRE(action.qty.value() <= 100);
    REQUIRE(action.price.value() % 5 == 0);
    const std::int64_t away =
        (action.side == Side::kBuy ? options.mid - action.price
                                   : action.price - options.mid)
            .value() /
        5;
    if (action.aggressive) {
      ++aggressive;
      REQUIRE(away <= -1);
      REQUIRE(away >= -5);
    } else {
      ++passive;
      REQUIRE(away >= 1);
      REQUIRE(away <= 60);
    }
  }
  // 70/20/10 within a generous margin for 20,000 draws.
  CHECK(passive > 13000);
  CHECK(passive < 15000);
  CHECK(aggressive > 3500);
  CHECK(aggressive < 4500);
  CHECK(cancels > 1500);
  CHECK(cancels < 2500);
}

TEST_CASE("no cancel without live orders, and determinism",
          "[loadgen][generator]") {
  GeneratorOptions options;
  options.passive_pct = 0;
  options.aggressive_pct = 0;  // every draw wants to cancel
  OrderGenerator a(options);
  OrderGenerator b(options);
  for (int i = 0; i < 100; ++i) {
    const Action x = a.Next(0);
    const Action y = b.Next(0);
    REQUIRE(x.kind == Action::Kind::kNew);
    REQUIRE_FALSE(x.aggressive);
    REQUIRE(x.price == y.price);
    REQUIRE(x.qty == y.qty);
    REQUIRE(x.side == y.side);
  }
  CHECK(a.Next(4).kind == Action::Kind::kCancel);
}

}  // namespace carbonex::loadgen
