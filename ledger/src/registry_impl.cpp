#include "registry_impl.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

#include "codec.h"

namespace carbonex::ledger {
namespace {

constexpr std::array<const char*, kDbCount> kDbNames = {
    "meta",          "instruments",   "instrument_names",
    "accounts",      "account_names", "caps",
    "installations", "holdings",      "cash",
    "brokers",       "broker_names",  "entitlements",
    "trades",        "verifiers",     "emissions",
    "surrenders",    "totals",        "allocations",
    "audit"};

constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kHashSize = 32;

Status Decoded(const ValueReader& r) { return r.status(); }

}  // namespace

std::int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Registry::Impl::~Impl() {
  if (env_ != nullptr) {
    mdb_env_close(env_);
  }
}

Status Registry::Impl::OpenEnv(const RegistryOptions& options) {
  options_ = options;
  const std::string& dir = options.path;
  if (dir.empty()) {
    return Status::InvalidArgument("open registry: empty path");
  }
  const std::string data_file = dir + "/data.mdb";
  struct stat st {};
  const bool exists = ::stat(data_file.c_str(), &st) == 0;
  if (!exists) {
    if (!options.create_if_missing) {
      return Status::NotFound("open registry: no registry at '" + dir +
                              "' (run carbonex-registry init)");
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::IoError(
          "open registry: create directory '" + dir +
          "': " + std::error_code(errno, std::generic_category()).message());
    }
  }
  int rc = mdb_env_create(&env_);
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, "open registry: create env");
  }
  rc = mdb_env_set_mapsize(env_, options.map_size);
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, "open registry: set map size");
  }
  rc = mdb_env_set_maxdbs(env_, 32);
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, "open registry: set max dbs");
  }
  rc = mdb_env_set_maxreaders(env_, 256);
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, "open registry: set readers");
  }
  unsigned flags = MDB_NOTLS;
  if (!options.durable) {
    flags |= MDB_NOSYNC;
  }
  rc = mdb_env_open(env_, dir.c_str(), flags, 0600);
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, "open registry '" + dir + "'");
  }

  // Open the named databases; create them (and the format record) once.
  bool missing = false;
  {
    Txn txn;
    Status s = Txn::Begin(env_, false, "open registry", &txn);
    if (!s.ok()) {
      return s;
    }
    for (std::size_t i = 0; i < kDbCount; ++i) {
      rc = mdb_dbi_open(txn.Raw(), kDbNames[i], 0, &dbi_[i]);
      if (rc == MDB_NOTFOUND) {
        missing = true;
        break;
      }
      if (rc != MDB_SUCCESS) {
        return LmdbError(rc,
                         std::string("open registry: database ") + kDbNames[i]);
      }
    }
    if (!missing) {
      s = txn.Commit();  // keeps the dbi handles
    }
    if (!s.ok()) {
      return s;
    }
  }
  if (missing) {
    Txn txn;
    Status s = Txn::Begin(env_, true, "create registry", &txn);
    if (!s.ok()) {
      return s;
    }
    // A pre-existing environment without our databases is not ours.
    MDB_dbi main_dbi = 0;
    rc = mdb_dbi_open(txn.Raw(), nullptr, 0, &main_dbi);
    if (rc != MDB_SUCCESS) {
      return LmdbError(rc, "create registry: main db");
    }
    MDB_stat mst{};
    rc = mdb_stat(txn.Raw(), main_dbi, &mst);
    if (rc != MDB_SUCCESS) {
      return LmdbError(rc, "create registry: stat");
    }
    if (mst.ms_entries != 0) {
      return Status::Corruption("open registry '" + dir +
                                "': not a carbonex registry");
    }
    for (std::size_t i = 0; i < kDbCount; ++i) {
      rc = mdb_dbi_open(txn.Raw(), kDbNames[i], MDB_CREATE, &dbi_[i]);
      if (rc != MDB_SUCCESS) {
        return LmdbError(
            rc, std::string("create registry: database ") + kDbNames[i]);
      }
    }
    s = txn.Put(dbi_[kMetaDb], "format",
                ValueWriter(RecordType::kFormat).U32(kFormatVersion).Encoded());
    if (!s.ok()) {
      return s;
    }
    s = txn.Commit();
    if (!s.ok()) {
      return s;
    }
  }
  // Check the format version.
  Txn txn;
  Status s = Txn::Begin(env_, false, "open registry", &txn);
  if (!s.ok()) {
    return s;
  }
  std::string_view v;
  bool found = false;
  s = txn.Get(dbi_[kMetaDb], "format", &v, &found);
  if (!s.ok()) {
    return s;
  }
  if (!found) {
    return Status::Corruption("open registry '" + dir + "': no format record");
  }
  ValueReader r(v, RecordType::kFormat, "format record");
  std::uint32_t format = 0;
  r.U32(&format);
  if (!r.ok()) {
    return r.status();
  }
  if (format != kFormatVersion) {
    return Status::Corruption("open registry '" + dir +
                              "': unsupported format version " +
                              std::to_string(format));
  }
  // Owner-only files, also for environments created under another umask.
  ::chmod(dir.c_str(), 0700);
  ::chmod(data_file.c_str(), 0600);
  ::chmod((dir + "/lock.mdb").c_str(), 0600);
  return Status::Ok();
}

