// A thin RAII wrapper over LMDB. Private to the ledger: LMDB types do not
// leave ledger/src.
//
// Every LMDB return code becomes a Status whose message names the operation
// and carries mdb_strerror's text. A Txn aborts in its destructor unless
// Commit() succeeded. Transactions are short-lived: the Registry begins one
// per call.
#ifndef CARBONEX_LEDGER_SRC_LMDB_STORE_H_
#define CARBONEX_LEDGER_SRC_LMDB_STORE_H_

#include <lmdb.h>

#include <functional>
#include <string>
#include <string_view>

#include "carbonex/common/status.h"

namespace carbonex::ledger {

Status LmdbError(int rc, std::string_view operation);

class Txn {
 public:
  // Errors: kIoError (mdb_txn_begin failed; the message names `operation`).
  static Status Begin(MDB_env* env, bool write, std::string_view operation,
                      Txn* out);

  Txn() = default;
  ~Txn() { Abort(); }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  Txn(Txn&& other) noexcept
      : txn_(other.txn_), operation_(std::move(other.operation_)) {
    other.txn_ = nullptr;
  }
  Txn& operator=(Txn&& other) noexcept;

  Status Commit();
  void Abort();
  [[nodiscard]] MDB_txn* Raw() const { return txn_; }
  [[nodiscard]] const std::string& Operation() const { return operation_; }

  // found=false when the key is absent. The value points into the map and
  // is valid until the transaction ends or the key is written.
  Status Get(MDB_dbi dbi, std::string_view key, std::string_view* value,
             bool* found) const;
  Status Put(MDB_dbi dbi, std::string_view key, std::string_view value,
             unsigned flags = 0);
  // Put with MDB_NOOVERWRITE: *inserted=false if the key already existed.
  Status Insert(MDB_dbi dbi, std::string_view key, std::string_view value,
                bool* inserted);
  // Visits the keys starting with prefix in order; fn returns false to stop.
  Status Scan(
      MDB_dbi dbi, std::string_view prefix,
      const std::function<Status(std::string_view key, std::string_view value,
                                 bool* more)>& fn) const;
  // The last key of the table (found=false if empty).
  Status LastKey(MDB_dbi dbi, std::string* key, bool* found) const;

 private:
  MDB_txn* txn_ = nullptr;
  std::string operation_;
};

}  // namespace carbonex::ledger

#endif  // CARBONEX_LEDGER_SRC_LMDB_STORE_H_
