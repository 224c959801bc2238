// The journal writer and reader; the on-disk format is in docs/journal.md.
#include "carbonex/gateway/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <system_error>
#include <utility>

#include "carbonex/gateway/command_codec.h"

namespace carbonex::gateway {
namespace {

// ---- Format constants (docs/journal.md) ------------------------------------

// File header: magic[8] | version u32 | header size u32 | first seq u64 |
// checksum u64 (XXH3-64 of the first 24 bytes).
constexpr std::array<std::uint8_t, 8> kMagic = {'C', 'B', 'X', 'J',
                                                'R', 'N', 'L', '\n'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kFileHeaderSize = 32;
constexpr std::size_t kFileHeaderChecked = 24;

// Record frame: checksum u64 (XXH3-64 of everything after it: the length and
// the payload) | payload length u32 | payload.
constexpr std::size_t kFrameHeaderSize = 12;
constexpr std::size_t kChecksumSize = 8;

constexpr std::string_view kSegmentPrefix = "journal-";
constexpr std::string_view kSegmentSuffix = ".cxj";
constexpr std::size_t kSeqDigits = 20;

// The writer hands its buffer to write(2) once it holds this much, so a long
// run of appends without a commit does not grow memory without bound.
constexpr std::size_t kWriteChunkBytes = std::size_t{1} << 20;
// The reader reads files in windows of this size.
constexpr std::size_t kReadWindowBytes = std::size_t{1} << 20;
constexpr std::size_t kMinSegmentBytes = 4096;

std::string ErrnoText(int err) {
  return std::error_code(err, std::generic_category()).message();
}

Status IoErrorFromErrno(const std::string& what, const std::string& path,
                        int err) {
  return Status::IoError(what + " " + path + ": " + ErrnoText(err));
}

void PutLe32(std::uint8_t* p, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) {
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}
void PutLe64(std::uint8_t* p, std::uint64_t v) {
  for (std::size_t i = 0; i < 8; ++i) {
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}
std::uint32_t GetLe32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    v |= std::uint32_t{p[i]} << (8 * i);
  }
  return v;
}
std::uint64_t GetLe64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    v |= std::uint64_t{p[i]} << (8 * i);
  }
  return v;
}

std::uint64_t Checksum(const std::uint8_t* data, std::size_t size) {
  return XXH3_64bits(data, size);
}

std::string SegmentFileName(SequenceNumber first_seq) {
  std::array<char, 64> name{};
  std::snprintf(name.data(), name.size(), "journal-%020llu.cxj",
                static_cast<unsigned long long>(first_seq.value()));
  return name.data();
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') {
    return dir + name;
  }
  return dir + "/" + name;
}

void AppendFileHeader(SequenceNumber first_seq,
                      std::vector<std::uint8_t>* out) {
  std::array<std::uint8_t, kFileHeaderSize> h{};
  std::copy(kMagic.begin(), kMagic.end(), h.begin());
  PutLe32(&h[8], kFormatVersion);
  PutLe32(&h[12], static_cast<std::uint32_t>(kFileHeaderSize));
  PutLe64(&h[16], first_seq.value());
  PutLe64(&h[24], Checksum(h.data(), kFileHeaderChecked));
  out->insert(out->end(), h.begin(), h.end());
}

}  // namespace

Status JournalFile::Reserve(std::uint64_t /*size*/) { return Status::Ok(); }
Status JournalFile::Truncate(std::uint64_t /*size*/) { return Status::Ok(); }

namespace {

// ---- POSIX file operations -------------------------------------------------

class PosixFile final : public JournalFile {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  Status Write(std::span<const std::uint8_t> bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return IoErrorFromErrno("write", path_, errno);
      }
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) {
      return IoErrorFromErrno("fdatasync", path_, errno);
    }
    return Status::Ok();
  }

  Status Reserve(std::uint64_t size) override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      return IoErrorFromErrno("stat", path_, errno);
    }
    static constexpr std::array<std::uint8_t, std::size_t{64} * 1024> kZeros{};
    auto at = static_cast<std::uint64_t>(st.st_size);
    while (at < size) {
      const std::size_t n = static_cast<std::size_t>(
          std::min<std::uint64_t>(kZeros.size(), size - at));
      const ssize_t wrote =
          ::pwrite(fd_, kZeros.data(), n, static_cast<off_t>(at));
      if (wrote < 0) {
        if (errno == EINTR) {
          continue;
        }
        return IoErrorFromErrno("write", path_, errno);
      }
      at += static_cast<std::uint64_t>(wrote);
    }
    return Status::Ok();
  }

  Status Truncate(std::uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return IoErrorFromErrno("truncate", path_, errno);
    }
    return Status::Ok();
  }

 private:
  int fd_;
  std::string path_;
};

