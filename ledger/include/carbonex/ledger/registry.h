// Registry: the emissions-trading registry on LMDB.
//
// A Registry owns one LMDB environment (a directory) holding instruments,
// companies and their accounts, caps and installations, brokers and their
// entitlements, verifiers, holdings and cash (with reservations), settled
// trades, emissions reports, surrenders and a hash-chained audit log. The
// storage layout is documented byte by byte in docs/ledger.md.
//
// Every write is one LMDB write transaction: all or nothing. Every refused
// write returns a non-OK Status and changes nothing. Every successful write
// appends one entry to the audit log, whose entries are chained with BLAKE2b;
// AuditVerify() recomputes the chain and checks the conservation of units and
// cash.
//
// Amounts: units are whole tonnes CO2e (Quantity), cash is integer tiyn
// (Cash), prices are tiyn per unit (Price); see common/types.h.
//
// Free amounts: reservations (set by the server for resting orders through
// ApplyServerBatch) persist across writes. A direct operator write (withdraw,
// transfer, surrender, cancel) may only use free amounts: held − reserved.
//
// Ids: AccountId, InstrumentId and BrokerId are dense integers assigned by
// the registry when the entity is created (starting at 1) and never reused or
// changed. Operators name entities by text (company id "KZ-OP-0001", symbol
// "KZQ-2019", FIX comp id); the registry maps names to ids.
//
// Thread-safety: a Registry is safe for concurrent use by several threads.
// Writers are serialized (by LMDB's writer lock, which also serializes
// writers in other processes); reads run in their own short read-only
// transactions and never block the writer. The Registry must outlive every
// call in progress on it.
#ifndef CARBONEX_LEDGER_REGISTRY_H_
#define CARBONEX_LEDGER_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbonex/common/account_state.h"
#include "carbonex/common/status.h"
#include "carbonex/common/types.h"

