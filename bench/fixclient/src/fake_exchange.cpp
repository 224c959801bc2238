#include "carbonex/fixclient/fake_exchange.h"

#include <netinet/in.h>
#include <quickfix/Application.h>
#include <quickfix/Dictionary.h>
#include <quickfix/Exceptions.h>
#include <quickfix/FieldNumbers.h>
#include <quickfix/Fields.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/fix44/BusinessMessageReject.h>
#include <quickfix/fix44/ExecutionReport.h>
#include <quickfix/fix44/OrderCancelReject.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "carbonex/fixclient/client.h"
#include "carbonex/fixclient/messages.h"

namespace carbonex::fixclient {
namespace {

struct FakeOrder {
  FIX::SessionID session;
  std::string cl_ord_id;
  std::string order_id;
  std::string account;
  std::string symbol;
  char side = '1';
  char tif = '0';
  std::int64_t qty = 0;
  std::int64_t cum_qty = 0;
  std::int64_t notional = 0;          // Σ fill qty × price, tiyn
  std::optional<std::int64_t> price;  // tiyn; nullopt: market
};

}  // namespace

struct FakeExchange::QuickFix {
  FIX::SessionSettings settings;
  FIX::MemoryStoreFactory store;
  std::unique_ptr<FIX::SocketAcceptor> acceptor;
};

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdynamic-exception-spec"
class FakeExchange::Application : public FIX::Application {
 public:
  explicit Application(const FakeExchangeOptions& options)
      : options_(options) {}

  void onCreate(const FIX::SessionID& /*id*/) override {}
  void onLogon(const FIX::SessionID& /*id*/) override {}
  void onLogout(const FIX::SessionID& /*id*/) override {}
  void toAdmin(FIX::Message& /*message*/,
               const FIX::SessionID& /*id*/) override {}
  void toApp(FIX::Message& /*message*/,
             const FIX::SessionID& /*id*/) noexcept override {}

  void fromAdmin(const FIX::Message& message,
                 const FIX::SessionID& id) throw(FIX::FieldNotFound,
                                                 FIX::IncorrectDataFormat,
                                                 FIX::IncorrectTagValue,
                                                 FIX::RejectLogon) override {
    if (MsgTypeOf(message) != "A") {
      return;
    }
    if (options_.record) {
      std::lock_guard lock(mu_);
      logons_.push_back(message);
    }
    const std::string sender = id.getTargetCompID().getValue();
    auto it = options_.passwords.find(sender);
    if (FieldOf(message, FIX::FIELD::Username) != sender) {
      throw FIX::RejectLogon("Username(553) must equal SenderCompID");
    }
    if (it == options_.passwords.end() ||
        FieldOf(message, FIX::FIELD::Password).value_or("") != it->second) {
      throw FIX::RejectLogon("invalid password");
    }
  }

  void fromApp(const FIX::Message& message,
               const FIX::SessionID& id) noexcept override {
    std::lock_guard lock(mu_);
    if (options_.record) {
      received_.push_back(message);
    }
    const std::string type = MsgTypeOf(message);
    if (type == "D") {
      ++orders_;
      OnNewOrder(message, id);
    } else if (type == "F") {
      OnCancel(message, id);
    } else {
      FIX44::BusinessMessageReject reject;
      reject.setField(FIX::RefMsgType(type));
      reject.setField(FIX::BusinessRejectReason(
          FIX::BusinessRejectReason_UNSUPPORTED_MESSAGE_TYPE));
      reject.setField(FIX::Text("not served by the fake exchange"));
      Send(reject, id);
    }
  }

  std::vector<FIX::Message> Received() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::vector<FIX::Message> Logons() const {
    std::lock_guard lock(mu_);
    return logons_;
  }
  int Orders() const {
    std::lock_guard lock(mu_);
    return orders_;
  }

 private:
  static void Send(FIX::Message& message, const FIX::SessionID& id) {
    try {
      FIX::Session::sendToTarget(message, id);
    } catch (const FIX::SessionNotFound&) {
      // The counterparty has gone; its report is lost, as on a real drop.
    }
  }