class PosixFileOps final : public JournalFileOps {
 public:
  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0700) == 0) {
      return Status::Ok();
    }
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(path.c_str(), &st) == 0 &&
        S_ISDIR(st.st_mode)) {
      return Status::Ok();
    }
    return IoErrorFromErrno("create directory", path, err);
  }

  Result<std::unique_ptr<JournalFile>> CreateFile(
      const std::string& path) override {
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) {
        return Status::AlreadyExists("create " + path + ": file exists");
      }
      return IoErrorFromErrno("create", path, errno);
    }
    return std::unique_ptr<JournalFile>(std::make_unique<PosixFile>(fd, path));
  }

  Result<std::unique_ptr<JournalFile>> OpenForAppend(
      const std::string& path, std::uint64_t size) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      return IoErrorFromErrno("open", path, errno);
    }
    auto file = std::make_unique<PosixFile>(fd, path);
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      return IoErrorFromErrno("truncate", path, errno);
    }
    if (::lseek(fd, 0, SEEK_END) < 0) {
      return IoErrorFromErrno("seek", path, errno);
    }
    return std::unique_ptr<JournalFile>(std::move(file));
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) {
      return IoErrorFromErrno("remove", path, errno);
    }
    return Status::Ok();
  }

  Status SyncDir(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      return IoErrorFromErrno("open directory", path, errno);
    }
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
      return IoErrorFromErrno("fsync directory", path, err);
    }
    return Status::Ok();
  }
};

// ---- Reading segments ------------------------------------------------------

// A read-only segment file with a sliding read window.
class SegmentFile {
 public:
  SegmentFile() = default;
  ~SegmentFile() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  Status Open(const std::string& path) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      return IoErrorFromErrno("open", path, errno);
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      return IoErrorFromErrno("stat", path, errno);
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
    return Status::Ok();
  }

  [[nodiscard]] std::uint64_t size() const { return size_; }
  [[nodiscard]] const std::string& Path() const { return path_; }

  // Bytes [offset, offset + n). Precondition: offset + n <= size(). The span
  // stays valid until the next Read.
  Result<std::span<const std::uint8_t>> Read(std::uint64_t offset,
                                             std::size_t n) {
    if (offset < window_offset_ ||
        offset + n > window_offset_ + window_.size()) {
      const std::uint64_t want = std::min<std::uint64_t>(
          std::max(n, kReadWindowBytes), size_ - offset);
      window_.resize(static_cast<std::size_t>(want));
      window_offset_ = offset;
      std::size_t done = 0;
      while (done < window_.size()) {
        const ssize_t got =
            ::pread(fd_, window_.data() + done, window_.size() - done,
                    static_cast<off_t>(offset + done));
        if (got < 0) {
          if (errno == EINTR) {
            continue;
          }
          window_.clear();
          return IoErrorFromErrno("read", path_, errno);
        }
        if (got == 0) {
          window_.clear();
          return Status::IoError("read " + path_ +
                                 ": file shrank while being read");
        }
        done += static_cast<std::size_t>(got);
      }
    }
    return std::span<const std::uint8_t>(
        window_.data() + (offset - window_offset_), n);
  }

 private:
  int fd_ = -1;
  std::string path_;
  std::uint64_t size_ = 0;
  std::vector<std::uint8_t> window_;
  std::uint64_t window_offset_ = 0;
};

// What is at one offset of a segment: a verified record, or why not.
struct Frame {
  bool valid = false;
  std::string why;                        // when !valid
  std::span<const std::uint8_t> payload;  // when valid
  std::uint64_t next = 0;                 // offset after the record
};

