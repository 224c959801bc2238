// The carbonex-trader script language (docs/loadgen.md, "Scripted trader"):
// one step per line, '#' starts a comment.
//
//   logon   COMPID [PASSWORD_FILE]
//   buy     COMPID ACCOUNT SYMBOL QTY @ PRICE [day|gtc|ioc|fok] [as NAME]
//   sell    COMPID ACCOUNT SYMBOL QTY market   [ioc|fok|day]    [as NAME]
//   cancel  NAME
//   expect  ack|fill|cancel|reject NAME [QTY] [@ PRICE] [within MS]
//   wait    MS
//   logout  COMPID
//
// Orders are named by `as NAME`, or else by their position among the
// script's orders ("1", "2", ...). A password file's first non-empty line is
// the password; its path is relative to the script's directory.
//
// The whole script is checked before anything runs: every order names a
// session logged on by an earlier step, every name exists, numbers and
// prices parse.
//
// Thread-safety: free functions and values.
#ifndef CARBONEX_TRADER_SCRIPT_H_
#define CARBONEX_TRADER_SCRIPT_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbonex/common/status.h"
#include "carbonex/common/types.h"
#include "carbonex/fixclient/messages.h"

namespace carbonex::trader {

struct LogonStep {
  std::string comp_id;
  std::optional<std::string> password;  // read from the password file
};

struct OrderStep {
  std::string name;
  std::string comp_id;
  std::string account;
  std::string symbol;
  Side side = Side::kBuy;
  Quantity qty;
  std::optional<Price> price;  // nullopt: market
  fixclient::TimeInForce tif = fixclient::TimeInForce::kDay;
};

struct CancelStep {
  std::string name;  // of an earlier order
};

enum class Expectation { kAck, kFill, kCancel, kReject };

struct ExpectStep {
  Expectation what = Expectation::kAck;
  std::string name;
  std::optional<Quantity> qty;  // kFill: LastQty must equal it
  std::optional<Price> price;   // kFill: LastPx must equal it
  std::chrono::milliseconds within{5000};
};

struct WaitStep {
  std::chrono::milliseconds duration{0};
};

struct LogoutStep {
  std::string comp_id;
};

struct Step {
  enum class Kind { kLogon, kOrder, kCancel, kExpect, kWait, kLogout };
  Kind kind = Kind::kWait;
  int line = 0;      // 1-based line in the script
  std::string text;  // the line as written, trimmed
  LogonStep logon;
  OrderStep order;
  CancelStep cancel;
  ExpectStep expect;
  WaitStep wait;
  LogoutStep logout;
};

struct Script {
  std::vector<Step> steps;
};

// Parses a script. base_dir resolves relative password-file paths.
// Errors: InvalidArgument "line N: <problem>" for the first bad line (an
// unknown command, a missing or extra word, a bad number, price or time in
// force, a market order with a price, an order or expect on a session that
// is not logged on at that point, an unknown or duplicate order name);
// IoError "line N: ..." if a password file cannot be read.
Result<Script> ParseScript(std::string_view text, const std::string& base_dir);

// Reads and parses the script file at path. Errors: IoError if it cannot be
// read; otherwise as ParseScript, prefixed with the path.
Result<Script> ReadScript(const std::string& path);

}  // namespace carbonex::trader

#endif  // CARBONEX_TRADER_SCRIPT_H_