Status Registry::Impl::Write(
    std::string_view op,
    const std::function<Status(WriteContext&, std::string*)>& body) {
  WriteContext ctx;
  Status s = Txn::Begin(env_, true, op, &ctx.txn);
  if (!s.ok()) {
    return s;
  }
  std::string args;
  s = body(ctx, &args);
  if (!s.ok()) {
    return s;  // the transaction aborts
  }
  if (args.empty() && ctx.deltas.empty()) {
    return Status::Ok();  // no change
  }
  s = AppendAudit(ctx, op, args);
  if (!s.ok()) {
    return s;
  }
  return ctx.txn.Commit();
}

Status Registry::Impl::Read(
    std::string_view op, const std::function<Status(const Txn&)>& body) const {
  Txn txn;
  Status s = Txn::Begin(env_, false, op, &txn);
  if (!s.ok()) {
    return s;
  }
  return body(txn);
}

std::string Registry::Impl::IdKey(std::uint32_t id) {
  return KeyWriter().U32(id).Encoded();
}
std::string Registry::Impl::PairKey(std::uint32_t a, std::uint32_t b) {
  return KeyWriter().U32(a).U32(b).Encoded();
}
std::string Registry::Impl::YearKey(std::uint32_t account, int year) {
  return KeyWriter()
      .U32(account)
      .U16(static_cast<std::uint16_t>(year))
      .Encoded();
}

Status DecodeInstrument(std::uint32_t id, std::string_view v,
                        InstrumentInfo* out, std::uint8_t* status_out) {
  ValueReader r(v, RecordType::kInstrument, "instrument record");
  std::uint8_t kind = 0;
  std::uint16_t vintage = 0;
  std::int64_t tick = 0;
  std::int64_t max_qty = 0;
  std::uint8_t status = 0;
  r.Str(&out->spec.symbol);
  r.U8(&kind);
  r.U16(&vintage);
  r.I64(&tick);
  r.I64(&max_qty);
  r.U8(&status);
  out->id = InstrumentId(id);
  out->spec.kind = static_cast<InstrumentKind>(kind);
  out->spec.vintage = vintage;
  out->spec.tick = Price(tick);
  out->spec.max_order_qty = Quantity(max_qty);
  if (status_out != nullptr) {
    *status_out = status;
  }
  return Decoded(r);
}