Result<Frame> ReadFrame(SegmentFile& file, std::uint64_t offset) {
  Frame frame;
  const std::uint64_t left = file.size() - offset;
  if (left < kFrameHeaderSize) {
    frame.why =
        "record header cut off after " + std::to_string(left) + " bytes";
    return frame;
  }
  auto header = file.Read(offset, kFrameHeaderSize);
  if (!header.ok()) {
    return header.status();
  }
  const std::uint64_t checksum = GetLe64(header->data());
  const std::uint32_t length = GetLe32(header->data() + kChecksumSize);
  if (length == 0 || length > kMaxEncodedCommandBytes) {
    frame.why = "record length " + std::to_string(length) + " out of range";
    return frame;
  }
  if (left < kFrameHeaderSize + length) {
    frame.why = "record of " + std::to_string(length) +
                " payload bytes cut off after " + std::to_string(left) +
                " bytes";
    return frame;
  }
  auto record = file.Read(offset, kFrameHeaderSize + length);
  if (!record.ok()) {
    return record.status();
  }
  if (Checksum(record->data() + kChecksumSize,
               kFrameHeaderSize - kChecksumSize + length) != checksum) {
    frame.why = "record checksum mismatch";
    return frame;
  }
  frame.valid = true;
  frame.payload = record->subspan(kFrameHeaderSize);
  frame.next = offset + kFrameHeaderSize + length;
  return frame;
}

// Whether any verified record starts after `offset` in the file. A bad record
// followed by a good one is corruption; one followed only by garbage (or
// nothing) is the torn tail of a crash.
Result<bool> AnyValidFrameAfter(SegmentFile& file, std::uint64_t offset) {
  if (offset + 1 >= file.size()) {
    return false;
  }
  const std::uint64_t start = offset + 1;
  auto rest = file.Read(start, static_cast<std::size_t>(file.size() - start));
  if (!rest.ok()) {
    return rest.status();
  }
  const std::span<const std::uint8_t> bytes = *rest;
  for (std::size_t i = 0; i + kFrameHeaderSize <= bytes.size(); ++i) {
    const std::uint32_t length = GetLe32(&bytes[i + kChecksumSize]);
    if (length == 0 || length > kMaxEncodedCommandBytes ||
        bytes.size() - i - kFrameHeaderSize < length) {
      continue;
    }
    if (Checksum(&bytes[i + kChecksumSize], kFrameHeaderSize - kChecksumSize +
                                                length) == GetLe64(&bytes[i])) {
      return true;
    }
  }
  return false;
}

// Whether every byte from `offset` to the end of the file is zero (space
// the writer reserved ahead of its records).
Result<bool> OnlyZerosFrom(SegmentFile& file, std::uint64_t offset) {
  while (offset < file.size()) {
    const auto n = static_cast<std::size_t>(
        std::min<std::uint64_t>(kReadWindowBytes, file.size() - offset));
    auto bytes = file.Read(offset, n);
    if (!bytes.ok()) {
      return bytes.status();
    }
    if (!std::all_of(bytes->begin(), bytes->end(),
                     [](std::uint8_t b) { return b == 0; })) {
      return false;
    }
    offset += n;
  }
  return true;
}

// Reads the commands of one segment in order, verifying its header, every
// record's checksum and payload, that seqs increase and that the first one
// matches the file name. Only the journal's last segment may end in a torn
// tail (or be a torn, header-less file).
class SegmentCursor {
 public:
  SegmentCursor(JournalSegment segment, bool is_last)
      : segment_(std::move(segment)), is_last_(is_last) {}

