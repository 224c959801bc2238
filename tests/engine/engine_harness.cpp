#include "engine_harness.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <charconv>
#include <sstream>
#include <type_traits>
#include <utility>

namespace carbonex::engine::testing {
namespace {

const char* SideName(Side s) { return s == Side::kBuy ? "buy" : "sell"; }

const char* TypeName(OrderType t) {
  return t == OrderType::kMarket ? "market" : "limit";
}

const char* TifName(TimeInForce t) {
  switch (t) {
    case TimeInForce::kDay:
      return "day";
    case TimeInForce::kGtc:
      return "gtc";
    case TimeInForce::kIoc:
      return "ioc";
    case TimeInForce::kFok:
      return "fok";
  }
  return "?";
}

const char* StatusName(OrderStatus s) {
  switch (s) {
    case OrderStatus::kNew:
      return "new";
    case OrderStatus::kPartiallyFilled:
      return "partial";
    case OrderStatus::kFilled:
      return "filled";
    case OrderStatus::kCanceled:
      return "canceled";
    case OrderStatus::kReplaced:
      return "replaced";
    case OrderStatus::kRejected:
      return "rejected";
    case OrderStatus::kExpired:
      return "expired";
  }
  return "?";
}

const char* RejectName(RejectReason r) {
  switch (r) {
    case RejectReason::kUnknownInstrument:
      return "unknown_instrument";
    case RejectReason::kUnknownAccount:
      return "unknown_account";
    case RejectReason::kUnauthorisedAccount:
      return "unauthorised_account";
    case RejectReason::kInsufficientUnits:
      return "insufficient_units";
    case RejectReason::kInsufficientCash:
      return "insufficient_cash";
    case RejectReason::kHoldingLimit:
      return "holding_limit";
    case RejectReason::kBadPrice:
      return "bad_price";
    case RejectReason::kBadQuantity:
      return "bad_quantity";
    case RejectReason::kDuplicateClientOrderId:
      return "duplicate_cl_ord_id";
    case RejectReason::kUnknownOrder:
      return "unknown_order";
    case RejectReason::kTooLateToCancel:
      return "too_late_to_cancel";
    case RejectReason::kMarketClosed:
      return "market_closed";
    case RejectReason::kReplaceBelowFilled:
      return "replace_below_filled";
    case RejectReason::kReplaceNotLimit:
      return "replace_not_limit";
    case RejectReason::kBadCommand:
      return "bad_command";
    case RejectReason::kOpenOrderLimit:
      return "open_order_limit";
  }
  return "?";
}

const char* CancelName(CancelReason r) {
  switch (r) {
    case CancelReason::kRequested:
      return "requested";
    case CancelReason::kMassCancel:
      return "mass_cancel";
    case CancelReason::kImmediateOrCancel:
      return "ioc";
    case CancelReason::kFillOrKill:
      return "fok";
    case CancelReason::kMarketNoLiquidity:
      return "market_no_liquidity";
    case CancelReason::kMarketCashLimit:
      return "market_cash_limit";
    case CancelReason::kSelfTrade:
      return "self_trade";
  }
  return "?";
}

const char* ScopeName(MassCancelScope s) {
  switch (s) {
    case MassCancelScope::kInstrument:
      return "instrument";
    case MassCancelScope::kBroker:
      return "broker";
    case MassCancelScope::kAccount:
      return "account";
  }
  return "?";
}

class Line {
 public:
  explicit Line(const char* kind) { out_ << kind; }
  template <typename T>
  Line& Add(const char* key, const T& value) {
    out_ << ' ' << key << '=' << value;
    return *this;
  }
  Line& Cl(const char* key, const ClientOrderId& cl) {
    out_ << ' ' << key << '=';
    if (cl.empty()) {
      out_ << '-';
    } else {
      out_ << cl.view();
    }
    return *this;
  }
  template <typename T>
  Line& Opt(const char* key, const std::optional<T>& v) {
    out_ << ' ' << key << '=';
    if (v) {
      out_ << v->value();
    } else {
      out_ << '-';
    }
    return *this;
  }
  Line& View(const OrderView& v, const std::string& prefix = "") {
    auto k = [&](const char* key) { return prefix + key; };
    Add(k("id").c_str(), v.order_id.value());
    Add(k("b").c_str(), v.broker.value());
    Cl(k("cl").c_str(), v.cl_ord_id);
    Add(k("acct").c_str(), v.account.value());
    Add(k("inst").c_str(), v.instrument.value());
    Add(k("side").c_str(), SideName(v.side));
    Add(k("type").c_str(), TypeName(v.type));
    Add(k("tif").c_str(), TifName(v.tif));
    Opt(k("px").c_str(), v.price);
    Add(k("qty").c_str(), v.order_qty.value());
    Add(k("cum").c_str(), v.cum_qty.value());
    Add(k("leaves").c_str(), v.leaves_qty.value());
    Add(k("notional").c_str(), v.cum_notional.value());
    Add(k("status").c_str(), StatusName(v.status));
    return *this;
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::string FormatBody(const EventBody& body) {
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, OrderAccepted>) {
          return Line("accepted").View(e.order).str();
        } else if constexpr (std::is_same_v<T, OrderRejected>) {
          const PlaceOrder& r = e.request;
          return Line("rejected")
              .Add("b", e.broker.value())
              .Cl("cl", r.cl_ord_id)
              .Add("acct", r.account.value())
              .Add("inst", r.instrument.value())
              .Add("side", SideName(r.side))
              .Add("type", TypeName(r.type))
              .Add("tif", TifName(r.tif))
              .Opt("px", r.price)
              .Add("qty", r.qty.value())
              .Add("reason", RejectName(e.reason))
              .str();
        } else if constexpr (std::is_same_v<T, OrderFilled>) {
          return Line("filled")
              .View(e.order)
              .Add("trade", e.trade_id.value())
              .Add("last_px", e.last_price.value())
              .Add("last_qty", e.last_qty.value())
              .Add("maker", e.maker ? 1 : 0)
              .str();
        } else if constexpr (std::is_same_v<T, TradeExecuted>) {
          return Line("trade")
              .Add("trade", e.trade_id.value())
              .Add("inst", e.instrument.value())
              .Add("px", e.price.value())
              .Add("qty", e.qty.value())
              .Add("buy", e.buy_order.value())
              .Add("sell", e.sell_order.value())
              .Add("buyer", e.buyer.value())
              .Add("seller", e.seller.value())
              .Add("buy_b", e.buy_broker.value())
              .Add("sell_b", e.sell_broker.value())
              .Add("aggressor", SideName(e.aggressor))
              .str();
        } else if constexpr (std::is_same_v<T, OrderCanceled>) {
          return Line("canceled")
              .View(e.order)
              .Cl("cancel_cl", e.cancel_cl_ord_id)
              .Add("reason", CancelName(e.reason))
              .str();
        } else if constexpr (std::is_same_v<T, OrderExpired>) {
          return Line("expired").View(e.order).str();
        } else if constexpr (std::is_same_v<T, OrderReplaced>) {
          return Line("replaced")
              .View(e.order)
              .Cl("orig", e.orig_cl_ord_id)
              .Add("kept", e.priority_kept ? 1 : 0)
              .str();
        } else if constexpr (std::is_same_v<T, CancelRejected>) {
          Line line("cancel_rejected");
          line.Add("b", e.broker.value())
              .Cl("cl", e.cl_ord_id)
              .Cl("orig", e.orig_cl_ord_id)
              .Opt("order", e.order_id)
              .Add("acct", e.account.value())
              .Add("inst", e.instrument.value())
              .Add("side", SideName(e.side))
              .Add("to", e.response_to == CancelRequestKind::kCancel
                             ? "cancel"
                             : "replace")
              .Add("reason", RejectName(e.reason))
              .Add("known", e.order ? 1 : 0);
          if (e.order) line.View(*e.order, "ord_");
          return line.str();
        } else if constexpr (std::is_same_v<T, OrderStatusReported>) {
          Line line("status");
          line.Cl("req", e.request_cl_ord_id)
              .Opt("q_id", e.request.order_id)
              .Add("q_acct", e.request.account.value())
              .Add("q_inst", e.request.instrument.value())
              .Add("q_side", SideName(e.request.side))
              .Add("found", e.order ? 1 : 0);
          if (e.order) line.View(*e.order);
          return line.str();
        } else if constexpr (std::is_same_v<T, MassCancelCompleted>) {
          Line line("mass_cancel");
          line.Add("b", e.broker.value())
              .Cl("cl", e.request.cl_ord_id)
              .Add("scope", ScopeName(e.request.scope))
              .Opt("acct", e.request.account)
              .Opt("inst", e.request.instrument)
              .Add("day_only", e.request.day_orders_only ? 1 : 0)
              .Add("affected", e.affected)
              .Add("reject",
                   e.reject_reason ? RejectName(*e.reject_reason) : "-");
          return line.str();
        } else if constexpr (std::is_same_v<T, BookLevelChanged>) {
          return Line("level")
              .Add("inst", e.instrument.value())
              .Add("side", SideName(e.side))
              .Add("px", e.price.value())
              .Add("qty", e.total_qty.value())
              .Add("count", e.order_count)
              .str();
        } else if constexpr (std::is_same_v<T, OperatorCommandApplied>) {
          return "op_applied";
        } else {
          static_assert(std::is_same_v<T, OperatorCommandRejected>);
          return Line("op_rejected").Add("reason", RejectName(e.reason)).str();
        }
      },
      body);
}

bool ToInt(const std::string& s, std::int64_t* out) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

class Args {
 public:
  explicit Args(Fields f) : f_(std::move(f)) {}
  bool Has(const std::string& k) const { return f_.values.count(k) != 0; }
  std::string Str(const std::string& k, const std::string& dflt = "") {
    used_.push_back(k);
    auto it = f_.values.find(k);
    return it == f_.values.end() ? dflt : it->second;
  }
  std::int64_t Int(const std::string& k, std::int64_t dflt = 0) {
    used_.push_back(k);
    auto it = f_.values.find(k);
    if (it == f_.values.end()) return dflt;
    std::int64_t v = 0;
    if (!ToInt(it->second, &v))
      error_ = "not an integer: " + k + "=" + it->second;
    return v;
  }
  template <typename T>
  std::optional<T> Opt(const std::string& k) {
    if (!Has(k)) return std::nullopt;
    return T(static_cast<typename T::ValueType>(Int(k)));
  }
  Side GetSide() {
    const std::string s = Str("side", "buy");
    if (s == "sell") return Side::kSell;
    if (s == "buy") return Side::kBuy;
    // side=bad gives an out-of-range value, to test the engine's own check.
    if (s != "bad") error_ = "bad side " + s;
    return static_cast<Side>(9);
  }
  std::string Finish() {
    if (!error_.empty()) return error_;
    for (const auto& [k, v] : f_.values) {
      if (std::find(used_.begin(), used_.end(), k) == used_.end()) {
        return "unknown key " + k;
      }
    }
    return {};
  }
  void Fail(std::string e) { error_ = std::move(e); }