Status DecodeAccount(std::uint32_t id, std::string_view v, CompanyInfo* out) {
  ValueReader r(v, RecordType::kAccount, "account record");
  CompanySpec& c = out->spec;
  std::uint8_t has_limit = 0;
  std::int64_t limit = 0;
  r.Str(&c.id);
  r.Str(&c.name);
  r.Str(&c.sector);
  r.U8(&has_limit);
  r.I64(&limit);
  r.Str(&c.legal_form);
  r.Str(&c.bin);
  r.Str(&c.registry_account);
  r.Str(&c.sector_name);
  r.Str(&c.region);
  r.Str(&c.allocation_method);
  out->account = AccountId(id);
  c.holding_limit =
      has_limit != 0 ? std::optional<Quantity>(Quantity(limit)) : std::nullopt;
  return Decoded(r);
}

Status DecodeIndex(std::string_view v, std::uint32_t* id) {
  ValueReader r(v, RecordType::kIndex, "name index record");
  r.U32(id);
  return Decoded(r);
}

Status DecodeBalance(std::string_view v, RecordType type, Balance* out) {
  ValueReader r(v, type,
                type == RecordType::kCash ? "cash record" : "holding record");
  r.I64(&out->held);
  r.I64(&out->reserved);
  return Decoded(r);
}

Status Registry::Impl::FindInstrument(const Txn& txn, std::string_view symbol,
                                      InstrumentInfo* out) const {
  std::string_view v;
  bool found = false;
  Status s = txn.Get(dbi_[kInstrumentNamesDb], symbol, &v, &found);
  if (!s.ok()) {
    return s;
  }
  if (!found) {
    return Status::NotFound("unknown instrument '" + std::string(symbol) + "'");
  }
  std::uint32_t id = 0;
  s = DecodeIndex(v, &id);
  if (!s.ok()) {
    return s;
  }
  return GetInstrument(txn, InstrumentId(id), out);
}

Status Registry::Impl::GetInstrument(const Txn& txn, InstrumentId id,
                                     InstrumentInfo* out) const {
  std::string_view v;
  bool found = false;
  Status s = txn.Get(dbi_[kInstrumentsDb], IdKey(id.value()), &v, &found);
  if (!s.ok()) {
    return s;
  }
  if (!found) {
    return Status::NotFound("unknown instrument id " +
                            std::to_string(id.value()));
  }
  return DecodeInstrument(id.value(), v, out);
}

Status Registry::Impl::FindAccount(const Txn& txn, std::string_view name,
                                   CompanyInfo* out) const {
  std::string_view v;
  bool found = false;
  Status s = txn.Get(dbi_[kAccountNamesDb], name, &v, &found);
  if (!s.ok()) {
    return s;
  }
  if (!found) {
    return Status::NotFound("unknown account '" + std::string(name) + "'");
  }
  std::uint32_t id = 0;
  s = DecodeIndex(v, &id);
  if (!s.ok()) {
    return s;
  }
  return GetAccount(txn, AccountId(id), out);
}

Status Registry::Impl::GetAccount(const Txn& txn, AccountId id,
                                  CompanyInfo* out) const {
  std::string_view v;
  bool found = false;
  Status s = txn.Get(dbi_[kAccountsDb], IdKey(id.value()), &v, &found);
  if (!s.ok()) {
    return s;
  }
  if (!found) {
    return Status::NotFound("unknown account id " + std::to_string(id.value()));
  }
  return DecodeAccount(id.value(), v, out);
}

Status Registry::Impl::ForEachRecord(
    const Txn& txn, Db db,
    const std::function<Status(std::uint32_t id, std::string_view value)>& fn)
    const {
  return txn.Scan(
      dbi_[db], "",
      [&](std::string_view k, std::string_view v, bool*) -> Status {
        KeyReader kr(k);
        std::uint32_t id = 0;
        if (!kr.U32(&id)) {
          return Status::Corruption("malformed record key in table " +
                                    std::to_string(db));
        }
        return fn(id, v);
      });
}

Status Registry::Impl::ForEachInstrument(
    const Txn& txn,
    const std::function<Status(const InstrumentInfo&)>& fn) const {
  return ForEachRecord(txn, kInstrumentsDb,
                       [&](std::uint32_t id, std::string_view v) -> Status {
                         InstrumentInfo info;
                         Status s = DecodeInstrument(id, v, &info);
                         return s.ok() ? fn(info) : s;
                       });
}