  // Opens the file and checks its header.
  Status Open() {
    if (Status s = file_.Open(segment_.path); !s.ok()) {
      return s;
    }
    if (file_.size() < kFileHeaderSize) {
      if (!is_last_) {
        return Corrupt(0, "file header cut off after " +
                              std::to_string(file_.size()) + " bytes");
      }
      torn_header_ = true;
      torn_bytes_ = file_.size();
      done_ = true;
      return Status::Ok();
    }
    auto h = file_.Read(0, kFileHeaderSize);
    if (!h.ok()) {
      return h.status();
    }
    const std::vector<std::uint8_t> header(h->begin(), h->end());
    if (is_last_) {
      auto torn = IsTornHeader(header);
      if (!torn.ok()) {
        return torn.status();
      }
      if (*torn) {
        torn_header_ = true;
        torn_bytes_ = file_.size();
        done_ = true;
        return Status::Ok();
      }
    }
    if (!std::equal(kMagic.begin(), kMagic.end(), header.begin())) {
      return Corrupt(0, "not a journal segment (bad magic)");
    }
    if (Checksum(header.data(), kFileHeaderChecked) != GetLe64(&header[24])) {
      return Corrupt(0, "file header checksum mismatch");
    }
    const std::uint32_t version = GetLe32(&header[8]);
    if (version != kFormatVersion) {
      return Corrupt(0, "unknown format version " + std::to_string(version));
    }
    const std::uint32_t header_size = GetLe32(&header[12]);
    if (header_size != kFileHeaderSize) {
      return Corrupt(0, "file header size " + std::to_string(header_size));
    }
    if (GetLe64(&header[16]) != segment_.first_seq.value()) {
      return Corrupt(0, "file header says first seq " +
                            std::to_string(GetLe64(&header[16])) +
                            ", file name says " +
                            std::to_string(segment_.first_seq.value()));
    }
    offset_ = kFileHeaderSize;
    return Status::Ok();
  }

  // The next command; std::nullopt at the end of the segment (clean, or a
  // torn tail in the last segment: see torn_bytes()).
  Result<std::optional<engine::Command>> Next() {
    if (done_) {
      return std::optional<engine::Command>();
    }
    if (offset_ == file_.size()) {
      done_ = true;
      return std::optional<engine::Command>();
    }
    auto frame = ReadFrame(file_, offset_);
    if (!frame.ok()) {
      return frame.status();
    }
    if (!frame->valid) {
      if (!is_last_) {
        return Corrupt(offset_, frame->why);
      }
      auto zeros = OnlyZerosFrom(file_, offset_);
      if (!zeros.ok()) {
        return zeros.status();
      }
      if (*zeros) {  // reserved space: the clean end
        done_ = true;
        return std::optional<engine::Command>();
      }
      auto more = AnyValidFrameAfter(file_, offset_);
      if (!more.ok()) {
        return more.status();
      }
      if (*more) {
        return Corrupt(offset_, frame->why + ", and valid records follow it");
      }
      torn_bytes_ = file_.size() - offset_;
      torn_why_ = frame->why;
      done_ = true;
      return std::optional<engine::Command>();
    }
    auto cmd = DecodeCommand(frame->payload);
    if (!cmd.ok()) {
      return Corrupt(offset_, cmd.status().message());
    }
    const SequenceNumber seq = cmd->header.seq;
    if (records_ == 0 && seq != segment_.first_seq) {
      return Corrupt(offset_, "first record has seq " +
                                  std::to_string(seq.value()) +
                                  ", file name says " +
                                  std::to_string(segment_.first_seq.value()));
    }
    if (records_ > 0 && seq <= last_seq_) {
      return Corrupt(offset_, "seq " + std::to_string(seq.value()) +
                                  " does not increase (previous " +
                                  std::to_string(last_seq_.value()) + ")");
    }
    ++records_;
    last_seq_ = seq;
    offset_ = frame->next;
    return std::optional<engine::Command>(*cmd);
  }

  [[nodiscard]] const JournalSegment& Segment() const { return segment_; }
  [[nodiscard]] bool TornHeader() const { return torn_header_; }
  [[nodiscard]] std::uint64_t TornBytes() const { return torn_bytes_; }
  [[nodiscard]] const std::string& TornWhy() const { return torn_why_; }
  // Offset just past the last good record (the header for none).
  [[nodiscard]] std::uint64_t ValidEnd() const { return offset_; }
  [[nodiscard]] std::uint64_t Records() const { return records_; }
  [[nodiscard]] SequenceNumber LastSeq() const { return last_seq_; }

