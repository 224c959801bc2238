// ApplyServerBatch: delivery versus payment, exactly-once settlement by trade
// id, reservations, the journal position, and refusals that change nothing.
#include <catch2/catch.hpp>

#include "carbonex/ledger/registry.h"
#include "test_util.h"

namespace carbonex::ledger {
namespace {

using testing::OpenFresh;
using testing::Snapshot;
using testing::TempDir;

struct Fixture {
  TempDir dir;
  std::unique_ptr<Registry> r = OpenFresh(dir.Db());
  // Ids: instrument 1 = KZQ-2019; accounts 1 = SELLER, 2 = BUYER.
  Fixture() {
    REQUIRE(r->AddInstrument({"KZQ-2019", InstrumentKind::kAllowance, 2019,
                              Price(1), Quantity(1'000'000)})
                .ok());
    REQUIRE(r->AddCompany({.id = "SELLER", .name = "Seller"}).ok());
    REQUIRE(r->AddCompany({.id = "BUYER", .name = "Buyer"}).ok());
    REQUIRE(r->IssueUnits("KZQ-2019", "SELLER", Quantity(1000),
                          IssueReason::kAllocation)
                .ok());
    REQUIRE(r->DepositCash("BUYER", Cash(1'000'000)).ok());
  }
  static TradeRecord Trade(std::uint64_t id, std::int64_t price,
                           std::int64_t qty) {
    return TradeRecord{TradeId(id),
                       InstrumentId(1),
                       Price(price),
                       Quantity(qty),
                       AccountId(2),
                       AccountId(1),
                       OrderId(100 + id),
                       OrderId(200 + id),
                       Timestamp(static_cast<std::int64_t>(id) * 1000)};
  }
  AccountHoldings Of(const char* account) {
    auto h = r->Holdings(std::string_view(account));
    REQUIRE(h.ok());
    return h->front();
  }
  template <typename F>
  void Refused(StatusCode code, F&& op) {
    const std::string before = Snapshot(*r);
    Status s = op();
    INFO(s.message());
    CHECK(s.code() == code);
    CHECK(Snapshot(*r) == before);
  }
};

TEST_CASE("A batch settles DvP and records the journal position",
          "[settlement]") {
  Fixture f;
  ServerBatch batch;
  batch.trades = {Fixture::Trade(1, 250, 10), Fixture::Trade(2, 300, 5)};
  batch.journal_position = 17;
  REQUIRE(f.r->ApplyServerBatch(batch).ok());
  const AccountHoldings seller = f.Of("SELLER");
  const AccountHoldings buyer = f.Of("BUYER");
  CHECK(seller.units.at(0).held == Quantity(985));
  CHECK(buyer.units.at(0).held == Quantity(15));
  CHECK(seller.cash_held == Cash(250 * 10 + 300 * 5));
  CHECK(buyer.cash_held == Cash(1'000'000 - 4000));
  CHECK(*f.r->AppliedJournalPosition() == 17);
  auto trades = f.r->Trades({});
  REQUIRE(trades.ok());
  REQUIRE(trades->size() == 2);
  CHECK(trades->at(0).buyer == "BUYER");
  CHECK(trades->at(1).record.price == Price(300));
  CHECK(trades->at(1).record.sell_order == OrderId(202));
  auto audit = f.r->AuditVerify();
  REQUIRE(audit.ok());
  CHECK(audit->ok());
}

TEST_CASE("Replaying a batch settles each trade exactly once", "[settlement]") {
  Fixture f;
  ServerBatch batch;
  batch.trades = {Fixture::Trade(1, 100, 10)};
  batch.journal_position = 5;
  REQUIRE(f.r->ApplyServerBatch(batch).ok());
  const std::string after_first = Snapshot(*f.r);
  REQUIRE(f.r->ApplyServerBatch(batch).ok());  // pure replay: a no-op
  CHECK(Snapshot(*f.r) == after_first);
  // A later batch repeating trade 1 next to a new trade 2.
  batch.trades = {Fixture::Trade(1, 100, 10), Fixture::Trade(2, 100, 1)};
  batch.journal_position = 6;
  REQUIRE(f.r->ApplyServerBatch(batch).ok());
  CHECK(f.Of("BUYER").units.at(0).held == Quantity(11));
  CHECK(f.r->Trades({})->size() == 2);
  // The same trade id twice in one batch settles once.
  batch.trades = {Fixture::Trade(3, 100, 1), Fixture::Trade(3, 100, 1)};
  batch.journal_position = 7;
  REQUIRE(f.r->ApplyServerBatch(batch).ok());
  CHECK(f.Of("BUYER").units.at(0).held == Quantity(12));
  CHECK(f.r->AuditVerify()->ok());
}

TEST_CASE("Reservations are stored and bound direct writes to free amounts",
          "[settlement]") {
  Fixture f;
  ServerBatch batch;
  batch.reservations = {
      ReservationUpdate{AccountId(1), InstrumentId(1), Quantity(600), Cash(0)},
      ReservationUpdate{AccountId(2), std::nullopt, Quantity(0),
                        Cash(900'000)}};
  batch.journal_position = 1;
  REQUIRE(f.r->ApplyServerBatch(batch).ok());
  const AccountHoldings seller = f.Of("SELLER");
  CHECK(seller.units.at(0).reserved == Quantity(600));
  CHECK(seller.units.at(0).Free() == Quantity(400));
  CHECK(f.Of("BUYER").CashFree() == Cash(100'000));
  f.Refused(StatusCode::kFailedPrecondition, [&] {
    return f.r->Transfer("KZQ-2019", "SELLER", "BUYER", Quantity(401));
  });
  f.Refused(StatusCode::kFailedPrecondition,
            [&] { return f.r->WithdrawCash("BUYER", Cash(100'001)); });
  f.Refused(StatusCode::kFailedPrecondition, [&] {
    return f.r->CancelUnits("KZQ-2019", "SELLER", Quantity(401));
  });
  CHECK(f.r->Transfer("KZQ-2019", "SELLER", "BUYER", Quantity(400)).ok());
  CHECK(f.r->WithdrawCash("BUYER", Cash(100'000)).ok());
  // A trade against reserved units, with the reservation released.
  batch.trades = {Fixture::Trade(1, 100, 600)};
  batch.reservations = {
      ReservationUpdate{AccountId(1), InstrumentId(1), Quantity(0), Cash(0)},
      ReservationUpdate{AccountId(2), std::nullopt, Quantity(0), Cash(0)}};
  batch.journal_position = 2;
  REQUIRE(f.r->ApplyServerBatch(batch).ok());
  CHECK(f.Of("SELLER").units.empty());  // nothing held or reserved
  CHECK(f.Of("BUYER").units.at(0).held == Quantity(1000));
  CHECK(f.r->AuditVerify()->ok());
}

TEST_CASE("A bad batch is refused whole", "[settlement]") {
  Fixture f;
  auto refuse = [&](ServerBatch batch, StatusCode code) {
    f.Refused(code, [&] { return f.r->ApplyServerBatch(batch); });
  };
  ServerBatch ok_then_bad;
  ok_then_bad.journal_position = 3;
  // Trade 2 needs more units than the seller has: trade 1 must not settle.
  ok_then_bad.trades = {Fixture::Trade(1, 1, 10), Fixture::Trade(2, 1, 991)};
  refuse(ok_then_bad, StatusCode::kFailedPrecondition);
  ServerBatch no_cash;
  no_cash.trades = {Fixture::Trade(1, 1'000'000, 2)};
  refuse(no_cash, StatusCode::kFailedPrecondition);
  ServerBatch unknown_account;
  unknown_account.trades = {Fixture::Trade(1, 1, 1)};
  unknown_account.trades[0].buyer = AccountId(99);
  refuse(unknown_account, StatusCode::kInvalidArgument);
  ServerBatch unknown_instrument;
  unknown_instrument.trades = {Fixture::Trade(1, 1, 1)};
  unknown_instrument.trades[0].instrument = InstrumentId(7);
  refuse(unknown_instrument, StatusCode::kInvalidArgument);
  ServerBatch self_trade;
  self_trade.trades = {Fixture::Trade(1, 1, 1)};
  self_trade.trades[0].buyer = AccountId(1);
  refuse(self_trade, StatusCode::kInvalidArgument);
  ServerBatch zero_qty;
  zero_qty.trades = {Fixture::Trade(1, 1, 0)};
  refuse(zero_qty, StatusCode::kInvalidArgument);
  ServerBatch huge_notional;
  huge_notional.trades = {Fixture::Trade(1, 1'000'000'000'000, 1'000'000)};
  refuse(huge_notional, StatusCode::kInvalidArgument);
  ServerBatch over_reserved;
  over_reserved.reservations = {ReservationUpdate{AccountId(1), InstrumentId(1),
                                                  Quantity(1001), Cash(0)}};
  refuse(over_reserved, StatusCode::kFailedPrecondition);
  ServerBatch negative_reserved;
  negative_reserved.reservations = {
      ReservationUpdate{AccountId(2), std::nullopt, Quantity(0), Cash(-1)}};
  refuse(negative_reserved, StatusCode::kFailedPrecondition);

  ServerBatch forward;
  forward.journal_position = 10;
  REQUIRE(f.r->ApplyServerBatch(forward).ok());
  ServerBatch backward;
  backward.journal_position = 9;
  backward.trades = {Fixture::Trade(1, 1, 1)};
  refuse(backward, StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace carbonex::ledger