Status Registry::Impl::ForEachCompany(
    const Txn& txn, const std::function<Status(const CompanyInfo&)>& fn) const {
  return ForEachRecord(txn, kAccountsDb,
                       [&](std::uint32_t id, std::string_view v) -> Status {
                         CompanyInfo info;
                         Status s = DecodeAccount(id, v, &info);
                         return s.ok() ? fn(info) : s;
                       });
}

Status Registry::Impl::FindVerifier(const Txn& txn, std::string_view id,
                                    VerifierInfo* out) const {
  std::string_view v;
  bool found = false;
  Status s = txn.Get(dbi_[kVerifiersDb], id, &v, &found);
  if (!s.ok()) {
    return s;
  }
  if (!found) {
    return Status::NotFound("unknown verifier '" + std::string(id) + "'");
  }
  ValueReader r(v, RecordType::kVerifier, "verifier record");
  out->id = std::string(id);
  r.Str(&out->name);
  return Decoded(r);
}

Status Registry::Impl::NextId(const Txn& txn, Db db, std::uint32_t* id) const {
  std::string key;
  bool found = false;
  Status s = txn.LastKey(dbi_[db], &key, &found);
  if (!s.ok()) {
    return s;
  }
  if (!found) {
    *id = 1;
    return Status::Ok();
  }
  std::uint32_t last = 0;
  KeyReader r(key);
  if (!r.U32(&last)) {
    return Status::Corruption("malformed id key");
  }
  *id = last + 1;
  return Status::Ok();
}

Status Registry::Impl::GetHolding(const Txn& txn, AccountId account,
                                  InstrumentId instrument, Balance* out) const {
  std::string_view v;
  bool found = false;
  Status s = txn.Get(dbi_[kHoldingsDb],
                     PairKey(account.value(), instrument.value()), &v, &found);
  if (!s.ok()) {
    return s;
  }
  if (!found) {
    *out = Balance{};
    return Status::Ok();
  }
  return DecodeBalance(v, RecordType::kHolding, out);
}

Status Registry::Impl::PutHolding(Txn& txn, AccountId account,
                                  InstrumentId instrument, const Balance& b) {
  return txn.Put(
      dbi_[kHoldingsDb], PairKey(account.value(), instrument.value()),
      ValueWriter(RecordType::kHolding).I64(b.held).I64(b.reserved).Encoded());
}

Status Registry::Impl::GetCash(const Txn& txn, AccountId account,
                               Balance* out) const {
  std::string_view v;
  bool found = false;
  Status s = txn.Get(dbi_[kCashDb], IdKey(account.value()), &v, &found);
  if (!s.ok()) {
    return s;
  }
  if (!found) {
    *out = Balance{};
    return Status::Ok();
  }
  return DecodeBalance(v, RecordType::kCash, out);
}

Status Registry::Impl::PutCash(Txn& txn, AccountId account, const Balance& b) {
  return txn.Put(
      dbi_[kCashDb], IdKey(account.value()),
      ValueWriter(RecordType::kCash).I64(b.held).I64(b.reserved).Encoded());
}

Status Registry::Impl::AddTotal(WriteContext& ctx, TotalKind kind,
                                std::uint32_t instrument, std::int64_t amount) {
  std::string key;
  key.push_back(static_cast<char>(kind));
  key += IdKey(instrument);
  std::string_view v;
  bool found = false;
  Status s = ctx.txn.Get(dbi_[kTotalsDb], key, &v, &found);
  if (!s.ok()) {
    return s;
  }
  std::int64_t total = 0;
  if (found) {
    ValueReader r(v, RecordType::kTotal, "total record");
    r.I64(&total);
    if (!r.ok()) {
      return r.status();
    }
  }
  total += amount;
  ctx.deltas.push_back({static_cast<std::int64_t>(kind), instrument, amount});
  return ctx.txn.Put(dbi_[kTotalsDb], key,
                     ValueWriter(RecordType::kTotal).I64(total).Encoded());
}