  void Report(const FakeOrder& order, char exec_type, char ord_status,
              std::int64_t last_qty = 0, std::int64_t last_px = 0,
              const std::string& cl_ord_id = {},
              const std::string& orig_cl_ord_id = {},
              const std::string& text = {}) {
    FIX44::ExecutionReport report;
    report.setField(FIX::OrderID(order.order_id));
    report.setField(FIX::ExecID("E" + std::to_string(++exec_ids_)));
    report.setField(FIX::ExecType(exec_type));
    report.setField(FIX::OrdStatus(ord_status));
    report.setField(
        FIX::ClOrdID(cl_ord_id.empty() ? order.cl_ord_id : cl_ord_id));
    if (!orig_cl_ord_id.empty()) {
      report.setField(FIX::OrigClOrdID(orig_cl_ord_id));
    }
    report.setField(FIX::Account(order.account));
    report.setField(FIX::Symbol(order.symbol));
    report.setField(FIX::Side(order.side));
    report.setField(FIX::FIELD::OrderQty, std::to_string(order.qty));
    report.setField(FIX::FIELD::CumQty, std::to_string(order.cum_qty));
    const bool done = ord_status == '2' || ord_status == '4' ||
                      ord_status == '8' || ord_status == 'C';
    report.setField(FIX::FIELD::LeavesQty,
                    std::to_string(done ? 0 : order.qty - order.cum_qty));
    report.setField(FIX::FIELD::AvgPx,
                    order.cum_qty == 0
                        ? std::string("0")
                        : FormatPrice(Price(order.notional / order.cum_qty)));
    if (last_qty > 0) {
      report.setField(FIX::FIELD::LastQty, std::to_string(last_qty));
      report.setField(FIX::FIELD::LastPx, FormatPrice(Price(last_px)));
    }
    if (!text.empty()) {
      report.setField(FIX::Text(text));
    }
    report.setField(FIX::UtcTimeStampField(FIX::FIELD::TransactTime, 3));
    Send(report, order.session);
  }

  void OnNewOrder(const FIX::Message& message, const FIX::SessionID& id) {
    FakeOrder order;
    order.session = id;
    order.cl_ord_id = FieldOf(message, FIX::FIELD::ClOrdID).value_or("");
    order.order_id = "O" + std::to_string(++order_ids_);
    order.account = FieldOf(message, FIX::FIELD::Account).value_or("");
    order.symbol = FieldOf(message, FIX::FIELD::Symbol).value_or("");
    order.side = FieldOf(message, FIX::FIELD::Side).value_or("1").at(0);
    order.tif = FieldOf(message, FIX::FIELD::TimeInForce).value_or("0").at(0);
    try {
      order.qty = std::stoll(FieldOf(message, FIX::FIELD::OrderQty).value());
    } catch (const std::exception&) {
      order.qty = 0;
    }
    if (auto price = FieldOf(message, FIX::FIELD::Price)) {
      auto parsed = ParsePrice(*price);
      order.price = parsed.ok() ? parsed->value() : 0;
    }
    if (order.qty <= 0 || (order.price && *order.price <= 0)) {
      Report(order, '8', '8', 0, 0, {}, {}, "bad quantity or price");
      return;
    }
    Report(order, '0', '0');
    if (!options_.match) {
      resting_.emplace(std::make_pair(id.toString(), order.cl_ord_id), order);
      return;
    }
    std::deque<FakeOrder>& book = book_[order.symbol];
    for (;;) {
      if (order.cum_qty == order.qty) {
        break;
      }
      // Best opposite order: best price, then earliest.
      auto best = book.end();
      for (auto it = book.begin(); it != book.end(); ++it) {
        if (it->side == order.side) {
          continue;
        }
        if (best == book.end() ||
            (order.side == '1' ? *it->price < *best->price
                               : *it->price > *best->price)) {
          best = it;
        }
      }
      if (best == book.end()) {
        break;
      }
      if (order.price && (order.side == '1' ? *best->price > *order.price
                                            : *best->price < *order.price)) {
        break;
      }
      const std::int64_t qty =
          std::min(order.qty - order.cum_qty, best->qty - best->cum_qty);
      const std::int64_t px = *best->price;
      for (FakeOrder* o : {&order, &*best}) {
        o->cum_qty += qty;
        o->notional += qty * px;
        Report(*o, 'F', o->cum_qty == o->qty ? '2' : '1', qty, px);
      }
      if (best->cum_qty == best->qty) {
        book.erase(best);
      }
    }
    if (order.cum_qty == order.qty) {
      return;
    }
    if (!order.price || order.tif == '3' || order.tif == '4') {
      Report(order, '4', '4', 0, 0, {}, {}, "remainder cancelled");
      return;
    }
    book.push_back(order);
  }

