// Commands: the engine's only input.
//
// A Command is a header stamped by the sequencer (sequence number, time, the
// broker it came from) plus one body. Commands are trivially copyable values,
// so they pass through lock-free queues and into the journal as they are.
// Commands are imperative (PlaceOrder); what happened is reported as events.
#ifndef CARBONEX_ENGINE_COMMANDS_H_
#define CARBONEX_ENGINE_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <variant>

#include "carbonex/common/account_state.h"
#include "carbonex/common/types.h"

namespace carbonex::engine {

enum class OrderType : std::uint8_t { kMarket = 1, kLimit = 2 };

// Values are FIX TimeInForce(59) codes.
enum class TimeInForce : std::uint8_t {
  kDay = 0,
  kGtc = 1,
  kIoc = 3,
  kFok = 4
};

struct CommandHeader {
  SequenceNumber seq;  // strictly increasing, stamped by the sequencer
  Timestamp time;      // stamped by the sequencer
  BrokerId broker;     // who sent it; operator commands use kOperatorBroker
};

// The broker id of commands that come from the registry operator rather than
// a FIX session. Entitlement checks do not apply to it.
inline constexpr BrokerId kOperatorBroker{0};

struct PlaceOrder {
  ClientOrderId cl_ord_id;
  AccountId account;
  InstrumentId instrument;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  std::optional<Price> price;  // set iff type == kLimit
  Quantity qty;
  TimeInForce tif = TimeInForce::kDay;
};

// Cancels the broker's live order named by orig_cl_ord_id (or, when set,
// order_id). account/instrument/side must match the order.
struct CancelOrder {
  ClientOrderId cl_ord_id;
  ClientOrderId orig_cl_ord_id;
  std::optional<OrderId> order_id;
  AccountId account;
  InstrumentId instrument;
  Side side = Side::kBuy;
};

// Replaces price and/or quantity of a live limit order. qty is the new total
// order quantity (FIX OrderQty), not the remaining quantity.
struct ReplaceOrder {
  ClientOrderId cl_ord_id;
  ClientOrderId orig_cl_ord_id;
  std::optional<OrderId> order_id;
  AccountId account;
  InstrumentId instrument;
  Side side = Side::kBuy;
  Price price;
  Quantity qty;
};

enum class MassCancelScope : std::uint8_t {
  kInstrument = 1,  // the broker's orders in one instrument (FIX 530=1)
  kBroker = 7,      // all of the broker's orders (FIX 530=7)
  kAccount = 100,   // all orders of one account (operator or broker)
};

struct MassCancel {
  ClientOrderId cl_ord_id;
  MassCancelScope scope = MassCancelScope::kBroker;
  std::optional<AccountId> account;        // for kAccount
  std::optional<InstrumentId> instrument;  // for kInstrument
  // When true only Day orders are cancelled (cancel-on-disconnect).
  bool day_orders_only = false;
};

struct QueryOrderStatus {
  ClientOrderId cl_ord_id;
  std::optional<OrderId> order_id;
  AccountId account;
  InstrumentId instrument;
  Side side = Side::kBuy;
};

// End of the trading day: every Day order expires.
struct ExpireDayOrders {};

// Operator commands, applied in sequence with trading. A positive delta
// credits, a negative one debits; a debit larger than the free amount is
// rejected (OperatorCommandRejected) and changes nothing.
struct AdjustUnits {
  AccountId account;
  InstrumentId instrument;
  Quantity delta;
};

struct AdjustCash {
  AccountId account;
  Cash delta;
};

// Registry entities created while the server runs. Names (symbols, account
// names) stay with the gateway; the engine knows ids and risk parameters.
struct AddInstrument {
  InstrumentId instrument;
  Price tick{1};
  Quantity max_order_qty{1'000'000};
  TradingStatus status = TradingStatus::kOpen;
};

struct AddAccount {
  AccountId account;
  std::optional<Quantity> holding_limit;
};

struct SetEntitlement {
  BrokerId broker;
  AccountId account;
  bool entitled = true;
};

struct SetTradingStatus {
  InstrumentId instrument;
  TradingStatus status = TradingStatus::kOpen;
};

using CommandBody =
    std::variant<PlaceOrder, CancelOrder, ReplaceOrder, MassCancel,
                 QueryOrderStatus, ExpireDayOrders, AdjustUnits, AdjustCash,
                 AddInstrument, AddAccount, SetEntitlement, SetTradingStatus>;

struct Command {
  CommandHeader header;
  CommandBody body;
};

}  // namespace carbonex::engine

#endif  // CARBONEX_ENGINE_COMMANDS_H_
