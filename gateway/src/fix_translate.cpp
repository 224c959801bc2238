#include "carbonex/gateway/fix_translate.h"

#include <quickfix/Group.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <type_traits>

namespace carbonex::gateway {
namespace {

// FIX tags used here (FIX 4.4).
constexpr int kAccount = 1;
constexpr int kAvgPx = 6;
constexpr int kClOrdId = 11;
constexpr int kCumQty = 14;
constexpr int kExecId = 17;
constexpr int kLastPx = 31;
constexpr int kLastQty = 32;
constexpr int kMsgType = 35;
constexpr int kOrderId = 37;
constexpr int kOrderQty = 38;
constexpr int kOrdStatus = 39;
constexpr int kOrdType = 40;
constexpr int kOrigClOrdId = 41;
constexpr int kPrice = 44;
constexpr int kSide = 54;
constexpr int kSymbol = 55;
constexpr int kText = 58;
constexpr int kTimeInForce = 59;
constexpr int kTransactTime = 60;
constexpr int kOrdRejReason = 103;
constexpr int kCxlRejReason = 102;
constexpr int kNoRelatedSym = 146;
constexpr int kExecType = 150;
constexpr int kLeavesQty = 151;
constexpr int kSecurityType = 167;
constexpr int kMdReqId = 262;
constexpr int kSubscriptionRequestType = 263;
constexpr int kMarketDepth = 264;
constexpr int kNoMdEntryTypes = 267;
constexpr int kNoMdEntries = 268;
constexpr int kMdEntryType = 269;
constexpr int kMdEntryPx = 270;
constexpr int kMdEntrySize = 271;
constexpr int kMdUpdateAction = 279;
constexpr int kMdReqRejReason = 281;
constexpr int kMdEntryPositionNo = 290;
constexpr int kSecurityReqId = 320;
constexpr int kSecurityResponseId = 322;
constexpr int kNumberOfOrders = 346;
constexpr int kTotNoRelatedSym = 393;
constexpr int kCxlRejResponseTo = 434;
constexpr int kMassCancelRequestType = 530;
constexpr int kMassCancelResponse = 531;
constexpr int kMassCancelRejectReason = 532;
constexpr int kTotalAffectedOrders = 533;
constexpr int kSecurityListRequestType = 559;
constexpr int kSecurityRequestResult = 560;
constexpr int kMinTradeVol = 562;

FIX::Message NewMessage(const char* msg_type) {
  FIX::Message message;
  message.getHeader().setField(kMsgType, msg_type);
  return message;
}

std::string Get(const FIX::Message& message, int tag) {
  return message.isSetField(tag) ? message.getField(tag) : std::string();
}

void SetInt(FIX::FieldMap& map, int tag, std::int64_t value) {
  map.setField(tag, std::to_string(value));
}

// Sets a text field unless the value is empty (FIX forbids empty values).
void SetText(FIX::FieldMap& map, int tag, std::string_view value) {
  if (!value.empty()) map.setField(tag, std::string(value));
}

void SetChar(FIX::FieldMap& map, int tag, char value) {
  map.setField(tag, std::string(1, value));
}

char SideChar(Side side) { return side == Side::kBuy ? '1' : '2'; }

char OrdStatusChar(const engine::OrderView& order) {
  switch (order.status) {
    case engine::OrderStatus::kNew:
      return '0';
    case engine::OrderStatus::kPartiallyFilled:
      return '1';
    case engine::OrderStatus::kFilled:
      return '2';
    case engine::OrderStatus::kCanceled:
      return '4';
    case engine::OrderStatus::kRejected:
      return '8';
    case engine::OrderStatus::kExpired:
      return 'C';
    case engine::OrderStatus::kReplaced:
      break;
  }
  // A replaced order's "current status" is what its fills make it.
  if (order.cum_qty.value() == 0) return '0';
  return order.leaves_qty.value() == 0 ? '2' : '1';
}

char TifChar(engine::TimeInForce tif) {
  return static_cast<char>('0' + static_cast<int>(tif));
}

// The parsed text of a few common fields, for echoing in immediate rejects.
struct Echo {
  std::string cl_ord_id;
  std::string orig_cl_ord_id;
  std::string account;
  std::string symbol;
  std::string side;
  std::string qty;
  std::string order_id;
};

Echo EchoOf(const FIX::Message& message) {
  return Echo{Get(message, kClOrdId), Get(message, kOrigClOrdId),
              Get(message, kAccount), Get(message, kSymbol),
              Get(message, kSide),    Get(message, kOrderQty),
              Get(message, kOrderId)};
}

// An ExecutionReport the gateway sends without the engine: a reject (D) or
// an unknown-order status answer (H).
FIX::Message ImmediateReport(const Echo& echo, char exec_type, int reason,
                             std::string_view text, const std::string& exec_id,
                             Timestamp now) {
  FIX::Message report = NewMessage("8");
  report.setField(kOrderId, echo.order_id.empty() ? "NONE" : echo.order_id);
  report.setField(kClOrdId, echo.cl_ord_id);
  report.setField(kExecId, exec_id);
  SetChar(report, kExecType, exec_type);
  SetChar(report, kOrdStatus, '8');
  SetInt(report, kOrdRejReason, reason);
  SetText(report, kAccount, echo.account);
  SetText(report, kSymbol, echo.symbol);
  report.setField(kSide, echo.side.empty() ? "1" : echo.side);
  report.setField(kOrderQty, echo.qty.empty() ? "0" : echo.qty);
  report.setField(kCumQty, "0");
  report.setField(kLeavesQty, "0");
  report.setField(kAvgPx, "0");
  report.setField(kTransactTime, FormatUtcTimestamp(now));
  report.setField(kText, std::string(text));
  return report;
}

FIX::Message ImmediateCancelReject(const Echo& echo, char response_to,
                                   int reason, std::string_view text,
                                   Timestamp now) {
  FIX::Message reject = NewMessage("9");
  reject.setField(kOrderId, echo.order_id.empty() ? "NONE" : echo.order_id);
  reject.setField(kClOrdId, echo.cl_ord_id.empty() ? "NONE" : echo.cl_ord_id);
  reject.setField(kOrigClOrdId,
                  echo.orig_cl_ord_id.empty() ? "NONE" : echo.orig_cl_ord_id);
  SetChar(reject, kOrdStatus, '8');
  SetText(reject, kAccount, echo.account);
  reject.setField(kTransactTime, FormatUtcTimestamp(now));
  SetChar(reject, kCxlRejResponseTo, response_to);
  SetInt(reject, kCxlRejReason, reason);
  reject.setField(kText, std::string(text));
  return reject;
}

std::optional<Side> ParseSide(std::string_view text) {
  if (text == "1") return Side::kBuy;
  if (text == "2") return Side::kSell;
  return std::nullopt;
}

std::optional<OrderId> ParseOrderId(std::string_view text) {
  std::uint64_t value = 0;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value == 0) {
    return std::nullopt;
  }
  return OrderId(value);
}

// The identity fields shared by F, G and H, resolved; `error` names what did
// not resolve.
struct OrderRef {
  ClientOrderId cl_ord_id;
  ClientOrderId orig_cl_ord_id;
  std::optional<OrderId> order_id;
  AccountId account;
  InstrumentId instrument;
  Side side = Side::kBuy;
};

// Returns an empty string on success, else why the reference cannot name a
// live order ("unknown symbol", …). `bad_request` is set when the message
// itself is invalid (as opposed to naming no order).
std::string ResolveRef(const FIX::Message& message, const NameTables& tables,
                       bool needs_orig, OrderRef* ref, bool* bad_request) {
  *bad_request = false;
  std::string cl = Get(message, kClOrdId);
  if (cl.empty() || cl.size() > ClientOrderId::kMaxLength) {
    *bad_request = true;
    return "ClOrdID must be 1 to 31 characters";
  }
  ref->cl_ord_id = ClientOrderId(cl);
  std::optional<Side> side = ParseSide(Get(message, kSide));
  if (!side) {
    *bad_request = true;
    return "Side must be 1 (buy) or 2 (sell)";
  }
  ref->side = *side;
  if (message.isSetField(kOrderId)) {
    ref->order_id = ParseOrderId(message.getField(kOrderId));
    if (!ref->order_id) return "unknown order: no such OrderID";
  }
  if (needs_orig) {
    std::string orig = Get(message, kOrigClOrdId);
    if (orig.empty() || orig.size() > ClientOrderId::kMaxLength) {
      return "unknown order: no such OrigClOrdID";
    }
    ref->orig_cl_ord_id = ClientOrderId(orig);
  }
  const InstrumentState* instrument =
      tables.FindInstrument(Get(message, kSymbol));
  if (instrument == nullptr) return "unknown order: unknown symbol";
  ref->instrument = instrument->id;
  std::optional<AccountId> account = tables.FindAccount(Get(message, kAccount));
  if (!account) return "unknown order: unknown account";
  ref->account = *account;
  return {};
}

}  // namespace

