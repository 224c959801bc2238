#include "carbonex/trader/script.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace carbonex::trader {
namespace {

std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> words;
  std::istringstream stream{std::string(line)};
  std::string word;
  while (stream >> word) {
    words.push_back(word);
  }
  return words;
}

std::string_view Trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

// A positive decimal integer that fits in int64.
std::optional<std::int64_t> PositiveInt(const std::string& word) {
  std::int64_t value = 0;
  const char* end = word.data() + word.size();
  auto [ptr, error] = std::from_chars(word.data(), end, value);
  if (error != std::errc() || ptr != end || value <= 0) {
    return std::nullopt;
  }
  return value;
}

std::optional<fixclient::TimeInForce> ParseTif(const std::string& word) {
  if (word == "day") {
    return fixclient::TimeInForce::kDay;
  }
  if (word == "gtc") {
    return fixclient::TimeInForce::kGoodTillCancel;
  }
  if (word == "ioc") {
    return fixclient::TimeInForce::kImmediateOrCancel;
  }
  if (word == "fok") {
    return fixclient::TimeInForce::kFillOrKill;
  }
  return std::nullopt;
}

class Parser {
 public:
  explicit Parser(std::string base_dir) : base_dir_(std::move(base_dir)) {}

  Status ParseLine(int line_number, std::string_view raw, Script& script) {
    std::string_view line = raw.substr(0, raw.find('#'));
    line = Trim(line);
    if (line.empty()) {
      return Status::Ok();
    }
    line_ = line_number;
    const std::vector<std::string> words = Words(line);
    Step step;
    step.line = line_number;
    step.text = std::string(line);
    const std::string& command = words[0];
    Status status;
    if (command == "logon") {
      status = ParseLogon(words, step);
    } else if (command == "buy" || command == "sell") {
      status = ParseOrder(words, step);
    } else if (command == "cancel") {
      status = ParseCancel(words, step);
    } else if (command == "expect") {
      status = ParseExpect(words, step);
    } else if (command == "wait") {
      status = ParseWait(words, step);
    } else if (command == "logout") {
      status = ParseLogout(words, step);
    } else {
      status = Error("unknown command '" + command +
                     "' (logon, buy, sell, cancel, expect, wait, logout)");
    }
    if (!status.ok()) {
      return status;
    }
    script.steps.push_back(std::move(step));
    return Status::Ok();
  }

 private:
  Status Error(const std::string& problem) const {
    return Status::InvalidArgument("line " + std::to_string(line_) + ": " +
                                   problem);
  }

  Status ParseLogon(const std::vector<std::string>& words, Step& step) {
    if (words.size() < 2 || words.size() > 3) {
      return Error("expected 'logon COMPID [PASSWORD_FILE]'");
    }
    step.kind = Step::Kind::kLogon;
    step.logon.comp_id = words[1];
    if (logged_on_.count(words[1]) != 0) {
      return Error("session " + words[1] + " is already logged on");
    }
    if (words.size() == 3) {
      std::filesystem::path path = words[2];
      if (path.is_relative() && !base_dir_.empty()) {
        path = std::filesystem::path(base_dir_) / path;
      }
      std::ifstream file(path);
      if (!file) {
        return Status::IoError("line " + std::to_string(line_) +
                               ": cannot read password file '" + path.string() +
                               "'");
      }
      std::string password_line;
      while (std::getline(file, password_line)) {
        const std::string_view trimmed = Trim(password_line);
        if (!trimmed.empty()) {
          step.logon.password = std::string(trimmed);
          break;
        }
      }
      if (!step.logon.password) {
        return Error("password file '" + path.string() + "' is empty");
      }
    }
    logged_on_.insert(words[1]);
    return Status::Ok();
  }

  Status ParseOrder(const std::vector<std::string>& words, Step& step) {
    // buy COMPID ACCOUNT SYMBOL QTY (@ PRICE | market) [TIF] [as NAME]
    constexpr const char* kUsage =
        "expected '<buy|sell> COMPID ACCOUNT SYMBOL QTY @ PRICE [day|gtc|ioc|"
        "fok] [as NAME]' or '... QTY market [ioc|fok|day] [as NAME]'";
    if (words.size() < 6) {
      return Error(kUsage);
    }
    step.kind = Step::Kind::kOrder;
    OrderStep& order = step.order;
    order.side = words[0] == "buy" ? Side::kBuy : Side::kSell;
    order.comp_id = words[1];
    order.account = words[2];
    order.symbol = words[3];
    const std::optional<std::int64_t> qty = PositiveInt(words[4]);
    if (!qty) {
      return Error("quantity '" + words[4] + "' is not a positive integer");
    }
    order.qty = Quantity(*qty);
    std::size_t next = 5;
    if (words[next] == "@") {
      if (words.size() < 7) {
        return Error(kUsage);
      }
      Result<Price> price = fixclient::ParsePrice(words[6]);
      if (!price.ok()) {
        return Error(price.status().message());
      }
      order.price = *price;
      next = 7;
    } else if (words[next] == "market") {
      order.price = std::nullopt;
      order.tif = fixclient::TimeInForce::kImmediateOrCancel;
      next = 6;
    } else {
      return Error(kUsage);
    }
    if (next < words.size() && words[next] != "as") {
      std::optional<fixclient::TimeInForce> tif = ParseTif(words[next]);
      if (!tif) {
        return Error("time in force '" + words[next] +
                     "' is not day, gtc, ioc or fok");
      }
      order.tif = *tif;
      ++next;
    }
    ++orders_;
    order.name = std::to_string(orders_);
    if (next < words.size()) {
      if (words[next] != "as" || next + 2 != words.size()) {
        return Error(kUsage);
      }
      order.name = words[next + 1];
    }
    if (logged_on_.count(order.comp_id) == 0) {
      return Error("session " + order.comp_id +
                   " is not logged on at this point");
    }
    if (!names_.emplace(order.name, order.comp_id).second) {
      return Error("order name '" + order.name + "' is already used");
    }
    return Status::Ok();
  }