 private:
  Fields f_;
  std::vector<std::string> used_;
  std::string error_;
};

}  // namespace

std::string FormatEvent(const Event& event) {
  std::string out = FormatBody(event.body);
  out += " seq=" + std::to_string(event.header.seq.value());
  out += " at=" + std::to_string(event.header.time.value());
  out += " from=" + std::to_string(event.header.broker.value());
  return out;
}

Fields ParseFields(std::string_view line) {
  Fields f;
  std::istringstream in{std::string(line)};
  in >> f.kind;
  std::string tok;
  while (in >> tok) {
    const auto eq = tok.find('=');
    if (eq == std::string::npos) {
      f.values[tok] = "";
    } else {
      f.values[tok.substr(0, eq)] = tok.substr(eq + 1);
    }
  }
  return f;
}

bool Matches(const std::string& actual, const std::string& expected,
             std::string* why) {
  const Fields a = ParseFields(actual);
  const Fields e = ParseFields(expected);
  if (a.kind != e.kind) {
    if (why) *why = "kind " + a.kind + " != " + e.kind;
    return false;
  }
  for (const auto& [k, v] : e.values) {
    auto it = a.values.find(k);
    if (it == a.values.end()) {
      if (why) *why = "no field " + k;
      return false;
    }
    if (it->second != v) {
      if (why) *why = k + "=" + it->second + " (expected " + v + ")";
      return false;
    }
  }
  return true;
}

