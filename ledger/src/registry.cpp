#include "carbonex/ledger/registry.h"

#include <sodium.h>

#include <map>
#include <unordered_map>
#include <utility>

#include "carbonex/ledger/amounts.h"
#include "codec.h"
#include "mrv.h"
#include "registry_impl.h"

namespace carbonex::ledger {
namespace {

// Account ids, verifier ids, broker comp ids: 1..32 of [A-Za-z0-9._-].
bool ValidId(std::string_view s) {
  if (s.empty() || s.size() > 32) {
    return false;
  }
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool ValidSymbol(std::string_view s) {
  if (s.empty() || s.size() > 16) {
    return false;
  }
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

// Free text (names, reasons): 1..200 bytes, no control characters.
bool ValidText(std::string_view s, std::size_t max = 200) {
  if (s.empty() || s.size() > max) {
    return false;
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return false;
    }
  }
  return true;
}

bool ValidYear(int year) { return year >= 2000 && year <= 2100; }

constexpr std::int64_t kMaxAmount = 1'000'000'000'000'000;  // 10^15

Status CheckPositive(std::int64_t v, std::string_view what) {
  if (v <= 0) {
    return Status::InvalidArgument(std::string(what) + " must be positive");
  }
  if (v > kMaxAmount) {
    return Status::InvalidArgument(std::string(what) + " above 10^15");
  }
  return Status::Ok();
}

std::string Json(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      const char* hex_digits = "0123456789abcdef";
      out += "\\u00";
      out += hex_digits[(c >> 4) & 0xF];
      out += hex_digits[c & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

const char* KindName(InstrumentKind k) {
  return k == InstrumentKind::kOffset ? "offset" : "allowance";
}

const char* ReasonName(IssueReason r) {
  switch (r) {
    case IssueReason::kAllocation:
      return "allocation";
    case IssueReason::kAuction:
      return "auction";
    case IssueReason::kOffsetProject:
      return "offset-project";
  }
  return "allocation";
}

}  // namespace

bool IsValidBin(std::string_view bin) {
  if (bin.size() != 12) {
    return false;
  }
  for (char c : bin) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  auto weighted = [&](int start) {
    int sum = 0;
    for (int i = 0; i < 11; ++i) {
      int w = (start + i - 1) % 11 + 1;
      sum += w * (bin[static_cast<std::size_t>(i)] - '0');
    }
    return sum % 11;
  };
  int check = weighted(1);
  if (check == 10) {
    check = weighted(3);
    if (check == 10) {
      return false;
    }
  }
  return check == bin[11] - '0';
}

Registry::Registry(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Registry::~Registry() = default;

Result<std::unique_ptr<Registry>> Registry::Open(
    const RegistryOptions& options) {
  if (sodium_init() < 0) {
    return Status::Internal("open registry: libsodium failed to initialise");
  }
  auto impl = std::make_unique<Impl>();
  Status s = impl->OpenEnv(options);
  if (!s.ok()) {
    return s;
  }
  return std::unique_ptr<Registry>(new Registry(std::move(impl)));
}

// ---------------------------------------------------------------- server

Result<AccountState> Registry::LoadAccountState() const {
  AccountState state;
  Impl& im = *impl_;
  Status s = im.Read("load account state", [&](const Txn& txn) -> Status {
    Status st = im.ForEachRecord(
        txn, kInstrumentsDb,
        [&](std::uint32_t id, std::string_view v) -> Status {
          InstrumentInfo info;
          std::uint8_t status = 0;
          Status s2 = DecodeInstrument(id, v, &info, &status);
          if (!s2.ok()) {
            return s2;
          }
          state.instruments.push_back(InstrumentState{
              info.id, info.spec.symbol, info.spec.tick,
              info.spec.max_order_qty, static_cast<TradingStatus>(status)});
          return Status::Ok();
        });
    if (!st.ok()) {
      return st;
    }
    st = im.ForEachCompany(txn, [&](const CompanyInfo& c) -> Status {
      Balance cash;
      Status s2 = im.GetCash(txn, c.account, &cash);
      if (!s2.ok()) {
        return s2;
      }
      state.accounts.push_back(AccountEntry{
          c.account, c.spec.id, Cash(cash.held), c.spec.holding_limit});
      return Status::Ok();
    });
    if (!st.ok()) {
      return st;
    }
    st = txn.Scan(im.dbi_[kHoldingsDb], "",
                  [&](std::string_view k, std::string_view v, bool*) -> Status {
                    KeyReader kr(k);
                    std::uint32_t a = 0;
                    std::uint32_t i = 0;
                    if (!kr.U32(&a) || !kr.U32(&i)) {
                      return Status::Corruption("malformed holding key");
                    }
                    ValueReader r(v, RecordType::kHolding, "holding record");
                    std::int64_t held = 0;
                    r.I64(&held);
                    if (!r.ok()) {
                      return r.status();
                    }
                    if (held != 0) {
                      state.holdings.push_back(HoldingEntry{
                          AccountId(a), InstrumentId(i), Quantity(held)});
                    }
                    return Status::Ok();
                  });
    if (!st.ok()) {
      return st;
    }
    st = im.ForEachRecord(
        txn, kBrokersDb, [&](std::uint32_t id, std::string_view v) -> Status {
          ValueReader r(v, RecordType::kBroker, "broker record");
          std::string comp;
          std::string hash;
          std::uint8_t cod = 0;
          r.Str(&comp);
          r.Str(&hash);
          r.U8(&cod);
          if (!r.ok()) {
            return r.status();
          }
          state.brokers.push_back(BrokerEntry{BrokerId(id), comp, cod != 0});
          return Status::Ok();
        });
    if (!st.ok()) {
      return st;
    }
    return txn.Scan(im.dbi_[kEntitlementsDb], "",
                    [&](std::string_view k, std::string_view, bool*) -> Status {
                      KeyReader kr(k);
                      std::uint32_t b = 0;
                      std::uint32_t a = 0;
                      if (!kr.U32(&b) || !kr.U32(&a)) {
                        return Status::Corruption("malformed entitlement key");
                      }
                      state.entitlements.push_back(
                          EntitlementEntry{BrokerId(b), AccountId(a)});
                      return Status::Ok();
                    });
  });
  if (!s.ok()) {
    return s;
  }
  return state;
}

Result<bool> Registry::VerifyBrokerPassword(std::string_view comp_id,
                                            std::string_view password) const {
  std::string hash;
  bool known = false;
  Impl& im = *impl_;
  Status s = im.Read("verify broker password", [&](const Txn& txn) -> Status {
    std::string_view v;
    bool found = false;
    Status st = txn.Get(im.dbi_[kBrokerNamesDb], comp_id, &v, &found);
    if (!st.ok() || !found) {
      return st;
    }
    ValueReader ir(v, RecordType::kIndex, "broker index");
    std::uint32_t id = 0;
    ir.U32(&id);
    if (!ir.ok()) {
      return ir.status();
    }
    st = txn.Get(im.dbi_[kBrokersDb], Impl::IdKey(id), &v, &found);
    if (!st.ok()) {
      return st;
    }
    if (!found) {
      return Status::Corruption("broker index points nowhere");
    }
    ValueReader r(v, RecordType::kBroker, "broker record");
    std::string comp;
    r.Str(&comp);
    r.Str(&hash);
    if (!r.ok()) {
      return r.status();
    }
    known = true;
    return Status::Ok();
  });
  if (!s.ok()) {
    return s;
  }
  if (!known) {
    return false;
  }
  std::string pw(password);
  return crypto_pwhash_str_verify(hash.c_str(), pw.c_str(), pw.size()) == 0;
}

Status Registry::ApplyServerBatch(const ServerBatch& batch) {
  Impl& im = *impl_;
  // Validate what needs no storage first.
  for (const TradeRecord& t : batch.trades) {
    if (t.qty.value() <= 0 || t.qty.value() > kMaxAmount ||
        t.price.value() <= 0 || t.price.value() > kMaxAmount / 1000) {
      return Status::InvalidArgument("settle: trade " +
                                     std::to_string(t.trade_id.value()) +
                                     " has a non-positive or huge price/qty");
    }
    if (static_cast<__int128>(t.price.value()) * t.qty.value() > kMaxAmount) {
      return Status::InvalidArgument("settle: trade " +
                                     std::to_string(t.trade_id.value()) +
                                     " has a notional above 10^15 tiyn");
    }
    if (t.buyer == t.seller) {
      return Status::InvalidArgument("settle: trade " +
                                     std::to_string(t.trade_id.value()) +
                                     " has the same buyer and seller");
    }
  }
  WriteContext ctx;
  Status s = Txn::Begin(im.env_, true, "settle", &ctx.txn);
  if (!s.ok()) {
    return s;
  }
  Txn& txn = ctx.txn;

  std::uint64_t position = 0;
  {
    std::string_view v;
    bool found = false;
    s = txn.Get(im.dbi_[kMetaDb], "journal_position", &v, &found);
    if (!s.ok()) {
      return s;
    }
    if (found) {
      ValueReader r(v, RecordType::kJournalPosition, "journal position");
      r.U64(&position);
      if (!r.ok()) {
        return r.status();
      }
    }
  }
  if (batch.journal_position < position) {
    return Status::InvalidArgument(
        "settle: journal position " + std::to_string(batch.journal_position) +
        " is before the recorded " + std::to_string(position));
  }

  std::unordered_map<std::uint32_t, bool> known_accounts;
  std::unordered_map<std::uint32_t, bool> known_instruments;
  auto check_exists = [&](Db db, std::uint32_t id,
                          std::unordered_map<std::uint32_t, bool>& cache,
                          const char* what) -> Status {
    auto it = cache.find(id);
    if (it == cache.end()) {
      std::string_view v;
      bool found = false;
      Status st = txn.Get(im.dbi_[db], Impl::IdKey(id), &v, &found);
      if (!st.ok()) {
        return st;
      }
      it = cache.emplace(id, found).first;
    }
    if (!it->second) {
      return Status::InvalidArgument("settle: unknown " + std::string(what) +
                                     " id " + std::to_string(id));
    }
    return Status::Ok();
  };

  // Net effect per holding and per cash account.
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::int64_t> units;
  std::map<std::uint32_t, std::int64_t> cash;
  std::string digest_input;
  std::string settled_ids;
  std::size_t settled = 0;
  std::size_t skipped = 0;
  for (const TradeRecord& t : batch.trades) {
    s = check_exists(kInstrumentsDb, t.instrument.value(), known_instruments,
                     "instrument");
    if (!s.ok()) {
      return s;
    }
    s = check_exists(kAccountsDb, t.buyer.value(), known_accounts, "account");
    if (!s.ok()) {
      return s;
    }
    s = check_exists(kAccountsDb, t.seller.value(), known_accounts, "account");
    if (!s.ok()) {
      return s;
    }
    std::string value = Impl::EncodeTrade(t);
    bool inserted = false;
    s = txn.Insert(im.dbi_[kTradesDb],
                   KeyWriter().U64(t.trade_id.value()).Encoded(), value,
                   &inserted);
    if (!s.ok()) {
      return s;
    }
    if (!inserted) {
      ++skipped;
      continue;
    }
    ++settled;
    digest_input += value;
    if (!settled_ids.empty()) {
      settled_ids += ',';
    }
    settled_ids += std::to_string(t.trade_id.value());
    const Cash notional = Notional(t.price, t.qty);
    units[{t.seller.value(), t.instrument.value()}] -= t.qty.value();
    units[{t.buyer.value(), t.instrument.value()}] += t.qty.value();
    cash[t.buyer.value()] -= notional.value();
    cash[t.seller.value()] += notional.value();
  }

  // Reservations, absolute, keyed like the balances.
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::int64_t> unit_res;
  std::map<std::uint32_t, std::int64_t> cash_res;
  for (const ReservationUpdate& r : batch.reservations) {
    s = check_exists(kAccountsDb, r.account.value(), known_accounts, "account");
    if (!s.ok()) {
      return s;
    }
    if (r.instrument) {
      s = check_exists(kInstrumentsDb, r.instrument->value(), known_instruments,
                       "instrument");
      if (!s.ok()) {
        return s;
      }
      unit_res[{r.account.value(), r.instrument->value()}] =
          r.units_reserved.value();
      units.try_emplace({r.account.value(), r.instrument->value()}, 0);
    } else {
      cash_res[r.account.value()] = r.cash_reserved.value();
      cash.try_emplace(r.account.value(), 0);
    }
  }

  if (settled == 0 && batch.reservations.empty() &&
      batch.journal_position == position) {
    return Status::Ok();  // a pure replay: nothing to record
  }

  for (const auto& [key, delta] : units) {
    Balance b;
    s = im.GetHolding(txn, AccountId(key.first), InstrumentId(key.second), &b);
    if (!s.ok()) {
      return s;
    }
    b.held += delta;
    if (auto it = unit_res.find(key); it != unit_res.end()) {
      b.reserved = it->second;
    }
    if (b.held < 0) {
      return Status::FailedPrecondition(
          "settle: account id " + std::to_string(key.first) +
          " would hold negative units of instrument id " +
          std::to_string(key.second));
    }
    if (b.reserved < 0 || b.reserved > b.held) {
      return Status::FailedPrecondition(
          "settle: account id " + std::to_string(key.first) +
          " reservation of instrument id " + std::to_string(key.second) +
          " is " + std::to_string(b.reserved) + ", outside 0.." +
          std::to_string(b.held));
    }
    s = im.PutHolding(txn, AccountId(key.first), InstrumentId(key.second), b);
    if (!s.ok()) {
      return s;
    }
  }
  for (const auto& [account, delta] : cash) {
    Balance b;
    s = im.GetCash(txn, AccountId(account), &b);
    if (!s.ok()) {
      return s;
    }
    b.held += delta;
    if (auto it = cash_res.find(account); it != cash_res.end()) {
      b.reserved = it->second;
    }
    if (b.held < 0) {
      return Status::FailedPrecondition("settle: account id " +
                                        std::to_string(account) +
                                        " would hold negative cash");
    }
    if (b.reserved < 0 || b.reserved > b.held) {
      return Status::FailedPrecondition(
          "settle: account id " + std::to_string(account) +
          " cash reservation " + std::to_string(b.reserved) + " outside 0.." +
          std::to_string(b.held));
    }
    s = im.PutCash(txn, AccountId(account), b);
    if (!s.ok()) {
      return s;
    }
  }
  s = txn.Put(im.dbi_[kMetaDb], "journal_position",
              ValueWriter(RecordType::kJournalPosition)
                  .U64(batch.journal_position)
                  .Encoded());
  if (!s.ok()) {
    return s;
  }

  // The audit entry names the settled trades and a digest of their records,
  // so that AuditVerify can detect an altered trade record.
  std::array<unsigned char, 32> digest{};
  crypto_generichash(
      digest.data(), digest.size(),
      reinterpret_cast<const unsigned char*>(digest_input.data()),
      digest_input.size(), nullptr, 0);
  std::array<char, 65> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  std::string args =
      "{\"journal_position\":" + std::to_string(batch.journal_position) +
      ",\"trades\":[" + settled_ids +
      "],\"skipped\":" + std::to_string(skipped) +
      ",\"reservations\":" + std::to_string(batch.reservations.size()) +
      ",\"digest\":\"" + hex.data() + "\"}";
  s = im.AppendAudit(ctx, "settle", args);
  if (!s.ok()) {
    return s;
  }
  return txn.Commit();
}

Result<std::uint64_t> Registry::AppliedJournalPosition() const {
  std::uint64_t position = 0;
  Impl& im = *impl_;
  Status s = im.Read("journal position", [&](const Txn& txn) -> Status {
    std::string_view v;
    bool found = false;
    Status st = txn.Get(im.dbi_[kMetaDb], "journal_position", &v, &found);
    if (!st.ok() || !found) {
      return st;
    }
    ValueReader r(v, RecordType::kJournalPosition, "journal position");
    r.U64(&position);
    return r.status();
  });
  if (!s.ok()) {
    return s;
  }
  return position;
}

// ---------------------------------------------------------------- writes

Status Registry::AddInstrument(const InstrumentSpec& spec) {
  if (!ValidSymbol(spec.symbol)) {
    return Status::InvalidArgument("instrument add: symbol '" + spec.symbol +
                                   "' must be 1..16 of A-Z, 0-9, '-'");
  }
  if (spec.kind != InstrumentKind::kAllowance &&
      spec.kind != InstrumentKind::kOffset) {
    return Status::InvalidArgument("instrument add: unknown kind");
  }
  if (!ValidYear(spec.vintage)) {
    return Status::InvalidArgument("instrument add: vintage " +
                                   std::to_string(spec.vintage) +
                                   " outside 2000..2100");
  }
  Status s = CheckPositive(spec.tick.value(), "instrument add: tick");
  if (!s.ok()) {
    return s;
  }
  s = CheckPositive(spec.max_order_qty.value(),
                    "instrument add: max order quantity");
  if (!s.ok()) {
    return s;
  }
  Impl& im = *impl_;
  return im.Write(
      "instrument add", [&](WriteContext& ctx, std::string* args) -> Status {
        InstrumentInfo existing;
        Status st = im.FindInstrument(ctx.txn, spec.symbol, &existing);
        if (st.ok()) {
          return Status::AlreadyExists("instrument add: '" + spec.symbol +
                                       "' already exists");
        }
        if (st.code() != StatusCode::kNotFound) {
          return st;
        }
        std::uint32_t id = 0;
        st = im.NextId(ctx.txn, kInstrumentsDb, &id);
        if (!st.ok()) {
          return st;
        }
        st = im.PutInstrument(ctx.txn, InstrumentInfo{InstrumentId(id), spec});
        if (!st.ok()) {
          return st;
        }
        *args =
            "{\"symbol\":" + Json(spec.symbol) +
            ",\"id\":" + std::to_string(id) + ",\"kind\":\"" +
            KindName(spec.kind) +
            "\",\"vintage\":" + std::to_string(spec.vintage) +
            ",\"tick_tiyn\":" + std::to_string(spec.tick.value()) +
            ",\"max_order_qty\":" + std::to_string(spec.max_order_qty.value()) +
            "}";
        return Status::Ok();
      });
}

Status Registry::AddCompany(const CompanySpec& spec) {
  if (!ValidId(spec.id)) {
    return Status::InvalidArgument("company add: id '" + spec.id +
                                   "' must be 1..32 of A-Z a-z 0-9 . _ -");
  }
  if (!ValidText(spec.name)) {
    return Status::InvalidArgument(
        "company add: name must be 1..200 printable characters");
  }
  if (!spec.sector.empty() && !ValidText(spec.sector, 64)) {
    return Status::InvalidArgument("company add: malformed sector");
  }
  if (spec.holding_limit) {
    Status s = CheckPositive(spec.holding_limit->value(),
                             "company add: holding limit");
    if (!s.ok()) {
      return s;
    }
  }
  if (!spec.bin.empty() && !IsValidBin(spec.bin)) {
    return Status::InvalidArgument("company add: BIN '" + spec.bin +
                                   "' is not 12 digits with a valid check "
                                   "digit");
  }
  Impl& im = *impl_;
  return im.Write("company add",
                  [&](WriteContext& ctx, std::string* args) -> Status {
                    CompanyInfo existing;
                    Status st = im.FindAccount(ctx.txn, spec.id, &existing);
                    if (st.ok()) {
                      return Status::AlreadyExists("company add: '" + spec.id +
                                                   "' already exists");
                    }
                    if (st.code() != StatusCode::kNotFound) {
                      return st;
                    }
                    std::uint32_t id = 0;
                    st = im.NextId(ctx.txn, kAccountsDb, &id);
                    if (!st.ok()) {
                      return st;
                    }
                    CompanyInfo info;
                    info.account = AccountId(id);
                    info.spec = spec;
                    st = im.PutAccount(ctx.txn, info);
                    if (!st.ok()) {
                      return st;
                    }
                    *args = "{\"company\":" + Json(spec.id) +
                            ",\"account\":" + std::to_string(id) +
                            ",\"name\":" + Json(spec.name) + "}";
                    return Status::Ok();
                  });
}

Status Registry::AddBroker(const BrokerSpec& spec) {
  if (!ValidId(spec.comp_id)) {
    return Status::InvalidArgument("broker add: comp id '" + spec.comp_id +
                                   "' must be 1..32 of A-Z a-z 0-9 . _ -");
  }
  if (spec.password.size() < 8 || spec.password.size() > 256) {
    return Status::InvalidArgument("broker add: password must be 8..256 bytes");
  }
  // Hash outside the write transaction: it is deliberately slow.
  std::array<char, crypto_pwhash_STRBYTES> hash{};
  if (crypto_pwhash_str(hash.data(), spec.password.data(), spec.password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Status::Internal("broker add: password hashing ran out of memory");
  }
  Impl& im = *impl_;
  return im.Write(
      "broker add", [&](WriteContext& ctx, std::string* args) -> Status {
        std::string_view v;
        bool found = false;
        Status st =
            ctx.txn.Get(im.dbi_[kBrokerNamesDb], spec.comp_id, &v, &found);
        if (!st.ok()) {
          return st;
        }
        if (found) {
          return Status::AlreadyExists("broker add: '" + spec.comp_id +
                                       "' already exists");
        }
        std::uint32_t id = 0;
        st = im.NextId(ctx.txn, kBrokersDb, &id);
        if (!st.ok()) {
          return st;
        }
        st = ctx.txn.Put(im.dbi_[kBrokersDb], Impl::IdKey(id),
                         ValueWriter(RecordType::kBroker)
                             .Str(spec.comp_id)
                             .Str(hash.data())
                             .U8(spec.cancel_on_disconnect ? 1 : 0)
                             .Encoded());
        if (!st.ok()) {
          return st;
        }
        st = ctx.txn.Put(im.dbi_[kBrokerNamesDb], spec.comp_id,
                         ValueWriter(RecordType::kIndex).U32(id).Encoded());
        if (!st.ok()) {
          return st;
        }
        // The password hash stays out of the audit log.
        *args = "{\"comp_id\":" + Json(spec.comp_id) +
                ",\"broker\":" + std::to_string(id) +
                ",\"cancel_on_disconnect\":" +
                (spec.cancel_on_disconnect ? "true" : "false") + "}";
        return Status::Ok();
      });
}

Status Registry::EntitleBroker(std::string_view comp_id,
                               std::string_view account) {
  Impl& im = *impl_;
  return im.Write(
      "broker entitle", [&](WriteContext& ctx, std::string* args) -> Status {
        std::string_view v;
        bool found = false;
        Status st = ctx.txn.Get(im.dbi_[kBrokerNamesDb], comp_id, &v, &found);
        if (!st.ok()) {
          return st;
        }
        if (!found) {
          return Status::NotFound("broker entitle: unknown broker '" +
                                  std::string(comp_id) + "'");
        }
        ValueReader r(v, RecordType::kIndex, "broker index");
        std::uint32_t broker = 0;
        r.U32(&broker);
        if (!r.ok()) {
          return r.status();
        }
        CompanyInfo company;
        st = im.FindAccount(ctx.txn, account, &company);
        if (!st.ok()) {
          return Status(st.code(), "broker entitle: " + st.message());
        }
        bool inserted = false;
        st = ctx.txn.Insert(im.dbi_[kEntitlementsDb],
                            Impl::PairKey(broker, company.account.value()),
                            ValueWriter(RecordType::kEntitlement).Encoded(),
                            &inserted);
        if (!st.ok()) {
          return st;
        }
        if (!inserted) {
          return Status::AlreadyExists(
              "broker entitle: '" + std::string(comp_id) +
              "' is already entitled to '" + std::string(account) + "'");
        }
        *args = "{\"comp_id\":" + Json(comp_id) +
                ",\"account\":" + Json(account) + "}";
        return Status::Ok();
      });
}

Status Registry::AddVerifier(std::string_view id, std::string_view name) {
  if (!ValidId(id)) {
    return Status::InvalidArgument("verifier add: id '" + std::string(id) +
                                   "' must be 1..32 of A-Z a-z 0-9 . _ -");
  }
  if (!ValidText(name)) {
    return Status::InvalidArgument(
        "verifier add: name must be 1..200 printable characters");
  }
  Impl& im = *impl_;
  return im.Write(
      "verifier add", [&](WriteContext& ctx, std::string* args) -> Status {
        bool inserted = false;
        Status st = ctx.txn.Insert(
            im.dbi_[kVerifiersDb], id,
            ValueWriter(RecordType::kVerifier).Str(name).Encoded(), &inserted);
        if (!st.ok()) {
          return st;
        }
        if (!inserted) {
          return Status::AlreadyExists("verifier add: '" + std::string(id) +
                                       "' already exists");
        }
        *args = "{\"verifier\":" + Json(id) + ",\"name\":" + Json(name) + "}";
        return Status::Ok();
      });
}

namespace {

std::string EncodePolicy(const Policy& p) {
  return ValueWriter(RecordType::kPolicy)
      .I64(p.offset_share_bp)
      .I64(p.penalty_per_tonne.value())
      .I64(p.gwp_co2)
      .I64(p.gwp_ch4)
      .I64(p.gwp_n2o)
      .Encoded();
}

Status ReadPolicy(const Registry::Impl& im, const Txn& txn, Policy* p) {
  std::string_view v;
  bool found = false;
  Status s = txn.Get(im.dbi_[kMetaDb], "policy", &v, &found);
  if (!s.ok()) {
    return s;
  }
  *p = Policy{};
  if (!found) {
    return Status::Ok();
  }
  ValueReader r(v, RecordType::kPolicy, "policy record");
  std::int64_t penalty = 0;
  r.I64(&p->offset_share_bp);
  r.I64(&penalty);
  r.I64(&p->gwp_co2);
  r.I64(&p->gwp_ch4);
  r.I64(&p->gwp_n2o);
  p->penalty_per_tonne = Cash(penalty);
  return r.status();
}

}  // namespace

Status Registry::SetPolicy(const Policy& policy) {
  if (policy.offset_share_bp < 0 || policy.offset_share_bp > 10'000) {
    return Status::InvalidArgument(
        "policy set: offset share must be 0..10000 basis points");
  }
  if (policy.penalty_per_tonne.value() < 0 ||
      policy.penalty_per_tonne.value() > 1'000'000'000'000) {
    return Status::InvalidArgument(
        "policy set: penalty must be 0..10,000,000,000.00 KZT per tonne");
  }
  for (std::int64_t g : {policy.gwp_co2, policy.gwp_ch4, policy.gwp_n2o}) {
    if (g < 1 || g > 100'000) {
      return Status::InvalidArgument("policy set: GWP must be 1..100000");
    }
  }
  Impl& im = *impl_;
  return im.Write(
      "policy set", [&](WriteContext& ctx, std::string* args) -> Status {
        Status st =
            ctx.txn.Put(im.dbi_[kMetaDb], "policy", EncodePolicy(policy));
        if (!st.ok()) {
          return st;
        }
        *args =
            "{\"offset_share_bp\":" + std::to_string(policy.offset_share_bp) +
            ",\"penalty_per_tonne_tiyn\":" +
            std::to_string(policy.penalty_per_tonne.value()) + ",\"gwp\":[" +
            std::to_string(policy.gwp_co2) + "," +
            std::to_string(policy.gwp_ch4) + "," +
            std::to_string(policy.gwp_n2o) + "]}";
        return Status::Ok();
      });
}

Result<Policy> Registry::GetPolicy() const {
  Policy p;
  Status s = impl_->Read(
      "policy", [&](const Txn& txn) { return ReadPolicy(*impl_, txn, &p); });
  if (!s.ok()) {
    return s;
  }
  return p;
}

Status Registry::IssueUnits(std::string_view symbol, std::string_view account,
                            Quantity qty, IssueReason reason) {
  Status s = CheckPositive(qty.value(), "issue: quantity");
  if (!s.ok()) {
    return s;
  }
  Impl& im = *impl_;
  return im.Write("issue", [&](WriteContext& ctx, std::string* args) -> Status {
    InstrumentInfo inst;
    Status st = im.FindInstrument(ctx.txn, symbol, &inst);
    if (!st.ok()) {
      return Status(st.code(), "issue: " + st.message());
    }
    CompanyInfo company;
    st = im.FindAccount(ctx.txn, account, &company);
    if (!st.ok()) {
      return Status(st.code(), "issue: " + st.message());
    }
    if (reason == IssueReason::kOffsetProject &&
        inst.spec.kind != InstrumentKind::kOffset) {
      return Status::InvalidArgument(
          "issue: reason offset-project needs an "
          "offset instrument, '" +
          std::string(symbol) + "' is an allowance");
    }
    Balance b;
    st = im.GetHolding(ctx.txn, company.account, inst.id, &b);
    if (!st.ok()) {
      return st;
    }
    if (b.held + qty.value() > kMaxAmount) {
      return Status::InvalidArgument("issue: holding would exceed 10^15 units");
    }
    b.held += qty.value();
    st = im.PutHolding(ctx.txn, company.account, inst.id, b);
    if (!st.ok()) {
      return st;
    }
    st = im.AddTotal(ctx, TotalKind::kIssued, inst.id.value(), qty.value());
    if (!st.ok()) {
      return st;
    }
    *args = "{\"symbol\":" + Json(symbol) + ",\"account\":" + Json(account) +
            ",\"qty\":" + std::to_string(qty.value()) + ",\"reason\":\"" +
            ReasonName(reason) + "\"}";
    return Status::Ok();
  });
}

Status Registry::Transfer(std::string_view symbol, std::string_view from,
                          std::string_view to, Quantity qty) {
  Status s = CheckPositive(qty.value(), "transfer: quantity");
  if (!s.ok()) {
    return s;
  }
  if (from == to) {
    return Status::InvalidArgument(
        "transfer: source and destination are the "
        "same account");
  }
  Impl& im = *impl_;
  return im.Write(
      "transfer", [&](WriteContext& ctx, std::string* args) -> Status {
        InstrumentInfo inst;
        Status st = im.FindInstrument(ctx.txn, symbol, &inst);
        if (!st.ok()) {
          return Status(st.code(), "transfer: " + st.message());
        }
        CompanyInfo src;
        CompanyInfo dst;
        st = im.FindAccount(ctx.txn, from, &src);
        if (!st.ok()) {
          return Status(st.code(), "transfer: " + st.message());
        }
        st = im.FindAccount(ctx.txn, to, &dst);
        if (!st.ok()) {
          return Status(st.code(), "transfer: " + st.message());
        }
        Balance a;
        Balance b;
        st = im.GetHolding(ctx.txn, src.account, inst.id, &a);
        if (!st.ok()) {
          return st;
        }
        st = im.GetHolding(ctx.txn, dst.account, inst.id, &b);
        if (!st.ok()) {
          return st;
        }
        if (a.held - a.reserved < qty.value()) {
          return Status::FailedPrecondition(
              "transfer: insufficient free " + std::string(symbol) +
              " units in '" + std::string(from) + "': free " +
              std::to_string(a.held - a.reserved) + ", needed " +
              std::to_string(qty.value()));
        }
        if (dst.spec.holding_limit &&
            b.held + qty.value() > dst.spec.holding_limit->value()) {
          return Status::FailedPrecondition(
              "transfer: '" + std::string(to) +
              "' would exceed its holding limit "
              "of " +
              std::to_string(dst.spec.holding_limit->value()) + " units");
        }
        a.held -= qty.value();
        b.held += qty.value();
        st = im.PutHolding(ctx.txn, src.account, inst.id, a);
        if (!st.ok()) {
          return st;
        }
        st = im.PutHolding(ctx.txn, dst.account, inst.id, b);
        if (!st.ok()) {
          return st;
        }
        *args = "{\"symbol\":" + Json(symbol) + ",\"from\":" + Json(from) +
                ",\"to\":" + Json(to) +
                ",\"qty\":" + std::to_string(qty.value()) + "}";
        return Status::Ok();
      });
}

namespace {

// A cash deposit (kind kDeposited) or withdrawal (kWithdrawn) as one audited
// write: checks the amount, then the account, then the balance it would leave.
Status ChangeCash(Registry::Impl& im, std::string_view op,
                  std::string_view account, Cash amount, TotalKind kind) {
  const std::string what(op);
  Status s = CheckPositive(amount.value(), what + ": amount");
  if (!s.ok()) {
    return s;
  }
  const bool deposit = kind == TotalKind::kDeposited;
  return im.Write(op, [&](WriteContext& ctx, std::string* args) -> Status {
    CompanyInfo company;
    Status st = im.FindAccount(ctx.txn, account, &company);
    if (!st.ok()) {
      return Status(st.code(), what + ": " + st.message());
    }
    Balance b;
    st = im.GetCash(ctx.txn, company.account, &b);
    if (!st.ok()) {
      return st;
    }
    if (deposit && b.held + amount.value() > kMaxAmount) {
      return Status::InvalidArgument(what +
                                     ": balance would exceed 10^15 tiyn");
    }
    if (!deposit && b.held - b.reserved < amount.value()) {
      return Status::FailedPrecondition(
          what + ": insufficient free cash in '" + std::string(account) +
          "': free " + FormatCash(Cash(b.held - b.reserved)) + " KZT, needed " +
          FormatCash(amount) + " KZT");
    }
    b.held += deposit ? amount.value() : -amount.value();
    st = im.PutCash(ctx.txn, company.account, b);
    if (!st.ok()) {
      return st;
    }
    st = im.AddTotal(ctx, kind, 0, amount.value());
    if (!st.ok()) {
      return st;
    }
    *args = "{\"account\":" + Json(account) +
            ",\"amount_tiyn\":" + std::to_string(amount.value()) + "}";
    return Status::Ok();
  });
}

}  // namespace

Status Registry::DepositCash(std::string_view account, Cash amount) {
  return ChangeCash(*impl_, "cash deposit", account, amount,
                    TotalKind::kDeposited);
}

Status Registry::WithdrawCash(std::string_view account, Cash amount) {
  return ChangeCash(*impl_, "cash withdraw", account, amount,
                    TotalKind::kWithdrawn);
}

Status Registry::Surrender(std::string_view account, int year,
                           std::string_view symbol, Quantity qty) {
  Status s = CheckPositive(qty.value(), "surrender: quantity");
  if (!s.ok()) {
    return s;
  }
  if (!ValidYear(year)) {
    return Status::InvalidArgument("surrender: year outside 2000..2100");
  }
  Impl& im = *impl_;
  return im.Write(
      "surrender", [&](WriteContext& ctx, std::string* args) -> Status {
        InstrumentInfo inst;
        Status st = im.FindInstrument(ctx.txn, symbol, &inst);
        if (!st.ok()) {
          return Status(st.code(), "surrender: " + st.message());
        }
        CompanyInfo company;
        st = im.FindAccount(ctx.txn, account, &company);
        if (!st.ok()) {
          return Status(st.code(), "surrender: " + st.message());
        }
        if (inst.spec.kind == InstrumentKind::kAllowance &&
            inst.spec.vintage > year) {
          return Status::FailedPrecondition(
              "surrender: " + std::string(symbol) + " has vintage " +
              std::to_string(inst.spec.vintage) + ", later than " +
              std::to_string(year));
        }
        if (inst.spec.kind == InstrumentKind::kOffset) {
          Policy policy;
          st = ReadPolicy(im, ctx.txn, &policy);
          if (!st.ok()) {
            return st;
          }
          std::optional<std::int64_t> verified;
          st = im.VerifiedEmissions(ctx.txn, company.account, year, &verified);
          if (!st.ok()) {
            return st;
          }
          if (!verified) {
            return Status::FailedPrecondition(
                "surrender: offsets need verified emissions for " +
                std::to_string(year) + " of '" + std::string(account) + "'");
          }
          // Offsets already surrendered for the year, all offset instruments.
          std::int64_t offsets = 0;
          st = ctx.txn.Scan(
              im.dbi_[kSurrendersDb],
              Impl::YearKey(company.account.value(), year),
              [&](std::string_view k, std::string_view v, bool*) -> Status {
                KeyReader kr(k);
                std::uint32_t a = 0;
                std::uint16_t y = 0;
                std::uint32_t i = 0;
                if (!kr.U32(&a) || !kr.U16(&y) || !kr.U32(&i)) {
                  return Status::Corruption("malformed surrender key");
                }
                InstrumentInfo other;
                Status s2 = im.GetInstrument(ctx.txn, InstrumentId(i), &other);
                if (!s2.ok()) {
                  return s2;
                }
                ValueReader r(v, RecordType::kSurrender, "surrender record");
                std::int64_t q = 0;
                r.I64(&q);
                if (!r.ok()) {
                  return r.status();
                }
                if (other.spec.kind == InstrumentKind::kOffset) {
                  offsets += q;
                }
                return Status::Ok();
              });
          if (!st.ok()) {
            return st;
          }
          const std::int64_t limit =
              static_cast<std::int64_t>(static_cast<__int128>(*verified) *
                                        policy.offset_share_bp / 10'000);
          if (offsets + qty.value() > limit) {
            return Status::FailedPrecondition(
                "surrender: offsets for " + std::to_string(year) + " of '" +
                std::string(account) + "' would reach " +
                std::to_string(offsets + qty.value()) +
                " t, above the limit of " + std::to_string(limit) + " t (" +
                std::to_string(policy.offset_share_bp) +
                " bp of verified emissions)");
          }
        }
        Balance b;
        st = im.GetHolding(ctx.txn, company.account, inst.id, &b);
        if (!st.ok()) {
          return st;
        }
        if (b.held - b.reserved < qty.value()) {
          return Status::FailedPrecondition(
              "surrender: insufficient free " + std::string(symbol) +
              " units in '" + std::string(account) + "': free " +
              std::to_string(b.held - b.reserved) + ", needed " +
              std::to_string(qty.value()));
        }
        b.held -= qty.value();
        st = im.PutHolding(ctx.txn, company.account, inst.id, b);
        if (!st.ok()) {
          return st;
        }
        const std::string key = KeyWriter()
                                    .U32(company.account.value())
                                    .U16(static_cast<std::uint16_t>(year))
                                    .U32(inst.id.value())
                                    .Encoded();
        std::string_view v;
        bool found = false;
        st = ctx.txn.Get(im.dbi_[kSurrendersDb], key, &v, &found);
        if (!st.ok()) {
          return st;
        }
        std::int64_t so_far = 0;
        if (found) {
          ValueReader r(v, RecordType::kSurrender, "surrender record");
          r.I64(&so_far);
          if (!r.ok()) {
            return r.status();
          }
        }
        st = ctx.txn.Put(im.dbi_[kSurrendersDb], key,
                         ValueWriter(RecordType::kSurrender)
                             .I64(so_far + qty.value())
                             .Encoded());
        if (!st.ok()) {
          return st;
        }
        st = im.AddTotal(ctx, TotalKind::kSurrendered, inst.id.value(),
                         qty.value());
        if (!st.ok()) {
          return st;
        }
        *args = "{\"account\":" + Json(account) +
                ",\"year\":" + std::to_string(year) +
                ",\"symbol\":" + Json(symbol) +
                ",\"qty\":" + std::to_string(qty.value()) + "}";
        return Status::Ok();
      });
}

Status Registry::CancelUnits(std::string_view symbol, std::string_view account,
                             Quantity qty) {
  Status s = CheckPositive(qty.value(), "cancel: quantity");
  if (!s.ok()) {
    return s;
  }
  Impl& im = *impl_;
  return im.Write("cancel",
                  [&](WriteContext& ctx, std::string* args) -> Status {
                    InstrumentInfo inst;
                    Status st = im.FindInstrument(ctx.txn, symbol, &inst);
                    if (!st.ok()) {
                      return Status(st.code(), "cancel: " + st.message());
                    }
                    CompanyInfo company;
                    st = im.FindAccount(ctx.txn, account, &company);
                    if (!st.ok()) {
                      return Status(st.code(), "cancel: " + st.message());
                    }
                    Balance b;
                    st = im.GetHolding(ctx.txn, company.account, inst.id, &b);
                    if (!st.ok()) {
                      return st;
                    }
                    if (b.held - b.reserved < qty.value()) {
                      return Status::FailedPrecondition(
                          "cancel: insufficient free " + std::string(symbol) +
                          " units in '" + std::string(account) + "': free " +
                          std::to_string(b.held - b.reserved) + ", needed " +
                          std::to_string(qty.value()));
                    }
                    b.held -= qty.value();
                    st = im.PutHolding(ctx.txn, company.account, inst.id, b);
                    if (!st.ok()) {
                      return st;
                    }
                    st = im.AddTotal(ctx, TotalKind::kCancelled,
                                     inst.id.value(), qty.value());
                    if (!st.ok()) {
                      return st;
                    }
                    *args = "{\"symbol\":" + Json(symbol) +
                            ",\"account\":" + Json(account) +
                            ",\"qty\":" + std::to_string(qty.value()) + "}";
                    return Status::Ok();
                  });
}

// ---------------------------------------------------------------- MRV

Result<EmissionsReportView> Registry::SubmitEmissions(
    std::string_view account, int year, std::string_view csv,
    std::string_view source_name) {
  if (!ValidYear(year)) {
    return Status::InvalidArgument("emissions submit: year outside 2000..2100");
  }
  Impl& im = *impl_;
  EmissionsReportView result;
  Status s = im.Write(
      "emissions submit", [&](WriteContext& ctx, std::string* args) -> Status {
        CompanyInfo company;
        Status st = im.FindAccount(ctx.txn, account, &company);
        if (!st.ok()) {
          return Status(st.code(), "emissions submit: " + st.message());
        }
        Policy policy;
        st = ReadPolicy(im, ctx.txn, &policy);
        if (!st.ok()) {
          return st;
        }
        ComputedReport computed;
        st = ComputeEmissions(csv, source_name, policy, &computed);
        if (!st.ok()) {
          return Status(st.code(), "emissions submit: " + st.message());
        }
        for (const EmissionsLine& line : computed.lines) {
          InstallationRec inst;
          bool found = false;
          st = im.GetInstallation(ctx.txn, line.installation, &inst, &found);
          if (!st.ok()) {
            return st;
          }
          if (!found || inst.account != company.account) {
            return Status::InvalidArgument(
                "emissions submit: " + std::string(source_name) + " line " +
                std::to_string(line.csv_line) +
                ", column 'installation_id': '" + line.installation +
                "' is not an installation of '" + std::string(account) + "'");
          }
        }
        std::vector<EmissionsRec> existing;
        st = im.LoadEmissions(ctx.txn, company.account, year, &existing);
        if (!st.ok()) {
          return st;
        }
        std::uint32_t version = 1;
        if (!existing.empty()) {
          EmissionsRec& last = existing.back();
          version = last.view.version + 1;
          if (last.view.state == EmissionsState::kSubmitted) {
            last.view.state = EmissionsState::kSuperseded;
            last.decided_ns = NowNanos();
            st = im.PutEmissions(ctx.txn, company.account, last);
            if (!st.ok()) {
              return st;
            }
          }
        }
        EmissionsRec rec;
        rec.view.company = company.spec.id;
        rec.view.year = year;
        rec.view.version = version;
        rec.view.state = EmissionsState::kSubmitted;
        rec.view.total = Quantity(computed.total_t);
        rec.view.source = "csv:" + std::string(source_name);
        rec.submitted_ns = NowNanos();
        for (const EmissionsLine& line : computed.lines) {
          rec.view.lines.push_back(EmissionsLineView{
              line.installation, line.source_stream, line.gas, line.co2e_kg});
          rec.inputs.push_back(EmissionsRec::Input{
              line.activity_unit, line.activity_milli, line.factor_micro,
              line.oxidation_e4, line.gwp});
        }
        st = im.PutEmissions(ctx.txn, company.account, rec);
        if (!st.ok()) {
          return st;
        }
        result = rec.view;
        *args = "{\"account\":" + Json(account) +
                ",\"year\":" + std::to_string(year) +
                ",\"version\":" + std::to_string(version) +
                ",\"total_t\":" + std::to_string(computed.total_t) +
                ",\"lines\":" + std::to_string(computed.lines.size()) +
                ",\"source\":" + Json(rec.view.source) + "}";
        return Status::Ok();
      });
  if (!s.ok()) {
    return s;
  }
  return result;
}

namespace {

Status DecideEmissions(Registry::Impl& im, std::string_view op,
                       std::string_view account, int year,
                       std::string_view verifier, std::string_view reason,
                       EmissionsState decision) {
  if (decision == EmissionsState::kRejected && !ValidText(reason, 500)) {
    return Status::InvalidArgument(std::string(op) +
                                   ": a reason (1..500 printable characters) "
                                   "is required");
  }
  return im.Write(op, [&](WriteContext& ctx, std::string* args) -> Status {
    CompanyInfo company;
    Status st = im.FindAccount(ctx.txn, account, &company);
    if (!st.ok()) {
      return Status(st.code(), std::string(op) + ": " + st.message());
    }
    VerifierInfo v;
    st = im.FindVerifier(ctx.txn, verifier, &v);
    if (!st.ok()) {
      return Status(st.code(), std::string(op) + ": " + st.message());
    }
    std::vector<EmissionsRec> recs;
    st = im.LoadEmissions(ctx.txn, company.account, year, &recs);
    if (!st.ok()) {
      return st;
    }
    if (recs.empty() || recs.back().view.state != EmissionsState::kSubmitted) {
      return Status::FailedPrecondition(
          std::string(op) + ": no submitted report of '" +
          std::string(account) + "' for " + std::to_string(year) +
          " awaits a decision");
    }
    EmissionsRec& rec = recs.back();
    rec.view.state = decision;
    rec.view.verifier = std::string(verifier);
    rec.view.reason = std::string(reason);
    rec.decided_ns = NowNanos();
    st = im.PutEmissions(ctx.txn, company.account, rec);
    if (!st.ok()) {
      return st;
    }
    *args =
        "{\"account\":" + Json(account) + ",\"year\":" + std::to_string(year) +
        ",\"version\":" + std::to_string(rec.view.version) +
        ",\"verifier\":" + Json(verifier) +
        ",\"total_t\":" + std::to_string(rec.view.total.value()) +
        (decision == EmissionsState::kRejected ? ",\"reason\":" + Json(reason)
                                               : std::string()) +
        "}";
    return Status::Ok();
  });
}

}  // namespace

Status Registry::VerifyEmissions(std::string_view account, int year,
                                 std::string_view verifier) {
  return DecideEmissions(*impl_, "emissions verify", account, year, verifier,
                         "", EmissionsState::kVerified);
}

Status Registry::RejectEmissions(std::string_view account, int year,
                                 std::string_view verifier,
                                 std::string_view reason) {
  return DecideEmissions(*impl_, "emissions reject", account, year, verifier,
                         reason, EmissionsState::kRejected);
}

// ---------------------------------------------------------------- reads

Result<std::vector<InstrumentInfo>> Registry::Instruments() const {
  std::vector<InstrumentInfo> out;
  Impl& im = *impl_;
  Status s = im.Read("instruments", [&](const Txn& txn) {
    return im.ForEachInstrument(txn, [&](const InstrumentInfo& info) {
      out.push_back(info);
      return Status::Ok();
    });
  });
  if (!s.ok()) {
    return s;
  }
  return out;
}

Result<std::vector<CompanyInfo>> Registry::Companies() const {
  std::vector<CompanyInfo> out;
  Impl& im = *impl_;
  Status s = im.Read("companies", [&](const Txn& txn) {
    return im.ForEachCompany(txn, [&](const CompanyInfo& company) -> Status {
      CompanyInfo info = company;
      Status st = txn.Scan(
          im.dbi_[kCapsDb], Impl::IdKey(info.account.value()),
          [&](std::string_view ck, std::string_view cv, bool*) -> Status {
            KeyReader ckr(ck);
            std::uint32_t a = 0;
            std::uint16_t y = 0;
            if (!ckr.U32(&a) || !ckr.U16(&y)) {
              return Status::Corruption("bad cap key");
            }
            ValueReader r(cv, RecordType::kCap, "cap record");
            std::int64_t cap = 0;
            r.I64(&cap);
            if (!r.ok()) {
              return r.status();
            }
            info.caps.emplace_back(y, Quantity(cap));
            return Status::Ok();
          });
      if (!st.ok()) {
        return st;
      }
      out.push_back(std::move(info));
      return Status::Ok();
    });
  });
  if (!s.ok()) {
    return s;
  }
  return out;
}

Result<std::vector<VerifierInfo>> Registry::Verifiers() const {
  std::vector<VerifierInfo> out;
  Impl& im = *impl_;
  Status s = im.Read("verifiers", [&](const Txn& txn) {
    return txn.Scan(im.dbi_[kVerifiersDb], "",
                    [&](std::string_view k, std::string_view v, bool*) {
                      ValueReader r(v, RecordType::kVerifier, "verifier");
                      VerifierInfo info{std::string(k), {}};
                      r.Str(&info.name);
                      out.push_back(std::move(info));
                      return r.status();
                    });
  });
  if (!s.ok()) {
    return s;
  }
  return out;
}

Result<std::vector<AccountHoldings>> Registry::Holdings(
    std::optional<std::string_view> account) const {
  std::vector<AccountHoldings> out;
  Impl& im = *impl_;
  Status s = im.Read("holdings", [&](const Txn& txn) -> Status {
    std::unordered_map<std::uint32_t, std::string> symbols;
    auto one = [&](const CompanyInfo& c) -> Status {
      AccountHoldings h;
      h.account = c.account;
      h.name = c.spec.id;
      Status st = txn.Scan(
          im.dbi_[kHoldingsDb], Impl::IdKey(c.account.value()),
          [&](std::string_view k, std::string_view v, bool*) -> Status {
            KeyReader kr(k);
            std::uint32_t a = 0;
            std::uint32_t i = 0;
            if (!kr.U32(&a) || !kr.U32(&i)) {
              return Status::Corruption("malformed holding key");
            }
            Balance b;
            Status s2 = DecodeBalance(v, RecordType::kHolding, &b);
            if (!s2.ok()) {
              return s2;
            }
            if (b.held == 0 && b.reserved == 0) {
              return Status::Ok();
            }
            auto it = symbols.find(i);
            if (it == symbols.end()) {
              InstrumentInfo info;
              s2 = im.GetInstrument(txn, InstrumentId(i), &info);
              if (!s2.ok()) {
                return s2;
              }
              it = symbols.emplace(i, info.spec.symbol).first;
            }
            h.units.push_back(UnitsLine{InstrumentId(i), it->second,
                                        Quantity(b.held),
                                        Quantity(b.reserved)});
            return Status::Ok();
          });
      if (!st.ok()) {
        return st;
      }
      Balance cash;
      st = im.GetCash(txn, c.account, &cash);
      if (!st.ok()) {
        return st;
      }
      h.cash_held = Cash(cash.held);
      h.cash_reserved = Cash(cash.reserved);
      out.push_back(std::move(h));
      return Status::Ok();
    };
    if (account) {
      CompanyInfo c;
      Status st = im.FindAccount(txn, *account, &c);
      if (!st.ok()) {
        return Status(st.code(), "holdings: " + st.message());
      }
      return one(c);
    }
    return im.ForEachCompany(txn, one);
  });
  if (!s.ok()) {
    return s;
  }
  return out;
}

Result<std::vector<TradeView>> Registry::Trades(
    const TradeFilter& filter) const {
  std::vector<TradeView> out;
  Impl& im = *impl_;
  Status s = im.Read("trades", [&](const Txn& txn) -> Status {
    std::optional<AccountId> account;
    std::optional<InstrumentId> instrument;
    if (filter.account) {
      CompanyInfo c;
      Status st = im.FindAccount(txn, *filter.account, &c);
      if (!st.ok()) {
        return Status(st.code(), "trades: " + st.message());
      }
      account = c.account;
    }
    if (filter.symbol) {
      InstrumentInfo i;
      Status st = im.FindInstrument(txn, *filter.symbol, &i);
      if (!st.ok()) {
        return Status(st.code(), "trades: " + st.message());
      }
      instrument = i.id;
    }
    std::unordered_map<std::uint32_t, std::string> names;
    std::unordered_map<std::uint32_t, std::string> symbols;
    auto name_of = [&](AccountId id, std::string* name) -> Status {
      auto it = names.find(id.value());
      if (it == names.end()) {
        CompanyInfo c;
        Status st = im.GetAccount(txn, id, &c);
        if (!st.ok()) {
          return st;
        }
        it = names.emplace(id.value(), c.spec.id).first;
      }
      *name = it->second;
      return Status::Ok();
    };
    return txn.Scan(
        im.dbi_[kTradesDb], "",
        [&](std::string_view k, std::string_view v, bool*) -> Status {
          TradeView view;
          Status st = Impl::DecodeTrade(k, v, &view.record);
          if (!st.ok()) {
            return st;
          }
          const TradeRecord& t = view.record;
          if (account && t.buyer != *account && t.seller != *account) {
            return Status::Ok();
          }
          if (instrument && t.instrument != *instrument) {
            return Status::Ok();
          }
          auto it = symbols.find(t.instrument.value());
          if (it == symbols.end()) {
            InstrumentInfo info;
            st = im.GetInstrument(txn, t.instrument, &info);
            if (!st.ok()) {
              return st;
            }
            it = symbols.emplace(t.instrument.value(), info.spec.symbol).first;
          }
          view.symbol = it->second;
          st = name_of(t.buyer, &view.buyer);
          if (!st.ok()) {
            return st;
          }
          st = name_of(t.seller, &view.seller);
          if (!st.ok()) {
            return st;
          }
          out.push_back(std::move(view));
          return Status::Ok();
        });
  });
  if (!s.ok()) {
    return s;
  }
  return out;
}

Result<std::vector<EmissionsReportView>> Registry::EmissionsReports(
    std::string_view account, int year) const {
  std::vector<EmissionsReportView> out;
  Impl& im = *impl_;
  Status s = im.Read("emissions", [&](const Txn& txn) -> Status {
    CompanyInfo c;
    Status st = im.FindAccount(txn, account, &c);
    if (!st.ok()) {
      return Status(st.code(), "emissions: " + st.message());
    }
    std::vector<EmissionsRec> recs;
    st = im.LoadEmissions(txn, c.account, year, &recs);
    if (!st.ok()) {
      return st;
    }
    for (auto& r : recs) {
      out.push_back(std::move(r.view));
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    return s;
  }
  return out;
}

Result<ComplianceReport> Registry::Compliance(int year) const {
  if (!ValidYear(year)) {
    return Status::InvalidArgument("compliance: year outside 2000..2100");
  }
  ComplianceReport report;
  report.year = year;
  Impl& im = *impl_;
  Status s = im.Read("compliance", [&](const Txn& txn) -> Status {
    Policy policy;
    Status st = ReadPolicy(im, txn, &policy);
    if (!st.ok()) {
      return st;
    }
    std::unordered_map<std::uint32_t, InstrumentKind> kinds;
    return im.ForEachCompany(txn, [&](const CompanyInfo& c) -> Status {
      ComplianceLine line;
      line.company = c.spec.id;
      std::optional<std::int64_t> cap;
      Status s2 = im.GetCap(txn, c.account, year, &cap);
      if (!s2.ok()) {
        return s2;
      }
      line.cap = Quantity(cap.value_or(0));
      std::optional<std::int64_t> verified;
      s2 = im.VerifiedEmissions(txn, c.account, year, &verified);
      if (!s2.ok()) {
        return s2;
      }
      line.verified_emissions = Quantity(verified.value_or(0));
      s2 = txn.Scan(
          im.dbi_[kSurrendersDb], Impl::YearKey(c.account.value(), year),
          [&](std::string_view sk, std::string_view sv, bool*) -> Status {
            KeyReader skr(sk);
            std::uint32_t a = 0;
            std::uint16_t y = 0;
            std::uint32_t i = 0;
            if (!skr.U32(&a) || !skr.U16(&y) || !skr.U32(&i)) {
              return Status::Corruption("malformed surrender key");
            }
            auto it = kinds.find(i);
            if (it == kinds.end()) {
              InstrumentInfo info;
              Status s3 = im.GetInstrument(txn, InstrumentId(i), &info);
              if (!s3.ok()) {
                return s3;
              }
              it = kinds.emplace(i, info.spec.kind).first;
            }
            ValueReader r(sv, RecordType::kSurrender, "surrender record");
            std::int64_t q = 0;
            r.I64(&q);
            if (!r.ok()) {
              return r.status();
            }
            if (it->second == InstrumentKind::kOffset) {
              line.surrendered_offset += Quantity(q);
            } else {
              line.surrendered_quota += Quantity(q);
            }
            return Status::Ok();
          });
      if (!s2.ok()) {
        return s2;
      }
      line.surrendered = line.surrendered_quota + line.surrendered_offset;
      if (!verified) {
        line.status = ComplianceStatus::kUnverified;
      } else if (line.surrendered >= line.verified_emissions) {
        line.status = ComplianceStatus::kCompliant;
      } else {
        line.status = ComplianceStatus::kShort;
        line.shortfall = line.verified_emissions - line.surrendered;
        const __int128 penalty =
            static_cast<__int128>(line.shortfall.value()) *
            static_cast<__int128>(policy.penalty_per_tonne.value());
        if (penalty > static_cast<__int128>(kMaxAmount) * 1000) {
          return Status::InvalidArgument("compliance: penalty of '" +
                                         c.spec.id + "' overflows");
        }
        line.penalty = Cash(static_cast<std::int64_t>(penalty));
      }
      report.companies.push_back(std::move(line));
      return Status::Ok();
    });
  });
  if (!s.ok()) {
    return s;
  }
  return report;
}

}  // namespace carbonex::ledger