namespace carbonex::ledger {

struct RegistryOptions {
  // Directory of the LMDB environment. Created (mode 0700) when missing and
  // create_if_missing is set; the data files are created with mode 0600.
  std::string path = "./carbonex-data";
  // Maximum size of the database in bytes (LMDB map size). Default 1 GiB.
  std::size_t map_size = std::size_t{1} << 30;
  // true: every commit is flushed to disk before it returns (survives an
  // operating-system crash). false: commits survive a crash of the process
  // but not of the machine (LMDB MDB_NOSYNC). Default true.
  bool durable = true;
  // Create the directory and an empty registry if none exists. Default false:
  // opening a missing registry is kNotFound.
  bool create_if_missing = false;
};

// Registry-wide rules, stored in the registry (audited when changed).
struct Policy {
  // Offset units may cover at most this share of a year's verified emissions,
  // in basis points (1000 = 10 %).
  std::int64_t offset_share_bp = 1000;
  // Penalty per missing tonne at compliance, in tiyn.
  Cash penalty_per_tonne{1'000'000};  // 10,000.00 KZT
  // Global warming potentials (t CO2e per t gas), AR5 values by default.
  std::int64_t gwp_co2 = 1;
  std::int64_t gwp_ch4 = 28;
  std::int64_t gwp_n2o = 265;
};

enum class InstrumentKind : std::uint8_t { kAllowance = 1, kOffset = 2 };

enum class IssueReason : std::uint8_t {
  kAllocation = 1,
  kAuction = 2,
  kOffsetProject = 3,
};

struct InstrumentSpec {
  std::string symbol;  // 1..16 of [A-Z0-9-], unique
  InstrumentKind kind = InstrumentKind::kAllowance;
  int vintage = 0;                    // 2000..2100
  Price tick{1};                      // > 0 tiyn
  Quantity max_order_qty{1'000'000};  // > 0
};

struct InstrumentInfo {
  InstrumentId id;
  InstrumentSpec spec;
};

struct CompanySpec {
  std::string id;      // account name, e.g. "KZ-OP-0001"; 1..32 printable chars
  std::string name;    // non-empty
  std::string sector;  // optional
  std::optional<Quantity> holding_limit;  // > 0 when set
  // Optional plan details (filled by ImportPlan).
  std::string legal_form;
  std::string bin;  // empty or 12 digits with a valid check digit
  std::string registry_account;
  std::string sector_name;
  std::string region;
  std::string allocation_method;
};

struct CompanyInfo {
  AccountId account;
  CompanySpec spec;
  std::vector<std::pair<int, Quantity>> caps;  // (year, cap), ascending year
};

struct BrokerSpec {
  std::string comp_id;   // FIX SenderCompID, 1..32 printable chars
  std::string password;  // plain text; stored only as crypto_pwhash_str
  bool cancel_on_disconnect = false;
};

struct VerifierInfo {
  std::string id;
  std::string name;
};

// ---- Settlement (the server's writer) ----

struct TradeRecord {
  TradeId trade_id;
  InstrumentId instrument;
  Price price;
  Quantity qty;
  AccountId buyer;
  AccountId seller;
  OrderId buy_order;
  OrderId sell_order;
  Timestamp time;
};

// The absolute reservation of an account after the batch: for one
// instrument's units (instrument set) or for its cash (instrument nullopt).
struct ReservationUpdate {
  AccountId account;
  std::optional<InstrumentId> instrument;
  Quantity units_reserved{0};  // used when instrument is set
  Cash cash_reserved{0};       // used when instrument is nullopt
};

struct ServerBatch {
  std::vector<TradeRecord> trades;
  std::vector<ReservationUpdate> reservations;
  // The journal position up to which this batch accounts for the server's
  // inputs; recorded in the same transaction.
  std::uint64_t journal_position = 0;
};

// ---- Read views ----

struct UnitsLine {
  InstrumentId instrument;
  std::string symbol;
  Quantity held{0};
  Quantity reserved{0};
  [[nodiscard]] Quantity Free() const { return held - reserved; }
};

struct AccountHoldings {
  AccountId account;
  std::string name;
  std::vector<UnitsLine>
      units;  // ascending instrument id; held or reserved > 0
  Cash cash_held{0};
  Cash cash_reserved{0};
  [[nodiscard]] Cash CashFree() const { return cash_held - cash_reserved; }
};

struct TradeFilter {
  std::optional<std::string> account;  // buyer or seller
  std::optional<std::string> symbol;
};

struct TradeView {
  TradeRecord record;
  std::string symbol;
  std::string buyer;
  std::string seller;
};

enum class ComplianceStatus : std::uint8_t {
  kCompliant = 1,   // surrendered >= verified emissions
  kShort = 2,       // surrendered < verified emissions
  kUnverified = 3,  // no verified emissions for the year
};

struct ComplianceLine {
  std::string company;
  Quantity cap{0};
  Quantity verified_emissions{0};
  Quantity surrendered_quota{0};
  Quantity surrendered_offset{0};
  Quantity surrendered{0};
  Quantity shortfall{0};
  Cash penalty{0};
  ComplianceStatus status = ComplianceStatus::kUnverified;
};

struct ComplianceReport {
  int year = 0;
  std::vector<ComplianceLine> companies;  // ascending account id
};

struct ConservationLine {
  std::string symbol;
  Quantity issued{0};
  Quantity surrendered{0};
  Quantity cancelled{0};
  Quantity held{0};  // Σ holdings
};

struct AuditReport {
  std::uint64_t entries = 0;
  std::string head_hash_hex;  // BLAKE2b-256 of the last entry ("" if none)
  std::vector<ConservationLine> instruments;
  Cash deposited{0};
  Cash withdrawn{0};
  Cash cash_held{0};  // Σ cash
  // Empty when everything verified; otherwise one message per problem.
  std::vector<std::string> problems;
  [[nodiscard]] bool ok() const { return problems.empty(); }
};

// ---- Security events (the server's logon records) ----

enum class LogonOutcome : std::uint8_t {
  kAccepted = 1,   // the password verified; the session is established
  kRefused = 2,    // wrong password, no password, Username not the CompID
  kThrottled = 3,  // refused unchecked: too many recent failed logons
};

// `count` identical logon attempts (same CompID, address, outcome and
// reason) from `first` to `last`.
struct LogonEvent {
  std::string comp_id;  // the session's SenderCompID (at most 64 bytes kept)
  std::string address;  // remote IP address; empty when unknown
  LogonOutcome outcome = LogonOutcome::kRefused;
  std::string reason;  // why refused or throttled (at most 200 bytes kept)
  std::uint32_t count = 1;
  Timestamp first;
  Timestamp last;
};

// "accepted" / "refused" / "throttled".
[[nodiscard]] std::string_view LogonOutcomeName(LogonOutcome outcome);

// One entry of the audit log as stored.
struct AuditEntryView {
  std::uint64_t seq = 0;
  Timestamp time;         // when the write committed (ns since the epoch)
  std::string op;         // "broker add", "settle", "logon", ...
  std::string args_json;  // the operation's arguments (a JSON object)
};

struct AuditFilter {
  std::optional<std::string> op;  // only entries of this operation
  std::size_t limit = 100;        // the newest `limit` matching entries
};

enum class EmissionsState : std::uint8_t {
  kSubmitted = 1,
  kVerified = 2,
  kRejected = 3,
  kSuperseded = 4,  // a newer version was submitted before a decision
};

struct EmissionsLineView {
  std::string installation;
  std::string source_stream;
  std::string gas;
  std::int64_t co2e_kg = 0;  // this line's t CO2e × 1000, rounded half up
};

struct EmissionsReportView {
  std::string company;
  int year = 0;
  std::uint32_t version = 0;  // 1, 2, … per company and year
  EmissionsState state = EmissionsState::kSubmitted;
  Quantity total{0};     // t CO2e, see docs/mrv.md for the rounding
  std::string verifier;  // who verified or rejected; empty otherwise
  std::string reason;    // rejection reason
  std::string source;    // "csv:<file name>" or "plan"
  std::vector<EmissionsLineView> lines;
};

struct PlanImportOptions {
  // Load the plan's ve_<year> columns as verified emissions.
  bool with_emissions = false;
};

struct PlanImportSummary {
  int companies_created = 0;
  int companies_existing = 0;
  int instruments_created = 0;
  int allocations_issued = 0;  // (company, year) pairs issued now
  Quantity units_issued{0};
  int installations_loaded = 0;
  int emissions_loaded = 0;
};

class Registry {
 public:
  // Opens (or with options.create_if_missing creates) the registry at
  // options.path. Errors: kNotFound (no registry and !create_if_missing),
  // kCorruption (not a carbonex registry, or an unknown format version),
  // kIoError (directory or LMDB failure; the message names the operation).
  static Result<std::unique_ptr<Registry>> Open(const RegistryOptions& options);

  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // ---- Server interface ----