std::optional<Command> ParseCommand(std::string_view line, std::uint64_t seq,
                                    std::string* error) {
  Fields fields = ParseFields(line);
  const std::string verb = fields.kind;
  Args a(std::move(fields));
  Command cmd;
  const bool op = verb == "adjust_units" || verb == "adjust_cash" ||
                  verb == "add_instrument" || verb == "add_account" ||
                  verb == "entitle" || verb == "trading";
  cmd.header.seq = SequenceNumber{seq};
  cmd.header.time = Timestamp{static_cast<std::int64_t>(seq) * 1000};
  cmd.header.broker =
      BrokerId{static_cast<std::uint32_t>(a.Int("b", op ? 0 : 1))};
  auto cl = [&](const char* k) { return ClientOrderId(a.Str(k)); };
  auto acct = [&] {
    return AccountId{static_cast<std::uint32_t>(a.Int("acct"))};
  };
  auto inst = [&] {
    return InstrumentId{static_cast<std::uint32_t>(a.Int("inst", 1))};
  };
  if (verb == "place") {
    PlaceOrder p;
    p.cl_ord_id = cl("cl");
    p.account = acct();
    p.instrument = inst();
    p.side = a.GetSide();
    const std::string type = a.Str("type", "limit");
    p.type = type == "market" ? OrderType::kMarket : OrderType::kLimit;
    if (type != "market" && type != "limit") a.Fail("bad type " + type);
    p.price = a.Opt<Price>("px");
    p.qty = Quantity{a.Int("qty")};
    const std::string tif = a.Str("tif", "day");
    if (tif == "day") {
      p.tif = TimeInForce::kDay;
    } else if (tif == "gtc") {
      p.tif = TimeInForce::kGtc;
    } else if (tif == "ioc") {
      p.tif = TimeInForce::kIoc;
    } else if (tif == "fok") {
      p.tif = TimeInForce::kFok;
    } else {
      a.Fail("bad tif " + tif);
    }
    cmd.body = p;
  } else if (verb == "cancel") {
    CancelOrder c;
    c.cl_ord_id = cl("cl");
    c.orig_cl_ord_id = cl("orig");
    c.order_id = a.Opt<OrderId>("id");
    c.account = acct();
    c.instrument = inst();
    c.side = a.GetSide();
    cmd.body = c;
  } else if (verb == "replace") {
    ReplaceOrder r;
    r.cl_ord_id = cl("cl");
    r.orig_cl_ord_id = cl("orig");
    r.order_id = a.Opt<OrderId>("id");
    r.account = acct();
    r.instrument = inst();
    r.side = a.GetSide();
    r.price = Price{a.Int("px")};
    r.qty = Quantity{a.Int("qty")};
    cmd.body = r;
  } else if (verb == "mass") {
    MassCancel m;
    m.cl_ord_id = cl("cl");
    const std::string scope = a.Str("scope", "broker");
    if (scope == "broker") {
      m.scope = MassCancelScope::kBroker;
    } else if (scope == "instrument") {
      m.scope = MassCancelScope::kInstrument;
    } else if (scope == "account") {
      m.scope = MassCancelScope::kAccount;
    } else {
      a.Fail("bad scope " + scope);
    }
    m.account = a.Opt<AccountId>("acct");
    m.instrument = a.Opt<InstrumentId>("inst");
    m.day_orders_only = a.Int("day_only", 0) != 0;
    cmd.body = m;
  } else if (verb == "query") {
    QueryOrderStatus q;
    q.cl_ord_id = cl("cl");
    q.order_id = a.Opt<OrderId>("id");
    q.account = acct();
    q.instrument = inst();
    q.side = a.GetSide();
    cmd.body = q;
  } else if (verb == "expire") {
    cmd.body = ExpireDayOrders{};
  } else if (verb == "adjust_units") {
    cmd.body = AdjustUnits{acct(), inst(), Quantity{a.Int("delta")}};
  } else if (verb == "adjust_cash") {
    cmd.body = AdjustCash{acct(), Cash{a.Int("delta")}};
  } else if (verb == "add_instrument") {
    AddInstrument i;
    i.instrument = inst();
    i.tick = Price{a.Int("tick", 1)};
    i.max_order_qty = Quantity{a.Int("max", 1'000'000)};
    i.status = a.Str("status", "open") == "halted" ? TradingStatus::kHalted
                                                   : TradingStatus::kOpen;
    cmd.body = i;
  } else if (verb == "add_account") {
    cmd.body = AddAccount{acct(), a.Opt<Quantity>("limit")};
  } else if (verb == "entitle") {
    cmd.body =
        SetEntitlement{BrokerId{static_cast<std::uint32_t>(a.Int("broker"))},
                       acct(), a.Int("on", 1) != 0};
  } else if (verb == "trading") {
    const std::string s = a.Str("status", "open");
    cmd.body = SetTradingStatus{
        inst(), s == "halted" ? TradingStatus::kHalted : TradingStatus::kOpen};
  } else {
    *error = "unknown command " + verb;
    return std::nullopt;
  }
  std::string e = a.Finish();
  if (!e.empty()) {
    *error = e;
    return std::nullopt;
  }
  return cmd;
}