  Status CheckName(const std::string& name) const {
    auto it = names_.find(name);
    if (it == names_.end()) {
      return Error("no earlier order is named '" + name + "'");
    }
    if (logged_on_.count(it->second) == 0) {
      return Error("order '" + name + "' belongs to session " + it->second +
                   ", which is not logged on at this point");
    }
    return Status::Ok();
  }

  Status ParseCancel(const std::vector<std::string>& words, Step& step) {
    if (words.size() != 2) {
      return Error("expected 'cancel NAME'");
    }
    step.kind = Step::Kind::kCancel;
    step.cancel.name = words[1];
    return CheckName(words[1]);
  }

  Status ParseExpect(const std::vector<std::string>& words, Step& step) {
    constexpr const char* kUsage =
        "expected 'expect ack|fill|cancel|reject NAME [QTY] [@ PRICE] "
        "[within MS]'";
    if (words.size() < 3) {
      return Error(kUsage);
    }
    step.kind = Step::Kind::kExpect;
    ExpectStep& expect = step.expect;
    const std::string& what = words[1];
    if (what == "ack") {
      expect.what = Expectation::kAck;
    } else if (what == "fill") {
      expect.what = Expectation::kFill;
    } else if (what == "cancel") {
      expect.what = Expectation::kCancel;
    } else if (what == "reject") {
      expect.what = Expectation::kReject;
    } else {
      return Error("cannot expect '" + what + "': " + kUsage);
    }
    expect.name = words[2];
    if (Status s = CheckName(expect.name); !s.ok()) {
      return s;
    }
    std::size_t next = 3;
    if (expect.what == Expectation::kFill) {
      if (next < words.size() && words[next] != "@" &&
          words[next] != "within") {
        const std::optional<std::int64_t> qty = PositiveInt(words[next]);
        if (!qty) {
          return Error("fill quantity '" + words[next] +
                       "' is not a positive integer");
        }
        expect.qty = Quantity(*qty);
        ++next;
      }
      if (next < words.size() && words[next] == "@") {
        if (next + 1 >= words.size()) {
          return Error(kUsage);
        }
        Result<Price> price = fixclient::ParsePrice(words[next + 1]);
        if (!price.ok()) {
          return Error(price.status().message());
        }
        expect.price = *price;
        next += 2;
      }
    }
    if (next < words.size()) {
      if (words[next] != "within" || next + 2 != words.size()) {
        return Error(kUsage);
      }
      const std::optional<std::int64_t> ms = PositiveInt(words[next + 1]);
      if (!ms) {
        return Error("'within " + words[next + 1] +
                     "' is not a positive number of milliseconds");
      }
      expect.within = std::chrono::milliseconds(*ms);
    }
    return Status::Ok();
  }

  Status ParseWait(const std::vector<std::string>& words, Step& step) {
    if (words.size() != 2) {
      return Error("expected 'wait MS'");
    }
    const std::optional<std::int64_t> ms = PositiveInt(words[1]);
    if (!ms) {
      return Error("wait '" + words[1] +
                   "' is not a positive number of milliseconds");
    }
    step.kind = Step::Kind::kWait;
    step.wait.duration = std::chrono::milliseconds(*ms);
    return Status::Ok();
  }

  Status ParseLogout(const std::vector<std::string>& words, Step& step) {
    if (words.size() != 2) {
      return Error("expected 'logout COMPID'");
    }
    if (logged_on_.erase(words[1]) == 0) {
      return Error("session " + words[1] + " is not logged on");
    }
    step.kind = Step::Kind::kLogout;
    step.logout.comp_id = words[1];
    return Status::Ok();
  }

  std::string base_dir_;
  int line_ = 0;
  int orders_ = 0;
  std::set<std::string> logged_on_;
  std::map<std::string, std::string> names_;  // order name -> CompID
};

}  // namespace

Result<Script> ParseScript(std::string_view text, const std::string& base_dir) {
  Script script;
  Parser parser(base_dir);
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view()
                                         : text.substr(end + 1);
    if (Status s = parser.ParseLine(line_number, line, script); !s.ok()) {
      return s;
    }
  }
  return script;
}

Result<Script> ReadScript(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::IoError("cannot read script '" + path + "'");
  }
  std::ostringstream text;
  text << file.rdbuf();
  const std::string base_dir =
      std::filesystem::path(path).parent_path().string();
  Result<Script> script = ParseScript(text.str(), base_dir);
  if (!script.ok()) {
    return Status(script.status().code(),
                  path + ": " + script.status().message());
  }
  return script;
}

}  // namespace carbonex::trader
