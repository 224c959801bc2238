// Builders for every message a broker sends under the FIX contract
// (docs/fix-rules-of-engagement.md), and small helpers to read the replies.
//
// Builders fill the body only; the session (Client::Send) adds the header
// (BeginString, CompIDs, MsgSeqNum, SendingTime). A test that needs a value
// the builders refuse to produce (a fractional quantity, a non-numeric price)
// overwrites the field afterwards, e.g. `msg.setField(44, "25.001")`.
//
// Amounts use the project's fixed-point types: Price in tiyn (written on the
// wire as tenge with two decimals, 250000 -> "2500.00"), Quantity in whole
// units.
//
// Thread-safety: free functions without shared state; safe from any thread.
#ifndef CARBONEX_FIXCLIENT_MESSAGES_H_
#define CARBONEX_FIXCLIENT_MESSAGES_H_

#include <quickfix/Message.h>
#include <quickfix/fix44/MarketDataRequest.h>
#include <quickfix/fix44/NewOrderSingle.h>
#include <quickfix/fix44/OrderCancelReplaceRequest.h>
#include <quickfix/fix44/OrderCancelRequest.h>
#include <quickfix/fix44/OrderMassCancelRequest.h>
#include <quickfix/fix44/OrderStatusRequest.h>
#include <quickfix/fix44/SecurityListRequest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbonex/common/status.h"
#include "carbonex/common/types.h"
#include "carbonex/gateway/fix_writer.h"

namespace carbonex::fixclient {

// TimeInForce(59) values the exchange serves.
enum class TimeInForce : char {
  kDay = '0',
  kGoodTillCancel = '1',
  kImmediateOrCancel = '3',
  kFillOrKill = '4',
};

// A new order. A missing price makes a market order (OrdType 1, no Price);
// a present price a limit order (OrdType 2).
struct NewOrder {
  std::string cl_ord_id;
  std::string account;
  std::string symbol;
  Side side = Side::kBuy;
  Quantity qty;
  std::optional<Price> price;
  TimeInForce tif = TimeInForce::kDay;
};

struct CancelOrder {
  std::string cl_ord_id;
  std::string orig_cl_ord_id;
  std::string account;
  std::string symbol;
  Side side = Side::kBuy;
};

// A replace is always of a limit order (OrdType 2) to a new price and
// quantity.
struct ReplaceOrder {
  std::string cl_ord_id;
  std::string orig_cl_ord_id;
  std::string account;
  std::string symbol;
  Side side = Side::kBuy;
  Quantity qty;
  Price price;
};

struct OrderStatus {
  std::string cl_ord_id;
  std::string account;
  std::string symbol;
  Side side = Side::kBuy;
};

// MassCancelRequestType(530) values the exchange serves.
enum class MassCancelScope : char {
  kBySymbol = '1',
  kAllOfBroker = '7',
};

// A mass cancel; symbol is required for kBySymbol and ignored otherwise.
struct MassCancel {
  std::string cl_ord_id;
  MassCancelScope scope = MassCancelScope::kAllOfBroker;
  std::string symbol;
};

// SubscriptionRequestType(263).
enum class Subscription : char {
  kSnapshot = '0',
  kSubscribe = '1',
  kUnsubscribe = '2',
};

// MDEntryType(269) values the exchange serves.
enum class MdEntryType : char { kBid = '0', kOffer = '1', kTrade = '2' };

struct MarketDataSubscription {
  std::string md_req_id;
  Subscription subscription = Subscription::kSnapshot;
  int depth = 0;  // MarketDepth(264): 0 = full book, N = top N levels
  std::vector<MdEntryType> entry_types = {MdEntryType::kBid,
                                          MdEntryType::kOffer};
  std::vector<std::string> symbols;
};

// Every builder stamps TransactTime(60) with the current UTC time where the
// message carries one.
FIX44::NewOrderSingle BuildNewOrderSingle(const NewOrder& order);
FIX44::OrderCancelRequest BuildOrderCancelRequest(const CancelOrder& cancel);
FIX44::OrderCancelReplaceRequest BuildOrderCancelReplaceRequest(
    const ReplaceOrder& replace);
FIX44::OrderStatusRequest BuildOrderStatusRequest(const OrderStatus& status);
FIX44::OrderMassCancelRequest BuildOrderMassCancelRequest(
    const MassCancel& mass_cancel);
FIX44::MarketDataRequest BuildMarketDataRequest(
    const MarketDataSubscription& request);
// SecurityListRequestType(559) = 4 (all instruments).
FIX44::SecurityListRequest BuildSecurityListRequest(
    const std::string& security_req_id);

// The same two orders written straight into wire form (Client::SendBody):
// the body fields of BuildNewOrderSingle's / BuildOrderCancelRequest's
// message are appended to `writer`, with TransactTime(60) `transact_time`
// (UtcTimestampNow()); the MsgType is returned ("D", "F").
const char* WriteNewOrderSingle(const NewOrder& order,
                                std::string_view transact_time,
                                gateway::FixBodyWriter* writer);
const char* WriteOrderCancelRequest(const CancelOrder& cancel,
                                    std::string_view transact_time,
                                    gateway::FixBodyWriter* writer);
// The current UTC time as a FIX UTCTimestamp with milliseconds
// ("YYYYMMDD-HH:MM:SS.sss"), as the builders stamp TransactTime(60).
std::string UtcTimestampNow();

// "2500.00" for Price(250000); negative prices keep their sign.
std::string FormatPrice(Price price);

// Parses a decimal tenge amount ("2500", "2500.5", "2500.50") into tiyn.
// Errors: InvalidArgument if the text is not a decimal number, has more than
// two decimals, or does not fit.
Result<Price> ParsePrice(std::string_view text);

// The value of `tag` in the body, else in the header, else nullopt. Reads
// only top-level fields, not repeating groups.
std::optional<std::string> FieldOf(const FIX::Message& message, int tag);

// MsgType(35), or "" if the message has none.
std::string MsgTypeOf(const FIX::Message& message);

// One readable line for a message: its type name and the fields that matter
// to a trader, e.g. "ExecutionReport Trade/Filled ClOrdID=o1 ... LastPx=25.00".
// Unknown message types print as "MsgType=<t>" followed by every body field.
std::string Describe(const FIX::Message& message);

}  // namespace carbonex::fixclient

#endif  // CARBONEX_FIXCLIENT_MESSAGES_H_