  void OnCancel(const FIX::Message& message, const FIX::SessionID& id) {
    const std::string orig =
        FieldOf(message, FIX::FIELD::OrigClOrdID).value_or("");
    const std::string cl_ord_id =
        FieldOf(message, FIX::FIELD::ClOrdID).value_or("");
    std::optional<FakeOrder> found;
    if (options_.match) {
      std::deque<FakeOrder>& book =
          book_[FieldOf(message, FIX::FIELD::Symbol).value_or("")];
      auto it = std::find_if(book.begin(), book.end(), [&](const FakeOrder& o) {
        return o.session == id && o.cl_ord_id == orig;
      });
      if (it != book.end()) {
        found = *it;
        book.erase(it);
      }
    } else {
      auto it = resting_.find(std::make_pair(id.toString(), orig));
      if (it != resting_.end()) {
        found = it->second;
        resting_.erase(it);
      }
    }
    if (!found) {
      FIX44::OrderCancelReject reject;
      reject.setField(FIX::OrderID("NONE"));
      reject.setField(FIX::ClOrdID(cl_ord_id));
      reject.setField(FIX::OrigClOrdID(orig));
      reject.setField(FIX::OrdStatus('8'));
      reject.setField(FIX::CxlRejResponseTo('1'));
      reject.setField(FIX::CxlRejReason(1));
      reject.setField(FIX::Text("unknown order"));
      Send(reject, id);
      return;
    }
    Report(*found, '4', '4', 0, 0, cl_ord_id, orig);
  }

  const FakeExchangeOptions& options_;
  mutable std::mutex mu_;
  std::vector<FIX::Message> received_;
  std::vector<FIX::Message> logons_;
  std::map<std::string, std::deque<FakeOrder>> book_;  // when matching
  // When not matching: resting orders by (session, ClOrdID).
  std::map<std::pair<std::string, std::string>, FakeOrder> resting_;
  int orders_ = 0;
  std::uint64_t order_ids_ = 0;
  std::uint64_t exec_ids_ = 0;
};
#pragma clang diagnostic pop

int PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::runtime_error("socket() failed");
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  if (::bind(fd, generic, sizeof(address)) != 0 ||
      ::getsockname(fd, generic, &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

FakeExchange::FakeExchange(FakeExchangeOptions options)
    : options_(std::move(options)),
      application_(std::make_unique<Application>(options_)) {}

FakeExchange::~FakeExchange() { Stop(); }

Status FakeExchange::Start() {
  port_ = options_.port != 0 ? options_.port : PickFreePort();
  quickfix_ = std::make_unique<QuickFix>();
  try {
    FIX::Dictionary defaults;
    defaults.setString("ConnectionType", "acceptor");
    defaults.setString("BeginString", "FIX.4.4");
    defaults.setInt("SocketAcceptPort", port_);
    defaults.setString("StartTime", "00:00:00");
    defaults.setString("EndTime", "00:00:00");
    defaults.setBool("UseDataDictionary", true);
    defaults.setString("DataDictionary", DefaultDataDictionaryPath());
    defaults.setBool("CheckLatency", false);
    quickfix_->settings.set(defaults);
    for (const auto& [broker, password] : options_.passwords) {
      quickfix_->settings.set(
          FIX::SessionID("FIX.4.4", options_.comp_id, broker),
          FIX::Dictionary());
    }
    quickfix_->acceptor = std::make_unique<FIX::SocketAcceptor>(
        *application_, quickfix_->store, quickfix_->settings);
    quickfix_->acceptor->start();
  } catch (const FIX::Exception& e) {
    quickfix_.reset();
    return Status::IoError(std::string("fake exchange: ") + e.what());
  }
  return Status::Ok();
}

void FakeExchange::Stop() {
  if (!quickfix_ || !quickfix_->acceptor) {
    return;
  }
  try {
    quickfix_->acceptor->stop(/*force=*/true);
  } catch (const FIX::Exception&) {
  }
  quickfix_.reset();
}

std::vector<FIX::Message> FakeExchange::Received() const {
  return application_->Received();
}

std::vector<FIX::Message> FakeExchange::Logons() const {
  return application_->Logons();
}

int FakeExchange::OrdersReceived() const { return application_->Orders(); }

}  // namespace carbonex::fixclient