Status Registry::Impl::GetCap(const Txn& txn, AccountId account, int year,
                              std::optional<std::int64_t>* cap) const {
  std::string_view v;
  bool found = false;
  Status s = txn.Get(dbi_[kCapsDb], YearKey(account.value(), year), &v, &found);
  if (!s.ok()) {
    return s;
  }
  if (!found) {
    cap->reset();
    return Status::Ok();
  }
  ValueReader r(v, RecordType::kCap, "cap record");
  std::int64_t c = 0;
  r.I64(&c);
  *cap = c;
  return Decoded(r);
}

Status Registry::Impl::PutInstrument(Txn& txn, const InstrumentInfo& info) {
  const InstrumentSpec& sp = info.spec;
  Status s = txn.Put(dbi_[kInstrumentsDb], IdKey(info.id.value()),
                     ValueWriter(RecordType::kInstrument)
                         .Str(sp.symbol)
                         .U8(static_cast<std::uint8_t>(sp.kind))
                         .U16(static_cast<std::uint16_t>(sp.vintage))
                         .I64(sp.tick.value())
                         .I64(sp.max_order_qty.value())
                         .U8(static_cast<std::uint8_t>(TradingStatus::kOpen))
                         .Encoded());
  if (!s.ok()) {
    return s;
  }
  return txn.Put(
      dbi_[kInstrumentNamesDb], sp.symbol,
      ValueWriter(RecordType::kIndex).U32(info.id.value()).Encoded());
}

Status Registry::Impl::PutAccount(Txn& txn, const CompanyInfo& info) {
  const CompanySpec& c = info.spec;
  Status s = txn.Put(dbi_[kAccountsDb], IdKey(info.account.value()),
                     ValueWriter(RecordType::kAccount)
                         .Str(c.id)
                         .Str(c.name)
                         .Str(c.sector)
                         .U8(c.holding_limit ? 1 : 0)
                         .I64(c.holding_limit ? c.holding_limit->value() : 0)
                         .Str(c.legal_form)
                         .Str(c.bin)
                         .Str(c.registry_account)
                         .Str(c.sector_name)
                         .Str(c.region)
                         .Str(c.allocation_method)
                         .Encoded());
  if (!s.ok()) {
    return s;
  }
  return txn.Put(
      dbi_[kAccountNamesDb], c.id,
      ValueWriter(RecordType::kIndex).U32(info.account.value()).Encoded());
}

Status Registry::Impl::PutInstallation(Txn& txn, const InstallationRec& rec) {
  ValueWriter w(RecordType::kInstallation);
  w.U32(rec.account.value()).Str(rec.kind).Str(rec.sector).Str(rec.region);
  w.U16(static_cast<std::uint16_t>(rec.caps.size()));
  for (const auto& [year, cap] : rec.caps) {
    w.U16(static_cast<std::uint16_t>(year)).I64(cap);
  }
  return txn.Put(dbi_[kInstallationsDb], rec.id, w.Encoded());
}

Status Registry::Impl::GetInstallation(const Txn& txn, std::string_view id,
                                       InstallationRec* out,
                                       bool* found) const {
  std::string_view v;
  Status s = txn.Get(dbi_[kInstallationsDb], id, &v, found);
  if (!s.ok() || !*found) {
    return s;
  }
  ValueReader r(v, RecordType::kInstallation, "installation record");
  std::uint32_t account = 0;
  std::uint16_t n = 0;
  out->id = std::string(id);
  r.U32(&account);
  r.Str(&out->kind);
  r.Str(&out->sector);
  r.Str(&out->region);
  r.U16(&n);
  out->caps.clear();
  for (std::uint16_t i = 0; i < n && r.ok(); ++i) {
    std::uint16_t year = 0;
    std::int64_t cap = 0;
    r.U16(&year);
    r.I64(&cap);
    out->caps.emplace_back(year, cap);
  }
  out->account = AccountId(account);
  return Decoded(r);
}