 private:
  // Created but never fully written before a crash: a header of zeros (the
  // header never reached the disk), or the start of the header it should
  // have and nothing but zeros after that (space reserved ahead of a header
  // write that was cut short).
  Result<bool> IsTornHeader(const std::vector<std::uint8_t>& header) {
    if (std::all_of(header.begin(), header.end(),
                    [](std::uint8_t b) { return b == 0; })) {
      return true;
    }
    std::vector<std::uint8_t> expected;
    AppendFileHeader(segment_.first_seq, &expected);
    const auto written = static_cast<std::size_t>(
        std::mismatch(header.begin(), header.end(), expected.begin()).first -
        header.begin());
    if (written == header.size() ||
        !std::all_of(header.begin() + static_cast<std::ptrdiff_t>(written),
                     header.end(), [](std::uint8_t b) { return b == 0; })) {
      return false;
    }
    return OnlyZerosFrom(file_, kFileHeaderSize);
  }

  Status Corrupt(std::uint64_t offset, const std::string& why) const {
    return Status::Corruption("journal " + segment_.path + " at offset " +
                              std::to_string(offset) + ": " + why);
  }

  JournalSegment segment_;
  bool is_last_;
  SegmentFile file_;
  std::uint64_t offset_ = 0;
  bool done_ = false;
  bool torn_header_ = false;
  std::uint64_t torn_bytes_ = 0;
  std::string torn_why_;
  std::uint64_t records_ = 0;
  SequenceNumber last_seq_;
};

// Parses "journal-<20 digits>.cxj"; nullopt for names that are not
// segment-like at all, Corruption for segment-like names that are malformed.
Result<std::optional<SequenceNumber>> ParseSegmentName(std::string_view name,
                                                       const std::string& dir) {
  if (!name.starts_with(kSegmentPrefix)) {
    return std::optional<SequenceNumber>();
  }
  const std::string_view digits = name.substr(kSegmentPrefix.size());
  std::uint64_t seq = 0;
  const bool well_formed =
      name.ends_with(kSegmentSuffix) &&
      digits.size() == kSeqDigits + kSegmentSuffix.size() &&
      std::all_of(digits.begin(), digits.begin() + kSeqDigits,
                  [](char c) { return c >= '0' && c <= '9'; }) &&
      std::from_chars(digits.data(), digits.data() + kSeqDigits, seq).ec ==
          std::errc() &&
      seq != 0;
  if (!well_formed) {
    return Status::Corruption("journal " + dir + ": malformed segment name " +
                              std::string(name));
  }
  return std::optional<SequenceNumber>(SequenceNumber(seq));
}

}  // namespace

JournalFileOps* PosixJournalFileOps() {
  static PosixFileOps ops;
  return &ops;
}

Result<std::vector<JournalSegment>> ListJournalSegments(
    const std::string& dir) {
  std::vector<JournalSegment> segments;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) {
      return segments;
    }
    return IoErrorFromErrno("list", dir, errno);
  }
  Status status;
  errno = 0;
  while (const dirent* entry =
             ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe): own DIR*
    auto seq = ParseSegmentName(entry->d_name, dir);
    if (!seq.ok()) {
      status = seq.status();
      break;
    }
    if (seq->has_value()) {
      segments.push_back({**seq, JoinPath(dir, entry->d_name)});
    }
  }
  ::closedir(d);
  if (!status.ok()) {
    return status;
  }
  std::sort(segments.begin(), segments.end(),
            [](const JournalSegment& a, const JournalSegment& b) {
              return a.first_seq < b.first_seq;
            });
  return segments;
}

Status RemoveJournalSegmentsBefore(const std::string& dir, SequenceNumber seq) {
  auto segments = ListJournalSegments(dir);
  if (!segments.ok()) {
    return segments.status();
  }
  bool removed = false;
  for (std::size_t i = 0; i + 1 < segments->size(); ++i) {
    // Every command of segment i is below the next segment's first seq.
    if ((*segments)[i + 1].first_seq > seq) {
      break;
    }
    if (Status s = PosixJournalFileOps()->RemoveFile((*segments)[i].path);
        !s.ok()) {
      return s;
    }
    removed = true;
  }
  return removed ? PosixJournalFileOps()->SyncDir(dir) : Status::Ok();
}

// ---- JournalWriter ----------------------------------------------------------

