#include "carbonex/fixclient/messages.h"

#include <quickfix/FieldNumbers.h>
#include <quickfix/Fields.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <utility>

namespace carbonex::fixclient {
namespace {

char SideChar(Side side) { return side == Side::kBuy ? '1' : '2'; }

std::string QtyText(Quantity qty) { return std::to_string(qty.value()); }

// TransactTime(60) with millisecond precision, stamped now.
void StampTransactTime(FIX::FieldMap& message) {
  message.setField(FIX::UtcTimeStampField(FIX::FIELD::TransactTime, 3));
}

void SetOrderKey(FIX::FieldMap& message, const std::string& cl_ord_id,
                 const std::string& account, const std::string& symbol,
                 Side side) {
  message.setField(FIX::FIELD::ClOrdID, cl_ord_id);
  message.setField(FIX::FIELD::Account, account);
  message.setField(FIX::FIELD::Symbol, symbol);
  message.setField(FIX::Side(SideChar(side)));
}

struct TagName {
  int tag;
  const char* name;
};

// The fields Describe() prints for each reply type, in print order.
constexpr TagName kExecutionReportTags[] = {
    {FIX::FIELD::ClOrdID, "ClOrdID"},
    {FIX::FIELD::OrigClOrdID, "OrigClOrdID"},
    {FIX::FIELD::OrderID, "OrderID"},
    {FIX::FIELD::Account, "Account"},
    {FIX::FIELD::Side, "Side"},
    {FIX::FIELD::Symbol, "Symbol"},
    {FIX::FIELD::OrderQty, "OrderQty"},
    {FIX::FIELD::Price, "Price"},
    {FIX::FIELD::TimeInForce, "TimeInForce"},
    {FIX::FIELD::LastQty, "LastQty"},
    {FIX::FIELD::LastPx, "LastPx"},
    {FIX::FIELD::CumQty, "CumQty"},
    {FIX::FIELD::LeavesQty, "LeavesQty"},
    {FIX::FIELD::AvgPx, "AvgPx"},
    {FIX::FIELD::OrdRejReason, "OrdRejReason"},
    {FIX::FIELD::Text, "Text"},
};
constexpr TagName kCancelRejectTags[] = {
    {FIX::FIELD::ClOrdID, "ClOrdID"},
    {FIX::FIELD::OrigClOrdID, "OrigClOrdID"},
    {FIX::FIELD::OrderID, "OrderID"},
    {FIX::FIELD::OrdStatus, "OrdStatus"},
    {FIX::FIELD::CxlRejResponseTo, "CxlRejResponseTo"},
    {FIX::FIELD::CxlRejReason, "CxlRejReason"},
    {FIX::FIELD::Text, "Text"},
};
constexpr TagName kMassCancelReportTags[] = {
    {FIX::FIELD::ClOrdID, "ClOrdID"},
    {FIX::FIELD::MassCancelRequestType, "MassCancelRequestType"},
    {FIX::FIELD::MassCancelResponse, "MassCancelResponse"},
    {FIX::FIELD::TotalAffectedOrders, "TotalAffectedOrders"},
    {FIX::FIELD::Text, "Text"},
};
constexpr TagName kSessionRejectTags[] = {
    {FIX::FIELD::RefSeqNum, "RefSeqNum"},
    {FIX::FIELD::RefTagID, "RefTagID"},
    {FIX::FIELD::RefMsgType, "RefMsgType"},
    {FIX::FIELD::SessionRejectReason, "SessionRejectReason"},
    {FIX::FIELD::Text, "Text"},
};
constexpr TagName kBusinessRejectTags[] = {
    {FIX::FIELD::RefMsgType, "RefMsgType"},
    {FIX::FIELD::BusinessRejectReason, "BusinessRejectReason"},
    {FIX::FIELD::Text, "Text"},
};
constexpr TagName kTextTags[] = {{FIX::FIELD::Text, "Text"}};
constexpr TagName kMarketDataTags[] = {
    {FIX::FIELD::MDReqID, "MDReqID"},
    {FIX::FIELD::Symbol, "Symbol"},
    {FIX::FIELD::NoMDEntries, "NoMDEntries"},
    {FIX::FIELD::MDReqRejReason, "MDReqRejReason"},
    {FIX::FIELD::Text, "Text"},
};
constexpr TagName kSecurityListTags[] = {
    {FIX::FIELD::SecurityReqID, "SecurityReqID"},
    {FIX::FIELD::SecurityRequestResult, "SecurityRequestResult"},
    {FIX::FIELD::NoRelatedSym, "NoRelatedSym"},
};

const char* ExecTypeName(const std::string& value) {
  if (value == "0") {
    return "New";
  }
  if (value == "4") {
    return "Canceled";
  }
  if (value == "5") {
    return "Replaced";
  }
  if (value == "8") {
    return "Rejected";
  }
  if (value == "C") {
    return "Expired";
  }
  if (value == "F") {
    return "Trade";
  }
  if (value == "I") {
    return "OrderStatus";
  }
  return nullptr;
}

const char* OrdStatusName(const std::string& value) {
  if (value == "0") {
    return "New";
  }
  if (value == "1") {
    return "PartiallyFilled";
  }
  if (value == "2") {
    return "Filled";
  }
  if (value == "4") {
    return "Canceled";
  }
  if (value == "8") {
    return "Rejected";
  }
  if (value == "C") {
    return "Expired";
  }
  return nullptr;
}

std::string NamedOr(const char* name, const std::string& raw) {
  return name != nullptr ? std::string(name) : "?" + raw;
}

template <std::size_t N>
void AppendTags(const FIX::Message& message, const TagName (&tags)[N],
                std::string& out) {
  for (const TagName& tag : tags) {
    if (auto value = FieldOf(message, tag.tag)) {
      out += ' ';
      out += tag.name;
      out += '=';
      out += *value;
    }
  }
}

}  // namespace

namespace {

// NewOrderSingle's body fields in ascending tag order (the wire's).
template <typename Fields>
void NewOrderFields(const NewOrder& order, std::string_view transact_time,
                    Fields& fields) {
  fields.Add(FIX::FIELD::Account, order.account);          // 1
  fields.Add(FIX::FIELD::ClOrdID, order.cl_ord_id);        // 11
  fields.AddInt(FIX::FIELD::OrderQty, order.qty.value());  // 38
  fields.AddChar(
      FIX::FIELD::OrdType,  // 40
      order.price.has_value() ? FIX::OrdType_LIMIT : FIX::OrdType_MARKET);
  if (order.price.has_value()) {
    fields.Add(FIX::FIELD::Price, FormatPrice(*order.price));  // 44
  }
  fields.AddChar(FIX::FIELD::Side, SideChar(order.side));  // 54
  fields.Add(FIX::FIELD::Symbol, order.symbol);            // 55
  fields.AddChar(FIX::FIELD::TimeInForce,                  // 59
                 static_cast<char>(order.tif));
  fields.Add(FIX::FIELD::TransactTime, transact_time);  // 60
}

// OrderCancelRequest's body fields in ascending tag order.
template <typename Fields>
void CancelFields(const CancelOrder& cancel, std::string_view transact_time,
                  Fields& fields) {
  fields.Add(FIX::FIELD::Account, cancel.account);             // 1
  fields.Add(FIX::FIELD::ClOrdID, cancel.cl_ord_id);           // 11
  fields.Add(FIX::FIELD::OrigClOrdID, cancel.orig_cl_ord_id);  // 41
  fields.AddChar(FIX::FIELD::Side, SideChar(cancel.side));     // 54
  fields.Add(FIX::FIELD::Symbol, cancel.symbol);               // 55
  fields.Add(FIX::FIELD::TransactTime, transact_time);         // 60
}

}  // namespace

std::string UtcTimestampNow() {
  return FIX::UtcTimeStampConvertor::convert(FIX::UtcTimeStamp(), 3);
}

FIX44::NewOrderSingle BuildNewOrderSingle(const NewOrder& order) {
  FIX44::NewOrderSingle message;
  gateway::FieldMapWriter fields(message);
  NewOrderFields(order, UtcTimestampNow(), fields);
  return message;
}

const char* WriteNewOrderSingle(const NewOrder& order,
                                std::string_view transact_time,
                                gateway::FixBodyWriter* writer) {
  NewOrderFields(order, transact_time, *writer);
  return "D";
}

FIX44::OrderCancelRequest BuildOrderCancelRequest(const CancelOrder& cancel) {
  FIX44::OrderCancelRequest message;
  gateway::FieldMapWriter fields(message);
  CancelFields(cancel, UtcTimestampNow(), fields);
  return message;
}

const char* WriteOrderCancelRequest(const CancelOrder& cancel,
                                    std::string_view transact_time,
                                    gateway::FixBodyWriter* writer) {
  CancelFields(cancel, transact_time, *writer);
  return "F";
}

FIX44::OrderCancelReplaceRequest BuildOrderCancelReplaceRequest(
    const ReplaceOrder& replace) {
  FIX44::OrderCancelReplaceRequest message;
  SetOrderKey(message, replace.cl_ord_id, replace.account, replace.symbol,
              replace.side);
  message.setField(FIX::FIELD::OrigClOrdID, replace.orig_cl_ord_id);
  message.setField(FIX::FIELD::OrderQty, QtyText(replace.qty));
  message.setField(FIX::OrdType(FIX::OrdType_LIMIT));
  message.setField(FIX::FIELD::Price, FormatPrice(replace.price));
  StampTransactTime(message);
  return message;
}

FIX44::OrderStatusRequest BuildOrderStatusRequest(const OrderStatus& status) {
  FIX44::OrderStatusRequest message;
  SetOrderKey(message, status.cl_ord_id, status.account, status.symbol,
              status.side);
  return message;
}

FIX44::OrderMassCancelRequest BuildOrderMassCancelRequest(
    const MassCancel& mass_cancel) {
  FIX44::OrderMassCancelRequest message;
  message.setField(FIX::FIELD::ClOrdID, mass_cancel.cl_ord_id);
  message.setField(
      FIX::MassCancelRequestType(static_cast<char>(mass_cancel.scope)));
  if (mass_cancel.scope == MassCancelScope::kBySymbol) {
    message.setField(FIX::FIELD::Symbol, mass_cancel.symbol);
  }
  StampTransactTime(message);
  return message;
}

FIX44::MarketDataRequest BuildMarketDataRequest(
    const MarketDataSubscription& request) {
  FIX44::MarketDataRequest message;
  message.setField(FIX::FIELD::MDReqID, request.md_req_id);
  message.setField(
      FIX::SubscriptionRequestType(static_cast<char>(request.subscription)));
  message.setField(FIX::MarketDepth(request.depth));
  for (MdEntryType type : request.entry_types) {
    FIX44::MarketDataRequest::NoMDEntryTypes group;
    group.setField(FIX::MDEntryType(static_cast<char>(type)));
    message.addGroup(group);
  }
  for (const std::string& symbol : request.symbols) {
    FIX44::MarketDataRequest::NoRelatedSym group;
    group.setField(FIX::FIELD::Symbol, symbol);
    message.addGroup(group);
  }
  return message;
}

FIX44::SecurityListRequest BuildSecurityListRequest(
    const std::string& security_req_id) {
  FIX44::SecurityListRequest message;
  message.setField(FIX::FIELD::SecurityReqID, security_req_id);
  message.setField(FIX::SecurityListRequestType(
      FIX::SecurityListRequestType_ALL_SECURITIES));
  return message;
}

std::string FormatPrice(Price price) {
  const std::int64_t tiyn = price.value();
  // Work on the magnitude as unsigned so that INT64_MIN formats too.
  const std::uint64_t magnitude = tiyn < 0
                                      ? ~static_cast<std::uint64_t>(tiyn) + 1
                                      : static_cast<std::uint64_t>(tiyn);
  const std::uint64_t cents = magnitude % 100;
  std::string text = tiyn < 0 ? "-" : "";
  text += std::to_string(magnitude / 100);
  text += '.';
  text += static_cast<char>('0' + cents / 10);
  text += static_cast<char>('0' + cents % 10);
  return text;
}

Result<Price> ParsePrice(std::string_view text) {
  const std::string quoted = "price '" + std::string(text) + "'";
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest.front() == '-' || rest.front() == '+')) {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  const std::size_t dot = rest.find('.');
  const std::string_view whole = rest.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && fraction.empty())) {
    return Status::InvalidArgument(quoted + " is not a decimal number");
  }
  if (fraction.size() > 2) {
    return Status::InvalidArgument(quoted +
                                   " has more than two decimals (tiyn)");
  }
  auto all_digits = [](std::string_view s) {
    for (char c : s) {
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  };
  if (!all_digits(whole) || !all_digits(fraction)) {
    return Status::InvalidArgument(quoted + " is not a decimal number");
  }
  std::int64_t units = 0;
  auto [end, error] =
      std::from_chars(whole.data(), whole.data() + whole.size(), units);
  if (error != std::errc() ||
      units > std::numeric_limits<std::int64_t>::max() / 100 - 1) {
    return Status::InvalidArgument(quoted + " is too large");
  }
  std::int64_t cents = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    cents = cents * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }
  const std::int64_t tiyn = units * 100 + cents;
  return Price(negative ? -tiyn : tiyn);
}