Status Registry::Impl::PutEmissions(Txn& txn, AccountId account,
                                    const EmissionsRec& rec) {
  const EmissionsReportView& e = rec.view;
  ValueWriter w(RecordType::kEmissions);
  w.U8(static_cast<std::uint8_t>(e.state))
      .I64(e.total.value())
      .Str(e.verifier)
      .Str(e.reason)
      .Str(e.source)
      .I64(rec.submitted_ns)
      .I64(rec.decided_ns)
      .U32(static_cast<std::uint32_t>(e.lines.size()));
  for (std::size_t i = 0; i < e.lines.size(); ++i) {
    const auto& l = e.lines[i];
    const auto& in = rec.inputs[i];
    w.Str(l.installation)
        .Str(l.source_stream)
        .Str(l.gas)
        .Str(in.unit)
        .I64(in.activity_milli)
        .I64(in.factor_micro)
        .I64(in.oxidation_e4)
        .I64(in.gwp)
        .I64(l.co2e_kg);
  }
  std::string key = KeyWriter()
                        .U32(account.value())
                        .U16(static_cast<std::uint16_t>(e.year))
                        .U32(e.version)
                        .Encoded();
  return txn.Put(dbi_[kEmissionsDb], key, w.Encoded());
}

Status Registry::Impl::LoadEmissions(const Txn& txn, AccountId account,
                                     int year,
                                     std::vector<EmissionsRec>* out) const {
  out->clear();
  CompanyInfo company;
  Status s = GetAccount(txn, account, &company);
  if (!s.ok()) {
    return s;
  }
  return txn.Scan(
      dbi_[kEmissionsDb], YearKey(account.value(), year),
      [&](std::string_view key, std::string_view v, bool*) -> Status {
        KeyReader kr(key);
        std::uint32_t acct = 0;
        std::uint16_t y = 0;
        std::uint32_t version = 0;
        if (!kr.U32(&acct) || !kr.U16(&y) || !kr.U32(&version)) {
          return Status::Corruption("malformed emissions key");
        }
        EmissionsRec rec;
        EmissionsReportView& e = rec.view;
        e.company = company.spec.id;
        e.year = y;
        e.version = version;
        ValueReader r(v, RecordType::kEmissions, "emissions record");
        std::uint8_t state = 0;
        std::int64_t total = 0;
        std::uint32_t n = 0;
        r.U8(&state);
        r.I64(&total);
        r.Str(&e.verifier);
        r.Str(&e.reason);
        r.Str(&e.source);
        r.I64(&rec.submitted_ns);
        r.I64(&rec.decided_ns);
        r.U32(&n);
        e.state = static_cast<EmissionsState>(state);
        e.total = Quantity(total);
        for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
          EmissionsLineView l;
          EmissionsRec::Input in;
          r.Str(&l.installation);
          r.Str(&l.source_stream);
          r.Str(&l.gas);
          r.Str(&in.unit);
          r.I64(&in.activity_milli);
          r.I64(&in.factor_micro);
          r.I64(&in.oxidation_e4);
          r.I64(&in.gwp);
          r.I64(&l.co2e_kg);
          e.lines.push_back(std::move(l));
          rec.inputs.push_back(std::move(in));
        }
        if (!r.ok()) {
          return r.status();
        }
        out->push_back(std::move(rec));
        return Status::Ok();
      });
}

Status Registry::Impl::VerifiedEmissions(
    const Txn& txn, AccountId account, int year,
    std::optional<std::int64_t>* total) const {
  std::vector<EmissionsRec> recs;
  Status s = LoadEmissions(txn, account, year, &recs);
  if (!s.ok()) {
    return s;
  }
  total->reset();
  for (const auto& rec : recs) {  // ascending version: the last one wins
    if (rec.view.state == EmissionsState::kVerified) {
      *total = rec.view.total.value();
    }
  }
  return Status::Ok();
}

