#include "carbonex/gateway/name_tables.h"

#include <algorithm>

namespace carbonex::gateway {

NameTables::NameTables(const AccountState& state)
    : instruments_(state.instruments), brokers_(state.brokers) {
  std::sort(instruments_.begin(), instruments_.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  std::sort(brokers_.begin(), brokers_.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  for (std::size_t i = 0; i < instruments_.size(); ++i) {
    instrument_index_.emplace(instruments_[i].symbol, i);
  }
  for (std::size_t i = 0; i < brokers_.size(); ++i) {
    broker_index_.emplace(brokers_[i].comp_id, i);
  }
  for (const AccountEntry& account : state.accounts) {
    account_by_name_.emplace(account.name, account.id);
    account_name_.emplace(account.id.value(), account.name);
  }
}

const InstrumentState* NameTables::FindInstrument(
    std::string_view symbol) const {
  auto it = instrument_index_.find(symbol);
  return it == instrument_index_.end() ? nullptr : &instruments_[it->second];
}

const InstrumentState* NameTables::Instrument(InstrumentId id) const {
  auto it = std::lower_bound(
      instruments_.begin(), instruments_.end(), id,
      [](const InstrumentState& s, InstrumentId want) { return s.id < want; });
  return it != instruments_.end() && it->id == id ? &*it : nullptr;
}

std::optional<AccountId> NameTables::FindAccount(std::string_view name) const {
  auto it = account_by_name_.find(name);
  if (it == account_by_name_.end()) return std::nullopt;
  return it->second;
}

const BrokerEntry* NameTables::FindBroker(std::string_view comp_id) const {
  auto it = broker_index_.find(comp_id);
  return it == broker_index_.end() ? nullptr : &brokers_[it->second];
}

const BrokerEntry* NameTables::Broker(BrokerId id) const {
  auto it = std::lower_bound(
      brokers_.begin(), brokers_.end(), id,
      [](const BrokerEntry& b, BrokerId want) { return b.id < want; });
  return it != brokers_.end() && it->id == id ? &*it : nullptr;
}

std::string_view NameTables::Symbol(InstrumentId id) const {
  const InstrumentState* instrument = Instrument(id);
  return instrument == nullptr ? std::string_view{} : instrument->symbol;
}

std::string_view NameTables::AccountName(AccountId id) const {
  auto it = account_name_.find(id.value());
  return it == account_name_.end() ? std::string_view{} : it->second;
}

}  // namespace carbonex::gateway