std::optional<std::string> FieldOf(const FIX::Message& message, int tag) {
  if (message.isSetField(tag)) {
    return message.getField(tag);
  }
  if (message.getHeader().isSetField(tag)) {
    return message.getHeader().getField(tag);
  }
  return std::nullopt;
}

std::string MsgTypeOf(const FIX::Message& message) {
  return FieldOf(message, FIX::FIELD::MsgType).value_or("");
}

std::string Describe(const FIX::Message& message) {
  const std::string type = MsgTypeOf(message);
  std::string out;
  if (type == "8") {
    const std::string exec_type =
        FieldOf(message, FIX::FIELD::ExecType).value_or("");
    const std::string ord_status =
        FieldOf(message, FIX::FIELD::OrdStatus).value_or("");
    out = "ExecutionReport " + NamedOr(ExecTypeName(exec_type), exec_type) +
          "/" + NamedOr(OrdStatusName(ord_status), ord_status);
    AppendTags(message, kExecutionReportTags, out);
  } else if (type == "9") {
    out = "OrderCancelReject";
    AppendTags(message, kCancelRejectTags, out);
  } else if (type == "r") {
    out = "OrderMassCancelReport";
    AppendTags(message, kMassCancelReportTags, out);
  } else if (type == "3") {
    out = "Reject";
    AppendTags(message, kSessionRejectTags, out);
  } else if (type == "j") {
    out = "BusinessMessageReject";
    AppendTags(message, kBusinessRejectTags, out);
  } else if (type == "5") {
    out = "Logout";
    AppendTags(message, kTextTags, out);
  } else if (type == "A") {
    out = "Logon";
  } else if (type == "W" || type == "X" || type == "Y") {
    out = type == "W"   ? "MarketDataSnapshotFullRefresh"
          : type == "X" ? "MarketDataIncrementalRefresh"
                        : "MarketDataRequestReject";
    AppendTags(message, kMarketDataTags, out);
  } else if (type == "y") {
    out = "SecurityList";
    AppendTags(message, kSecurityListTags, out);
  } else {
    out = "MsgType=" + type;
    for (const FIX::FieldBase& field : message) {
      out += ' ' + std::to_string(field.getTag()) + '=' + field.getString();
    }
  }
  return out;
}

}  // namespace carbonex::fixclient
