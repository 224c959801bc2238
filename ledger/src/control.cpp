#include "carbonex/ledger/control.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>

#include "carbonex/ledger/amounts.h"

namespace carbonex::ledger {
namespace {

using nlohmann::json;

std::string Errno(std::string_view what) {
  return std::string(what) + ": " +
         std::error_code(errno, std::generic_category()).message();
}

// Typed access to the args object; every failure names the argument.
class Args {
 public:
  explicit Args(const json& j) : j_(j) {}

  Status Str(const char* name, std::string* out) const {
    if (!j_.contains(name) || !j_[name].is_string()) {
      return Status::InvalidArgument(std::string("missing string argument '") +
                                     name + "'");
    }
    *out = j_[name].get<std::string>();
    return Status::Ok();
  }
  Status OptStr(const char* name, std::string* out) const {
    if (!j_.contains(name) || j_[name].is_null()) {
      return Status::Ok();
    }
    return Str(name, out);
  }
  Status Int(const char* name, std::int64_t* out) const {
    if (!j_.contains(name) || !j_[name].is_number_integer()) {
      return Status::InvalidArgument(std::string("missing integer argument '") +
                                     name + "'");
    }
    *out = j_[name].get<std::int64_t>();
    return Status::Ok();
  }
  [[nodiscard]] bool Has(const char* name) const {
    return j_.contains(name) && !j_[name].is_null();
  }
  Status Bool(const char* name, bool* out) const {
    if (!Has(name)) {
      return Status::Ok();
    }
    if (!j_[name].is_boolean()) {
      return Status::InvalidArgument(std::string("argument '") + name +
                                     "' must be true or false");
    }
    *out = j_[name].get<bool>();
    return Status::Ok();
  }
  // A cash amount: a decimal string "1500.50" (KZT) or an integer *_tiyn.
  Status Money(const char* name, Cash* out) const {
    const std::string tiyn = std::string(name) + "_tiyn";
    if (j_.contains(tiyn) && j_[tiyn].is_number_integer()) {
      *out = Cash(j_[tiyn].get<std::int64_t>());
      return Status::Ok();
    }
    std::string text;
    Status s = Str(name, &text);
    if (!s.ok()) {
      return s;
    }
    auto c = ParseCash(text);
    if (!c.ok()) {
      return c.status();
    }
    *out = *c;
    return Status::Ok();
  }
  Status Year(int* out) const {
    std::int64_t y = 0;
    Status s = Int("year", &y);
    if (!s.ok()) {
      return s;
    }
    if (y < 2000 || y > 2100) {
      return Status::InvalidArgument("year outside 2000..2100");
    }
    *out = static_cast<int>(y);
    return Status::Ok();
  }

