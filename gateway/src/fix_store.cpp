#include "fix_store.h"

#include <fcntl.h>
#include <quickfix/FieldNumbers.h>
#include <quickfix/FileStore.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <system_error>

#pragma clang diagnostic ignored "-Wdynamic-exception-spec"

namespace carbonex::gateway {
namespace {

constexpr char kMagic[8] = {'C', 'X', 'F', 'I', 'X', 'S', 'T', '1'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderSize = 4096;
constexpr std::size_t kRecordHeader = 8;  // u32 length, i32 seq
constexpr std::size_t kInitialSize = std::size_t{1} << 20;
constexpr std::size_t kMaxStep = std::size_t{64} << 20;
// Dense index up to this far past its current end; beyond: sparse map.
constexpr std::size_t kDenseSlack = 1 << 16;

// Header field offsets.
constexpr std::size_t kOffVersion = 8;
constexpr std::size_t kOffNextSender = 12;
constexpr std::size_t kOffNextTarget = 16;
constexpr std::size_t kOffCreatedNanos = 20;
constexpr std::size_t kOffCreatedSeconds = 24;
constexpr std::size_t kOffEnd = 32;

template <typename T>
T Load(const unsigned char* base, std::size_t offset) {
  T value;
  std::memcpy(&value, base + offset, sizeof(T));
  return value;
}

template <typename T>
void StoreAt(unsigned char* base, std::size_t offset, T value) {
  std::memcpy(base + offset, &value, sizeof(T));
}

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  return Status::IoError(what + " " + path + ": " +
                         std::generic_category().message(err));
}

[[noreturn]] void Throw(const Status& status) {
  throw FIX::IOException(status.message());
}

std::string SessionPrefix(const FIX::SessionID& id) {
  std::string name = id.getBeginString().getValue() + "-" +
                     id.getSenderCompID().getValue() + "-" +
                     id.getTargetCompID().getValue();
  if (!id.getSessionQualifier().empty()) {
    name += "-" + id.getSessionQualifier();
  }
  return name;
}

}  // namespace

std::string MappedStore::PathFor(const std::string& dir,
                                 const FIX::SessionID& id) {
  return dir + "/" + SessionPrefix(id) + ".store";
}

MappedStore::MappedStore(std::string path, int fd)
    : path_(std::move(path)), fd_(fd) {}

MappedStore::~MappedStore() {
  if (base_ != nullptr) ::munmap(base_, size_);
  ::close(fd_);
}

Result<std::unique_ptr<MappedStore>> MappedStore::Open(
    const std::string& dir, const FIX::SessionID& id) {
  const std::string path = PathFor(dir, id);
  const std::string legacy = dir + "/" + SessionPrefix(id) + ".";
  bool fresh = ::access(path.c_str(), F_OK) != 0;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot open FIX store", path, errno);
  std::unique_ptr<MappedStore> store(new MappedStore(path, fd));
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat", path, errno);
  auto file_size = static_cast<std::size_t>(st.st_size);
  if (file_size == 0) {
    if (Status s = store->Grow(kInitialSize); !s.ok()) return s;
    if (Status s = store->InitHeader(); !s.ok()) return s;
  } else {
    if (file_size < kHeaderSize) {
      return Status::Corruption("FIX store " + path + " is truncated");
    }
    if (Status s = store->Map(file_size); !s.ok()) return s;
    if (std::memcmp(store->base_, kMagic, sizeof(kMagic)) != 0) {
      return Status::Corruption("FIX store " + path +
                                " is not a carbonex FIX store");
    }
    if (Load<std::uint32_t>(store->base_, kOffVersion) != kVersion) {
      return Status::Corruption("FIX store " + path +
                                " has an unknown format version");
    }
  }
  if (Status s = store->Index(); !s.ok()) return s;

  // Carry over a QuickFIX FileStore of the same session.
  if (fresh && ::access((legacy + "seqnums").c_str(), F_OK) == 0) {
    try {
      FIX::FileStore old(dir, id);
      std::vector<std::string> messages;
      old.get(1, std::max(old.getNextSenderMsgSeqNum() - 1, 0), messages);
      for (const std::string& m : messages) {
        FIX::Message parsed(m, false);
        store->set(
            std::stoi(parsed.getHeader().getField(FIX::FIELD::MsgSeqNum)), m);
      }
      FIX::UtcTimeStamp created = old.getCreationTime();
      StoreAt<std::int64_t>(store->base_, kOffCreatedSeconds,
                            static_cast<std::int64_t>(created.getTimeT()));
      StoreAt<std::uint32_t>(
          store->base_, kOffCreatedNanos,
          static_cast<std::uint32_t>(created.getFraction(9)));
      store->setNextSenderMsgSeqNum(old.getNextSenderMsgSeqNum());
      store->setNextTargetMsgSeqNum(old.getNextTargetMsgSeqNum());
    } catch (const std::exception& e) {
      ::unlink(path.c_str());
      return Status::IoError("importing the QuickFIX file store " + legacy +
                             "*: " + e.what());
    }
  }
  return store;
}

Status MappedStore::Map(std::size_t size) {
  void* mapped =
      base_ == nullptr
          ? ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0)
          : ::mremap(base_, size_, size, MREMAP_MAYMOVE);
  if (mapped == MAP_FAILED) return ErrnoStatus("cannot map", path_, errno);
  base_ = static_cast<unsigned char*>(mapped);
  size_ = size;
  return Status::Ok();
}

