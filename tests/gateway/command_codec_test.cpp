#define CATCH_CONFIG_MAIN
#include "carbonex/gateway/command_codec.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace carbonex::gateway {
namespace {

using engine::Command;

Command WithHeader(engine::CommandBody body, std::uint64_t seq = 42) {
  Command cmd;
  cmd.header.seq = SequenceNumber(seq);
  cmd.header.time = Timestamp(1'764'000'000'123'456'789);
  cmd.header.broker = BrokerId(7);
  cmd.body = body;
  return cmd;
}

// Field-by-field equality of commands (the engine types have no operator==).
bool Same(const Command& a, const Command& b);

template <typename T>
bool SameBody(const T& a, const T& b);

template <>
bool SameBody(const engine::PlaceOrder& a, const engine::PlaceOrder& b) {
  return a.cl_ord_id == b.cl_ord_id && a.account == b.account &&
         a.instrument == b.instrument && a.side == b.side && a.type == b.type &&
         a.price == b.price && a.qty == b.qty && a.tif == b.tif;
}
template <>
bool SameBody(const engine::CancelOrder& a, const engine::CancelOrder& b) {
  return a.cl_ord_id == b.cl_ord_id && a.orig_cl_ord_id == b.orig_cl_ord_id &&
         a.order_id == b.order_id && a.account == b.account &&
         a.instrument == b.instrument && a.side == b.side;
}
template <>
bool SameBody(const engine::ReplaceOrder& a, const engine::ReplaceOrder& b) {
  return a.cl_ord_id == b.cl_ord_id && a.orig_cl_ord_id == b.orig_cl_ord_id &&
         a.order_id == b.order_id && a.account == b.account &&
         a.instrument == b.instrument && a.side == b.side &&
         a.price == b.price && a.qty == b.qty;
}
template <>
bool SameBody(const engine::MassCancel& a, const engine::MassCancel& b) {
  return a.cl_ord_id == b.cl_ord_id && a.scope == b.scope &&
         a.account == b.account && a.instrument == b.instrument &&
         a.day_orders_only == b.day_orders_only;
}
template <>
bool SameBody(const engine::QueryOrderStatus& a,
              const engine::QueryOrderStatus& b) {
  return a.cl_ord_id == b.cl_ord_id && a.order_id == b.order_id &&
         a.account == b.account && a.instrument == b.instrument &&
         a.side == b.side;
}
template <>
bool SameBody(const engine::ExpireDayOrders& /*a*/,
              const engine::ExpireDayOrders& /*b*/) {
  return true;
}
template <>
bool SameBody(const engine::AdjustUnits& a, const engine::AdjustUnits& b) {
  return a.account == b.account && a.instrument == b.instrument &&
         a.delta == b.delta;
}
template <>
bool SameBody(const engine::AdjustCash& a, const engine::AdjustCash& b) {
  return a.account == b.account && a.delta == b.delta;
}
template <>
bool SameBody(const engine::AddInstrument& a, const engine::AddInstrument& b) {
  return a.instrument == b.instrument && a.tick == b.tick &&
         a.max_order_qty == b.max_order_qty && a.status == b.status;
}
template <>
bool SameBody(const engine::AddAccount& a, const engine::AddAccount& b) {
  return a.account == b.account && a.holding_limit == b.holding_limit;
}
template <>
bool SameBody(const engine::SetEntitlement& a,
              const engine::SetEntitlement& b) {
  return a.broker == b.broker && a.account == b.account &&
         a.entitled == b.entitled;
}
template <>
bool SameBody(const engine::SetTradingStatus& a,
              const engine::SetTradingStatus& b) {
  return a.instrument == b.instrument && a.status == b.status;
}

bool Same(const Command& a, const Command& b) {
  if (a.header.seq != b.header.seq || a.header.time != b.header.time ||
      a.header.broker != b.header.broker || a.body.index() != b.body.index()) {
    return false;
  }
  return std::visit(
      [&](const auto& body_a) {
        using Body = std::decay_t<decltype(body_a)>;
        return SameBody(body_a, std::get<Body>(b.body));
      },
      a.body);
}

// Every command type, with every optional both set and unset and every enum
// value, and extreme integers.
std::vector<Command> AllShapes() {
  std::vector<Command> all;
  const ClientOrderId longest(std::string(ClientOrderId::kMaxLength, 'Z'));
  for (const bool set : {false, true}) {
    for (const auto side : {Side::kBuy, Side::kSell}) {
      for (const auto tif :
           {engine::TimeInForce::kDay, engine::TimeInForce::kGtc,
            engine::TimeInForce::kIoc, engine::TimeInForce::kFok}) {
        engine::PlaceOrder p;
        p.cl_ord_id = ClientOrderId("ord-1");
        p.account = AccountId(3);
        p.instrument = InstrumentId(4);
        p.side = side;
        p.type = set ? engine::OrderType::kLimit : engine::OrderType::kMarket;
        if (set) {
          p.price = Price(123'456);
        }
        p.qty = Quantity(1'000);
        p.tif = tif;
        all.push_back(WithHeader(p));
      }
    }
    engine::CancelOrder c;
    c.cl_ord_id = longest;
    c.orig_cl_ord_id = ClientOrderId("orig");
    if (set) {
      c.order_id = OrderId(~std::uint64_t{0});
    }
    c.account = AccountId(~std::uint32_t{0});
    c.instrument = InstrumentId(9);
    c.side = Side::kSell;
    all.push_back(WithHeader(c));

    engine::ReplaceOrder r;
    r.cl_ord_id = ClientOrderId("r2");
    r.orig_cl_ord_id = ClientOrderId();  // empty
    if (set) {
      r.order_id = OrderId(5);
    }
    r.account = AccountId(1);
    r.instrument = InstrumentId(2);
    r.side = Side::kBuy;
    r.price = Price(-1);  // not valid for the engine, but the codec keeps it
    r.qty = Quantity(INT64_MAX);
    all.push_back(WithHeader(r));

    for (const auto scope : {engine::MassCancelScope::kInstrument,
                             engine::MassCancelScope::kBroker,
                             engine::MassCancelScope::kAccount}) {
      engine::MassCancel m;
      m.cl_ord_id = ClientOrderId("mc");
      m.scope = scope;
      if (set) {
        m.account = AccountId(11);
      }
      if (!set) {
        m.instrument = InstrumentId(12);
      }
      m.day_orders_only = set;
      all.push_back(WithHeader(m));
    }
    engine::MassCancel both;
    both.account = AccountId(1);
    both.instrument = InstrumentId(2);
    all.push_back(WithHeader(both));

    engine::QueryOrderStatus q;
    q.cl_ord_id = ClientOrderId("q");
    if (set) {
      q.order_id = OrderId(77);
    }
    q.account = AccountId(8);
    q.instrument = InstrumentId(6);
    q.side = Side::kSell;
    all.push_back(WithHeader(q));

    engine::AddAccount a;
    a.account = AccountId(99);
    if (set) {
      a.holding_limit = Quantity(5'000);
    }
    all.push_back(WithHeader(a));

    engine::SetEntitlement e;
    e.broker = BrokerId(2);
    e.account = AccountId(3);
    e.entitled = set;
    all.push_back(WithHeader(e));

    for (const auto status : {TradingStatus::kOpen, TradingStatus::kHalted}) {
      engine::SetTradingStatus s;
      s.instrument = InstrumentId(set ? 1 : 2);
      s.status = status;
      all.push_back(WithHeader(s));
      engine::AddInstrument i;
      i.instrument = InstrumentId(3);
      i.tick = Price(5);
      i.max_order_qty = Quantity(set ? 1 : 10'000'000);
      i.status = status;
      all.push_back(WithHeader(i));
    }
  }
  all.push_back(WithHeader(engine::ExpireDayOrders{}));
  all.push_back(WithHeader(
      engine::AdjustUnits{AccountId(1), InstrumentId(2), Quantity(-300)}));
  all.push_back(WithHeader(engine::AdjustCash{AccountId(1), Cash(INT64_MIN)}));
  Command big = WithHeader(engine::ExpireDayOrders{}, ~std::uint64_t{0});
  big.header.time = Timestamp(INT64_MIN);
  big.header.broker = engine::kOperatorBroker;
  all.push_back(big);
  return all;
}

std::uint64_t Seed() {
  const char* env =
      std::getenv("CARBONEX_SEED");  // NOLINT(concurrency-mt-unsafe)
  const std::uint64_t seed =
      env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::cout << "CARBONEX_SEED=" << seed << "\n";
  return seed;
}

TEST_CASE("every command type round-trips", "[codec]") {
  const std::vector<Command> all = AllShapes();
  std::vector<bool> seen_type(std::variant_size_v<engine::CommandBody>, false);
  for (const Command& cmd : all) {
    seen_type[cmd.body.index()] = true;
    std::vector<std::uint8_t> bytes{0xEE};  // existing contents are kept
    const std::size_t n = EncodeCommand(cmd, &bytes);
    REQUIRE(n == bytes.size() - 1);
    REQUIRE(bytes[0] == 0xEE);
    REQUIRE(n <= kMaxEncodedCommandBytes);
    REQUIRE(bytes[2] == kCommandCodecVersion);
    const auto decoded = DecodeCommand(std::span(bytes).subspan(1));
    REQUIRE(decoded.ok());
    CHECK(Same(cmd, *decoded));
  }
  for (std::size_t i = 0; i < seen_type.size(); ++i) {
    INFO("variant alternative " << i);
    CHECK(seen_type[i]);
  }
}

TEST_CASE("encoding is explicit little-endian", "[codec]") {
  engine::AdjustCash adjust{AccountId(0x01020304), Cash(-2)};
  Command cmd = WithHeader(adjust, 0x1122334455667788);
  cmd.header.time = Timestamp(0x0A0B);
  cmd.header.broker = BrokerId(0xC0DE);
  std::vector<std::uint8_t> bytes;
  EncodeCommand(cmd, &bytes);
  const std::vector<std::uint8_t> expected = {
      8,    1,                                          // type, version
      0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,   // seq
      0x0B, 0x0A, 0,    0,    0,    0,    0,    0,      // time
      0xDE, 0xC0, 0,    0,                              // broker
      0x04, 0x03, 0x02, 0x01,                           // account
      0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};  // delta -2
  CHECK(bytes == expected);
}

TEST_CASE("every truncation is rejected", "[codec]") {
  for (const Command& cmd : AllShapes()) {
    std::vector<std::uint8_t> bytes;
    EncodeCommand(cmd, &bytes);
    for (std::size_t len = 0; len < bytes.size(); ++len) {
      const auto decoded = DecodeCommand(std::span(bytes.data(), len));
      INFO("length " << len << " of " << bytes.size());
      REQUIRE_FALSE(decoded.ok());
      CHECK(decoded.status().code() == StatusCode::kCorruption);
    }
  }
}

TEST_CASE("trailing bytes are rejected", "[codec]") {
  std::vector<std::uint8_t> bytes;
  EncodeCommand(WithHeader(engine::ExpireDayOrders{}), &bytes);
  bytes.push_back(0);
  const auto decoded = DecodeCommand(bytes);
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.status().message().find("left over") != std::string::npos);
}

TEST_CASE("unknown type and version are rejected", "[codec]") {
  std::vector<std::uint8_t> bytes;
  EncodeCommand(WithHeader(engine::ExpireDayOrders{}), &bytes);
  SECTION("version from the future") {
    bytes[1] = kCommandCodecVersion + 1;
    const auto decoded = DecodeCommand(bytes);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.status().message().find("unknown version") !=
          std::string::npos);
  }
  SECTION("version 0") {
    bytes[1] = 0;
    CHECK_FALSE(DecodeCommand(bytes).ok());
  }
  SECTION("types 0 and 13..255") {
    for (const int type : {0, 13, 14, 100, 255}) {
      bytes[0] = static_cast<std::uint8_t>(type);
      const auto decoded = DecodeCommand(bytes);
      REQUIRE_FALSE(decoded.ok());
      CHECK(decoded.status().message().find("unknown record type") !=
            std::string::npos);
    }
  }
}

TEST_CASE("out-of-range enum, flag and length bytes are rejected", "[codec]") {
  engine::PlaceOrder p;
  p.cl_ord_id = ClientOrderId("abc");
  p.price = Price(100);
  std::vector<std::uint8_t> good;
  EncodeCommand(WithHeader(p), &good);
  // Offsets: 22 header bytes, then cl_ord_id length at 22, text 23..25,
  // account 26..29, instrument 30..33, side 34, type 35, price flag 36.
  constexpr std::size_t kLen = 22, kSide = 34, kType = 35, kFlag = 36;
  const std::size_t tif = good.size() - 1;
  struct Case {
    std::size_t offset;
    std::uint8_t value;
  };
  for (const Case c : {Case{kLen, 32}, Case{kLen, 255}, Case{kSide, 0},
                       Case{kSide, 3}, Case{kType, 0}, Case{kType, 3},
                       Case{kFlag, 2}, Case{tif, 2}, Case{tif, 5}}) {
    std::vector<std::uint8_t> bad = good;
    bad[c.offset] = c.value;
    INFO("offset " << c.offset << " value " << int{c.value});
    const auto decoded = DecodeCommand(bad);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.status().code() == StatusCode::kCorruption);
  }
}

TEST_CASE("random corruption never crashes and round-trips what it accepts",
          "[codec]") {
  std::mt19937_64 rng(Seed());
  const std::vector<Command> all = AllShapes();
  int accepted = 0;
  for (int iter = 0; iter < 20'000; ++iter) {
    std::vector<std::uint8_t> bytes;
    EncodeCommand(all[rng() % all.size()], &bytes);
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      bytes[rng() % bytes.size()] = static_cast<std::uint8_t>(rng());
    }
    if (rng() % 4 == 0) {
      bytes.resize(rng() % (bytes.size() + 8), 0);
    }
    const auto decoded = DecodeCommand(bytes);
    if (decoded.ok()) {
      // Whatever decodes must encode back to the same bytes: the format has
      // exactly one encoding per command.
      std::vector<std::uint8_t> again;
      EncodeCommand(*decoded, &again);
      REQUIRE(again == bytes);
      ++accepted;
    }
  }
  std::cout << "accepted " << accepted << " of 20000 mutated payloads\n";
}

}  // namespace
}  // namespace carbonex::gateway
