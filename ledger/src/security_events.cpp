// Registry::RecordLogonEvents and Registry::AuditEntries: the server's logon
// records in the audit log, and reading the audit log back.
#include <lmdb.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "carbonex/ledger/registry.h"
#include "registry_impl.h"

namespace carbonex::ledger {
namespace {

constexpr std::size_t kHashSize = 32;
constexpr std::size_t kMaxEvents = 4096;
constexpr std::size_t kMaxCompId = 64;
constexpr std::size_t kMaxAddress = 64;
constexpr std::size_t kMaxReason = 200;

// Cuts s to at most n bytes without splitting a UTF-8 sequence.
std::string Bounded(std::string_view s, std::size_t n) {
  if (s.size() <= n) {
    return std::string(s);
  }
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0U) == 0x80U) {
    --n;
  }
  return std::string(s.substr(0, n));
}

// Decodes one stored audit entry (key: seq; value: body then its hash).
Status DecodeEntry(std::string_view key, std::string_view value,
                   AuditEntryView* out) {
  KeyReader kr(key);
  std::uint64_t seq = 0;
  if (!kr.U64(&seq) || value.size() < kHashSize) {
    return Status::Corruption("malformed audit entry");
  }
  ValueReader r(value.substr(0, value.size() - kHashSize), RecordType::kAudit,
                "audit entry");
  std::int64_t time = 0;
  std::uint32_t len = 0;
  std::string payload;
  r.I64(&time);
  r.Str(&out->op);
  r.U32(&len);
  r.Raw(len, &payload);
  if (!r.ok()) {
    return r.status();
  }
  out->seq = seq;
  out->time = Timestamp(time);
  auto doc = nlohmann::json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("args")) {
    return Status::Corruption("audit entry " + std::to_string(seq) +
                              " has a malformed payload");
  }
  out->args_json = doc["args"].dump(-1, ' ', false,
                                    nlohmann::json::error_handler_t::replace);
  return Status::Ok();
}

}  // namespace

std::string_view LogonOutcomeName(LogonOutcome outcome) {
  switch (outcome) {
    case LogonOutcome::kAccepted:
      return "accepted";
    case LogonOutcome::kRefused:
      return "refused";
    case LogonOutcome::kThrottled:
      return "throttled";
  }
  return "unknown";
}

Status Registry::RecordLogonEvents(const std::vector<LogonEvent>& events,
                                   std::uint64_t dropped) {
  if (events.empty() && dropped == 0) {
    return Status::InvalidArgument("logon events: nothing to record");
  }
  if (events.size() > kMaxEvents) {
    return Status::InvalidArgument("logon events: more than " +
                                   std::to_string(kMaxEvents) +
                                   " in one entry");
  }
  nlohmann::json list = nlohmann::json::array();
  for (const LogonEvent& e : events) {
    if (e.count == 0) {
      return Status::InvalidArgument("logon events: a count of 0");
    }
    if (e.outcome != LogonOutcome::kAccepted &&
        e.outcome != LogonOutcome::kRefused &&
        e.outcome != LogonOutcome::kThrottled) {
      return Status::InvalidArgument("logon events: unknown outcome");
    }
    nlohmann::json item = {
        {"comp_id", Bounded(e.comp_id, kMaxCompId)},
        {"address", Bounded(e.address, kMaxAddress)},
        {"outcome", LogonOutcomeName(e.outcome)},
        {"count", e.count},
        {"first_ns", e.first.value()},
        {"last_ns", e.last.value()},
    };
    if (!e.reason.empty()) {
      item["reason"] = Bounded(e.reason, kMaxReason);
    }
    list.push_back(std::move(item));
  }
  nlohmann::json args = {{"events", std::move(list)}, {"dropped", dropped}};
  // Names come from the network: anything not valid UTF-8 is replaced.
  const std::string text =
      args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return impl_->Write("logon", [&](WriteContext&, std::string* out) -> Status {
    *out = text;
    return Status::Ok();
  });
}

Result<std::vector<AuditEntryView>> Registry::AuditEntries(
    const AuditFilter& filter) const {
  std::vector<AuditEntryView> entries;
  Impl& im = *impl_;
  Status s = im.Read("audit entries", [&](const Txn& txn) -> Status {
    MDB_cursor* cursor = nullptr;
    int rc = mdb_cursor_open(txn.Raw(), im.dbi_[kAuditDb], &cursor);
    if (rc != MDB_SUCCESS) {
      return LmdbError(rc, "audit entries: open cursor");
    }
    struct Closer {
      MDB_cursor* c;
      ~Closer() { mdb_cursor_close(c); }
    } closer{cursor};
    MDB_val k{};
    MDB_val v{};
    // Newest first, so that a long log is not read whole for its tail.
    rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST);
    while (rc == MDB_SUCCESS && entries.size() < filter.limit) {
      std::string_view key(static_cast<const char*>(k.mv_data), k.mv_size);
      std::string_view value(static_cast<const char*>(v.mv_data), v.mv_size);
      AuditEntryView entry;
      Status st = DecodeEntry(key, value, &entry);
      if (!st.ok()) {
        return st;
      }
      if (!filter.op || entry.op == *filter.op) {
        entries.push_back(std::move(entry));
      }
      rc = mdb_cursor_get(cursor, &k, &v, MDB_PREV);
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
      return LmdbError(rc, "audit entries: read");
    }
    return Status::Ok();
  });
  if (!s.ok()) {
    return s;
  }
  std::reverse(entries.begin(), entries.end());
  return entries;
}

}  // namespace carbonex::ledger
