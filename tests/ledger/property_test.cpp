// Property test: random sequences of operations (valid and invalid) keep
// the registry verifiable. After every operation AuditVerify passes; a
// refused operation leaves every observable unchanged; and the holdings and
// cash always equal a simple in-memory model.
#include <catch2/catch.hpp>
#include <map>
#include <random>

#include "carbonex/ledger/registry.h"
#include "test_util.h"

namespace carbonex::ledger {
namespace {

using testing::OpenFresh;
using testing::Snapshot;
using testing::TempDir;

TEST_CASE("Random operation sequences keep the audit verifiable",
          "[property][slow]") {
  const std::uint64_t seed = testing::TestSeed();
  std::mt19937_64 rng(seed);
  TempDir dir;
  auto r = OpenFresh(dir.Db());
  const std::vector<std::string> symbols = {"KZQ-2019", "KZQ-2020", "KZO-2019"};
  const std::vector<std::string> accounts = {"A", "B", "C", "D"};
  REQUIRE(r->AddInstrument({"KZQ-2019", InstrumentKind::kAllowance, 2019,
                            Price(1), Quantity(1'000'000)})
              .ok());
  REQUIRE(r->AddInstrument({"KZQ-2020", InstrumentKind::kAllowance, 2020,
                            Price(1), Quantity(1'000'000)})
              .ok());
  REQUIRE(r->AddInstrument({"KZO-2019", InstrumentKind::kOffset, 2019, Price(1),
                            Quantity(1'000'000)})
              .ok());
  for (const auto& a : accounts) {
    REQUIRE(r->AddCompany({.id = a, .name = "Company " + a}).ok());
  }
  // The model: held units and cash; reservations of the server.
  std::map<std::pair<int, int>, std::int64_t> units, units_res;
  std::map<int, std::int64_t> cash, cash_res;
  std::uint64_t next_trade = 1;
  std::uint64_t position = 0;
  auto pick = [&](int n) {
    return static_cast<int>(rng() % static_cast<std::uint64_t>(n));
  };
  auto amount = [&] { return static_cast<std::int64_t>(rng() % 200) - 20; };

  for (int step = 0; step < 400; ++step) {
    const int a = pick(4);
    const int b = pick(4);
    const int s = pick(3);
    const std::int64_t q = amount();
    const std::string before = Snapshot(*r);
    Status st;
    bool expect_ok = false;
    int op = pick(7);
    INFO("step " << step << " op " << op << " a " << a << " b " << b << " s "
                 << s << " q " << q);
    const std::int64_t free_a = units[{a, s}] - units_res[{a, s}];
    switch (op) {
      case 0:
        st = r->IssueUnits(
            symbols[static_cast<std::size_t>(s)],
            accounts[static_cast<std::size_t>(a)], Quantity(q),
            s == 2 ? IssueReason::kOffsetProject : IssueReason::kAuction);
        expect_ok = q > 0;
        if (expect_ok) {
          units[{a, s}] += q;
        }
        break;
      case 1:
        st = r->Transfer(symbols[static_cast<std::size_t>(s)],
                         accounts[static_cast<std::size_t>(a)],
                         accounts[static_cast<std::size_t>(b)], Quantity(q));
        expect_ok = q > 0 && a != b && free_a >= q;
        if (expect_ok) {
          units[{a, s}] -= q;
          units[{b, s}] += q;
        }
        break;
      case 2:
        st = r->DepositCash(accounts[static_cast<std::size_t>(a)],
                            Cash(q * 100));
        expect_ok = q > 0;
        if (expect_ok) {
          cash[a] += q * 100;
        }
        break;
      case 3:
        st = r->WithdrawCash(accounts[static_cast<std::size_t>(a)],
                             Cash(q * 10));
        expect_ok = q > 0 && cash[a] - cash_res[a] >= q * 10;
        if (expect_ok) {
          cash[a] -= q * 10;
        }
        break;
      case 4:
        st = r->CancelUnits(symbols[static_cast<std::size_t>(s)],
                            accounts[static_cast<std::size_t>(a)], Quantity(q));
        expect_ok = q > 0 && free_a >= q;
        if (expect_ok) {
          units[{a, s}] -= q;
        }
        break;
      case 5:
        if (s != 2) {  // quota surrender (offsets need verified emissions)
          st = r->Surrender(accounts[static_cast<std::size_t>(a)], 2020,
                            symbols[static_cast<std::size_t>(s)], Quantity(q));
          expect_ok = q > 0 && free_a >= q;
          if (expect_ok) {
            units[{a, s}] -= q;
          }
        } else {
          st = r->Surrender(accounts[static_cast<std::size_t>(a)], 2020,
                            symbols[2], Quantity(q));
          expect_ok = false;
        }
        break;
      default: {
        // A server batch: one trade b buys from a at a random price, then a
        // fresh random reservation within the new holdings.
        ServerBatch batch;
        const std::int64_t price = 1 + static_cast<std::int64_t>(rng() % 50);
        batch.trades.push_back(TradeRecord{
            TradeId(next_trade),
            InstrumentId(static_cast<std::uint32_t>(s + 1)), Price(price),
            Quantity(q), AccountId(static_cast<std::uint32_t>(b + 1)),
            AccountId(static_cast<std::uint32_t>(a + 1)), OrderId(1),
            OrderId(2), Timestamp(step)});
        position += 1;
        batch.journal_position = position;
        std::map<std::pair<int, int>, std::int64_t> u2 = units;
        std::map<int, std::int64_t> c2 = cash;
        const bool valid_trade = q > 0 && a != b;
        if (valid_trade) {
          u2[{a, s}] -= q;
          u2[{b, s}] += q;
          c2[b] -= price * q;
          c2[a] += price * q;
        }
        const std::int64_t new_res =
            u2[{a, s}] > 0
                ? static_cast<std::int64_t>(
                      rng() % static_cast<std::uint64_t>(u2[{a, s}] + 1))
                : 0;
        batch.reservations.push_back(
            ReservationUpdate{AccountId(static_cast<std::uint32_t>(a + 1)),
                              InstrumentId(static_cast<std::uint32_t>(s + 1)),
                              Quantity(new_res), Cash(0)});
        const std::int64_t new_cash_res =
            c2[b] > 0 ? static_cast<std::int64_t>(
                            rng() % static_cast<std::uint64_t>(c2[b] + 1))
                      : 0;
        batch.reservations.push_back(
            ReservationUpdate{AccountId(static_cast<std::uint32_t>(b + 1)),
                              std::nullopt, Quantity(0), Cash(new_cash_res)});
        st = r->ApplyServerBatch(batch);
        expect_ok = valid_trade && u2[{a, s}] >= 0 && c2[b] >= 0 &&
                    u2[{b, s}] >= units_res[{b, s}] && c2[a] >= cash_res[a];
        if (expect_ok) {
          units = u2;
          cash = c2;
          units_res[{a, s}] = new_res;
          cash_res[b] = new_cash_res;
          ++next_trade;
        } else {
          position -= 1;
        }
        break;
      }
    }
    INFO(st.message());
    REQUIRE(st.ok() == expect_ok);
    if (!st.ok()) {
      REQUIRE(Snapshot(*r) == before);
    }
    auto audit = r->AuditVerify();
    REQUIRE(audit.ok());
    INFO((audit->problems.empty() ? "" : audit->problems.front()));
    REQUIRE(audit->ok());
    // The registry equals the model.
    auto h = r->Holdings(std::nullopt);
    REQUIRE(h.ok());
    for (int i = 0; i < 4; ++i) {
      const AccountHoldings& ah = h->at(static_cast<std::size_t>(i));
      REQUIRE(ah.cash_held.value() == cash[i]);
      REQUIRE(ah.cash_reserved.value() == cash_res[i]);
      for (int k = 0; k < 3; ++k) {
        std::int64_t held = 0;
        std::int64_t reserved = 0;
        for (const auto& u : ah.units) {
          if (u.symbol == symbols[static_cast<std::size_t>(k)]) {
            held = u.held.value();
            reserved = u.reserved.value();
          }
        }
        REQUIRE(held == units[{i, k}]);
        REQUIRE(reserved == units_res[{i, k}]);
      }
    }
  }
}

}  // namespace
}  // namespace carbonex::ledger
