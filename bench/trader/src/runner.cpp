#include "carbonex/trader/runner.h"

#include <quickfix/FieldNumbers.h>

#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include "carbonex/fixclient/client.h"
#include "carbonex/fixclient/messages.h"

namespace carbonex::trader {
namespace {

using Clock = std::chrono::steady_clock;
using fixclient::FieldOf;
using fixclient::MsgTypeOf;

struct Received {
  std::string comp_id;
  FIX::Message message;
  bool matched = false;  // consumed by an expect
};

struct OrderInfo {
  OrderStep step;
  std::string cl_ord_id;
};

const char* ExecTypeWord(const std::string& exec_type) {
  if (exec_type == "0") {
    return "ack";
  }
  if (exec_type == "F") {
    return "fill";
  }
  if (exec_type == "4") {
    return "cancelled";
  }
  if (exec_type == "5") {
    return "replaced";
  }
  if (exec_type == "8") {
    return "REJECTED";
  }
  if (exec_type == "C") {
    return "expired";
  }
  if (exec_type == "I") {
    return "status";
  }
  return "?";
}

const char* OrdStatusWord(const std::string& status) {
  if (status == "0") {
    return "new";
  }
  if (status == "1") {
    return "partially filled";
  }
  if (status == "2") {
    return "filled";
  }
  if (status == "4") {
    return "cancelled";
  }
  if (status == "8") {
    return "rejected";
  }
  if (status == "C") {
    return "expired";
  }
  return "?";
}

const char* ExpectationWord(Expectation what) {
  switch (what) {
    case Expectation::kAck:
      return "ack";
    case Expectation::kFill:
      return "fill";
    case Expectation::kCancel:
      return "cancel";
    case Expectation::kReject:
      return "reject";
  }
  return "?";
}

// A run-unique ClOrdID prefix (base-36 seconds of the day and milliseconds),
// so that repeated runs against one server do not reuse ClOrdIDs.
std::string RunNonce() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  auto value = static_cast<std::uint64_t>(ms) % 2176782336ULL;  // 36^6
  std::string out(6, '0');
  for (std::size_t i = 6; i-- > 0;) {
    out[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[value % 36];
    value /= 36;
  }
  return "T" + out;
}

class Runner {
 public:
  Runner(const RunOptions& options, std::ostream& out)
      : options_(options), out_(out), nonce_(RunNonce()) {}

  RunSummary Run(const Script& script) {
    for (const Step& step : script.steps) {
      out_ << "> " << step.text << "\n";
      std::string failure = RunStep(step);
      ++summary_.steps_run;
      if (!failure.empty()) {
        summary_.ok = false;
        summary_.failed_line = step.line;
        summary_.failure = failure;
        out_ << "FAILED (line " << step.line << "): " << failure << "\n";
        break;
      }
    }
    Pump();
    for (auto& [comp_id, client] : clients_) {
      client->Stop();
    }
    Pump();
    out_ << FormatTradeSummary(summary_.trades);
    out_.flush();
    return summary_;
  }

 private:
  std::string RunStep(const Step& step) {
    switch (step.kind) {
      case Step::Kind::kLogon:
        return Logon(step.logon);
      case Step::Kind::kOrder:
        return Order(step.order);
      case Step::Kind::kCancel:
        return Cancel(step.cancel);
      case Step::Kind::kExpect:
        return Expect(step.expect);
      case Step::Kind::kWait:
        PumpFor(step.wait.duration);
        return {};
      case Step::Kind::kLogout:
        return Logout(step.logout);
    }
    return "unknown step";
  }

  std::string Logon(const LogonStep& logon) {
    fixclient::ClientOptions client_options;
    client_options.host = options_.host;
    client_options.port = options_.port;
    client_options.sessions.push_back(
        {.sender_comp_id = logon.comp_id,
         .target_comp_id = options_.target_comp_id,
         .username = "",
         .password = logon.password.value_or("")});
    auto client = std::make_unique<fixclient::Client>(client_options);
    if (Status s = client->Start(); !s.ok()) {
      return s.message();
    }
    Status logged_on = client->WaitLoggedOn(0, options_.logon_timeout);
    fixclient::Client& ref = *client;
    clients_[logon.comp_id] = std::move(client);
    Pump();
    if (!logged_on.ok()) {
      ref.Stop();
      return logged_on.message();
    }
    out_ << "  " << logon.comp_id << " logged on\n";
    return {};
  }