Status MappedStore::Grow(std::size_t needed) {
  std::size_t size = std::max(size_, kInitialSize);
  while (size < needed) size += std::min(size, kMaxStep);
  if (size == size_) return Status::Ok();
  // Allocate the blocks now: a full disk must fail here, not raise SIGBUS
  // on a later write into the mapping.
  int rc = ::posix_fallocate(fd_, static_cast<off_t>(size_),
                             static_cast<off_t>(size - size_));
  if (rc != 0) return ErrnoStatus("cannot grow FIX store", path_, rc);
  return Map(size);
}

Status MappedStore::InitHeader() {
  std::memset(base_, 0, kHeaderSize);
  std::memcpy(base_, kMagic, sizeof(kMagic));
  StoreAt<std::uint32_t>(base_, kOffVersion, kVersion);
  StoreAt<std::int32_t>(base_, kOffNextSender, 1);
  StoreAt<std::int32_t>(base_, kOffNextTarget, 1);
  FIX::UtcTimeStamp now;
  StoreAt<std::uint32_t>(base_, kOffCreatedNanos,
                         static_cast<std::uint32_t>(now.getFraction(9)));
  StoreAt<std::int64_t>(base_, kOffCreatedSeconds,
                        static_cast<std::int64_t>(now.getTimeT()));
  StoreAt<std::uint64_t>(base_, kOffEnd, kHeaderSize);
  return Status::Ok();
}

std::uint64_t MappedStore::End() const {
  return Load<std::uint64_t>(base_, kOffEnd);
}

void MappedStore::Remember(int seq, std::uint64_t offset) {
  if (seq <= 0) return;
  auto index = static_cast<std::size_t>(seq);
  if (index < offsets_.size()) {
    offsets_[index] = offset;
  } else if (index < offsets_.size() + kDenseSlack) {
    offsets_.resize(index + 1, 0);
    offsets_[index] = offset;
  } else {
    sparse_[seq] = offset;
  }
}

Status MappedStore::Index() {
  offsets_.clear();
  sparse_.clear();
  const std::uint64_t end = End();
  if (end < kHeaderSize || end > size_) {
    return Status::Corruption("FIX store " + path_ +
                              ": end offset outside the file");
  }
  std::uint64_t pos = kHeaderSize;
  while (pos < end) {
    if (end - pos < kRecordHeader) {
      return Status::Corruption("FIX store " + path_ +
                                ": truncated record header");
    }
    auto length = Load<std::uint32_t>(base_, pos);
    auto seq = Load<std::int32_t>(base_, pos + 4);
    if (end - pos - kRecordHeader < length) {
      return Status::Corruption("FIX store " + path_ +
                                ": record runs past the end");
    }
    Remember(seq, pos);
    pos += kRecordHeader + length;
  }
  return Status::Ok();
}

std::string MappedStore::MessageAt(std::uint64_t offset) const {
  auto length = Load<std::uint32_t>(base_, offset);
  return {reinterpret_cast<const char*>(base_ + offset + kRecordHeader),
          length};
}

bool MappedStore::set(int seq,
                      const std::string& message) throw(FIX::IOException) {
  std::lock_guard<std::mutex> guard(mu_);
  if (message.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw FIX::IOException("message too large for the FIX store");
  }
  const std::uint64_t pos = End();
  const std::size_t needed = pos + kRecordHeader + message.size();
  if (needed > size_) {
    if (Status s = Grow(needed); !s.ok()) Throw(s);
  }
  StoreAt<std::uint32_t>(base_, pos,
                         static_cast<std::uint32_t>(message.size()));
  StoreAt<std::int32_t>(base_, pos + 4, seq);
  std::memcpy(base_ + pos + kRecordHeader, message.data(), message.size());
  // Publish the record only once it is complete.
  StoreAt<std::uint64_t>(base_, kOffEnd, needed);
  Remember(seq, pos);
  PopulateAhead(needed);
  return true;
}

