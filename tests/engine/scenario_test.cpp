// Scenario runner: every tests/engine/scenarios/*.txt file is one scenario.
//
// Format (one directive per line; blank lines and lines starting with '#'
// are ignored; fields are key=value, order free):
//
//   Setup, before the first command (builds the starting AccountState):
//     option market_data=on|off risk=on|off   (defaults: on, on)
//     instrument id=1 [tick=1] [max=1000000] [status=open|halted]
//     account id=10 [cash=0] [limit=N]         (limit: holding limit)
//     holding acct=10 inst=1 units=N
//     entitle broker=1 acct=10
//
//   Commands and their events:
//     > VERB key=value ...     a command (verbs and keys: docs/engine.md)
//     < KIND key=value ...     the next event the command emitted
//   After a '>' line, the '<' lines list ALL of that command's events in
//   emission order; each matches when the kind is equal and every listed
//   field has the listed value (unlisted fields are not compared). The
//   runner fails on a missing, extra or different event, and checks
//   Engine::CheckInvariants() after every command.
//
//   Checks of the state, any time after setup:
//     ? cash acct=10 [held=N] [reserved=N]
//     ? units acct=10 inst=1 [held=N] [reserved=N] [pending=N]
//     ? book inst=1 bids=PX:QTY:COUNT,... asks=...   ('-' for an empty side)
//     ? order id=N KEY=VALUE...   (fields as in events; found=0 if unknown)
//     ? resting n=N
//
// To add a scenario, drop a new .txt file in the directory: the runner
// picks up every file there.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "carbonex/engine/engine.h"
#include "engine_harness.h"

namespace carbonex::engine::testing {
namespace {

namespace fs = std::filesystem;

std::int64_t Int(const Fields& f, const std::string& key, std::int64_t dflt) {
  auto it = f.values.find(key);
  return it == f.values.end() ? dflt : std::stoll(it->second);
}

std::string Levels(const std::vector<LevelView>& levels) {
  if (levels.empty()) return "-";
  std::string out;
  for (const LevelView& l : levels) {
    if (!out.empty()) out += ",";
    out += std::to_string(l.price.value()) + ":" +
           std::to_string(l.total_qty.value()) + ":" +
           std::to_string(l.order_count);
  }
  return out;
}

class ScenarioRunner {
 public:
  explicit ScenarioRunner(std::string name) : name_(std::move(name)) {}

  void Line(int number, const std::string& raw) {
    line_ = number;
    std::string text = raw;
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) {
      text.pop_back();
    }
    if (text.empty() || text[0] == '#') return;
    if (text[0] == '<') {
      FailIf(pending_.empty(), "'<' line without a command before it");
      CheckNextEvent(text.substr(1));
      return;
    }
    FinishCommand();
    if (text[0] == '>') {
      Command(text.substr(1));
    } else if (text[0] == '?') {
      Check(text.substr(1));
    } else {
      Setup(text);
    }
  }

  void Finish() { FinishCommand(); }

 private:
  void FailIf(bool cond, const std::string& message) {
    if (cond) FAIL(Where() << message);
  }
  std::string Where() const {
    return name_ + ":" + std::to_string(line_) + ": ";
  }

  void Setup(const std::string& text) {
    FailIf(engine_ != nullptr, "setup line after the first command");
    const Fields f = ParseFields(text);
    if (f.kind == "option") {
      for (const auto& [k, v] : f.values) {
        FailIf(v != "on" && v != "off", "option values are on|off");
        if (k == "market_data") {
          options_.emit_market_data = v == "on";
        } else if (k == "risk") {
          options_.risk_checks = v == "on";
        } else {
          FailIf(true, "unknown option " + k);
        }
      }
    } else if (f.kind == "instrument") {
      InstrumentState i;
      i.id = InstrumentId{static_cast<std::uint32_t>(Int(f, "id", 0))};
      i.tick = Price{Int(f, "tick", 1)};
      i.max_order_qty = Quantity{Int(f, "max", 1'000'000)};
      auto it = f.values.find("status");
      if (it != f.values.end() && it->second == "halted") {
        i.status = TradingStatus::kHalted;
      }
      state_.instruments.push_back(i);
    } else if (f.kind == "account") {
      AccountEntry a;
      a.id = AccountId{static_cast<std::uint32_t>(Int(f, "id", 0))};
      a.cash = Cash{Int(f, "cash", 0)};
      if (f.values.count("limit") != 0) {
        a.holding_limit = Quantity{Int(f, "limit", 0)};
      }
      state_.accounts.push_back(a);
    } else if (f.kind == "holding") {
      state_.holdings.push_back(
          {AccountId{static_cast<std::uint32_t>(Int(f, "acct", 0))},
           InstrumentId{static_cast<std::uint32_t>(Int(f, "inst", 0))},
           Quantity{Int(f, "units", 0)}});
    } else if (f.kind == "entitle") {
      state_.entitlements.push_back(
          {BrokerId{static_cast<std::uint32_t>(Int(f, "broker", 0))},
           AccountId{static_cast<std::uint32_t>(Int(f, "acct", 0))}});
    } else {
      FailIf(true, "unknown directive '" + f.kind + "'");
    }
  }