 private:
  const json& j_;
};

json HoldingsJson(const AccountHoldings& h) {
  json units = json::array();
  for (const UnitsLine& u : h.units) {
    units.push_back({{"symbol", u.symbol},
                     {"held", u.held.value()},
                     {"reserved", u.reserved.value()},
                     {"free", u.Free().value()}});
  }
  return {{"account", h.name},
          {"units", units},
          {"cash",
           {{"held_tiyn", h.cash_held.value()},
            {"reserved_tiyn", h.cash_reserved.value()},
            {"free_tiyn", h.CashFree().value()}}}};
}

}  // namespace

std::string HoldingsJsonText(const AccountHoldings& holdings) {
  return HoldingsJson(holdings).dump();
}

namespace {

// Holdings of the named accounts after a write, so that callers (and a
// server) see the new balances.
Result<json> After(Registry& r, std::initializer_list<std::string> accounts) {
  json out = json::array();
  for (const std::string& a : accounts) {
    auto h = r.Holdings(std::string_view(a));
    if (!h.ok()) {
      return h.status();
    }
    for (const auto& one : *h) {
      out.push_back(HoldingsJson(one));
    }
  }
  return out;
}

const char* StateName(EmissionsState s) {
  switch (s) {
    case EmissionsState::kSubmitted:
      return "submitted";
    case EmissionsState::kVerified:
      return "verified";
    case EmissionsState::kRejected:
      return "rejected";
    case EmissionsState::kSuperseded:
      return "superseded";
  }
  return "unknown";
}

using Handler = std::function<Result<json>(Registry&, const Args&)>;

Result<json> WithAccounts(Registry& r, Status s, const std::string& verb,
                          std::initializer_list<std::string> accounts) {
  if (!s.ok()) {
    return s;
  }
  auto after = After(r, accounts);
  if (!after.ok()) {
    return after.status();
  }
  return json{{"verb", verb}, {"accounts", *after}};
}

const std::map<std::string, Handler, std::less<>>& Handlers() {
  static const auto* handlers = new std::map<std::string, Handler, std::less<>>{
      {"instrument add",
       [](Registry& r, const Args& a) -> Result<json> {
         InstrumentSpec spec;
         std::string kind;
         std::int64_t vintage = 0;
         Status s = a.Str("symbol", &spec.symbol);
         if (s.ok()) {
           s = a.Str("kind", &kind);
         }
         if (s.ok()) {
           s = a.Int("vintage", &vintage);
         }
         if (!s.ok()) {
           return s;
         }
         if (kind == "allowance") {
           spec.kind = InstrumentKind::kAllowance;
         } else if (kind == "offset") {
           spec.kind = InstrumentKind::kOffset;
         } else {
           return Status::InvalidArgument("kind must be allowance or offset");
         }
         if (vintage < 2000 || vintage > 2100) {
           return Status::InvalidArgument("vintage outside 2000..2100");
         }
         spec.vintage = static_cast<int>(vintage);
         if (a.Has("tick") || a.Has("tick_tiyn")) {
           Cash tick;
           s = a.Money("tick", &tick);
           if (!s.ok()) {
             return s;
           }
           spec.tick = Price(tick.value());
         }
         if (a.Has("max_order_qty")) {
           std::int64_t q = 0;
           s = a.Int("max_order_qty", &q);
           if (!s.ok()) {
             return s;
           }
           spec.max_order_qty = Quantity(q);
         }
         s = r.AddInstrument(spec);
         if (!s.ok()) {
           return s;
         }
         return json{{"verb", "instrument add"},
                     {"symbol", spec.symbol},
                     {"kind", kind},
                     {"vintage", spec.vintage},
                     {"tick_tiyn", spec.tick.value()},
                     {"max_order_qty", spec.max_order_qty.value()}};
       }},
      {"company add",
       [](Registry& r, const Args& a) -> Result<json> {
         CompanySpec spec;
         Status s = a.Str("id", &spec.id);
         if (s.ok()) {
           s = a.Str("name", &spec.name);
         }
         if (s.ok()) {
           s = a.OptStr("sector", &spec.sector);
         }
         if (s.ok()) {
           s = a.OptStr("bin", &spec.bin);
         }
         if (s.ok() && a.Has("holding_limit")) {
           std::int64_t limit = 0;
           s = a.Int("holding_limit", &limit);
           spec.holding_limit = Quantity(limit);
         }
         if (!s.ok()) {
           return s;
         }
         s = r.AddCompany(spec);
         if (!s.ok()) {
           return s;
         }
         json j{{"verb", "company add"},
                {"company", spec.id},
                {"account", spec.id},
                {"name", spec.name}};
         if (spec.holding_limit) {
           j["holding_limit"] = spec.holding_limit->value();
         }
         return j;
       }},
      {"broker add",
       [](Registry& r, const Args& a) -> Result<json> {
         BrokerSpec spec;
         Status s = a.Str("comp_id", &spec.comp_id);
         if (s.ok()) {
           s = a.Str("password", &spec.password);
         }
         if (s.ok()) {
           s = a.Bool("cancel_on_disconnect", &spec.cancel_on_disconnect);
         }
         if (!s.ok()) {
           return s;
         }
         s = r.AddBroker(spec);
         if (!s.ok()) {
           return s;
         }
         return json{{"verb", "broker add"},
                     {"comp_id", spec.comp_id},
                     {"cancel_on_disconnect", spec.cancel_on_disconnect}};
       }},
      {"broker entitle",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string comp;
         std::string account;
         Status s = a.Str("comp_id", &comp);
         if (s.ok()) {
           s = a.Str("account", &account);
         }
         if (!s.ok()) {
           return s;
         }
         s = r.EntitleBroker(comp, account);
         if (!s.ok()) {
           return s;
         }
         return json{{"verb", "broker entitle"},
                     {"comp_id", comp},
                     {"account", account}};
       }},
      {"verifier add",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string id;
         std::string name;
         Status s = a.Str("id", &id);
         if (s.ok()) {
           s = a.Str("name", &name);
         }
         if (!s.ok()) {
           return s;
         }
         s = r.AddVerifier(id, name);
         if (!s.ok()) {
           return s;
         }
         return json{
             {"verb", "verifier add"}, {"verifier", id}, {"name", name}};
       }},
      {"cash deposit",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string account;
         Cash amount;
         Status s = a.Str("account", &account);
         if (s.ok()) {
           s = a.Money("amount", &amount);
         }
         if (!s.ok()) {
           return s;
         }
         return WithAccounts(r, r.DepositCash(account, amount), "cash deposit",
                             {account});
       }},
      {"cash withdraw",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string account;
         Cash amount;
         Status s = a.Str("account", &account);
         if (s.ok()) {
           s = a.Money("amount", &amount);
         }
         if (!s.ok()) {
           return s;
         }
         return WithAccounts(r, r.WithdrawCash(account, amount),
                             "cash withdraw", {account});
       }},
      {"issue",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string symbol;
         std::string account;
         std::string reason = "allocation";
         std::int64_t qty = 0;
         Status s = a.Str("symbol", &symbol);
         if (s.ok()) {
           s = a.Str("account", &account);
         }
         if (s.ok()) {
           s = a.Int("qty", &qty);
         }
         if (s.ok()) {
           s = a.OptStr("reason", &reason);
         }
         if (!s.ok()) {
           return s;
         }
         IssueReason why = IssueReason::kAllocation;
         if (reason == "auction") {
           why = IssueReason::kAuction;
         } else if (reason == "offset-project") {
           why = IssueReason::kOffsetProject;
         } else if (reason != "allocation") {
           return Status::InvalidArgument(
               "reason must be allocation, auction or offset-project");
         }
         return WithAccounts(r,
                             r.IssueUnits(symbol, account, Quantity(qty), why),
                             "issue", {account});
       }},
      {"transfer",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string symbol;
         std::string from;
         std::string to;
         std::int64_t qty = 0;
         Status s = a.Str("symbol", &symbol);
         if (s.ok()) {
           s = a.Str("from", &from);
         }
         if (s.ok()) {
           s = a.Str("to", &to);
         }
         if (s.ok()) {
           s = a.Int("qty", &qty);
         }
         if (!s.ok()) {
           return s;
         }
         return WithAccounts(r, r.Transfer(symbol, from, to, Quantity(qty)),
                             "transfer", {from, to});
       }},
      {"cancel",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string symbol;
         std::string account;
         std::int64_t qty = 0;
         Status s = a.Str("symbol", &symbol);
         if (s.ok()) {
           s = a.Str("account", &account);
         }
         if (s.ok()) {
           s = a.Int("qty", &qty);
         }
         if (!s.ok()) {
           return s;
         }
         return WithAccounts(r, r.CancelUnits(symbol, account, Quantity(qty)),
                             "cancel", {account});
       }},
      {"surrender",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string symbol;
         std::string account;
         std::int64_t qty = 0;
         int year = 0;
         Status s = a.Str("account", &account);
         if (s.ok()) {
           s = a.Year(&year);
         }
         if (s.ok()) {
           s = a.Str("symbol", &symbol);
         }
         if (s.ok()) {
           s = a.Int("qty", &qty);
         }
         if (!s.ok()) {
           return s;
         }
         return WithAccounts(r,
                             r.Surrender(account, year, symbol, Quantity(qty)),
                             "surrender", {account});
       }},
      {"nap import",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string companies;
         std::string companies_name = "companies.csv";
         std::string installations;
         std::string installations_name = "installations.csv";
         PlanImportOptions options;
         Status s = a.Str("companies_csv", &companies);
         if (s.ok()) {
           s = a.OptStr("companies_name", &companies_name);
         }
         if (s.ok()) {
           s = a.OptStr("installations_csv", &installations);
         }
         if (s.ok()) {
           s = a.OptStr("installations_name", &installations_name);
         }
         if (s.ok()) {
           s = a.Bool("with_emissions", &options.with_emissions);
         }
         if (!s.ok()) {
           return s;
         }
         auto sum = r.ImportPlan(companies, companies_name, installations,
                                 installations_name, options);
         if (!sum.ok()) {
           return sum.status();
         }
         return json{{"verb", "nap import"},
                     {"companies_created", sum->companies_created},
                     {"companies_existing", sum->companies_existing},
                     {"instruments_created", sum->instruments_created},
                     {"allocations_issued", sum->allocations_issued},
                     {"units_issued", sum->units_issued.value()},
                     {"installations_loaded", sum->installations_loaded},
                     {"emissions_loaded", sum->emissions_loaded}};
       }},
      {"emissions submit",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string account;
         std::string csv;
         std::string name = "emissions.csv";
         int year = 0;
         Status s = a.Str("account", &account);
         if (s.ok()) {
           s = a.Year(&year);
         }
         if (s.ok()) {
           s = a.Str("csv", &csv);
         }
         if (s.ok()) {
           s = a.OptStr("name", &name);
         }
         if (!s.ok()) {
           return s;
         }
         auto rep = r.SubmitEmissions(account, year, csv, name);
         if (!rep.ok()) {
           return rep.status();
         }
         return json{{"verb", "emissions submit"},
                     {"account", account},
                     {"year", year},
                     {"version", rep->version},
                     {"state", StateName(rep->state)},
                     {"total_t", rep->total.value()},
                     {"lines", rep->lines.size()}};
       }},
      {"emissions verify",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string account;
         std::string verifier;
         int year = 0;
         Status s = a.Str("account", &account);
         if (s.ok()) {
           s = a.Year(&year);
         }
         if (s.ok()) {
           s = a.Str("verifier", &verifier);
         }
         if (!s.ok()) {
           return s;
         }
         s = r.VerifyEmissions(account, year, verifier);
         if (!s.ok()) {
           return s;
         }
         return json{{"verb", "emissions verify"},
                     {"account", account},
                     {"year", year},
                     {"verifier", verifier},
                     {"state", "verified"}};
       }},
      {"emissions reject",
       [](Registry& r, const Args& a) -> Result<json> {
         std::string account;
         std::string verifier;
         std::string reason;
         int year = 0;
         Status s = a.Str("account", &account);
         if (s.ok()) {
           s = a.Year(&year);
         }
         if (s.ok()) {
           s = a.Str("verifier", &verifier);
         }
         if (s.ok()) {
           s = a.Str("reason", &reason);
         }
         if (!s.ok()) {
           return s;
         }
         s = r.RejectEmissions(account, year, verifier, reason);
         if (!s.ok()) {
           return s;
         }
         return json{{"verb", "emissions reject"},
                     {"account", account},
                     {"year", year},
                     {"verifier", verifier},
                     {"state", "rejected"},
                     {"reason", reason}};
       }},
      {"policy set",
       [](Registry& r, const Args& a) -> Result<json> {
         auto current = r.GetPolicy();
         if (!current.ok()) {
           return current.status();
         }
         Policy p = *current;
         Status s = Status::Ok();
         if (a.Has("offset_share_bp")) {
           s = a.Int("offset_share_bp", &p.offset_share_bp);
         }
         if (s.ok() && (a.Has("penalty") || a.Has("penalty_tiyn"))) {
           s = a.Money("penalty", &p.penalty_per_tonne);
         }
         if (s.ok() && a.Has("gwp_co2")) {
           s = a.Int("gwp_co2", &p.gwp_co2);
         }
         if (s.ok() && a.Has("gwp_ch4")) {
           s = a.Int("gwp_ch4", &p.gwp_ch4);
         }
         if (s.ok() && a.Has("gwp_n2o")) {
           s = a.Int("gwp_n2o", &p.gwp_n2o);
         }
         if (!s.ok()) {
           return s;
         }
         s = r.SetPolicy(p);
         if (!s.ok()) {
           return s;
         }
         return json{{"verb", "policy set"},
                     {"offset_share_bp", p.offset_share_bp},
                     {"penalty_tiyn", p.penalty_per_tonne.value()},
                     {"gwp_co2", p.gwp_co2},
                     {"gwp_ch4", p.gwp_ch4},
                     {"gwp_n2o", p.gwp_n2o}};
       }},
  };
  return *handlers;
}

}  // namespace

