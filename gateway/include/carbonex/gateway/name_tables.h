// NameTables: the gateway's translation between FIX text and registry ids.
//
// Built from an AccountState (the registry's view at start, extended as the
// operator adds entities while the server runs). Symbols, account names and
// broker CompIDs map to dense ids and back.
//
// Thread-safety: immutable after Build; the server shares one instance
// between threads through a std::shared_ptr<const NameTables> and replaces
// the pointer (never the object) when entities are added.
#ifndef CARBONEX_GATEWAY_NAME_TABLES_H_
#define CARBONEX_GATEWAY_NAME_TABLES_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbonex/common/account_state.h"
#include "carbonex/common/types.h"

namespace carbonex::gateway {

class NameTables {
 public:
  NameTables() = default;
  explicit NameTables(const AccountState& state);

  // nullptr when the symbol is unknown.
  [[nodiscard]] const InstrumentState* FindInstrument(
      std::string_view symbol) const;
  [[nodiscard]] const InstrumentState* Instrument(InstrumentId id) const;
  [[nodiscard]] std::optional<AccountId> FindAccount(
      std::string_view name) const;
  [[nodiscard]] const BrokerEntry* FindBroker(std::string_view comp_id) const;
  [[nodiscard]] const BrokerEntry* Broker(BrokerId id) const;

  // The symbol or account name of an id; "" when unknown.
  [[nodiscard]] std::string_view Symbol(InstrumentId id) const;
  [[nodiscard]] std::string_view AccountName(AccountId id) const;

  // Every instrument, ascending id.
  [[nodiscard]] const std::vector<InstrumentState>& instruments() const {
    return instruments_;
  }
  [[nodiscard]] const std::vector<BrokerEntry>& brokers() const {
    return brokers_;
  }

 private:
  std::vector<InstrumentState> instruments_;  // ascending id
  std::vector<BrokerEntry> brokers_;          // ascending id
  std::map<std::string, std::size_t, std::less<>> instrument_index_;
  std::map<std::string, AccountId, std::less<>> account_by_name_;
  std::map<std::uint32_t, std::string> account_name_;
  std::map<std::string, std::size_t, std::less<>> broker_index_;
};

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_NAME_TABLES_H_