// ---- Decimals ----

std::optional<std::int64_t> ParseDecimal(std::string_view text, int scale) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  constexpr std::int64_t kLimit = 1'000'000'000'000'000;  // 1e18
  std::int64_t value = 0;
  int decimals = -1;  // -1: before the point
  bool digits = false;
  for (char c : text) {
    if (c == '.') {
      if (decimals >= 0) return std::nullopt;
      decimals = 0;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    digits = true;
    int digit = c - '0';
    if (decimals >= 0) {
      ++decimals;
      if (decimals > scale) {
        if (digit != 0) return std::nullopt;  // finer than the scale
        continue;
      }
    }
    if (value > kLimit / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (!digits) return std::nullopt;
  for (int d = decimals < 0 ? 0 : decimals; d < scale; ++d) {
    if (value > kLimit / 10) return std::nullopt;
    value *= 10;
  }
  return negative ? -value : value;
}

std::optional<Price> ParsePrice(std::string_view text) {
  std::optional<std::int64_t> tiyn = ParseDecimal(text, 2);
  if (!tiyn) return std::nullopt;
  return Price(*tiyn);
}

std::optional<Quantity> ParseQuantity(std::string_view text) {
  std::optional<std::int64_t> units = ParseDecimal(text, 0);
  if (!units) return std::nullopt;
  return Quantity(*units);
}

std::string FormatPrice(Price price) {
  std::int64_t v = price.value();
  bool negative = v < 0;
  std::uint64_t magnitude = negative ? static_cast<std::uint64_t>(-(v + 1)) + 1
                                     : static_cast<std::uint64_t>(v);
  std::string out = negative ? "-" : "";
  out += std::to_string(magnitude / 100);
  out += '.';
  std::uint64_t cents = magnitude % 100;
  out += static_cast<char>('0' + cents / 10);
  out += static_cast<char>('0' + cents % 10);
  return out;
}

std::string FormatAveragePrice(Cash notional, Quantity qty) {
  if (qty.value() <= 0 || notional.value() < 0) return "0";
  // notional / (qty × 100), by long division.
  auto numerator = static_cast<unsigned __int128>(notional.value());
  auto denominator = static_cast<unsigned __int128>(qty.value()) * 100;
  unsigned __int128 whole = numerator / denominator;
  unsigned __int128 rest = numerator % denominator;
  std::string out = std::to_string(static_cast<std::uint64_t>(whole));
  if (rest == 0) return out;
  std::string decimals;
  for (int i = 0; i < 12 && rest != 0; ++i) {
    rest *= 10;
    decimals += static_cast<char>('0' + static_cast<int>(rest / denominator));
    rest %= denominator;
  }
  if (rest != 0) {
    // Does not terminate within 12 places: round half up to 10.
    decimals.resize(10);
    // Compare the dropped part (digits 11, 12 and the remainder) with one
    // half of a unit in the 10th place by recomputing exactly.
    unsigned __int128 scaled = numerator;
    for (int i = 0; i < 10; ++i) scaled *= 10;
    unsigned __int128 q = scaled / denominator;
    unsigned __int128 r = scaled % denominator;
    if (r * 2 >= denominator) ++q;
    unsigned __int128 pow10 = 1;
    for (int i = 0; i < 10; ++i) pow10 *= 10;
    whole = q / pow10;
    unsigned __int128 frac = q % pow10;
    out = std::to_string(static_cast<std::uint64_t>(whole));
    decimals.assign(10, '0');
    for (int i = 9; i >= 0; --i) {
      decimals[static_cast<std::size_t>(i)] =
          static_cast<char>('0' + static_cast<int>(frac % 10));
      frac /= 10;
    }
    while (!decimals.empty() && decimals.back() == '0') decimals.pop_back();
    if (decimals.empty()) return out;
  }
  return out + "." + decimals;
}

std::string FormatUtcTimestamp(Timestamp time) {
  // Calendar arithmetic, without gmtime_r's time zone machinery or printf:
  // every execution report carries one.
  using std::chrono::days;
  using std::chrono::nanoseconds;
  const nanoseconds ns{std::max<std::int64_t>(time.value(), 0)};
  const std::chrono::sys_days day =
      std::chrono::floor<days>(std::chrono::sys_time<nanoseconds>(ns));
  const std::chrono::year_month_day date{day};
  const std::int64_t in_day = (ns - day.time_since_epoch()).count();
  const std::int64_t millis = in_day / 1'000'000;
  std::string out = "YYYYMMDD-HH:MM:SS.mmm";
  const auto put = [&out](std::size_t at, std::size_t width,
                          std::int64_t value) {
    for (std::size_t i = at + width; i-- > at;) {
      out[i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, 4, static_cast<int>(date.year()));
  put(4, 2, static_cast<unsigned>(date.month()));
  put(6, 2, static_cast<unsigned>(date.day()));
  put(9, 2, millis / 3'600'000);
  put(12, 2, millis / 60'000 % 60);
  put(15, 2, millis / 1000 % 60);
  put(18, 3, millis % 1000);
  return out;
}

std::string ExecIdSource::Next() {
  std::uint64_t n = next_.fetch_add(1, std::memory_order_relaxed);
  return "G" + std::to_string(start_ns_) + "-" + std::to_string(n);
}

std::string EngineExecId(SequenceNumber seq, std::uint32_t index) {
  return std::to_string(seq.value()) + "-" + std::to_string(index);
}

// ---- Reason texts and codes ----

std::string_view RejectText(engine::RejectReason reason) {
  using R = engine::RejectReason;
  switch (reason) {
    case R::kUnknownInstrument:
      return "unknown symbol";
    case R::kUnknownAccount:
      return "unknown account";
    case R::kUnauthorisedAccount:
      return "broker not entitled to trade for this account";
    case R::kInsufficientUnits:
      return "exceeds limit: insufficient free units";
    case R::kInsufficientCash:
      return "exceeds limit: insufficient free cash";
    case R::kHoldingLimit:
      return "exceeds limit: holding limit";
    case R::kBadPrice:
      return "bad price: must be positive and on the tick grid";
    case R::kBadQuantity:
      return "bad quantity: must be 1 to the instrument's max order size";
    case R::kDuplicateClientOrderId:
      return "duplicate ClOrdID";
    case R::kUnknownOrder:
      return "unknown order";
    case R::kTooLateToCancel:
      return "too late: order already done";
    case R::kMarketClosed:
      return "market closed for this instrument";
    case R::kReplaceBelowFilled:
      return "replace quantity below filled quantity";
    case R::kReplaceNotLimit:
      return "only limit orders can be replaced";
    case R::kBadCommand:
      return "inconsistent request";
    case R::kOpenOrderLimit:
      return "exceeds limit: too many open orders";
  }
  return "rejected";
}

std::string_view CancelText(engine::CancelReason reason) {
  using C = engine::CancelReason;
  switch (reason) {
    case C::kRequested:
      return "cancelled on request";
    case C::kMassCancel:
      return "cancelled by mass cancel";
    case C::kImmediateOrCancel:
      return "IOC: unfilled remainder cancelled";
    case C::kFillOrKill:
      return "FOK: cannot fill completely, cancelled";
    case C::kMarketNoLiquidity:
      return "market order: no more liquidity, remainder cancelled";
    case C::kMarketCashLimit:
      return "market buy limited by free cash, remainder cancelled";
    case C::kSelfTrade:
      return "self-trade prevention: remainder cancelled";
  }
  return "cancelled";
}

int OrdRejReasonCode(engine::RejectReason reason) {
  using R = engine::RejectReason;
  switch (reason) {
    case R::kUnknownInstrument:
      return 1;
    case R::kInsufficientUnits:
    case R::kInsufficientCash:
    case R::kHoldingLimit:
    case R::kOpenOrderLimit:
      return 3;
    case R::kUnknownOrder:
      return 5;
    case R::kDuplicateClientOrderId:
      return 6;
    default:
      return 99;
  }
}

int CxlRejReasonCode(engine::RejectReason reason) {
  using R = engine::RejectReason;
  switch (reason) {
    case R::kTooLateToCancel:
      return 0;
    case R::kUnknownOrder:
    case R::kUnknownInstrument:
    case R::kUnknownAccount:
      return 1;
    default:
      return 99;
  }
}

// ---- Inbound ----

Translation TranslateNewOrder(const FIX::Message& message,
                              const NameTables& tables, ExecIdSource& exec_ids,
                              Timestamp now) {
  Echo echo = EchoOf(message);
  auto reject = [&](int reason, std::string_view text) {
    Translation t;
    t.reply = ImmediateReport(echo, '8', reason, text, exec_ids.Next(), now);
    return t;
  };
  if (echo.cl_ord_id.empty() ||
      echo.cl_ord_id.size() > ClientOrderId::kMaxLength) {
    return reject(99, "ClOrdID must be 1 to 31 characters");
  }
  engine::PlaceOrder order;
  order.cl_ord_id = ClientOrderId(echo.cl_ord_id);
  std::optional<Side> side = ParseSide(echo.side);
  if (!side) return reject(99, "Side must be 1 (buy) or 2 (sell)");
  order.side = *side;
  std::string ord_type = Get(message, kOrdType);
  if (ord_type == "1") {
    order.type = engine::OrderType::kMarket;
  } else if (ord_type == "2") {
    order.type = engine::OrderType::kLimit;
  } else {
    return reject(99, "OrdType must be 1 (market) or 2 (limit)");
  }
  std::string tif = Get(message, kTimeInForce);
  if (tif.empty() || tif == "0") {
    order.tif = engine::TimeInForce::kDay;
  } else if (tif == "1") {
    order.tif = engine::TimeInForce::kGtc;
  } else if (tif == "3") {
    order.tif = engine::TimeInForce::kIoc;
  } else if (tif == "4") {
    order.tif = engine::TimeInForce::kFok;
  } else {
    return reject(99,
                  "TimeInForce must be 0 (Day), 1 (GTC), 3 (IOC) or 4 (FOK)");
  }
  std::optional<Quantity> qty = ParseQuantity(echo.qty);
  if (!qty) return reject(99, "bad quantity: must be a whole number of units");
  order.qty = *qty;
  if (order.type == engine::OrderType::kLimit) {
    if (!message.isSetField(kPrice)) {
      return reject(99, "bad price: a limit order needs Price(44)");
    }
    std::optional<Price> price = ParsePrice(message.getField(kPrice));
    if (!price) {
      return reject(99, "bad price: must be positive and on the tick grid");
    }
    order.price = *price;
  }
  const InstrumentState* instrument = tables.FindInstrument(echo.symbol);
  if (instrument == nullptr) return reject(1, "unknown symbol");
  order.instrument = instrument->id;
  std::optional<AccountId> account = tables.FindAccount(echo.account);
  if (!account) return reject(99, "unknown account");
  order.account = *account;
  Translation t;
  t.command = order;
  return t;
}

FIX::Message RefusalFor(const FIX::Message& message, std::string_view text,
                        ExecIdSource& exec_ids, Timestamp now) {
  Echo echo = EchoOf(message);
  if (message.getHeader().getField(35) == "G") {
    return ImmediateCancelReject(echo, '2', 99, text, now);
  }
  return ImmediateReport(echo, '8', 99, text, exec_ids.Next(), now);
}

Translation TranslateCancel(const FIX::Message& message,
                            const NameTables& tables, Timestamp now) {
  Echo echo = EchoOf(message);
  OrderRef ref;
  bool bad_request = false;
  std::string error = ResolveRef(message, tables, true, &ref, &bad_request);
  if (!error.empty()) {
    Translation t;
    t.reply =
        ImmediateCancelReject(echo, '1', bad_request ? 99 : 1, error, now);
    return t;
  }
  engine::CancelOrder cancel;
  cancel.cl_ord_id = ref.cl_ord_id;
  cancel.orig_cl_ord_id = ref.orig_cl_ord_id;
  cancel.order_id = ref.order_id;
  cancel.account = ref.account;
  cancel.instrument = ref.instrument;
  cancel.side = ref.side;
  Translation t;
  t.command = cancel;
  return t;
}

Translation TranslateReplace(const FIX::Message& message,
                             const NameTables& tables, Timestamp now) {
  Echo echo = EchoOf(message);
  auto reject = [&](int reason, std::string_view text) {
    Translation t;
    t.reply = ImmediateCancelReject(echo, '2', reason, text, now);
    return t;
  };
  OrderRef ref;
  bool bad_request = false;
  std::string error = ResolveRef(message, tables, true, &ref, &bad_request);
  if (!error.empty()) return reject(bad_request ? 99 : 1, error);
  if (Get(message, kOrdType) != "2") {
    return reject(99, "only limit orders can be replaced (OrdType must be 2)");
  }
  std::optional<Quantity> qty = ParseQuantity(echo.qty);
  if (!qty) return reject(99, "bad quantity: must be a whole number of units");
  if (!message.isSetField(kPrice)) {
    return reject(99, "bad price: a replace needs Price(44)");
  }
  std::optional<Price> price = ParsePrice(message.getField(kPrice));
  if (!price) {
    return reject(99, "bad price: must be positive and on the tick grid");
  }
  engine::ReplaceOrder replace;
  replace.cl_ord_id = ref.cl_ord_id;
  replace.orig_cl_ord_id = ref.orig_cl_ord_id;
  replace.order_id = ref.order_id;
  replace.account = ref.account;
  replace.instrument = ref.instrument;
  replace.side = ref.side;
  replace.price = *price;
  replace.qty = *qty;
  Translation t;
  t.command = replace;
  return t;
}

Translation TranslateStatusRequest(const FIX::Message& message,
                                   const NameTables& tables,
                                   ExecIdSource& exec_ids, Timestamp now) {
  Echo echo = EchoOf(message);
  OrderRef ref;
  bool bad_request = false;
  std::string error = ResolveRef(message, tables, false, &ref, &bad_request);
  if (!error.empty()) {
    Translation t;
    t.reply = ImmediateReport(echo, 'I', bad_request ? 99 : 5, error,
                              exec_ids.Next(), now);
    return t;
  }
  engine::QueryOrderStatus query;
  query.cl_ord_id = ref.cl_ord_id;
  query.order_id = ref.order_id;
  query.account = ref.account;
  query.instrument = ref.instrument;
  query.side = ref.side;
  Translation t;
  t.command = query;
  return t;
}

Translation TranslateMassCancel(const FIX::Message& message,
                                const NameTables& tables, Timestamp now) {
  std::string cl = Get(message, kClOrdId);
  std::string type = Get(message, kMassCancelRequestType);
  auto reject = [&](int reason, std::string_view text) {
    FIX::Message report = NewMessage("r");
    report.setField(kClOrdId, cl);
    report.setField(kOrderId, "NONE");
    report.setField(kMassCancelRequestType, type);
    report.setField(kMassCancelResponse, "0");  // request rejected
    SetInt(report, kMassCancelRejectReason, reason);
    report.setField(kTotalAffectedOrders, "0");
    if (message.isSetField(kSymbol)) {
      report.setField(kSymbol, message.getField(kSymbol));
    }
    report.setField(kTransactTime, FormatUtcTimestamp(now));
    report.setField(kText, std::string(text));
    Translation t;
    t.reply = report;
    return t;
  };
  if (cl.empty() || cl.size() > ClientOrderId::kMaxLength) {
    return reject(99, "ClOrdID must be 1 to 31 characters");
  }
  engine::MassCancel mass;
  mass.cl_ord_id = ClientOrderId(cl);
  if (type == "1") {
    const InstrumentState* instrument =
        tables.FindInstrument(Get(message, kSymbol));
    if (instrument == nullptr) return reject(1, "unknown symbol");
    mass.scope = engine::MassCancelScope::kInstrument;
    mass.instrument = instrument->id;
  } else if (type == "7") {
    mass.scope = engine::MassCancelScope::kBroker;
  } else {
    return reject(0, "MassCancelRequestType must be 1 (by symbol) or 7 (all)");
  }
  Translation t;
  t.command = mass;
  return t;
}

MarketDataTranslation TranslateMarketDataRequest(const FIX::Message& message,
                                                 const NameTables& tables) {
  MarketDataRequest request;
  request.md_req_id = Get(message, kMdReqId);
  auto reject = [&](int reason, std::string_view text) {
    FIX::Message reply = NewMessage("Y");
    reply.setField(kMdReqId, request.md_req_id);
    SetChar(reply, kMdReqRejReason, static_cast<char>('0' + reason));
    reply.setField(kText, std::string(text));
    MarketDataTranslation t;
    t.reply = reply;
    return t;
  };
  std::string sub = Get(message, kSubscriptionRequestType);
  if (sub != "0" && sub != "1" && sub != "2") {
    return reject(4, "SubscriptionRequestType must be 0, 1 or 2");
  }
  request.subscription = sub[0];
  std::optional<Quantity> depth = ParseQuantity(Get(message, kMarketDepth));
  if (!depth || depth->value() < 0) {
    return reject(5, "MarketDepth must be 0 (full book) or a number of levels");
  }
  request.depth = static_cast<std::size_t>(depth->value());
  std::size_t types = message.groupCount(kNoMdEntryTypes);
  for (std::size_t i = 1; i <= types; ++i) {
    const FIX::FieldMap& group =
        message.getGroupRef(static_cast<int>(i), kNoMdEntryTypes);
    std::string entry =
        group.isSetField(kMdEntryType) ? group.getField(kMdEntryType) : "";
    if (entry == "0") {
      request.bids = true;
    } else if (entry == "1") {
      request.offers = true;
    } else if (entry == "2") {
      request.trades = true;
    } else {
      return reject(8, "MDEntryType must be 0 (bid), 1 (offer) or 2 (trade)");
    }
  }
  std::size_t symbols = message.groupCount(kNoRelatedSym);
  for (std::size_t i = 1; i <= symbols; ++i) {
    const FIX::FieldMap& group =
        message.getGroupRef(static_cast<int>(i), kNoRelatedSym);
    std::string symbol =
        group.isSetField(kSymbol) ? group.getField(kSymbol) : "";
    if (tables.FindInstrument(symbol) == nullptr) {
      return reject(0, "unknown symbol " + symbol);
    }
    request.symbols.push_back(symbol);
  }
  if (request.symbols.empty()) return reject(0, "no symbol requested");
  MarketDataTranslation t;
  t.request = std::move(request);
  return t;
}

FIX::Message SecurityListFor(const FIX::Message& request,
                             const NameTables& tables) {
  FIX::Message list = NewMessage("y");
  std::string req_id = Get(request, kSecurityReqId);
  list.setField(kSecurityReqId, req_id);
  list.setField(kSecurityResponseId, req_id.empty() ? "0" : req_id);
  std::string type = Get(request, kSecurityListRequestType);
  std::vector<const InstrumentState*> chosen;
  if (type == "4") {
    for (const InstrumentState& instrument : tables.instruments()) {
      if (instrument.status == TradingStatus::kOpen) {
        chosen.push_back(&instrument);
      }
    }
  } else if (type == "0") {
    const InstrumentState* instrument =
        tables.FindInstrument(Get(request, kSymbol));
    if (instrument == nullptr) {
      list.setField(kSecurityRequestResult, "2");
      list.setField(kTotNoRelatedSym, "0");
      return list;
    }
    chosen.push_back(instrument);
  } else {
    list.setField(kSecurityRequestResult, "1");
    list.setField(kTotNoRelatedSym, "0");
    list.setField(kText,
                  "SecurityListRequestType must be 0 (symbol) or 4 (all)");
    return list;
  }
  list.setField(kSecurityRequestResult, "0");
  SetInt(list, kTotNoRelatedSym, static_cast<std::int64_t>(chosen.size()));
  static const int kOrder[] = {kSymbol, kSecurityType, kMinTradeVol, 0};
  for (const InstrumentState* instrument : chosen) {
    FIX::Group entry(kNoRelatedSym, kSymbol, kOrder);
    entry.setField(kSymbol, instrument->symbol);
    entry.setField(kSecurityType, "CASH");
    entry.setField(kMinTradeVol, "1");
    list.addGroup(entry);
  }
  return list;
}

// ---- Outbound ----

std::optional<BrokerId> RecipientOf(const engine::Event& event) {
  std::optional<BrokerId> broker = std::visit(
      [&](const auto& body) -> std::optional<BrokerId> {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, engine::OrderAccepted> ||
                      std::is_same_v<T, engine::OrderFilled> ||
                      std::is_same_v<T, engine::OrderCanceled> ||
                      std::is_same_v<T, engine::OrderExpired> ||
                      std::is_same_v<T, engine::OrderReplaced>) {
          return body.order.broker;
        } else if constexpr (std::is_same_v<T, engine::OrderRejected> ||
                             std::is_same_v<T, engine::CancelRejected> ||
                             std::is_same_v<T, engine::MassCancelCompleted>) {
          return body.broker;
        } else if constexpr (std::is_same_v<T, engine::OrderStatusReported>) {
          return event.header.broker;
        } else {
          return std::nullopt;
        }
      },
      event.body);
  if (broker && *broker == engine::kOperatorBroker) return std::nullopt;
  return broker;
}

namespace {

// A text field unless the value is empty (FIX forbids empty values).
template <typename Fields>
void AddText(Fields& fields, int tag, std::string_view value) {
  if (!value.empty()) fields.Add(tag, value);
}

// What an execution report about a known order carries besides the order's
// own fields.
struct ReportExtras {
  const engine::OrderFilled* fill = nullptr;  // LastPx, LastQty
  std::string_view cl_ord_id;                 // instead of the order's ClOrdID
  std::string_view orig_cl_ord_id;            // OrigClOrdID, unless empty
  std::string_view text;                      // Text, unless empty
};

// The fields of an execution report about a known order, in ascending tag
// order (as the wire has them, so that FixBodyWriter can take them as they
// come; a FIX::Message sorts them itself).
template <typename Fields>
void OrderReportFields(Fields& fields, const engine::OrderView& order,
                       char exec_type, std::string_view exec_id, Timestamp time,
                       const NameTables& tables,
                       const ReportExtras& extras = {}) {
  AddText(fields, kAccount, tables.AccountName(order.account));  // 1
  fields.Add(kAvgPx,                                             // 6
             FormatAveragePrice(order.cum_notional, order.cum_qty));
  fields.Add(kClOrdId, extras.cl_ord_id.empty()  // 11
                           ? order.cl_ord_id.view()
                           : extras.cl_ord_id);
  fields.AddInt(kCumQty, order.cum_qty.value());  // 14
  fields.Add(kExecId, exec_id);                   // 17
  if (extras.fill != nullptr) {
    fields.Add(kLastPx, FormatPrice(extras.fill->last_price));  // 31
    fields.AddInt(kLastQty, extras.fill->last_qty.value());     // 32
  }
  fields.AddInt(kOrderId,
                static_cast<std::int64_t>(order.order_id.value()));  // 37
  fields.AddInt(kOrderQty, order.order_qty.value());                 // 38
  fields.AddChar(kOrdStatus, OrdStatusChar(order));                  // 39
  fields.AddChar(kOrdType,                                           // 40
                 order.type == engine::OrderType::kMarket ? '1' : '2');
  AddText(fields, kOrigClOrdId, extras.orig_cl_ord_id);            // 41
  if (order.price) fields.Add(kPrice, FormatPrice(*order.price));  // 44
  fields.AddChar(kSide, SideChar(order.side));                     // 54
  AddText(fields, kSymbol, tables.Symbol(order.instrument));       // 55
  AddText(fields, kText, extras.text);                             // 58
  fields.AddChar(kTimeInForce, TifChar(order.tif));                // 59
  fields.Add(kTransactTime, FormatUtcTimestamp(time));             // 60
  fields.AddChar(kExecType, exec_type);                            // 150
  fields.AddInt(kLeavesQty, order.leaves_qty.value());             // 151
}

// The body fields of the message that reports `event` to its broker, in
// ascending tag order, and its MsgType; nullptr (and no fields) when the
// broker is not told of it.
template <typename Fields>
const char* BrokerFields(const engine::Event& event, std::uint32_t index,
                         const NameTables& tables, Fields& fields) {
  const std::string exec_id = EngineExecId(event.header.seq, index);
  const Timestamp time = event.header.time;
  return std::visit(
      [&](const auto& body) -> const char* {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, engine::OrderAccepted>) {
          OrderReportFields(fields, body.order, '0', exec_id, time, tables);
          return "8";
        } else if constexpr (std::is_same_v<T, engine::OrderFilled>) {
          OrderReportFields(fields, body.order, 'F', exec_id, time, tables,
                            {.fill = &body});
          return "8";
        } else if constexpr (std::is_same_v<T, engine::OrderCanceled>) {
          ReportExtras extras;
          if (!body.cancel_cl_ord_id.empty()) {
            extras.cl_ord_id = body.cancel_cl_ord_id.view();
            extras.orig_cl_ord_id = body.order.cl_ord_id.view();
          }
          extras.text = body.cancel_cl_ord_id.empty() &&
                                body.reason == engine::CancelReason::kMassCancel
                            ? "cancel-on-disconnect: session dropped"
                            : CancelText(body.reason);
          OrderReportFields(fields, body.order, '4', exec_id, time, tables,
                            extras);
          return "8";
        } else if constexpr (std::is_same_v<T, engine::OrderExpired>) {
          OrderReportFields(fields, body.order, 'C', exec_id, time, tables,
                            {.text = "Day order expired at the close"});
          return "8";
        } else if constexpr (std::is_same_v<T, engine::OrderReplaced>) {
          OrderReportFields(fields, body.order, '5', exec_id, time, tables,
                            {.orig_cl_ord_id = body.orig_cl_ord_id.view()});
          return "8";
        } else if constexpr (std::is_same_v<T, engine::OrderRejected>) {
          const engine::PlaceOrder& r = body.request;
          AddText(fields, kAccount, tables.AccountName(r.account));  // 1
          fields.AddInt(kAvgPx, 0);                                  // 6
          fields.Add(kClOrdId, r.cl_ord_id.view());                  // 11
          fields.AddInt(kCumQty, 0);                                 // 14
          fields.Add(kExecId, exec_id);                              // 17
          fields.Add(kOrderId, "NONE");                              // 37
          fields.AddInt(kOrderQty, r.qty.value());                   // 38
          fields.AddChar(kOrdStatus, '8');                           // 39
          fields.AddChar(kOrdType,                                   // 40
                         r.type == engine::OrderType::kMarket ? '1' : '2');
          if (r.price) fields.Add(kPrice, FormatPrice(*r.price));       // 44
          fields.AddChar(kSide, SideChar(r.side));                      // 54
          AddText(fields, kSymbol, tables.Symbol(r.instrument));        // 55
          fields.Add(kText, RejectText(body.reason));                   // 58
          fields.AddChar(kTimeInForce, TifChar(r.tif));                 // 59
          fields.Add(kTransactTime, FormatUtcTimestamp(time));          // 60
          fields.AddInt(kOrdRejReason, OrdRejReasonCode(body.reason));  // 103
          fields.AddChar(kExecType, '8');                               // 150
          fields.AddInt(kLeavesQty, 0);                                 // 151
          return "8";
        } else if constexpr (std::is_same_v<T, engine::CancelRejected>) {
          AddText(fields, kAccount, tables.AccountName(body.account));  // 1
          fields.Add(kClOrdId, body.cl_ord_id.view());                  // 11
          if (body.order) {                                             // 37
            fields.AddInt(kOrderId, static_cast<std::int64_t>(
                                        body.order->order_id.value()));
          } else if (body.order_id) {
            fields.AddInt(kOrderId,
                          static_cast<std::int64_t>(body.order_id->value()));
          } else {
            fields.Add(kOrderId, "NONE");
          }
          fields.AddChar(kOrdStatus,  // 39
                         body.order ? OrdStatusChar(*body.order) : '8');
          fields.Add(kOrigClOrdId, body.orig_cl_ord_id.view());         // 41
          fields.Add(kText, RejectText(body.reason));                   // 58
          fields.Add(kTransactTime, FormatUtcTimestamp(time));          // 60
          fields.AddInt(kCxlRejReason, CxlRejReasonCode(body.reason));  // 102
          fields.AddChar(kCxlRejResponseTo,                             // 434
                         body.response_to == engine::CancelRequestKind::kReplace
                             ? '2'
                             : '1');
          return "9";
        } else if constexpr (std::is_same_v<T, engine::OrderStatusReported>) {
          if (body.order) {
            OrderReportFields(fields, *body.order, 'I', exec_id, time, tables);
            return "8";
          }
          const engine::QueryOrderStatus& q = body.request;
          AddText(fields, kAccount, tables.AccountName(q.account));  // 1
          fields.AddInt(kAvgPx, 0);                                  // 6
          fields.Add(kClOrdId, q.cl_ord_id.view());                  // 11
          fields.AddInt(kCumQty, 0);                                 // 14
          fields.Add(kExecId, exec_id);                              // 17
          if (q.order_id) {                                          // 37
            fields.AddInt(kOrderId,
                          static_cast<std::int64_t>(q.order_id->value()));
          } else {
            fields.Add(kOrderId, "NONE");
          }
          fields.AddInt(kOrderQty, 0);                            // 38
          fields.AddChar(kOrdStatus, '8');                        // 39
          fields.AddChar(kSide, SideChar(q.side));                // 54
          AddText(fields, kSymbol, tables.Symbol(q.instrument));  // 55
          fields.Add(kText, "unknown order");                     // 58
          fields.Add(kTransactTime, FormatUtcTimestamp(time));    // 60
          fields.AddInt(kOrdRejReason, 5);                        // 103
          fields.AddChar(kExecType, 'I');                         // 150
          fields.AddInt(kLeavesQty, 0);                           // 151
          return "8";
        } else if constexpr (std::is_same_v<T, engine::MassCancelCompleted>) {
          fields.Add(kClOrdId, body.request.cl_ord_id.view());  // 11
          fields.Add(kOrderId, exec_id);                        // 37
          if (body.request.instrument) {                        // 55
            fields.Add(kSymbol, tables.Symbol(*body.request.instrument));
          }
          fields.Add(kTransactTime, FormatUtcTimestamp(time));  // 60
          fields.AddInt(kMassCancelRequestType,                 // 530
                        static_cast<int>(body.request.scope));
          fields.AddInt(kMassCancelResponse,  // 531
                        static_cast<int>(body.request.scope));
          fields.AddInt(kTotalAffectedOrders, body.affected);  // 533
          return "r";
        } else {
          return nullptr;
        }
      },
      event.body);
}

}  // namespace

std::optional<FIX::Message> BrokerMessageFor(const engine::Event& event,
                                             std::uint32_t index,
                                             const NameTables& tables) {
  FIX::Message message;
  FieldMapWriter fields(message);
  const char* msg_type = BrokerFields(event, index, tables, fields);
  if (msg_type == nullptr) return std::nullopt;
  message.getHeader().setField(kMsgType, msg_type);
  return message;
}

const char* WriteBrokerMessage(const engine::Event& event, std::uint32_t index,
                               const NameTables& tables,
                               FixBodyWriter* writer) {
  return BrokerFields(event, index, tables, *writer);
}

FIX::Message MarketDataSnapshot(const MarketDataRequest& request,
                                std::string_view symbol,
                                const engine::DepthSnapshot& depth) {
  FIX::Message snapshot = NewMessage("W");
  snapshot.setField(kMdReqId, request.md_req_id);
  snapshot.setField(kSymbol, std::string(symbol));
  static const int kOrder[] = {kMdEntryType,       kMdEntryPx,
                               kMdEntrySize,       kNumberOfOrders,
                               kMdEntryPositionNo, 0};
  auto add_side = [&](const std::vector<engine::LevelView>& levels, char type) {
    int position = 1;
    for (const engine::LevelView& level : levels) {
      FIX::Group entry(kNoMdEntries, kMdEntryType, kOrder);
      SetChar(entry, kMdEntryType, type);
      entry.setField(kMdEntryPx, FormatPrice(level.price));
      SetInt(entry, kMdEntrySize, level.total_qty.value());
      SetInt(entry, kNumberOfOrders, level.order_count);
      SetInt(entry, kMdEntryPositionNo, position++);
      snapshot.addGroup(entry);
    }
  };
  if (request.bids) add_side(depth.bids, '0');
  if (request.offers) add_side(depth.asks, '1');
  if (snapshot.groupCount(kNoMdEntries) == 0) {
    snapshot.setField(kNoMdEntries, "0");
  }
  return snapshot;
}

std::optional<FIX::Message> MarketDataIncrement(
    const MarketDataRequest& request, const engine::Event& event,
    const NameTables& tables, char level_action) {
  static const int kOrder[] = {
      kMdUpdateAction, kMdEntryType,    kSymbol, kMdEntryPx,
      kMdEntrySize,    kNumberOfOrders, 0};
  FIX::Group entry(kNoMdEntries, kMdUpdateAction, kOrder);
  if (const auto* level = std::get_if<engine::BookLevelChanged>(&event.body)) {
    bool bid = level->side == Side::kBuy;
    if ((bid && !request.bids) || (!bid && !request.offers)) {
      return std::nullopt;
    }
    SetChar(entry, kMdUpdateAction,
            level->order_count == 0 ? '2' : level_action);
    SetChar(entry, kMdEntryType, bid ? '0' : '1');
    SetText(entry, kSymbol, tables.Symbol(level->instrument));
    entry.setField(kMdEntryPx, FormatPrice(level->price));
    SetInt(entry, kMdEntrySize, level->total_qty.value());
    SetInt(entry, kNumberOfOrders, level->order_count);
  } else if (const auto* trade =
                 std::get_if<engine::TradeExecuted>(&event.body)) {
    if (!request.trades) return std::nullopt;
    SetChar(entry, kMdUpdateAction, '0');
    SetChar(entry, kMdEntryType, '2');
    SetText(entry, kSymbol, tables.Symbol(trade->instrument));
    entry.setField(kMdEntryPx, FormatPrice(trade->price));
    SetInt(entry, kMdEntrySize, trade->qty.value());
  } else {
    return std::nullopt;
  }
  FIX::Message increment = NewMessage("X");
  increment.setField(kMdReqId, request.md_req_id);
  increment.addGroup(entry);
  return increment;
}

}  // namespace carbonex::gateway
