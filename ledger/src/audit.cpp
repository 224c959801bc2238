// Registry::AuditVerify: recomputes the audit chain and checks conservation.
#include <sodium.h>

#include <map>
#include <nlohmann/json.hpp>

#include "carbonex/ledger/amounts.h"
#include "carbonex/ledger/registry.h"
#include "registry_impl.h"

namespace carbonex::ledger {
namespace {

constexpr std::size_t kHashSize = 32;

std::string Hex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(),
                 reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  out.pop_back();
  return out;
}

}  // namespace

Result<AuditReport> Registry::AuditVerify() const {
  AuditReport report;
  Impl& im = *impl_;
  Status s = im.Read("audit verify", [&](const Txn& txn) -> Status {
    auto& problems = report.problems;
    // 1. The chain, and the totals recomputed from the entries' deltas.
    std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> replayed;
    std::string prev(kHashSize, '\0');
    std::uint64_t expected_seq = 1;
    Status st = txn.Scan(
        im.dbi_[kAuditDb], "",
        [&](std::string_view k, std::string_view v, bool*) -> Status {
          KeyReader kr(k);
          std::uint64_t seq = 0;
          if (!kr.U64(&seq)) {
            return Status::Corruption("malformed audit key");
          }
          ++report.entries;
          if (seq != expected_seq) {
            problems.push_back("audit entry " + std::to_string(seq) +
                               " out of sequence (expected " +
                               std::to_string(expected_seq) + ")");
          }
          expected_seq = seq + 1;
          if (v.size() < kHashSize) {
            problems.push_back("audit entry " + std::to_string(seq) +
                               " is truncated");
            return Status::Ok();
          }
          const std::string_view body = v.substr(0, v.size() - kHashSize);
          const std::string_view stored = v.substr(v.size() - kHashSize);
          ValueReader r(body, RecordType::kAudit, "audit entry");
          std::int64_t time = 0;
          std::string op;
          std::uint32_t len = 0;
          std::string payload;
          std::string entry_prev;
          r.I64(&time);
          r.Str(&op);
          r.U32(&len);
          r.Raw(len, &payload);
          r.Raw(kHashSize, &entry_prev);
          if (!r.ok() || r.Position() != body.size()) {
            problems.push_back("audit entry " + std::to_string(seq) +
                               " does not decode");
            return Status::Ok();
          }
          if (entry_prev != prev) {
            problems.push_back("audit entry " + std::to_string(seq) +
                               " does not link to its predecessor");
          }
          std::array<unsigned char, kHashSize> hash{};
          crypto_generichash_state state;
          crypto_generichash_init(&state, nullptr, 0, kHashSize);
          crypto_generichash_update(
              &state, reinterpret_cast<const unsigned char*>(k.data()),
              k.size());
          crypto_generichash_update(
              &state, reinterpret_cast<const unsigned char*>(body.data()),
              body.size());
          crypto_generichash_final(&state, hash.data(), hash.size());
          const std::string computed(reinterpret_cast<const char*>(hash.data()),
                                     hash.size());
          if (computed != stored) {
            problems.push_back("audit entry " + std::to_string(seq) + " (" +
                               op + ") hash mismatch");
          }
          prev = std::string(stored);
          auto doc = nlohmann::json::parse(payload, nullptr, false);
          if (doc.is_discarded() || !doc.is_object() ||
              !doc.contains("deltas") || !doc["deltas"].is_array()) {
            problems.push_back("audit entry " + std::to_string(seq) +
                               " has a malformed payload");
            return Status::Ok();
          }
          for (const auto& d : doc["deltas"]) {
            if (!d.is_array() || d.size() != 3 || !d[0].is_number_integer() ||
                !d[1].is_number_integer() || !d[2].is_number_integer()) {
              problems.push_back("audit entry " + std::to_string(seq) +
                                 " has a malformed delta");
              continue;
            }
            replayed[{d[0].get<std::int64_t>(), d[1].get<std::int64_t>()}] +=
                d[2].get<std::int64_t>();
          }
          if (op == "settle") {
            // The settled trades' records must hash to the recorded digest.
            const auto& args = doc["args"];
            std::string input;
            bool ok = args.is_object() && args.contains("trades") &&
                      args["trades"].is_array() && args.contains("digest");
            if (ok) {
              for (const auto& id : args["trades"]) {
                if (!id.is_number_unsigned()) {
                  ok = false;
                  break;
                }
                std::string_view tv;
                bool found = false;
                Status s2 =
                    txn.Get(im.dbi_[kTradesDb],
                            KeyWriter().U64(id.get<std::uint64_t>()).Encoded(),
                            &tv, &found);
                if (!s2.ok()) {
                  return s2;
                }
                if (!found) {
                  problems.push_back(
                      "trade " + std::to_string(id.get<std::uint64_t>()) +
                      " of audit entry " + std::to_string(seq) + " is missing");
                  ok = false;
                  break;
                }
                input.append(tv);
              }
            }
            if (ok) {
              std::array<unsigned char, kHashSize> digest{};
              crypto_generichash(
                  digest.data(), digest.size(),
                  reinterpret_cast<const unsigned char*>(input.data()),
                  input.size(), nullptr, 0);
              const std::string hex = Hex(std::string_view(
                  reinterpret_cast<const char*>(digest.data()), digest.size()));
              if (!args["digest"].is_string() ||
                  args["digest"].get<std::string>() != hex) {
                problems.push_back("trades of audit entry " +
                                   std::to_string(seq) +
                                   " do not match their digest");
              }
            } else if (problems.empty() || problems.back().find("is missing") ==
                                               std::string::npos) {
              problems.push_back("audit entry " + std::to_string(seq) +
                                 " has malformed settle arguments");
            }
          }
          return Status::Ok();
        });
    if (!st.ok()) {
      return st;
    }
    if (report.entries > 0) {
      report.head_hash_hex = Hex(prev);
    }
    // The head record must point at the last entry.
    {
      std::string_view v;
      bool found = false;
      st = txn.Get(im.dbi_[kMetaDb], "audit_head", &v, &found);
      if (!st.ok()) {
        return st;
      }
      if (report.entries > 0) {
        ValueReader r(v, RecordType::kAuditHead, "audit head");
        std::uint64_t seq = 0;
        std::string hash;
        r.U64(&seq);
        r.Raw(kHashSize, &hash);
        if (!found || !r.ok() || seq != expected_seq - 1 || hash != prev) {
          problems.push_back("the audit head does not match the last entry");
        }
      } else if (found) {
        problems.push_back("an audit head exists but the log is empty");
      }
    }
    // 2. Stored totals against the replayed ones.
    std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> stored;
    st = txn.Scan(im.dbi_[kTotalsDb], "",
                  [&](std::string_view k, std::string_view v, bool*) -> Status {
                    KeyReader kr(k.substr(1));
                    std::uint32_t inst = 0;
                    if (k.empty() || !kr.U32(&inst)) {
                      return Status::Corruption("malformed totals key");
                    }
                    ValueReader r(v, RecordType::kTotal, "total record");
                    std::int64_t t = 0;
                    r.I64(&t);
                    if (!r.ok()) {
                      return r.status();
                    }
                    stored[{static_cast<unsigned char>(k[0]), inst}] = t;
                    return Status::Ok();
                  });
    if (!st.ok()) {
      return st;
    }
    for (const auto& [key, value] : replayed) {
      auto it = stored.find(key);
      const std::int64_t have = it == stored.end() ? 0 : it->second;
      if (have != value) {
        problems.push_back("total kind " + std::to_string(key.first) +
                           " of instrument id " + std::to_string(key.second) +
                           " is " + std::to_string(have) +
                           ", the audit log says " + std::to_string(value));
      }
    }
    for (const auto& [key, value] : stored) {
      if (replayed.count(key) == 0 && value != 0) {
        problems.push_back("total kind " + std::to_string(key.first) +
                           " of instrument id " + std::to_string(key.second) +
                           " has no audit entries");
      }
      if (value < 0) {
        problems.push_back("total kind " + std::to_string(key.first) +
                           " is negative");
      }
    }
    auto total = [&](TotalKind kind, std::uint32_t inst) {
      auto it = stored.find({static_cast<std::int64_t>(kind), inst});
      return it == stored.end() ? std::int64_t{0} : it->second;
    };
    // 3. Balances: nothing negative, reservations within holdings, sums.
    std::map<std::uint32_t, std::int64_t> held;
    st = txn.Scan(
        im.dbi_[kHoldingsDb], "",
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
          if (b.held < 0 || b.reserved < 0 || b.reserved > b.held) {
            problems.push_back("holding of account id " + std::to_string(a) +
                               " in instrument id " + std::to_string(i) +
                               " is held " + std::to_string(b.held) +
                               ", reserved " + std::to_string(b.reserved));
          }
          held[i] += b.held;
          return Status::Ok();
        });
    if (!st.ok()) {
      return st;
    }
    st = txn.Scan(
        im.dbi_[kCashDb], "",
        [&](std::string_view k, std::string_view v, bool*) -> Status {
          Balance b;
          Status s2 = DecodeBalance(v, RecordType::kCash, &b);
          if (!s2.ok()) {
            return s2;
          }
          if (b.held < 0 || b.reserved < 0 || b.reserved > b.held) {
            KeyReader kr(k);
            std::uint32_t a = 0;
            kr.U32(&a);
            problems.push_back("cash of account id " + std::to_string(a) +
                               " is held " + std::to_string(b.held) +
                               ", reserved " + std::to_string(b.reserved));
          }
          report.cash_held += Cash(b.held);
          return Status::Ok();
        });
    if (!st.ok()) {
      return st;
    }
    st = im.ForEachInstrument(txn, [&](const InstrumentInfo& info) -> Status {
      const std::uint32_t id = info.id.value();
      ConservationLine line;
      line.symbol = info.spec.symbol;
      line.issued = Quantity(total(TotalKind::kIssued, id));
      line.surrendered = Quantity(total(TotalKind::kSurrendered, id));
      line.cancelled = Quantity(total(TotalKind::kCancelled, id));
      line.held = Quantity(held[id]);
      held.erase(id);
      if (line.issued - line.surrendered - line.cancelled != line.held) {
        problems.push_back(
            line.symbol + ": issued " + std::to_string(line.issued.value()) +
            " - surrendered " + std::to_string(line.surrendered.value()) +
            " - cancelled " + std::to_string(line.cancelled.value()) +
            " != held " + std::to_string(line.held.value()));
      }
      report.instruments.push_back(std::move(line));
      return Status::Ok();
    });
    if (!st.ok()) {
      return st;
    }
    for (const auto& [id, h] : held) {
      problems.push_back("holdings of unknown instrument id " +
                         std::to_string(id) + " (" + std::to_string(h) + ")");
    }
    report.deposited = Cash(total(TotalKind::kDeposited, 0));
    report.withdrawn = Cash(total(TotalKind::kWithdrawn, 0));
    if (report.deposited - report.withdrawn != report.cash_held) {
      problems.push_back("cash: deposited " + FormatCash(report.deposited) +
                         " - withdrawn " + FormatCash(report.withdrawn) +
                         " != held " + FormatCash(report.cash_held));
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    return s;
  }
  return report;
}

}  // namespace carbonex::ledger
