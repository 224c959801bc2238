#include "lmdb_store.h"

#include <utility>

namespace carbonex::ledger {
namespace {

MDB_val Val(std::string_view s) {
  // LMDB does not write through mv_data for keys and input values.
  return MDB_val{s.size(), const_cast<char*>(s.data())};  // NOLINT
}

std::string_view View(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

}  // namespace

Status LmdbError(int rc, std::string_view operation) {
  std::string msg(operation);
  msg += ": ";
  msg += mdb_strerror(rc);
  if (rc == MDB_MAP_FULL) {
    msg += " (raise the map size)";
  }
  if (rc == MDB_CORRUPTED || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
    return Status::Corruption(std::move(msg));
  }
  return Status::IoError(std::move(msg));
}

Status Txn::Begin(MDB_env* env, bool write, std::string_view operation,
                  Txn* out) {
  out->Abort();
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env, nullptr, write ? 0U : MDB_RDONLY, &txn);
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, std::string(operation) + ": begin transaction");
  }
  out->txn_ = txn;
  out->operation_ = std::string(operation);
  return Status::Ok();
}

Txn& Txn::operator=(Txn&& other) noexcept {
  if (this != &other) {
    Abort();
    txn_ = other.txn_;
    operation_ = std::move(other.operation_);
    other.txn_ = nullptr;
  }
  return *this;
}

Status Txn::Commit() {
  MDB_txn* txn = txn_;
  txn_ = nullptr;
  int rc = mdb_txn_commit(txn);  // frees txn even on failure
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, operation_ + ": commit");
  }
  return Status::Ok();
}

void Txn::Abort() {
  if (txn_ != nullptr) {
    mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
}

Status Txn::Get(MDB_dbi dbi, std::string_view key, std::string_view* value,
                bool* found) const {
  MDB_val k = Val(key);
  MDB_val v{};
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) {
    *found = false;
    return Status::Ok();
  }
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, operation_ + ": read");
  }
  *found = true;
  *value = View(v);
  return Status::Ok();
}

Status Txn::Put(MDB_dbi dbi, std::string_view key, std::string_view value,
                unsigned flags) {
  MDB_val k = Val(key);
  MDB_val v = Val(value);
  int rc = mdb_put(txn_, dbi, &k, &v, flags);
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, operation_ + ": write");
  }
  return Status::Ok();
}

Status Txn::Insert(MDB_dbi dbi, std::string_view key, std::string_view value,
                   bool* inserted) {
  MDB_val k = Val(key);
  MDB_val v = Val(value);
  int rc = mdb_put(txn_, dbi, &k, &v, MDB_NOOVERWRITE);
  if (rc == MDB_KEYEXIST) {
    *inserted = false;
    return Status::Ok();
  }
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, operation_ + ": write");
  }
  *inserted = true;
  return Status::Ok();
}

Status Txn::Scan(MDB_dbi dbi, std::string_view prefix,
                 const std::function<Status(std::string_view, std::string_view,
                                            bool*)>& fn) const {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn_, dbi, &cursor);
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, operation_ + ": open cursor");
  }
  struct Closer {
    MDB_cursor* c;
    ~Closer() { mdb_cursor_close(c); }
  } closer{cursor};
  MDB_val k = Val(prefix);
  MDB_val v{};
  rc = prefix.empty() ? mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
                      : mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
  while (rc == MDB_SUCCESS) {
    std::string_view key = View(k);
    if (key.substr(0, prefix.size()) != prefix) {
      break;
    }
    bool more = true;
    Status s = fn(key, View(v), &more);
    if (!s.ok()) {
      return s;
    }
    if (!more) {
      return Status::Ok();
    }
    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
    return LmdbError(rc, operation_ + ": scan");
  }
  return Status::Ok();
}

Status Txn::LastKey(MDB_dbi dbi, std::string* key, bool* found) const {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn_, dbi, &cursor);
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, operation_ + ": open cursor");
  }
  MDB_val k{};
  MDB_val v{};
  rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST);
  mdb_cursor_close(cursor);
  if (rc == MDB_NOTFOUND) {
    *found = false;
    return Status::Ok();
  }
  if (rc != MDB_SUCCESS) {
    return LmdbError(rc, operation_ + ": last key");
  }
  *found = true;
  key->assign(View(k));
  return Status::Ok();
}

}  // namespace carbonex::ledger