class JournalWriter::Impl {
 public:
  Impl(JournalOptions options, JournalFileOps* ops)
      : options_(std::move(options)), ops_(ops) {}
  ~Impl() {
    if (lock_fd_ >= 0) {
      ::close(lock_fd_);  // releases the flock
    }
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status Open() {
    if (Status s = ops_->CreateDir(options_.dir); !s.ok()) {
      return s;
    }
    if (Status s = Lock(); !s.ok()) {
      return s;
    }
    auto listed = ListJournalSegments(options_.dir);
    if (!listed.ok()) {
      return listed.status();
    }
    std::vector<JournalSegment> segments = std::move(*listed);
    // Work back from the last segment to the last one holding a record:
    // segments after it hold nothing that was ever committed.
    while (!segments.empty()) {
      SegmentCursor cursor(segments.back(), /*is_last=*/true);
      if (Status s = cursor.Open(); !s.ok()) {
        return s;
      }
      while (true) {
        auto next = cursor.Next();
        if (!next.ok()) {
          return next.status();
        }
        if (!next->has_value()) {
          break;
        }
      }
      const std::string name = segments.back().path;
      if (cursor.Records() == 0) {
        Report("removed segment " + name + " holding no complete record (" +
               std::to_string(cursor.TornBytes()) + " bytes)");
        if (Status s = ops_->RemoveFile(name); !s.ok()) {
          return s;
        }
        if (Status s = ops_->SyncDir(options_.dir); !s.ok()) {
          return s;
        }
        segments.pop_back();
        continue;
      }
      if (cursor.TornBytes() > 0) {
        Report("truncated torn tail of " + std::to_string(cursor.TornBytes()) +
               " bytes at offset " + std::to_string(cursor.ValidEnd()) +
               " of " + name + " (" + cursor.TornWhy() + ")");
      }
      auto file = ops_->OpenForAppend(name, cursor.ValidEnd());
      if (!file.ok()) {
        return file.status();
      }
      file_ = std::move(*file);
      segment_size_ = cursor.ValidEnd();
      file_size_ = segment_size_;
      last_seq_ = cursor.LastSeq();
      durable_seq_ = last_seq_;
      break;
    }
    return Status::Ok();
  }

  Status Append(const engine::Command& cmd) {
    if (failed_) {
      return Refused();
    }
    const SequenceNumber seq = cmd.header.seq;
    if (seq <= last_seq_) {
      return Status::InvalidArgument("journal append: seq " +
                                     std::to_string(seq.value()) +
                                     " is not after the last appended seq " +
                                     std::to_string(last_seq_.value()));
    }
    if (file_ == nullptr || segment_size_ >= options_.segment_bytes) {
      if (Status s = Roll(seq); !s.ok()) {
        return Fail(std::move(s));
      }
    }
    const std::size_t start = buffer_.size();
    buffer_.resize(start + kFrameHeaderSize);
    const std::size_t length = EncodeCommand(cmd, &buffer_);
    std::uint8_t* frame = buffer_.data() + start;
    PutLe32(frame + kChecksumSize, static_cast<std::uint32_t>(length));
    PutLe64(frame, Checksum(frame + kChecksumSize,
                            kFrameHeaderSize - kChecksumSize + length));
    segment_size_ += kFrameHeaderSize + length;
    last_seq_ = seq;
    if (buffer_.size() >= kWriteChunkBytes) {
      if (Status s = WriteBuffer(); !s.ok()) {
        return Fail(std::move(s));
      }
    }
    return Status::Ok();
  }

  Status Commit() {
    if (failed_) {
      return Refused();
    }
    if (durable_seq_ == last_seq_ && buffer_.empty()) {
      return Status::Ok();
    }
    ReserveAhead();
    if (Status s = WriteBuffer(); !s.ok()) {
      return Fail(std::move(s));
    }
    if (options_.sync == SyncMode::kDurable) {
      if (Status s = file_->Sync(); !s.ok()) {
        return Fail(std::move(s));
      }
      if (dir_dirty_) {
        if (Status s = ops_->SyncDir(options_.dir); !s.ok()) {
          return Fail(std::move(s));
        }
      }
    }
    dir_dirty_ = false;
    durable_seq_ = last_seq_;
    return Status::Ok();
  }

  SequenceNumber LastSeq() const { return last_seq_; }
  SequenceNumber DurableSeq() const { return durable_seq_; }
  bool Failed() const { return failed_; }
  const std::string& RecoveryReport() const { return report_; }

 private:
  Status Lock() {
    const std::string path = JoinPath(options_.dir, "LOCK");
    lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0) {
      return IoErrorFromErrno("open", path, errno);
    }
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return Status::Busy("journal " + options_.dir +
                            " is open for writing elsewhere (" + path +
                            " is locked)");
      }
      return IoErrorFromErrno("lock", path, errno);
    }
    return Status::Ok();
  }

  // Finishes the current segment (written out and, when durable, synced, so
  // that no segment but the last can ever have a torn tail) and starts a new
  // one named after `first_seq`.
  Status Roll(SequenceNumber first_seq) {
    if (file_ != nullptr) {
      if (Status s = WriteBuffer(); !s.ok()) {
        return s;
      }
      // Only the last segment may end in zeros.
      if (file_size_ > segment_size_) {
        if (Status s = file_->Truncate(segment_size_); !s.ok()) {
          return s;
        }
        file_size_ = segment_size_;
      }
      if (options_.sync == SyncMode::kDurable) {
        if (Status s = file_->Sync(); !s.ok()) {
          return s;
        }
      }
      file_.reset();
    }
    auto file =
        ops_->CreateFile(JoinPath(options_.dir, SegmentFileName(first_seq)));
    if (!file.ok()) {
      return file.status();
    }
    file_ = std::move(*file);
    dir_dirty_ = true;
    AppendFileHeader(first_seq, &buffer_);
    segment_size_ = kFileHeaderSize;
    file_size_ = 0;
    reserve_failed_ = false;
    return Status::Ok();
  }

  // Durable, with reserve_bytes: before the buffer is written, makes sure
  // zeros lie at least reserve_bytes / 2 past the segment's end (refilling
  // to reserve_bytes), so that commits overwrite rather than append. The
  // commit that refills syncs the zeros and the new size with its data.
  // Best effort: when the zeros cannot be written (a nearly full disk), the
  // segment's later commits append, as without reservation; the data then
  // fails only where it would have failed anyway.
  void ReserveAhead() {
    if (options_.sync != SyncMode::kDurable || options_.reserve_bytes == 0 ||
        reserve_failed_ ||
        segment_size_ + options_.reserve_bytes / 2 <= file_size_) {
      return;
    }
    const std::uint64_t size = segment_size_ + options_.reserve_bytes;
    // Even a failed Reserve may have written part of the zeros: the roll
    // must cut up to `size`.
    file_size_ = size;
    if (!file_->Reserve(size).ok()) {
      reserve_failed_ = true;
    }
  }

  Status WriteBuffer() {
    if (buffer_.empty()) {
      return Status::Ok();
    }
    Status s = file_->Write(buffer_);
    buffer_.clear();
    file_size_ = std::max(file_size_, segment_size_);
    return s;
  }

  Status Fail(Status cause) {
    failed_ = true;
    failure_ = cause.message();
    buffer_.clear();
    return cause;
  }

  Status Refused() const {
    return Status::FailedPrecondition(
        "journal " + options_.dir +
        " refuses writes after an earlier failure: " + failure_);
  }

  void Report(const std::string& line) {
    if (!report_.empty()) {
      report_ += "; ";
    }
    report_ += line;
  }

  const JournalOptions options_;
  JournalFileOps* const ops_;  // not owned
  int lock_fd_ = -1;
  std::unique_ptr<JournalFile> file_;  // the segment being appended to
  std::uint64_t segment_size_ = 0;     // its size including buffer_
  // How long the file is on disk (at most): its data, or more with
  // reserved zeros.
  std::uint64_t file_size_ = 0;
  bool reserve_failed_ = false;       // in this segment: append from now on
  bool dir_dirty_ = false;            // a segment was created since commit
  std::vector<std::uint8_t> buffer_;  // appended but not yet written
  SequenceNumber last_seq_;
  SequenceNumber durable_seq_;
  bool failed_ = false;
  std::string failure_;
  std::string report_;
};