  std::string Send(const std::string& comp_id, const FIX::Message& message) {
    auto it = clients_.find(comp_id);
    if (it == clients_.end()) {
      return "session " + comp_id + " is not open";
    }
    if (Status s = it->second->Send(0, message); !s.ok()) {
      return s.message();
    }
    return {};
  }

  std::string Order(const OrderStep& order) {
    OrderInfo info{order, nonce_ + "-" + order.name};
    orders_[order.name] = info;
    names_[info.cl_ord_id] = order.name;
    return Send(order.comp_id,
                fixclient::BuildNewOrderSingle({.cl_ord_id = info.cl_ord_id,
                                                .account = order.account,
                                                .symbol = order.symbol,
                                                .side = order.side,
                                                .qty = order.qty,
                                                .price = order.price,
                                                .tif = order.tif}));
  }

  std::string Cancel(const CancelStep& cancel) {
    const OrderInfo& info = orders_.at(cancel.name);
    const std::string cl_ord_id =
        nonce_ + "-x" + std::to_string(++cancels_) + "-" + cancel.name;
    names_[cl_ord_id] = cancel.name;
    return Send(info.step.comp_id, fixclient::BuildOrderCancelRequest(
                                       {.cl_ord_id = cl_ord_id,
                                        .orig_cl_ord_id = info.cl_ord_id,
                                        .account = info.step.account,
                                        .symbol = info.step.symbol,
                                        .side = info.step.side}));
  }

  static bool Matches(const ExpectStep& expect, const OrderInfo& order,
                      const FIX::Message& message) {
    if (MsgTypeOf(message) != "8") {
      return false;
    }
    const std::string exec_type =
        FieldOf(message, FIX::FIELD::ExecType).value_or("");
    const bool own = FieldOf(message, FIX::FIELD::ClOrdID) == order.cl_ord_id;
    switch (expect.what) {
      case Expectation::kAck:
        return own && exec_type == "0";
      case Expectation::kReject:
        return own && exec_type == "8";
      case Expectation::kCancel:
        return exec_type == "4" &&
               (own ||
                FieldOf(message, FIX::FIELD::OrigClOrdID) == order.cl_ord_id);
      case Expectation::kFill: {
        if (!own || exec_type != "F") {
          return false;
        }
        if (expect.qty && FieldOf(message, FIX::FIELD::LastQty) !=
                              std::to_string(expect.qty->value())) {
          return false;
        }
        if (expect.price) {
          Result<Price> price = fixclient::ParsePrice(
              FieldOf(message, FIX::FIELD::LastPx).value_or(""));
          if (!price.ok() || *price != *expect.price) {
            return false;
          }
        }
        return true;
      }
    }
    return false;
  }