std::string ServerLockPath(std::string_view dir) {
  return std::string(dir) + "/server.lock";
}

std::string ControlSocketPath(std::string_view dir) {
  return std::string(dir) + "/control.sock";
}

Result<ControlRequest> ParseControlRequest(std::string_view line) {
  json doc = json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::InvalidArgument("control request: not a JSON object");
  }
  if (!doc.contains("verb") || !doc["verb"].is_string()) {
    return Status::InvalidArgument("control request: no string \"verb\"");
  }
  ControlRequest req;
  req.verb = doc["verb"].get<std::string>();
  if (doc.contains("args")) {
    if (!doc["args"].is_object()) {
      return Status::InvalidArgument(
          "control request: \"args\" is not an object");
    }
    req.args_json = doc["args"].dump();
  } else {
    req.args_json = "{}";
  }
  return req;
}

bool IsWriteVerb(std::string_view verb) {
  return verb == "close-day" || Handlers().count(verb) != 0;
}

std::string ControlErrorResponse(std::string_view message) {
  return json{{"ok", false}, {"error", message}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

std::string ControlOkResponse(std::string_view result_json) {
  return "{\"ok\":true,\"result\":" + std::string(result_json) + "}";
}

std::string ExecuteControlRequest(Registry& registry, std::string_view line) {
  try {
    auto req = ParseControlRequest(line);
    if (!req.ok()) {
      return ControlErrorResponse(req.status().message());
    }
    if (req->verb == "close-day") {
      return ControlErrorResponse(
          "close-day: only a running server can close "
          "the trading day");
    }
    auto it = Handlers().find(req->verb);
    if (it == Handlers().end()) {
      return ControlErrorResponse("unknown verb '" + req->verb + "'");
    }
    const json args = json::parse(req->args_json);
    auto result = it->second(registry, Args(args));
    if (!result.ok()) {
      return ControlErrorResponse(result.status().message());
    }
    return ControlOkResponse(
        result->dump(-1, ' ', false, json::error_handler_t::replace));
  } catch (const std::exception& e) {
    return ControlErrorResponse(std::string("internal error: ") + e.what());
  }
}

// ---------------------------------------------------------------- lock

Result<std::unique_ptr<ServerLock>> ServerLock::TryAcquire(
    std::string_view dir) {
  const std::string path = ServerLockPath(dir);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IoError(Errno("open " + path));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Busy("another process holds " + path);
    }
    errno = err;
    return Status::IoError(Errno("lock " + path));
  }
  return std::unique_ptr<ServerLock>(new ServerLock(fd));
}