  void Start() {
    if (engine_ != nullptr) return;
    options_.expected_orders = 1024;
    auto created = Engine::Create(options_, state_, &sink_);
    FailIf(!created.ok(), "bad setup: " + created.status().message());
    engine_ = std::move(created.value());
  }

  void Command(const std::string& text) {
    Start();
    std::string error;
    auto cmd = ParseCommand(text, ++seq_, &error);
    FailIf(!cmd.has_value(), "bad command: " + error);
    const std::size_t before = sink_.lines.size();
    engine_->Execute(*cmd);
    actual_.assign(sink_.lines.begin() + static_cast<std::ptrdiff_t>(before),
                   sink_.lines.end());
    expected_index_ = 0;
    command_ = text;
    pending_ = "command";
    const Status inv = engine_->CheckInvariants();
    FailIf(!inv.ok(), "invariant broken: " + inv.message());
  }

  std::string Actual() const {
    std::string out = "events of '" + command_ + "':\n";
    for (const auto& l : actual_) out += "  " + l + "\n";
    return out;
  }

  void CheckNextEvent(const std::string& expected) {
    FailIf(expected_index_ >= actual_.size(),
           "expected another event: " + expected + "\n" + Actual());
    std::string why;
    FailIf(!Matches(actual_[expected_index_], expected, &why),
           "event " + std::to_string(expected_index_) + " differs: " + why +
               "\n" + Actual());
    ++expected_index_;
  }

  void FinishCommand() {
    if (pending_.empty()) return;
    pending_.clear();
    FailIf(expected_index_ != actual_.size(),
           "the command emitted " + std::to_string(actual_.size()) +
               " events, the scenario lists " +
               std::to_string(expected_index_) + "\n" + Actual());
  }

  void Expect(const std::string& what, const std::string& key,
              std::int64_t actual, const Fields& f) {
    auto it = f.values.find(key);
    if (it == f.values.end()) return;
    FailIf(std::to_string(actual) != it->second,
           what + " " + key + "=" + std::to_string(actual) + " (expected " +
               it->second + ")");
  }

  void Check(const std::string& text) {
    Start();
    const Fields f = ParseFields(text);
    const AccountId acct{static_cast<std::uint32_t>(Int(f, "acct", 0))};
    const InstrumentId inst{static_cast<std::uint32_t>(Int(f, "inst", 1))};
    if (f.kind == "cash") {
      const CashView c = engine_->CashOf(acct);
      Expect("cash", "held", c.held.value(), f);
      Expect("cash", "reserved", c.reserved.value(), f);
    } else if (f.kind == "units") {
      const PositionView p = engine_->Position(acct, inst);
      Expect("units", "held", p.held.value(), f);
      Expect("units", "reserved", p.reserved.value(), f);
      Expect("units", "pending", p.pending_buys.value(), f);
    } else if (f.kind == "book") {
      const DepthSnapshot d = engine_->Depth(inst, 1000);
      for (const char* side : {"bids", "asks"}) {
        auto it = f.values.find(side);
        if (it == f.values.end()) continue;
        const std::string got =
            Levels(std::string(side) == "bids" ? d.bids : d.asks);
        FailIf(got != it->second, std::string(side) + "=" + got +
                                      " (expected " + it->second + ")");
      }
    } else if (f.kind == "order") {
      const auto view = engine_->FindOrder(
          OrderId{static_cast<std::uint64_t>(Int(f, "id", 0))});
      std::string rendered = "status found=0";
      if (view) {
        // Render through a status event so the field names are the same.
        Event e;
        e.body = OrderStatusReported{ClientOrderId{}, view, QueryOrderStatus{}};
        rendered = FormatEvent(e);
      }
      std::string expected = "status";
      for (const auto& [k, v] : f.values) expected += " " + k + "=" + v;
      if (f.values.count("found") == 0 && view) expected += " found=1";
      std::string why;
      FailIf(!Matches(rendered, expected, &why), "order: " + why);
    } else if (f.kind == "resting") {
      Expect("resting", "n",
             static_cast<std::int64_t>(engine_->RestingOrderCount()), f);
    } else {
      FailIf(true, "unknown check '" + f.kind + "'");
    }
  }

  std::string name_;
  int line_ = 0;
  EngineOptions options_;
  AccountState state_;
  RecordingSink sink_;
  std::unique_ptr<Engine> engine_;
  std::uint64_t seq_ = 0;
  std::vector<std::string> actual_;
  std::size_t expected_index_ = 0;
  std::string command_;
  std::string pending_;
};

TEST_CASE("Scenario files", "[engine][scenario]") {
  const fs::path dir = CARBONEX_ENGINE_SCENARIO_DIR;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE_FALSE(files.empty());
  for (const fs::path& file : files) {
    DYNAMIC_SECTION(file.filename().string()) {
      std::ifstream in(file);
      REQUIRE(in.good());
      ScenarioRunner runner(file.filename().string());
      std::string line;
      int number = 0;
      while (std::getline(in, line)) runner.Line(++number, line);
      runner.Finish();
    }
  }
}

}  // namespace
}  // namespace carbonex::engine::testing