void MappedStore::PopulateAhead(std::size_t end) {
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  populated_ = std::max(populated_, end & ~(std::size_t{4095}));
  if (end + kChunk / 4 < populated_ || populated_ >= size_) return;
  const std::size_t until = std::min(size_, populated_ + kChunk);
  // Best effort: without it (kernels before 5.14) the writes fault the
  // pages in one by one, as before.
  if (::madvise(base_ + populated_, until - populated_, MADV_POPULATE_WRITE) ==
      0) {
    populated_ = until;
  } else {
    populated_ = size_;  // do not try again for this mapping
  }
}

void MappedStore::get(int begin, int end, std::vector<std::string>& out) const
    throw(FIX::IOException) {
  std::lock_guard<std::mutex> guard(mu_);
  out.clear();
  if (end < begin || end < 1) return;
  const auto first = static_cast<std::size_t>(std::max(begin, 1));
  const auto last = static_cast<std::size_t>(end);
  for (std::size_t seq = first; seq <= last && seq < offsets_.size(); ++seq) {
    if (offsets_[seq] != 0) out.push_back(MessageAt(offsets_[seq]));
  }
  const int sparse_from =
      static_cast<int>(std::max(first, std::min(offsets_.size(), last + 1)));
  for (auto it = sparse_.lower_bound(sparse_from);
       it != sparse_.end() && it->first <= end; ++it) {
    out.push_back(MessageAt(it->second));
  }
}

int MappedStore::getNextSenderMsgSeqNum() const throw(FIX::IOException) {
  std::lock_guard<std::mutex> guard(mu_);
  return Load<std::int32_t>(base_, kOffNextSender);
}

int MappedStore::getNextTargetMsgSeqNum() const throw(FIX::IOException) {
  std::lock_guard<std::mutex> guard(mu_);
  return Load<std::int32_t>(base_, kOffNextTarget);
}

void MappedStore::setNextSenderMsgSeqNum(int value) throw(FIX::IOException) {
  std::lock_guard<std::mutex> guard(mu_);
  StoreAt<std::int32_t>(base_, kOffNextSender, value);
}

void MappedStore::setNextTargetMsgSeqNum(int value) throw(FIX::IOException) {
  std::lock_guard<std::mutex> guard(mu_);
  StoreAt<std::int32_t>(base_, kOffNextTarget, value);
}

void MappedStore::incrNextSenderMsgSeqNum() throw(FIX::IOException) {
  std::lock_guard<std::mutex> guard(mu_);
  StoreAt<std::int32_t>(base_, kOffNextSender,
                        Load<std::int32_t>(base_, kOffNextSender) + 1);
}

void MappedStore::incrNextTargetMsgSeqNum() throw(FIX::IOException) {
  std::lock_guard<std::mutex> guard(mu_);
  StoreAt<std::int32_t>(base_, kOffNextTarget,
                        Load<std::int32_t>(base_, kOffNextTarget) + 1);
}

FIX::UtcTimeStamp MappedStore::getCreationTime() const throw(FIX::IOException) {
  std::lock_guard<std::mutex> guard(mu_);
  return FIX::UtcTimeStamp(
      static_cast<time_t>(Load<std::int64_t>(base_, kOffCreatedSeconds)),
      static_cast<int>(Load<std::uint32_t>(base_, kOffCreatedNanos)), 9);
}

void MappedStore::reset() throw(FIX::IOException) {
  std::lock_guard<std::mutex> guard(mu_);
  // The header first: a crash after it leaves an empty, valid store.
  if (Status s = InitHeader(); !s.ok()) Throw(s);
  offsets_.clear();
  sparse_.clear();
  populated_ = 0;
  if (size_ > kInitialSize) {
    if (::ftruncate(fd_, static_cast<off_t>(kInitialSize)) != 0) {
      Throw(ErrnoStatus("cannot shrink FIX store", path_, errno));
    }
    if (Status s = Map(kInitialSize); !s.ok()) Throw(s);
  }
}

void MappedStore::refresh() throw(FIX::IOException) {
  std::lock_guard<std::mutex> guard(mu_);
  if (Status s = Index(); !s.ok()) Throw(s);
}

std::size_t MappedStore::MessageCount() const {
  std::lock_guard<std::mutex> guard(mu_);
  std::size_t count = sparse_.size();
  for (std::uint64_t offset : offsets_) count += offset != 0 ? 1 : 0;
  return count;
}

FIX::MessageStore* MappedStoreFactory::create(const FIX::SessionID& id) {
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    throw FIX::ConfigError("cannot create FIX store directory " + dir_ + ": " +
                           std::generic_category().message(errno));
  }
  Result<std::unique_ptr<MappedStore>> store = MappedStore::Open(dir_, id);
  if (!store.ok()) throw FIX::ConfigError(store.status().message());
  return store->release();
}

void MappedStoreFactory::destroy(FIX::MessageStore* store) { delete store; }

}  // namespace carbonex::gateway