  // Everything the engine's risk state needs at start (held amounts; the
  // engine rebuilds reservations from its own orders).
  [[nodiscard]] Result<AccountState> LoadAccountState() const;

  // true if comp_id is a registered broker whose password matches; false
  // for an unknown broker or a wrong password.
  [[nodiscard]] Result<bool> VerifyBrokerPassword(
      std::string_view comp_id, std::string_view password) const;

  // Settles batch.trades delivery-versus-payment (units seller → buyer, cash
  // price × qty buyer → seller), stores each trade record, sets the given
  // absolute reservations and records batch.journal_position, all in one
  // transaction. A trade whose id is already settled is skipped (replay is
  // idempotent). Errors: kInvalidArgument (unknown account or instrument,
  // qty or price <= 0, buyer == seller, journal position going backwards),
  // kFailedPrecondition (a seller without the units, a buyer without the
  // cash, a reservation negative or above the held amount after the batch),
  // kIoError. On error nothing is written.
  Status ApplyServerBatch(const ServerBatch& batch);

  // The journal position recorded by the last ApplyServerBatch (0 if none).
  [[nodiscard]] Result<std::uint64_t> AppliedJournalPosition() const;

  // ---- Operator writes: each all or nothing ----
  // Common errors: kNotFound (unknown account, symbol, broker, verifier),
  // kInvalidArgument (malformed value), kFailedPrecondition (insufficient
  // free units or cash, wrong state), kAlreadyExists, kIoError.

  Status AddInstrument(const InstrumentSpec& spec);
  Status AddCompany(const CompanySpec& spec);
  Status AddBroker(const BrokerSpec& spec);
  Status EntitleBroker(std::string_view comp_id, std::string_view account);
  Status AddVerifier(std::string_view id, std::string_view name);
  Status SetPolicy(const Policy& policy);