ServerLock::~ServerLock() { ::close(fd_); }

// ---------------------------------------------------------------- socket

namespace {

Status SocketAddress(std::string_view dir, sockaddr_un* addr) {
  const std::string path = ControlSocketPath(dir);
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr->sun_path)) {
    return Status::InvalidArgument("control socket path too long: " + path);
  }
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return Status::Ok();
}

}  // namespace

Result<std::string> SendControlRequest(std::string_view dir,
                                       std::string_view line) {
  sockaddr_un addr{};
  Status s = SocketAddress(dir, &addr);
  if (!s.ok()) {
    return s;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Status::IoError(Errno("control socket"));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) !=
      0) {
    return Status::NotFound(Errno("connect to " + ControlSocketPath(dir)));
  }
  std::string out(line);
  out.push_back('\n');
  std::size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status::IoError(Errno("send to the server"));
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status::IoError(Errno("read from the server"));
    }
    if (n == 0) {
      break;
    }
    response.append(buf, static_cast<std::size_t>(n));
    if (auto nl = response.find('\n'); nl != std::string::npos) {
      response.resize(nl);
      return response;
    }
  }
  return Status::IoError(
      "the server closed the control connection without a full response "
      "(the request may or may not have been applied)");
}

Result<int> ListenControlSocket(std::string_view dir) {
  sockaddr_un addr{};
  Status s = SocketAddress(dir, &addr);
  if (!s.ok()) {
    return s;
  }
  const std::string path = ControlSocketPath(dir);
  ::unlink(path.c_str());  // a stale socket of an earlier run
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Status::IoError(Errno("control socket"));
  }
  // The directory is owner-only (0700), so nobody else can reach the
  // socket in the moment before the chmod.
  const int rc =
      ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  if (rc != 0 || ::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 16) != 0) {
    Status err = Status::IoError(Errno("listen on " + path));
    ::close(fd);
    return err;
  }
  return fd;
}

}  // namespace carbonex::ledger
