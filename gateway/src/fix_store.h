// MappedStore: a QuickFIX message store (sequence numbers and sent messages
// of one FIX session) kept in one memory-mapped file.
//
// QuickFIX's FileStore costs about ten system calls per message it stores
// (seeks, a read-back, stat, three flushed writes) and two per sequence
// number change. MappedStore writes into a shared mapping of its file
// instead, so storing a message or counting a sequence number is a memory
// copy: the data are in the kernel's page cache as soon as the copy is done
// and survive the process being killed at any point, exactly like
// FileStore's flushed writes (neither calls fsync; a machine crash can lose
// the last of them in both).
//
// File format (docs/fix-store.md): DIR/<BeginString>-<SenderCompID>-
// <TargetCompID>[-<qualifier>].store, little-endian:
//   header, 4096 bytes:
//     [0, 8)   magic "CXFIXST1"
//     [8, 12)  u32 format version (1)
//     [12, 16) i32 next sender MsgSeqNum
//     [16, 20) i32 next target MsgSeqNum
//     [20, 24) u32 creation time, nanoseconds part
//     [24, 32) i64 creation time, seconds since the epoch (UTC)
//     [32, 40) u64 end of the last complete record (file offset)
//   records from offset 4096, back to back:
//     u32 length of the message, i32 MsgSeqNum, the message bytes
// A record is written first and the end offset moved past it afterwards,
// so a record is either complete or not there. The file grows in steps
// allocated up front (posix_fallocate), so a full disk is an error at the
// next growth, never a fault while writing into the mapping.
//
// On the first open of a session whose store does not exist yet but whose
// QuickFIX FileStore files do (<prefix>.seqnums etc. in the same directory),
// the FileStore's sequence numbers, creation time and messages are copied
// in, so switching a data directory over keeps the sessions' state.
//
// Thread-safety: every member may be called from any thread (one mutex per
// store); QuickFIX calls a session's store under the session's own lock.
#ifndef CARBONEX_GATEWAY_FIX_STORE_H_
#define CARBONEX_GATEWAY_FIX_STORE_H_

#include <quickfix/MessageStore.h>
#include <quickfix/SessionID.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "carbonex/common/status.h"

// QuickFIX 1.15 declares the store interface with dynamic exception
// specifications; overrides must repeat them (clang accepts them in C++20).
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdynamic-exception-spec"

namespace carbonex::gateway {

class MappedStore : public FIX::MessageStore {
 public:
  // Opens (creating if needed, with owner-only permissions) the store of
  // `id` under `dir`, which must exist. Errors: kIoError (the file cannot be
  // created, mapped or grown), kCorruption (not a store file, an unknown
  // version, a record that runs past the end).
  [[nodiscard]] static Result<std::unique_ptr<MappedStore>> Open(
      const std::string& dir, const FIX::SessionID& id);

  // The store file of `id` under `dir`.
  [[nodiscard]] static std::string PathFor(const std::string& dir,
                                           const FIX::SessionID& id);

  ~MappedStore() override;
  MappedStore(const MappedStore&) = delete;
  MappedStore& operator=(const MappedStore&) = delete;

  // FIX::MessageStore. Failures throw FIX::IOException, as QuickFIX expects.
  bool set(int seq,
           const std::string& message) throw(FIX::IOException) override;
  void get(int begin, int end, std::vector<std::string>& out) const
      throw(FIX::IOException) override;
  int getNextSenderMsgSeqNum() const throw(FIX::IOException) override;
  int getNextTargetMsgSeqNum() const throw(FIX::IOException) override;
  void setNextSenderMsgSeqNum(int value) throw(FIX::IOException) override;
  void setNextTargetMsgSeqNum(int value) throw(FIX::IOException) override;
  void incrNextSenderMsgSeqNum() throw(FIX::IOException) override;
  void incrNextTargetMsgSeqNum() throw(FIX::IOException) override;
  FIX::UtcTimeStamp getCreationTime() const throw(FIX::IOException) override;
  void reset() throw(FIX::IOException) override;
  void refresh() throw(FIX::IOException) override;

  // Number of messages the store holds (for tests and logs).
  [[nodiscard]] std::size_t MessageCount() const;

 private:
  MappedStore(std::string path, int fd);
  Status Map(std::size_t size);
  // Faults in the pages the next records will be written to, a megabyte at a
  // time, so that the writes themselves take no page faults (one system call
  // per some thousands of records instead of a fault every few records).
  void PopulateAhead(std::size_t end);
  Status Grow(std::size_t needed);
  Status Index();
  Status InitHeader();
  void Remember(int seq, std::uint64_t offset);
  [[nodiscard]] std::string MessageAt(std::uint64_t offset) const;
  [[nodiscard]] std::uint64_t End() const;

  const std::string path_;
  const int fd_;
  mutable std::mutex mu_;
  unsigned char* base_ = nullptr;  // the mapping, size_ bytes
  std::size_t size_ = 0;
  // Pages below this offset have been faulted in ahead of the writes
  // (PopulateAhead).
  std::size_t populated_ = 0;
  // Record offsets by MsgSeqNum (0: none): dense from 1; a sequence number
  // far beyond the dense range goes to sparse_.
  std::vector<std::uint64_t> offsets_;
  std::map<int, std::uint64_t> sparse_;
};

// Creates MappedStores under one directory (created if missing, mode 0700).
// create() throws FIX::ConfigError naming the file when a store cannot be
// opened, which makes QuickFIX refuse to start the session.
class MappedStoreFactory : public FIX::MessageStoreFactory {
 public:
  explicit MappedStoreFactory(std::string dir) : dir_(std::move(dir)) {}
  FIX::MessageStore* create(const FIX::SessionID& id) override;
  void destroy(FIX::MessageStore* store) override;

 private:
  const std::string dir_;
};

}  // namespace carbonex::gateway

#pragma clang diagnostic pop

#endif  // CARBONEX_GATEWAY_FIX_STORE_H_
