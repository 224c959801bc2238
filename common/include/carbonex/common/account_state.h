// AccountState: everything the engine's pre-trade risk needs at start.
//
// The registry (ledger) produces it from its records; the engine consumes it.
// It lives in common/ so that neither module depends on the other. Ids are the
// registry's dense integer ids; the names let the gateway translate FIX text
// (Symbol, Account, SenderCompID) to ids and back.
//
// Plain values; no invariants beyond those stated per field. Vectors are in
// ascending id order.
#ifndef CARBONEX_COMMON_ACCOUNT_STATE_H_
#define CARBONEX_COMMON_ACCOUNT_STATE_H_

#include <optional>
#include <string>
#include <vector>

#include "carbonex/common/types.h"

namespace carbonex {

enum class TradingStatus : std::uint8_t { kOpen = 0, kHalted = 1 };

struct InstrumentState {
  InstrumentId id;
  std::string symbol;  // e.g. "KZQ-2026"
  Price tick{1};       // tick size in tiyn, > 0
  Quantity max_order_qty{1'000'000};
  TradingStatus status = TradingStatus::kOpen;
};

struct AccountEntry {
  AccountId id;
  std::string name;  // registry account id, e.g. "KZ-OP-0001"
  Cash cash{0};      // held cash, tiyn, >= 0
  // Maximum units of any one instrument the account may hold, counting its
  // open buys; nullopt = no limit.
  std::optional<Quantity> holding_limit;
};

struct HoldingEntry {
  AccountId account;
  InstrumentId instrument;
  Quantity units{0};  // held units, >= 0
};

struct BrokerEntry {
  BrokerId id;
  std::string comp_id;  // FIX SenderCompID
  bool cancel_on_disconnect = false;
};

struct EntitlementEntry {
  BrokerId broker;
  AccountId account;
};

struct AccountState {
  std::vector<InstrumentState> instruments;
  std::vector<AccountEntry> accounts;
  std::vector<HoldingEntry> holdings;
  std::vector<BrokerEntry> brokers;
  std::vector<EntitlementEntry> entitlements;
};

}  // namespace carbonex

#endif  // CARBONEX_COMMON_ACCOUNT_STATE_H_