  // qty > 0.
  Status IssueUnits(std::string_view symbol, std::string_view account,
                    Quantity qty, IssueReason reason);
  // Moves free units; from != to; qty > 0.
  Status Transfer(std::string_view symbol, std::string_view from,
                  std::string_view to, Quantity qty);
  // amount > 0.
  Status DepositCash(std::string_view account, Cash amount);
  // Withdraws free cash; amount > 0.
  Status WithdrawCash(std::string_view account, Cash amount);
  // Gives up free units against the year's emissions: allowances of vintage
  // <= year; offsets only up to policy.offset_share_bp of the year's verified
  // emissions (all offsets surrendered for the year counted).
  Status Surrender(std::string_view account, int year, std::string_view symbol,
                   Quantity qty);
  // Removes free units from circulation (e.g. voluntary cancellation).
  Status CancelUnits(std::string_view symbol, std::string_view account,
                     Quantity qty);

  // Loads an allocation plan (companies.csv text; optional installations.csv
  // text, empty = none). Whole file or nothing; errors name file, line
  // (header = line 1) and column. Re-importing the same plan changes nothing.
  Result<PlanImportSummary> ImportPlan(std::string_view companies_csv,
                                       std::string_view companies_name,
                                       std::string_view installations_csv,
                                       std::string_view installations_name,
                                       const PlanImportOptions& options);

  // Submits a new version of the company's report for year (CSV format in
  // docs/mrv.md). Every line is validated; errors name the line and column.
  Result<EmissionsReportView> SubmitEmissions(std::string_view account,
                                              int year, std::string_view csv,
                                              std::string_view source_name);
  // Decides the latest submitted version. Errors: kNotFound (no such
  // verifier, no submitted report), kFailedPrecondition.
  Status VerifyEmissions(std::string_view account, int year,
                         std::string_view verifier);
  Status RejectEmissions(std::string_view account, int year,
                         std::string_view verifier, std::string_view reason);

  // ---- Reads ----

  [[nodiscard]] Result<std::vector<InstrumentInfo>> Instruments() const;
  [[nodiscard]] Result<std::vector<CompanyInfo>> Companies() const;
  [[nodiscard]] Result<std::vector<VerifierInfo>> Verifiers() const;
  [[nodiscard]] Result<Policy> GetPolicy() const;
  // One account (by name) or every account (nullopt), ascending id.
  [[nodiscard]] Result<std::vector<AccountHoldings>> Holdings(
      std::optional<std::string_view> account) const;
  [[nodiscard]] Result<std::vector<TradeView>> Trades(
      const TradeFilter& filter) const;
  // Every version of the company's reports for year, ascending version.
  [[nodiscard]] Result<std::vector<EmissionsReportView>> EmissionsReports(
      std::string_view account, int year) const;
  [[nodiscard]] Result<ComplianceReport> Compliance(int year) const;
  // Recomputes the audit chain and checks conservation; a broken chain or
  // imbalance is reported in AuditReport::problems (the Status is for I/O).
  [[nodiscard]] Result<AuditReport> AuditVerify() const;
  // The newest filter.limit audit entries (of filter.op when set), in
  // ascending sequence. Reads only; works beside a running server.
  [[nodiscard]] Result<std::vector<AuditEntryView>> AuditEntries(
      const AuditFilter& filter) const;

  // ---- Security events ----

  // Appends one audit entry "logon" holding the events (the server batches
  // them) and `dropped`, the number of further attempts that were only
  // counted. No holdings or totals change. Errors: kInvalidArgument (no
  // events and nothing dropped, more than 4096 events, a count of 0),
  // kIoError.
  Status RecordLogonEvents(const std::vector<LogonEvent>& events,
                           std::uint64_t dropped);

  // Opaque implementation (ledger/src); declared here only so that the
  // ledger's own source files can name it.
  class Impl;

 private:
  explicit Registry(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Checks a Kazakh business identification number: 12 digits, the last a
// check digit (docs/registry-cli.md).
[[nodiscard]] bool IsValidBin(std::string_view bin);

}  // namespace carbonex::ledger

#endif  // CARBONEX_LEDGER_REGISTRY_H_