JournalWriter::JournalWriter(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
JournalWriter::~JournalWriter() = default;

Result<std::unique_ptr<JournalWriter>> JournalWriter::Open(
    const JournalOptions& options) {
  if (options.dir.empty()) {
    return Status::InvalidArgument("journal: no directory given");
  }
  if (options.segment_bytes < kMinSegmentBytes) {
    return Status::InvalidArgument(
        "journal: segment_bytes " + std::to_string(options.segment_bytes) +
        " is below the minimum " + std::to_string(kMinSegmentBytes));
  }
  JournalFileOps* ops =
      options.file_ops != nullptr ? options.file_ops : PosixJournalFileOps();
  auto impl = std::make_unique<Impl>(options, ops);
  if (Status s = impl->Open(); !s.ok()) {
    return s;
  }
  return std::unique_ptr<JournalWriter>(new JournalWriter(std::move(impl)));
}

Status JournalWriter::Append(const engine::Command& cmd) {
  return impl_->Append(cmd);
}
Status JournalWriter::Commit() { return impl_->Commit(); }
SequenceNumber JournalWriter::last_seq() const { return impl_->LastSeq(); }
SequenceNumber JournalWriter::durable_seq() const {
  return impl_->DurableSeq();
}
bool JournalWriter::failed() const { return impl_->Failed(); }
const std::string& JournalWriter::recovery_report() const {
  return impl_->RecoveryReport();
}

// ---- JournalReader ----------------------------------------------------------

class JournalReader::Impl {
 public:
  Impl(std::vector<JournalSegment> segments, SequenceNumber after)
      : segments_(std::move(segments)), after_(after) {}

  Result<std::optional<engine::Command>> Next() {
    if (!error_.ok()) {
      return error_;
    }
    while (true) {
      if (cursor_ == nullptr) {
        if (next_segment_ == segments_.size()) {
          return std::optional<engine::Command>();
        }
        const bool is_last = next_segment_ + 1 == segments_.size();
        cursor_ =
            std::make_unique<SegmentCursor>(segments_[next_segment_], is_last);
        ++next_segment_;
        if (Status s = cursor_->Open(); !s.ok()) {
          error_ = s;
          return s;
        }
      }
      auto next = cursor_->Next();
      if (!next.ok()) {
        error_ = next.status();
        return error_;
      }
      if (next->has_value()) {
        const SequenceNumber seq = (*next)->header.seq;
        if (any_ && seq <= last_seq_) {
          error_ = Status::Corruption(
              "journal " + cursor_->Segment().path + ": seq " +
              std::to_string(seq.value()) + " is not after seq " +
              std::to_string(last_seq_.value()) + " of the previous segment");
          return error_;
        }
        any_ = true;
        last_seq_ = seq;
        if (seq <= after_) {
          continue;
        }
        return next;
      }
      torn_bytes_ += cursor_->TornBytes();
      cursor_.reset();
    }
  }

  std::uint64_t TornBytes() const { return torn_bytes_; }

 private:
  std::vector<JournalSegment> segments_;
  SequenceNumber after_;  // commands up to this seq are skipped
  std::size_t next_segment_ = 0;
  std::unique_ptr<SegmentCursor> cursor_;
  bool any_ = false;
  SequenceNumber last_seq_;
  std::uint64_t torn_bytes_ = 0;
  Status error_;
};

JournalReader::JournalReader(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
JournalReader::~JournalReader() = default;

Result<std::unique_ptr<JournalReader>> JournalReader::Open(
    const std::string& dir) {
  return Open(dir, SequenceNumber(0));
}

Result<std::unique_ptr<JournalReader>> JournalReader::Open(
    const std::string& dir, SequenceNumber after) {
  auto segments = ListJournalSegments(dir);
  if (!segments.ok()) {
    return segments.status();
  }
  // Drop the segments that end before the one that can hold after + 1:
  // segment i holds only seqs below segment i + 1's first seq.
  std::size_t first = 0;
  while (first + 1 < segments->size() &&
         (*segments)[first + 1].first_seq.value() <= after.value() + 1 &&
         after.value() != ~std::uint64_t{0}) {
    ++first;
  }
  segments->erase(segments->begin(),
                  segments->begin() + static_cast<std::ptrdiff_t>(first));
  return std::unique_ptr<JournalReader>(
      new JournalReader(std::make_unique<Impl>(std::move(*segments), after)));
}

Result<std::optional<engine::Command>> JournalReader::Next() {
  return impl_->Next();
}
std::uint64_t JournalReader::torn_tail_bytes() const {
  return impl_->TornBytes();
}

}  // namespace carbonex::gateway