Harness::Harness(const AccountState& state, EngineOptions options) {
  auto created = Engine::Create(options, state, &sink_);
  REQUIRE(created.ok());
  engine_ = std::move(created.value());
}

std::vector<std::string> Harness::Run(std::string_view line) {
  std::string error;
  auto cmd = ParseCommand(line, ++seq_, &error);
  INFO("command: " << line);
  REQUIRE(error.empty());
  REQUIRE(cmd.has_value());
  const std::size_t before = sink_.lines.size();
  engine_->Execute(*cmd);
  const Status inv = engine_->CheckInvariants();
  INFO("invariant: " << inv.message());
  REQUIRE(inv.ok());
  return {sink_.lines.begin() + static_cast<std::ptrdiff_t>(before),
          sink_.lines.end()};
}

AccountState TestState(std::int64_t cash, std::int64_t units) {
  AccountState s;
  for (std::uint32_t i : {1U, 2U}) {
    InstrumentState ins;
    ins.id = InstrumentId{i};
    ins.symbol = "KZQ-202" + std::to_string(i);
    s.instruments.push_back(ins);
  }
  for (std::uint32_t a : {10U, 11U, 12U}) {
    AccountEntry acc;
    acc.id = AccountId{a};
    acc.name = "KZ-" + std::to_string(a);
    acc.cash = Cash{cash};
    s.accounts.push_back(acc);
    for (std::uint32_t i : {1U, 2U}) {
      s.holdings.push_back({AccountId{a}, InstrumentId{i}, Quantity{units}});
    }
  }
  s.brokers.push_back({BrokerId{1}, "BRK1", false});
  s.brokers.push_back({BrokerId{2}, "BRK2", true});
  s.entitlements = {{BrokerId{1}, AccountId{10}},
                    {BrokerId{1}, AccountId{11}},
                    {BrokerId{2}, AccountId{11}},
                    {BrokerId{2}, AccountId{12}}};
  return s;
}

}  // namespace carbonex::engine::testing