std::string Registry::Impl::EncodeTrade(const TradeRecord& t) {
  return ValueWriter(RecordType::kTrade)
      .U32(t.instrument.value())
      .I64(t.price.value())
      .I64(t.qty.value())
      .U32(t.buyer.value())
      .U32(t.seller.value())
      .U64(t.buy_order.value())
      .U64(t.sell_order.value())
      .I64(t.time.value())
      .Encoded();
}

Status Registry::Impl::DecodeTrade(std::string_view key, std::string_view v,
                                   TradeRecord* out) {
  KeyReader kr(key);
  std::uint64_t id = 0;
  if (!kr.U64(&id)) {
    return Status::Corruption("malformed trade key");
  }
  ValueReader r(v, RecordType::kTrade, "trade record");
  std::uint32_t instrument = 0;
  std::int64_t price = 0;
  std::int64_t qty = 0;
  std::uint32_t buyer = 0;
  std::uint32_t seller = 0;
  std::uint64_t buy_order = 0;
  std::uint64_t sell_order = 0;
  std::int64_t time = 0;
  r.U32(&instrument);
  r.I64(&price);
  r.I64(&qty);
  r.U32(&buyer);
  r.U32(&seller);
  r.U64(&buy_order);
  r.U64(&sell_order);
  r.I64(&time);
  *out = TradeRecord{
      TradeId(id),        InstrumentId(instrument), Price(price),
      Quantity(qty),      AccountId(buyer),         AccountId(seller),
      OrderId(buy_order), OrderId(sell_order),      Timestamp(time)};
  return Decoded(r);
}

Status Registry::Impl::AppendAudit(WriteContext& ctx, std::string_view op,
                                   std::string_view args_json) {
  // Head: last sequence number and its hash.
  std::string_view v;
  bool found = false;
  Status s = ctx.txn.Get(dbi_[kMetaDb], "audit_head", &v, &found);
  if (!s.ok()) {
    return s;
  }
  std::uint64_t seq = 0;
  std::string prev(kHashSize, '\0');
  if (found) {
    ValueReader r(v, RecordType::kAuditHead, "audit head record");
    r.U64(&seq);
    r.Raw(kHashSize, &prev);
    if (!r.ok()) {
      return r.status();
    }
  }
  ++seq;
  // The payload: the operation's arguments and the totals it changed.
  std::string payload = "{\"args\":";
  payload += args_json.empty() ? std::string_view("{}") : args_json;
  payload += ",\"deltas\":[";
  for (std::size_t i = 0; i < ctx.deltas.size(); ++i) {
    if (i > 0) {
      payload += ',';
    }
    payload += '[' + std::to_string(ctx.deltas[i][0]) + ',' +
               std::to_string(ctx.deltas[i][1]) + ',' +
               std::to_string(ctx.deltas[i][2]) + ']';
  }
  payload += "]}";
  ValueWriter w(RecordType::kAudit);
  w.I64(NowNanos()).Str(op).U32(static_cast<std::uint32_t>(payload.size()));
  w.Raw(payload).Raw(prev);
  std::string key = KeyWriter().U64(seq).Encoded();
  std::array<unsigned char, kHashSize> hash{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kHashSize);
  crypto_generichash_update(
      &state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_generichash_update(
      &state, reinterpret_cast<const unsigned char*>(w.Encoded().data()),
      w.Encoded().size());
  crypto_generichash_final(&state, hash.data(), hash.size());
  std::string hash_bytes(reinterpret_cast<const char*>(hash.data()),
                         hash.size());
  std::string value = w.Encoded() + hash_bytes;
  s = ctx.txn.Put(dbi_[kAuditDb], key, value, MDB_APPEND);
  if (!s.ok()) {
    return s;
  }
  return ctx.txn.Put(
      dbi_[kMetaDb], "audit_head",
      ValueWriter(RecordType::kAuditHead).U64(seq).Raw(hash_bytes).Encoded());
}

}  // namespace carbonex::ledger
