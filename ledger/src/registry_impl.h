// Registry::Impl: the LMDB environment, its named databases and the record
// helpers shared by the registry's operations (registry.cpp, plan.cpp,
// audit.cpp). Private to the ledger.
#ifndef CARBONEX_LEDGER_SRC_REGISTRY_IMPL_H_
#define CARBONEX_LEDGER_SRC_REGISTRY_IMPL_H_

#include <lmdb.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "carbonex/ledger/registry.h"
#include "codec.h"
#include "lmdb_store.h"

namespace carbonex::ledger {

enum Db : std::size_t {
  kMetaDb,
  kInstrumentsDb,
  kInstrumentNamesDb,
  kAccountsDb,
  kAccountNamesDb,
  kCapsDb,
  kInstallationsDb,
  kHoldingsDb,
  kCashDb,
  kBrokersDb,
  kBrokerNamesDb,
  kEntitlementsDb,
  kTradesDb,
  kVerifiersDb,
  kEmissionsDb,
  kSurrendersDb,
  kTotalsDb,
  kAllocationsDb,
  kAuditDb,
  kDbCount,
};

// Kinds of running totals (key of the totals database).
enum class TotalKind : std::uint8_t {
  kIssued = 1,
  kSurrendered = 2,
  kCancelled = 3,
  kDeposited = 4,
  kWithdrawn = 5,
};

struct Balance {
  std::int64_t held = 0;
  std::int64_t reserved = 0;
};

struct InstallationRec {
  std::string id;
  AccountId account;
  std::string kind;
  std::string sector;
  std::string region;
  std::vector<std::pair<int, std::int64_t>> caps;
};

struct EmissionsRec {
  EmissionsReportView view;
  std::int64_t submitted_ns = 0;
  std::int64_t decided_ns = 0;
  // Inputs per line, parallel to view.lines.
  struct Input {
    std::string unit;
    std::int64_t activity_milli = 0;
    std::int64_t factor_micro = 0;
    std::int64_t oxidation_e4 = 0;
    std::int64_t gwp = 0;
  };
  std::vector<Input> inputs;
};

// One write in progress: its transaction and the totals it changed (which
// go into its audit entry so that AuditVerify can recompute the totals).
struct WriteContext {
  Txn txn;
  std::vector<std::array<std::int64_t, 3>> deltas;  // kind, instrument, amount
};

class Registry::Impl {
 public:
  ~Impl();

  Status OpenEnv(const RegistryOptions& options);

  // Runs body in one write transaction, then appends the audit entry
  // (op, args) and commits. Nothing is written if body fails, or if body
  // leaves args empty and changed no total (it found nothing to do).
  Status Write(
      std::string_view op,
      const std::function<Status(WriteContext&, std::string* args_json)>& body);
  Status Read(std::string_view op,
              const std::function<Status(const Txn&)>& body) const;

  // ---- keys ----
  static std::string IdKey(std::uint32_t id);
  static std::string PairKey(std::uint32_t a, std::uint32_t b);
  static std::string YearKey(std::uint32_t account, int year);

  // ---- lookups (NotFound names the entity) ----
  Status FindInstrument(const Txn& txn, std::string_view symbol,
                        InstrumentInfo* out) const;
  Status GetInstrument(const Txn& txn, InstrumentId id,
                       InstrumentInfo* out) const;
  Status FindAccount(const Txn& txn, std::string_view name,
                     CompanyInfo* out) const;
  Status GetAccount(const Txn& txn, AccountId id, CompanyInfo* out) const;
  Status FindVerifier(const Txn& txn, std::string_view id,
                      VerifierInfo* out) const;
  Status NextId(const Txn& txn, Db db, std::uint32_t* id) const;

  // ---- scans, in id order; an error from fn stops the scan and is returned;
  // a malformed key or record is kCorruption ----
  // Every record of a table keyed by a 32-bit id (instruments, accounts,
  // brokers), undecoded.
  Status ForEachRecord(
      const Txn& txn, Db db,
      const std::function<Status(std::uint32_t id, std::string_view value)>& fn)
      const;
  Status ForEachInstrument(
      const Txn& txn,
      const std::function<Status(const InstrumentInfo&)>& fn) const;
  Status ForEachCompany(
      const Txn& txn,
      const std::function<Status(const CompanyInfo&)>& fn) const;

  // ---- balances ----
  Status GetHolding(const Txn& txn, AccountId account, InstrumentId instrument,
                    Balance* out) const;
  Status PutHolding(Txn& txn, AccountId account, InstrumentId instrument,
                    const Balance& b);
  Status GetCash(const Txn& txn, AccountId account, Balance* out) const;
  Status PutCash(Txn& txn, AccountId account, const Balance& b);
  Status AddTotal(WriteContext& ctx, TotalKind kind, std::uint32_t instrument,
                  std::int64_t amount);
  Status GetCap(const Txn& txn, AccountId account, int year,
                std::optional<std::int64_t>* cap) const;

  // ---- records ----
  Status PutInstrument(Txn& txn, const InstrumentInfo& info);
  Status PutAccount(Txn& txn, const CompanyInfo& info);
  Status PutInstallation(Txn& txn, const InstallationRec& rec);
  Status GetInstallation(const Txn& txn, std::string_view id,
                         InstallationRec* out, bool* found) const;
  Status PutEmissions(Txn& txn, AccountId account, const EmissionsRec& rec);
  Status LoadEmissions(const Txn& txn, AccountId account, int year,
                       std::vector<EmissionsRec>* out) const;
  // Latest verified total for (account, year), if any.
  Status VerifiedEmissions(const Txn& txn, AccountId account, int year,
                           std::optional<std::int64_t>* total) const;
  static std::string EncodeTrade(const TradeRecord& t);
  static Status DecodeTrade(std::string_view key, std::string_view value,
                            TradeRecord* out);

  // Audit chain.
  Status AppendAudit(WriteContext& ctx, std::string_view op,
                     std::string_view args_json);

  RegistryOptions options_;
  MDB_env* env_ = nullptr;
  std::array<MDB_dbi, kDbCount> dbi_{};
};

std::int64_t NowNanos();

// `status`, when given, receives the instrument's trading status byte.
Status DecodeInstrument(std::uint32_t id, std::string_view v,
                        InstrumentInfo* out, std::uint8_t* status = nullptr);
Status DecodeAccount(std::uint32_t id, std::string_view v, CompanyInfo* out);
Status DecodeIndex(std::string_view v, std::uint32_t* id);
Status DecodeBalance(std::string_view v, RecordType type, Balance* out);

}  // namespace carbonex::ledger

#endif  // CARBONEX_LEDGER_SRC_REGISTRY_IMPL_H_
