// carbonex-registry: the registry operator's program (docs/registry-cli.md;
// the contract is /spec/operator-cli.md).
//
// Every write verb becomes one control request {"verb", "args"}. When a
// server holds DIR/server.lock the request goes to it over DIR/control.sock;
// otherwise the program takes the lock itself and executes the request
// directly with ExecuteControlRequest, so both paths apply the same checks.
// Reads open the registry directly (LMDB readers never block the writer).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "carbonex/ledger/amounts.h"
#include "carbonex/ledger/control.h"
#include "carbonex/ledger/registry.h"

namespace {

using carbonex::Cash;
using carbonex::Status;
using carbonex::StatusCode;
using nlohmann::json;
namespace ledger = carbonex::ledger;

struct Failure {
  std::string message;
};

[[noreturn]] void Fail(std::string message) {
  throw Failure{std::move(message)};
}

void Check(const Status& s) {
  if (!s.ok()) {
    Fail(s.message());
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Fail("cannot read '" + path + "'");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    Fail("cannot read '" + path + "'");
  }
  return ss.str();
}

std::string BaseName(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Aligned text table: numbers right-aligned, text left-aligned.
class Table {
 public:
  explicit Table(std::vector<std::string> header) {
    rows_.push_back(std::move(header));
  }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const {
    std::vector<std::size_t> width(rows_[0].size(), 0);
    for (const auto& r : rows_) {
      for (std::size_t i = 0; i < r.size(); ++i) {
        width[i] = std::max(width[i], r[i].size());
      }
    }
    for (const auto& r : rows_) {
      std::string line;
      for (std::size_t i = 0; i < r.size(); ++i) {
        const bool numeric =
            !r[i].empty() &&
            r[i].find_first_not_of("0123456789.-") == std::string::npos;
        const std::string pad(width[i] - r[i].size(), ' ');
        if (i > 0) {
          line += "  ";
        }
        line += numeric && &r != &rows_[0] ? pad + r[i] : r[i] + pad;
      }
      while (!line.empty() && line.back() == ' ') {
        line.pop_back();
      }
      out << line << '\n';
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

struct Globals {
  std::string db = "./carbonex-data";
  bool json = false;
};

std::unique_ptr<ledger::Registry> OpenRegistry(const Globals& g, bool create) {
  ledger::RegistryOptions options;
  options.path = g.db;
  options.create_if_missing = create;
  auto r = ledger::Registry::Open(options);
  if (!r.ok()) {
    Fail(r.status().message());
  }
  return std::move(*r);
}

// Runs a write request (see the file comment). Returns the result object.
json RunWrite(const Globals& g, const std::string& verb, const json& args) {
  const std::string line = json{{"verb", verb}, {"args", args}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
  auto registry = OpenRegistry(g, false);
  std::string response;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    auto lock = ledger::ServerLock::TryAcquire(g.db);
    if (lock.ok()) {
      if (verb == "close-day") {
        Fail("close-day: no server is running on '" + g.db + "'");
      }
      response = ledger::ExecuteControlRequest(*registry, line);
      break;
    }
    if (lock.status().code() != StatusCode::kBusy) {
      Check(lock.status());
    }
    auto sent = ledger::SendControlRequest(g.db, line);
    if (sent.ok()) {
      response = *sent;
      break;
    }
    if (sent.status().code() != StatusCode::kNotFound ||
        std::chrono::steady_clock::now() > deadline) {
      Fail(sent.status().message());
    }
    // The lock holder is another direct writer (or a server still starting):
    // wait for it.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  json doc = json::parse(response, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("ok")) {
    Fail("malformed response from the registry writer");
  }
  if (!doc["ok"].get<bool>()) {
    Fail(doc.value("error", std::string("unknown error")));
  }
  return doc.value("result", json::object());
}

void PrintHoldingsJsonAsTable(const json& accounts) {
  Table units({"ACCOUNT", "SYMBOL", "HELD", "RESERVED", "FREE"});
  Table cash({"ACCOUNT", "CASH HELD", "RESERVED", "FREE"});
  for (const auto& a : accounts) {
    const std::string name = a["account"].get<std::string>();
    for (const auto& u : a["units"]) {
      units.Add({name, u["symbol"].get<std::string>(),
                 std::to_string(u["held"].get<std::int64_t>()),
                 std::to_string(u["reserved"].get<std::int64_t>()),
                 std::to_string(u["free"].get<std::int64_t>())});
    }
    const auto& c = a["cash"];
    cash.Add({name,
              ledger::FormatCash(Cash(c["held_tiyn"].get<std::int64_t>())),
              ledger::FormatCash(Cash(c["reserved_tiyn"].get<std::int64_t>())),
              ledger::FormatCash(Cash(c["free_tiyn"].get<std::int64_t>()))});
  }
  units.Print(std::cout);
  std::cout << '\n';
  cash.Print(std::cout);
}

void PrintWriteResult(const Globals& g, const json& result) {
  if (g.json) {
    std::cout << result.dump(2) << '\n';
    return;
  }
  std::cout << "ok: " << result.value("verb", std::string("done"));
  for (const auto& [k, v] : result.items()) {
    if (k == "verb" || k == "accounts") {
      continue;
    }
    std::cout << "  " << k << "="
              << (v.is_string() ? v.get<std::string>() : v.dump());
  }
  std::cout << '\n';
  if (result.contains("accounts")) {
    std::cout << '\n';
    PrintHoldingsJsonAsTable(result["accounts"]);
  }
}

std::string StatusName(ledger::ComplianceStatus s) {
  switch (s) {
    case ledger::ComplianceStatus::kCompliant:
      return "compliant";
    case ledger::ComplianceStatus::kShort:
      return "short";
    case ledger::ComplianceStatus::kUnverified:
      return "unverified";
  }
  return "unknown";
}

std::string StateName(ledger::EmissionsState s) {
  switch (s) {
    case ledger::EmissionsState::kSubmitted:
      return "submitted";
    case ledger::EmissionsState::kVerified:
      return "verified";
    case ledger::EmissionsState::kRejected:
      return "rejected";
    case ledger::EmissionsState::kSuperseded:
      return "superseded";
  }
  return "unknown";
}

std::string FormatTime(std::int64_t ns) {
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"carbonex-registry: operate the carbonex emissions registry"};
  app.fallthrough();
  app.require_subcommand(1);
  Globals g;
  app.add_option("--db", g.db, "registry directory (LMDB environment)")
      ->capture_default_str();
  app.add_flag("--json", g.json, "machine-readable output (one JSON document)");

  std::function<void()> action;

  auto* init =
      app.add_subcommand("init", "create an empty registry (idempotent)");
  init->callback([&] {
    action = [&] {
      auto r = OpenRegistry(g, true);
      if (g.json) {
        std::cout << json{{"verb", "init"}, {"db", g.db}}.dump(2) << '\n';
      } else {
        std::cout << "registry ready at " << g.db << '\n';
      }
    };
  });

  // instrument add
  auto* instrument = app.add_subcommand("instrument", "tradable unit types");
  instrument->require_subcommand(1);
  std::string i_symbol, i_kind, i_tick;
  int i_vintage = 0;
  std::int64_t i_max = 0;
  auto* i_add =
      instrument->add_subcommand("add", "define a tradable unit type");
  i_add->add_option("SYMBOL", i_symbol, "e.g. KZQ-2026")->required();
  i_add->add_option("--kind", i_kind, "allowance or offset")
      ->required()
      ->check(CLI::IsMember({"allowance", "offset"}));
  i_add->add_option("--vintage", i_vintage, "YYYY")->required();
  i_add->add_option("--tick", i_tick, "tick size in KZT (default 0.01)");
  i_add->add_option("--max-order-qty", i_max, "largest order quantity");
  i_add->callback([&] {
    action = [&] {
      json args{{"symbol", i_symbol}, {"kind", i_kind}, {"vintage", i_vintage}};
      if (!i_tick.empty()) {
        args["tick"] = i_tick;
      }
      if (i_add->count("--max-order-qty") > 0) {
        args["max_order_qty"] = i_max;
      }
      PrintWriteResult(g, RunWrite(g, "instrument add", args));
    };
  });
  auto* i_list = instrument->add_subcommand("list", "list instruments");
  i_list->callback([&] {
    action = [&] {
      auto r = OpenRegistry(g, false);
      auto list = r->Instruments();
      Check(list.status());
      json out = json::array();
      Table t({"ID", "SYMBOL", "KIND", "VINTAGE", "TICK", "MAX ORDER QTY"});
      for (const auto& i : *list) {
        const char* kind = i.spec.kind == ledger::InstrumentKind::kOffset
                               ? "offset"
                               : "allowance";
        out.push_back({{"id", i.id.value()},
                       {"symbol", i.spec.symbol},
                       {"kind", kind},
                       {"vintage", i.spec.vintage},
                       {"tick_tiyn", i.spec.tick.value()},
                       {"max_order_qty", i.spec.max_order_qty.value()}});
        t.Add({std::to_string(i.id.value()), i.spec.symbol, kind,
               std::to_string(i.spec.vintage),
               ledger::FormatCash(Cash(i.spec.tick.value())),
               std::to_string(i.spec.max_order_qty.value())});
      }
      if (g.json) {
        std::cout << json{{"instruments", out}}.dump(2) << '\n';
      } else {
        t.Print(std::cout);
      }
    };
  });

  // company add
  auto* company = app.add_subcommand("company", "companies and their accounts");
  company->require_subcommand(1);
  std::string c_id, c_name, c_sector, c_bin;
  std::int64_t c_limit = 0;
  auto* c_add = company->add_subcommand(
      "add", "register a company and its holding account (account id = ID)");
  c_add->add_option("ID", c_id, "company id, e.g. KZ-OP-0001")->required();
  c_add->add_option("--name", c_name, "company name")->required();
  c_add->add_option("--sector", c_sector, "sector code");
  c_add->add_option("--holding-limit", c_limit, "max units of one instrument");
  c_add->add_option("--bin", c_bin, "12-digit business identification number");
  c_add->callback([&] {
    action = [&] {
      json args{{"id", c_id}, {"name", c_name}};
      if (!c_sector.empty()) {
        args["sector"] = c_sector;
      }
      if (!c_bin.empty()) {
        args["bin"] = c_bin;
      }
      if (c_add->count("--holding-limit") > 0) {
        args["holding_limit"] = c_limit;
      }
      PrintWriteResult(g, RunWrite(g, "company add", args));
    };
  });

  // broker add / entitle
  auto* broker = app.add_subcommand("broker", "FIX brokers");
  broker->require_subcommand(1);
  std::string b_comp, b_pwfile, b_account;
  bool b_cod = false;
  auto* b_add = broker->add_subcommand("add", "register a FIX broker");
  b_add->add_option("COMPID", b_comp, "FIX SenderCompID")->required();
  b_add
      ->add_option("--password-file", b_pwfile,
                   "file holding the password (one trailing newline stripped)")
      ->required();
  b_add->add_flag("--cancel-on-disconnect", b_cod,
                  "cancel the broker's orders when its session drops");
  b_add->callback([&] {
    action = [&] {
      std::string pw = ReadFile(b_pwfile);
      if (!pw.empty() && pw.back() == '\n') {
        pw.pop_back();
      }
      PrintWriteResult(g, RunWrite(g, "broker add",
                                   {{"comp_id", b_comp},
                                    {"password", pw},
                                    {"cancel_on_disconnect", b_cod}}));
    };
  });
  auto* b_ent = broker->add_subcommand("entitle",
                                       "let the broker trade for that account");
  b_ent->add_option("COMPID", b_comp, "FIX SenderCompID")->required();
  b_ent->add_option("ACCOUNT", b_account, "account id")->required();
  b_ent->callback([&] {
    action = [&] {
      PrintWriteResult(g,
                       RunWrite(g, "broker entitle",
                                {{"comp_id", b_comp}, {"account", b_account}}));
    };
  });

  // verifier add
  auto* verifier = app.add_subcommand("verifier", "accredited verifiers");
  verifier->require_subcommand(1);
  std::string v_id, v_name;
  auto* v_add =
      verifier->add_subcommand("add", "register an accredited verifier");
  v_add->add_option("ID", v_id, "verifier id")->required();
  v_add->add_option("--name", v_name, "verifier name")->required();
  v_add->callback([&] {
    action = [&] {
      PrintWriteResult(
          g, RunWrite(g, "verifier add", {{"id", v_id}, {"name", v_name}}));
    };
  });

  // cash deposit / withdraw
  auto* cash = app.add_subcommand("cash", "move KZT into or out of an account");
  cash->require_subcommand(1);
  std::string k_account, k_amount;
  for (const char* verb : {"deposit", "withdraw"}) {
    auto* sub = cash->add_subcommand(
        verb, std::string(verb) + " KZT (AMOUNT with at most two decimals)");
    sub->add_option("ACCOUNT", k_account, "account id")->required();
    sub->add_option("AMOUNT", k_amount, "KZT, e.g. 1500000.00")->required();
    const std::string name = std::string("cash ") + verb;
    sub->callback([&, name] {
      action = [&, name] {
        PrintWriteResult(
            g,
            RunWrite(g, name, {{"account", k_account}, {"amount", k_amount}}));
      };
    });
  }

  // issue / transfer / cancel / surrender
  std::string u_symbol, u_account, u_to, u_reason = "allocation";
  std::int64_t u_qty = 0;
  int u_year = 0;
  auto* issue = app.add_subcommand("issue", "create units in an account");
  issue->add_option("SYMBOL", u_symbol)->required();
  issue->add_option("ACCOUNT", u_account)->required();
  issue->add_option("QTY", u_qty)->required();
  issue->add_option("--reason", u_reason)
      ->check(CLI::IsMember({"allocation", "auction", "offset-project"}))
      ->capture_default_str();
  issue->callback([&] {
    action = [&] {
      PrintWriteResult(g, RunWrite(g, "issue",
                                   {{"symbol", u_symbol},
                                    {"account", u_account},
                                    {"qty", u_qty},
                                    {"reason", u_reason}}));
    };
  });
  auto* transfer = app.add_subcommand(
      "transfer", "an off-exchange transfer of free units between accounts");
  transfer->add_option("SYMBOL", u_symbol)->required();
  transfer->add_option("FROM", u_account)->required();
  transfer->add_option("TO", u_to)->required();
  transfer->add_option("QTY", u_qty)->required();
  transfer->callback([&] {
    action = [&] {
      PrintWriteResult(g, RunWrite(g, "transfer",
                                   {{"symbol", u_symbol},
                                    {"from", u_account},
                                    {"to", u_to},
                                    {"qty", u_qty}}));
    };
  });
  auto* cancel = app.add_subcommand(
      "cancel", "remove free units from circulation (voluntary cancellation)");
  cancel->add_option("SYMBOL", u_symbol)->required();
  cancel->add_option("ACCOUNT", u_account)->required();
  cancel->add_option("QTY", u_qty)->required();
  cancel->callback([&] {
    action = [&] {
      PrintWriteResult(g, RunWrite(g, "cancel",
                                   {{"symbol", u_symbol},
                                    {"account", u_account},
                                    {"qty", u_qty}}));
    };
  });
  auto* surrender = app.add_subcommand(
      "surrender", "give up units against a year's verified emissions");
  surrender->add_option("ACCOUNT", u_account)->required();
  surrender->add_option("YEAR", u_year)->required();
  surrender->add_option("SYMBOL", u_symbol)->required();
  surrender->add_option("QTY", u_qty)->required();
  surrender->callback([&] {
    action = [&] {
      PrintWriteResult(g, RunWrite(g, "surrender",
                                   {{"account", u_account},
                                    {"year", u_year},
                                    {"symbol", u_symbol},
                                    {"qty", u_qty}}));
    };
  });

  // nap import
  auto* nap = app.add_subcommand("nap", "National Allocation Plan");
  nap->require_subcommand(1);
  std::string n_file, n_inst;
  bool n_ve = false;
  auto* n_import = nap->add_subcommand(
      "import", "load companies, caps per year and allocations");
  n_import->add_option("FILE", n_file, "companies.csv")->required();
  n_import->add_option("--installations", n_inst, "installations.csv");
  n_import->add_flag("--with-emissions", n_ve,
                     "also load the plan's verified emissions (ve_<year>)");
  n_import->callback([&] {
    action = [&] {
      json args{{"companies_csv", ReadFile(n_file)},
                {"companies_name", BaseName(n_file)},
                {"with_emissions", n_ve}};
      if (!n_inst.empty()) {
        args["installations_csv"] = ReadFile(n_inst);
        args["installations_name"] = BaseName(n_inst);
      }
      PrintWriteResult(g, RunWrite(g, "nap import", args));
    };
  });

  // holdings
  std::string h_account;
  auto* holdings = app.add_subcommand(
      "holdings", "units per instrument and cash: held, reserved, free");
  holdings->add_option("ACCOUNT", h_account, "one account (default: all)");
  holdings->callback([&] {
    action = [&] {
      auto r = OpenRegistry(g, false);
      auto h = h_account.empty() ? r->Holdings(std::nullopt)
                                 : r->Holdings(std::string_view(h_account));
      Check(h.status());
      json accounts = json::array();
      for (const auto& a : *h) {
        accounts.push_back(json::parse(ledger::HoldingsJsonText(a)));
      }
      if (g.json) {
        std::cout << json{{"accounts", accounts}}.dump(2) << '\n';
      } else {
        PrintHoldingsJsonAsTable(accounts);
      }
    };
  });

  // trades
  std::string t_account, t_symbol;
  auto* trades = app.add_subcommand("trades", "settled trades");
  trades->add_option("--account", t_account, "buyer or seller");
  trades->add_option("--symbol", t_symbol, "instrument");
  trades->callback([&] {
    action = [&] {
      auto r = OpenRegistry(g, false);
      ledger::TradeFilter f;
      if (!t_account.empty()) {
        f.account = t_account;
      }
      if (!t_symbol.empty()) {
        f.symbol = t_symbol;
      }
      auto list = r->Trades(f);
      Check(list.status());
      json out = json::array();
      Table t({"TRADE", "SYMBOL", "PRICE", "QTY", "BUYER", "SELLER", "TIME"});
      for (const auto& v : *list) {
        const auto& tr = v.record;
        out.push_back({{"trade_id", tr.trade_id.value()},
                       {"symbol", v.symbol},
                       {"price", ledger::FormatCash(Cash(tr.price.value()))},
                       {"price_tiyn", tr.price.value()},
                       {"qty", tr.qty.value()},
                       {"buyer", v.buyer},
                       {"seller", v.seller},
                       {"time", tr.time.value()}});
        t.Add({std::to_string(tr.trade_id.value()), v.symbol,
               ledger::FormatCash(Cash(tr.price.value())),
               std::to_string(tr.qty.value()), v.buyer, v.seller,
               FormatTime(tr.time.value())});
      }
      if (g.json) {
        std::cout << json{{"trades", out}}.dump(2) << '\n';
      } else {
        t.Print(std::cout);
      }
    };
  });

  // emissions submit / verify / reject / show
  auto* emissions =
      app.add_subcommand("emissions", "MRV: annual emissions reports");
  emissions->require_subcommand(1);
  std::string e_account, e_file, e_verifier, e_reason;
  int e_year = 0;
  auto* e_submit = emissions->add_subcommand(
      "submit", "submit a report (CSV format in docs/mrv.md)");
  e_submit->add_option("ACCOUNT", e_account)->required();
  e_submit->add_option("YEAR", e_year)->required();
  e_submit->add_option("FILE", e_file, "emissions CSV")->required();
  e_submit->callback([&] {
    action = [&] {
      PrintWriteResult(g, RunWrite(g, "emissions submit",
                                   {{"account", e_account},
                                    {"year", e_year},
                                    {"csv", ReadFile(e_file)},
                                    {"name", BaseName(e_file)}}));
    };
  });
  auto* e_verify =
      emissions->add_subcommand("verify", "verify the latest submitted report");
  e_verify->add_option("ACCOUNT", e_account)->required();
  e_verify->add_option("YEAR", e_year)->required();
  e_verify->add_option("--verifier", e_verifier, "verifier id")->required();
  e_verify->callback([&] {
    action = [&] {
      PrintWriteResult(g, RunWrite(g, "emissions verify",
                                   {{"account", e_account},
                                    {"year", e_year},
                                    {"verifier", e_verifier}}));
    };
  });
  auto* e_reject = emissions->add_subcommand(
      "reject", "reject the latest submitted report (back to the emitter)");
  e_reject->add_option("ACCOUNT", e_account)->required();
  e_reject->add_option("YEAR", e_year)->required();
  e_reject->add_option("--verifier", e_verifier, "verifier id")->required();
  e_reject->add_option("--reason", e_reason, "why")->required();
  e_reject->callback([&] {
    action = [&] {
      PrintWriteResult(g, RunWrite(g, "emissions reject",
                                   {{"account", e_account},
                                    {"year", e_year},
                                    {"verifier", e_verifier},
                                    {"reason", e_reason}}));
    };
  });
  auto* e_show = emissions->add_subcommand(
      "show", "every version of a company's report for a year");
  e_show->add_option("ACCOUNT", e_account)->required();
  e_show->add_option("YEAR", e_year)->required();
  e_show->callback([&] {
    action = [&] {
      auto r = OpenRegistry(g, false);
      auto list = r->EmissionsReports(e_account, e_year);
      Check(list.status());
      json out = json::array();
      Table t(
          {"VERSION", "STATE", "TOTAL T CO2E", "LINES", "VERIFIER", "SOURCE"});
      for (const auto& rep : *list) {
        json lines = json::array();
        for (const auto& l : rep.lines) {
          lines.push_back({{"installation", l.installation},
                           {"source_stream", l.source_stream},
                           {"gas", l.gas},
                           {"co2e_kg", l.co2e_kg}});
        }
        out.push_back({{"version", rep.version},
                       {"state", StateName(rep.state)},
                       {"total_t", rep.total.value()},
                       {"verifier", rep.verifier},
                       {"reason", rep.reason},
                       {"source", rep.source},
                       {"lines", lines}});
        t.Add({std::to_string(rep.version), StateName(rep.state),
               std::to_string(rep.total.value()),
               std::to_string(rep.lines.size()), rep.verifier, rep.source});
      }
      if (g.json) {
        std::cout << json{{"company", e_account},
                          {"year", e_year},
                          {"reports", out}}
                         .dump(2)
                  << '\n';
      } else {
        t.Print(std::cout);
      }
    };
  });

  // compliance
  int y_year = 0;
  auto* compliance = app.add_subcommand(
      "compliance",
      "per company: cap, verified emissions, surrendered, status");
  compliance->add_option("YEAR", y_year)->required();
  compliance->callback([&] {
    action = [&] {
      auto r = OpenRegistry(g, false);
      auto rep = r->Compliance(y_year);
      Check(rep.status());
      json out = json::array();
      Table t({"COMPANY", "CAP", "VERIFIED", "QUOTA", "OFFSET", "SURRENDERED",
               "SHORTFALL", "PENALTY KZT", "STATUS"});
      std::int64_t sums[6] = {0, 0, 0, 0, 0, 0};
      std::int64_t penalty = 0;
      for (const auto& c : rep->companies) {
        out.push_back({{"company", c.company},
                       {"cap", c.cap.value()},
                       {"verified_emissions", c.verified_emissions.value()},
                       {"surrendered_quota", c.surrendered_quota.value()},
                       {"surrendered_offset", c.surrendered_offset.value()},
                       {"surrendered", c.surrendered.value()},
                       {"shortfall", c.shortfall.value()},
                       {"penalty_tiyn", c.penalty.value()},
                       {"status", StatusName(c.status)}});
        const std::string status =
            c.status == ledger::ComplianceStatus::kShort
                ? "short by " + std::to_string(c.shortfall.value()) + " t"
                : StatusName(c.status);
        t.Add({c.company, std::to_string(c.cap.value()),
               std::to_string(c.verified_emissions.value()),
               std::to_string(c.surrendered_quota.value()),
               std::to_string(c.surrendered_offset.value()),
               std::to_string(c.surrendered.value()),
               std::to_string(c.shortfall.value()),
               ledger::FormatCash(c.penalty), status});
        sums[0] += c.cap.value();
        sums[1] += c.verified_emissions.value();
        sums[2] += c.surrendered_quota.value();
        sums[3] += c.surrendered_offset.value();
        sums[4] += c.surrendered.value();
        sums[5] += c.shortfall.value();
        penalty += c.penalty.value();
      }
      if (g.json) {
        std::cout << json{{"year", rep->year}, {"companies", out}}.dump(2)
                  << '\n';
      } else {
        t.Add({"TOTAL", std::to_string(sums[0]), std::to_string(sums[1]),
               std::to_string(sums[2]), std::to_string(sums[3]),
               std::to_string(sums[4]), std::to_string(sums[5]),
               ledger::FormatCash(Cash(penalty)), ""});
        t.Print(std::cout);
      }
    };
  });

  // close-day
  auto* close_day = app.add_subcommand(
      "close-day", "close the trading day on the running server");
  close_day->callback([&] {
    action = [&] {
      PrintWriteResult(g, RunWrite(g, "close-day", json::object()));
    };
  });

  // audit verify
  auto* audit = app.add_subcommand("audit", "the audit trail");
  audit->require_subcommand(1);
  auto* a_verify = audit->add_subcommand(
      "verify", "check the hash chain and the conservation of units and cash");
  a_verify->callback([&] {
    action = [&] {
      auto r = OpenRegistry(g, false);
      auto rep = r->AuditVerify();
      Check(rep.status());
      if (g.json) {
        json inst = json::array();
        for (const auto& l : rep->instruments) {
          inst.push_back({{"symbol", l.symbol},
                          {"issued", l.issued.value()},
                          {"surrendered", l.surrendered.value()},
                          {"cancelled", l.cancelled.value()},
                          {"held", l.held.value()}});
        }
        std::cout << json{{"ok", rep->ok()},
                          {"entries", rep->entries},
                          {"head_hash", rep->head_hash_hex},
                          {"instruments", inst},
                          {"cash",
                           {{"deposited_tiyn", rep->deposited.value()},
                            {"withdrawn_tiyn", rep->withdrawn.value()},
                            {"held_tiyn", rep->cash_held.value()}}},
                          {"problems", rep->problems}}
                         .dump(2)
                  << '\n';
      } else {
        std::cout << "audit entries: " << rep->entries << "\nhead hash: "
                  << (rep->head_hash_hex.empty() ? "-" : rep->head_hash_hex)
                  << "\n\n";
        Table t({"SYMBOL", "ISSUED", "SURRENDERED", "CANCELLED", "HELD"});
        for (const auto& l : rep->instruments) {
          t.Add({l.symbol, std::to_string(l.issued.value()),
                 std::to_string(l.surrendered.value()),
                 std::to_string(l.cancelled.value()),
                 std::to_string(l.held.value())});
        }
        t.Print(std::cout);
        std::cout << "\ncash KZT: deposited "
                  << ledger::FormatCash(rep->deposited) << ", withdrawn "
                  << ledger::FormatCash(rep->withdrawn) << ", held "
                  << ledger::FormatCash(rep->cash_held) << "\n";
        for (const auto& p : rep->problems) {
          std::cout << "PROBLEM: " << p << '\n';
        }
        std::cout << (rep->ok() ? "audit: OK\n" : "audit: FAILED\n");
      }
      if (!rep->ok()) {
        Fail("audit verify: " + std::to_string(rep->problems.size()) +
             " problem(s), first: " + rep->problems.front());
      }
    };
  });

  // audit log
  std::string a_op;
  std::size_t a_limit = 100;
  auto* a_log = audit->add_subcommand(
      "log", "the newest audit entries (operations and logon events)");
  a_log->add_option("--op", a_op,
                    "only entries of this operation, e.g. logon, settle, "
                    "\"broker add\"");
  a_log->add_option("--limit", a_limit, "how many entries (default 100)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  a_log->callback([&] {
    action = [&] {
      auto r = OpenRegistry(g, false);
      ledger::AuditFilter filter;
      if (!a_op.empty()) {
        filter.op = a_op;
      }
      filter.limit = a_limit;
      auto entries = r->AuditEntries(filter);
      Check(entries.status());
      if (g.json) {
        json list = json::array();
        for (const auto& e : *entries) {
          list.push_back({{"seq", e.seq},
                          {"time", e.time.value()},
                          {"op", e.op},
                          {"args", json::parse(e.args_json)}});
        }
        std::cout << json{{"entries", list}}.dump(2) << '\n';
      } else {
        Table t({"SEQ", "TIME", "OP", "ARGS"});
        for (const auto& e : *entries) {
          t.Add({std::to_string(e.seq), FormatTime(e.time.value()), e.op,
                 e.args_json});
        }
        t.Print(std::cout);
      }
    };
  });

  // policy set / show
  auto* policy = app.add_subcommand("policy", "compliance and MRV rules");
  policy->require_subcommand(1);
  std::int64_t p_share = 0, p_ch4 = 0, p_n2o = 0, p_co2 = 0;
  std::string p_penalty;
  auto* p_set = policy->add_subcommand("set", "change some rules");
  p_set->add_option("--offset-share-bp", p_share,
                    "max offsets as basis points of verified emissions");
  p_set->add_option("--penalty", p_penalty, "KZT per missing tonne");
  p_set->add_option("--gwp-co2", p_co2, "GWP of CO2");
  p_set->add_option("--gwp-ch4", p_ch4, "GWP of CH4");
  p_set->add_option("--gwp-n2o", p_n2o, "GWP of N2O");
  p_set->callback([&] {
    action = [&] {
      json args = json::object();
      if (p_set->count("--offset-share-bp") > 0) {
        args["offset_share_bp"] = p_share;
      }
      if (!p_penalty.empty()) {
        args["penalty"] = p_penalty;
      }
      if (p_set->count("--gwp-co2") > 0) {
        args["gwp_co2"] = p_co2;
      }
      if (p_set->count("--gwp-ch4") > 0) {
        args["gwp_ch4"] = p_ch4;
      }
      if (p_set->count("--gwp-n2o") > 0) {
        args["gwp_n2o"] = p_n2o;
      }
      PrintWriteResult(g, RunWrite(g, "policy set", args));
    };
  });
  auto* p_show = policy->add_subcommand("show", "print the rules");
  p_show->callback([&] {
    action = [&] {
      auto r = OpenRegistry(g, false);
      auto p = r->GetPolicy();
      Check(p.status());
      json j{{"offset_share_bp", p->offset_share_bp},
             {"penalty_tiyn", p->penalty_per_tonne.value()},
             {"gwp_co2", p->gwp_co2},
             {"gwp_ch4", p->gwp_ch4},
             {"gwp_n2o", p->gwp_n2o}};
      if (g.json) {
        std::cout << j.dump(2) << '\n';
      } else {
        std::cout << "offset share: " << p->offset_share_bp << " bp\n"
                  << "penalty: " << ledger::FormatCash(p->penalty_per_tonne)
                  << " KZT per missing tonne\n"
                  << "GWP: CO2 " << p->gwp_co2 << ", CH4 " << p->gwp_ch4
                  << ", N2O " << p->gwp_n2o << '\n';
      }
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (char& c : msg) {
      if (c == '\n') {
        c = ' ';
      }
    }
    std::cerr << "carbonex-registry: " << msg << " (see --help)\n";
    return 2;
  }
  try {
    if (action) {
      action();
    }
    std::cout.flush();
    return 0;
  } catch (const Failure& f) {
    std::cout.flush();
    std::cerr << "carbonex-registry: " << f.message << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "carbonex-registry: " << e.what() << '\n';
    return 1;
  }
}