  std::string Expect(const ExpectStep& expect) {
    const OrderInfo& order = orders_.at(expect.name);
    const auto deadline = Clock::now() + expect.within;
    for (;;) {
      Pump();
      for (Received& received : history_) {
        if (received.matched || received.comp_id != order.step.comp_id) {
          continue;
        }
        if (Matches(expect, order, received.message)) {
          received.matched = true;
          out_ << "  ok: " << ExpectationWord(expect.what) << " " << expect.name
               << "\n";
          return {};
        }
      }
      if (Clock::now() >= deadline) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::string what = std::string("no ") + ExpectationWord(expect.what);
    if (expect.qty) {
      what += " of " + std::to_string(expect.qty->value());
    }
    if (expect.price) {
      what += " @ " + fixclient::FormatPrice(*expect.price);
    }
    return what + " for order " + expect.name + " within " +
           std::to_string(expect.within.count()) + " ms";
  }

  std::string Logout(const LogoutStep& logout) {
    auto it = clients_.find(logout.comp_id);
    if (it == clients_.end()) {
      return "session " + logout.comp_id + " is not open";
    }
    Pump();
    Status s = it->second->Logout(0, "", std::chrono::milliseconds(5000));
    Pump();
    it->second->Stop();
    if (!s.ok()) {
      return s.message();
    }
    out_ << "  " << logout.comp_id << " logged out\n";
    return {};
  }

  // Collects and prints everything received so far.
  void Pump() {
    for (auto& [comp_id, client] : clients_) {
      while (std::optional<FIX::Message> message =
                 client->Next(0, std::chrono::milliseconds(0))) {
        Print(comp_id, *message);
        Record(comp_id, *message);
        history_.push_back({comp_id, *message, false});
        ++summary_.messages;
      }
    }
  }

  void PumpFor(std::chrono::milliseconds duration) {
    const auto deadline = Clock::now() + duration;
    while (Clock::now() < deadline) {
      Pump();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    Pump();
  }

  std::string NameOf(const FIX::Message& message) const {
    // A cancel's report names the cancelled order in OrigClOrdID.
    for (int tag : {FIX::FIELD::OrigClOrdID, FIX::FIELD::ClOrdID}) {
      auto id = FieldOf(message, tag);
      if (!id) {
        continue;
      }
      auto it = names_.find(*id);
      if (it != names_.end()) {
        return it->second;
      }
    }
    return FieldOf(message, FIX::FIELD::ClOrdID).value_or("-");
  }

  void Print(const std::string& comp_id, const FIX::Message& message) {
    std::string line = "  " + comp_id + " ";
    if (MsgTypeOf(message) == "8") {
      auto get = [&](int tag) { return FieldOf(message, tag).value_or("?"); };
      const std::string exec_type = get(FIX::FIELD::ExecType);
      line += "order " + NameOf(message) + ": " + ExecTypeWord(exec_type) +
              " (" + OrdStatusWord(get(FIX::FIELD::OrdStatus)) + ") " +
              (get(FIX::FIELD::Side) == "1" ? "buy " : "sell ") +
              get(FIX::FIELD::OrderQty) + " " + get(FIX::FIELD::Symbol);
      if (exec_type == "F") {
        line += ", traded " + get(FIX::FIELD::LastQty) + " @ " +
                get(FIX::FIELD::LastPx);
      }
      line += ", filled " + get(FIX::FIELD::CumQty) + ", open " +
              get(FIX::FIELD::LeavesQty) + ", avg " + get(FIX::FIELD::AvgPx);
      if (auto text = FieldOf(message, FIX::FIELD::Text)) {
        line += " -- " + *text;
      }
    } else {
      line += fixclient::Describe(message);
    }
    out_ << line << "\n";
  }

  void Record(const std::string& comp_id, const FIX::Message& message) {
    if (MsgTypeOf(message) != "8" ||
        FieldOf(message, FIX::FIELD::ExecType) != "F") {
      return;
    }
    TradeRecord trade;
    trade.comp_id = comp_id;
    trade.order_name = NameOf(message);
    trade.symbol = FieldOf(message, FIX::FIELD::Symbol).value_or("?");
    trade.side =
        FieldOf(message, FIX::FIELD::Side) == "2" ? Side::kSell : Side::kBuy;
    try {
      trade.qty =
          Quantity(std::stoll(FieldOf(message, FIX::FIELD::LastQty).value()));
    } catch (const std::exception&) {
      trade.qty = Quantity(0);
    }
    Result<Price> price = fixclient::ParsePrice(
        FieldOf(message, FIX::FIELD::LastPx).value_or(""));
    trade.price = price.ok() ? *price : Price(0);
    summary_.trades.push_back(trade);
  }

  const RunOptions& options_;
  std::ostream& out_;
  const std::string nonce_;
  std::map<std::string, std::unique_ptr<fixclient::Client>> clients_;
  std::map<std::string, OrderInfo> orders_;
  std::map<std::string, std::string> names_;  // ClOrdID -> order name
  std::vector<Received> history_;
  int cancels_ = 0;
  RunSummary summary_;
};

}  // namespace

std::string FormatTradeSummary(const std::vector<TradeRecord>& trades) {
  std::string out = "trades reported: " + std::to_string(trades.size()) + "\n";
  std::int64_t volume = 0;
  Cash notional(0);
  for (const TradeRecord& t : trades) {
    char line[256];
    std::snprintf(line, sizeof(line), "  %-10s %-12s %-4s %-10s %8lld @ %s\n",
                  t.comp_id.c_str(), t.order_name.c_str(),
                  t.side == Side::kBuy ? "buy" : "sell", t.symbol.c_str(),
                  static_cast<long long>(t.qty.value()),
                  fixclient::FormatPrice(t.price).c_str());
    out += line;
    volume += t.qty.value();
    notional += Notional(t.price, t.qty);
  }
  // Each trade between two sessions of the script is reported to both.
  out += "total: " + std::to_string(volume) + " units, " +
         fixclient::FormatPrice(Price(notional.value())) +
         " KZT (both sides counted)\n";
  return out;
}

RunSummary RunScript(const Script& script, const RunOptions& options,
                     std::ostream& out) {
  return Runner(options, out).Run(script);
}

}  // namespace carbonex::trader
