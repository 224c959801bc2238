// Events: the engine's only output, delivered through EventSink.
//
// Every event carries the header of the command that caused it. Events are
// past tense (OrderAccepted, TradeExecuted) and trivially copyable. For one
// command the engine emits its events in a fixed, documented order (see
// docs/engine.md), so the event stream is a pure function of the commands.
#ifndef CARBONEX_ENGINE_EVENTS_H_
#define CARBONEX_ENGINE_EVENTS_H_

#include <cstdint>
#include <optional>
#include <variant>

#include "carbonex/common/types.h"
#include "carbonex/engine/commands.h"

namespace carbonex::engine {

// Why an order or a cancel/replace was refused. Grouped by stage, like the
// checks: validation, then risk, then book state.
enum class RejectReason : std::uint8_t {
  kUnknownInstrument = 1,
  kUnknownAccount,
  kUnauthorisedAccount,  // the broker is not entitled to the account
  kInsufficientUnits,
  kInsufficientCash,
  kHoldingLimit,
  kBadPrice,                // zero, negative, off the tick grid, or missing
  kBadQuantity,             // zero, negative, or above max order quantity
  kDuplicateClientOrderId,  // among the broker's live orders of the day
  kUnknownOrder,
  kTooLateToCancel,     // the order is already done
  kMarketClosed,        // instrument halted
  kReplaceBelowFilled,  // new quantity < filled quantity
  kReplaceNotLimit,     // only limit orders can be replaced
  kBadCommand,          // inconsistent fields (e.g. side differs)
  // The account or the broker already has the most open orders that
  // EngineOptions allows (FIX OrdRejReason 3, "exceeds limit").
  kOpenOrderLimit,
};

// Why a live order left the book without trading to completion.
enum class CancelReason : std::uint8_t {
  kRequested = 1,      // CancelOrder
  kMassCancel,         // MassCancel
  kImmediateOrCancel,  // IOC remainder
  kFillOrKill,         // FOK could not fill completely
  kMarketNoLiquidity,  // market order remainder: nothing more to match
  kMarketCashLimit,    // market buy limited by the account's free cash
  kSelfTrade,          // self-trade prevention cancelled the remainder
};

// The state of an order as FIX OrdStatus(39) sees it.
enum class OrderStatus : std::uint8_t {
  kNew = 0,
  kPartiallyFilled = 1,
  kFilled = 2,
  kCanceled = 4,
  kReplaced = 5,
  kRejected = 8,
  kExpired = 12,  // FIX 'C'
};

// A snapshot of one order as execution reports need it.
struct OrderView {
  OrderId order_id;
  BrokerId broker;
  ClientOrderId cl_ord_id;
  AccountId account;
  InstrumentId instrument;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kDay;
  std::optional<Price> price;
  Quantity order_qty;   // current total quantity (after replaces)
  Quantity cum_qty;     // filled so far
  Quantity leaves_qty;  // open; 0 once done
  Cash cum_notional;  // Σ fill qty × fill price: AvgPx = cum_notional / cum_qty
  OrderStatus status = OrderStatus::kNew;
};

struct OrderAccepted {
  OrderView order;
};

struct OrderRejected {
  BrokerId broker;
  PlaceOrder request;
  RejectReason reason = RejectReason::kBadCommand;
};

// One side's fill. A match emits TradeExecuted and then one OrderFilled for
// the resting (maker) order and one for the incoming (taker) order.
struct OrderFilled {
  OrderView order;  // after this fill
  TradeId trade_id;
  Price last_price;
  Quantity last_qty;
  bool maker = false;
};

// Everything settlement and market data need about one trade.
struct TradeExecuted {
  TradeId trade_id;
  InstrumentId instrument;
  Price price;
  Quantity qty;
  OrderId buy_order;
  OrderId sell_order;
  AccountId buyer;
  AccountId seller;
  BrokerId buy_broker;
  BrokerId sell_broker;
  Side aggressor = Side::kBuy;
};

struct OrderCanceled {
  OrderView order;                 // status kCanceled, leaves 0
  ClientOrderId cancel_cl_ord_id;  // the cancel request's id (empty if none)
  CancelReason reason = CancelReason::kRequested;
};

struct OrderExpired {
  OrderView order;  // status kExpired, leaves 0
};

struct OrderReplaced {
  OrderView order;  // after the replace; cl_ord_id is the new one
  ClientOrderId orig_cl_ord_id;
  bool priority_kept = false;
};

enum class CancelRequestKind : std::uint8_t { kCancel = 1, kReplace = 2 };

struct CancelRejected {
  BrokerId broker;
  ClientOrderId cl_ord_id;
  ClientOrderId orig_cl_ord_id;
  std::optional<OrderId> order_id;
  AccountId account;
  InstrumentId instrument;
  Side side = Side::kBuy;
  CancelRequestKind response_to = CancelRequestKind::kCancel;
  RejectReason reason = RejectReason::kUnknownOrder;
  std::optional<OrderView> order;  // the order's state, when it is known
};

struct OrderStatusReported {
  ClientOrderId request_cl_ord_id;
  // nullopt: unknown order (OrdStatus 8, OrdRejReason 5 on the wire).
  std::optional<OrderView> order;
  QueryOrderStatus request;
};

struct MassCancelCompleted {
  BrokerId broker;
  MassCancel request;
  std::uint32_t affected = 0;
  // Set when the request itself was refused (nothing cancelled):
  // kBadCommand (scope field missing or unknown scope), kUnknownInstrument,
  // kUnknownAccount, kUnauthorisedAccount.
  std::optional<RejectReason> reject_reason;
};

// An aggregated price level changed. order_count == 0 means the level is gone.
struct BookLevelChanged {
  InstrumentId instrument;
  Side side = Side::kBuy;
  Price price;
  Quantity total_qty;
  std::uint32_t order_count = 0;
};

// Result of an operator command (AdjustUnits, AdjustCash, Add*, Set*).
struct OperatorCommandApplied {};
struct OperatorCommandRejected {
  RejectReason reason = RejectReason::kBadCommand;
};

using EventBody =
    std::variant<OrderAccepted, OrderRejected, OrderFilled, TradeExecuted,
                 OrderCanceled, OrderExpired, OrderReplaced, CancelRejected,
                 OrderStatusReported, MassCancelCompleted, BookLevelChanged,
                 OperatorCommandApplied, OperatorCommandRejected>;

struct Event {
  CommandHeader header;  // of the command that caused the event
  EventBody body;
};

// Receives the engine's events, synchronously, on the engine's thread, in
// order. Implementations must not call back into the engine.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnEvent(const Event& event) = 0;
};

}  // namespace carbonex::engine

#endif  // CARBONEX_ENGINE_EVENTS_H_
