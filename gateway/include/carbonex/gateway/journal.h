// The durable command journal.
//
// The sequencer appends every stamped engine::Command to the journal before
// executing it, and releases the resulting execution reports only after
// Commit() has made the command durable. One Commit() (one fdatasync) covers
// every command appended since the previous one: group commit. On restart the
// journal is read back in order with JournalReader and replayed through the
// engine.
//
// On disk a journal is a directory of segment files, each named by the
// sequence number of the first command it holds (journal-<20 digits>.cxj) and
// holding a file header followed by checksummed records. The byte-by-byte
// format is in docs/journal.md.
//
// Crash behaviour: a crash may leave the last segment with a torn or
// partially written tail (only bytes never covered by a successful Commit()).
// Both the reader and the writer treat such a tail as the clean end of the
// journal; the writer cuts it off before appending. Zeros after the last
// record (space reserved ahead of the writes, JournalOptions::reserve_bytes)
// are the clean end as well, and not counted as torn. A record that does not
// verify anywhere else is Corruption and is never silently skipped.
#ifndef CARBONEX_GATEWAY_JOURNAL_H_
#define CARBONEX_GATEWAY_JOURNAL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "carbonex/common/status.h"
#include "carbonex/common/types.h"
#include "carbonex/engine/commands.h"

namespace carbonex::gateway {

// How Commit() makes data durable.
enum class SyncMode {
  kDurable,  // write(2) then fdatasync(2): after OK the commands survive a
             // power loss. The only mode for production.
  kAsync,    // write(2) only, never fsync: survives a process crash but not
             // a power loss. For benchmarks and tests only.
};

class JournalFileOps;

// JournalOptions::reserve_bytes of the server's journal.
inline constexpr std::size_t kServerJournalReserveBytes = std::size_t{1} << 20;

struct JournalOptions {
  // The journal directory; created (mode 0700) if missing. Its parent must
  // exist.
  std::string dir;
  // Default: durable.
  SyncMode sync = SyncMode::kDurable;
  // A segment that has grown past this many bytes is closed (and, when
  // durable, synced) and the next command starts a new segment file.
  // Default: 256 MiB. Must be at least 4096.
  std::size_t segment_bytes = std::size_t{256} << 20;
  // When durable: zeros are written this far (at least) ahead of the
  // segment's data, so that a commit overwrites bytes the file has, and its
  // fdatasync need not also record a new file size and newly allocated
  // blocks (on the reference disk a synced 4 KiB overwrite takes 0.16 ms, an
  // append 0.27 ms). Zeros after the last record of the last segment are
  // read as its clean end; a finished segment is cut to its data when the
  // writer rolls. Best effort: where the zeros cannot be written (a nearly
  // full disk), commits append. 0 (default): nothing is written ahead. The
  // server uses kServerJournalReserveBytes.
  std::size_t reserve_bytes = 0;
  // The file-system seam; nullptr (default) means PosixJournalFileOps().
  // Tests pass a fault-injecting implementation. Not owned; must outlive the
  // writer.
  JournalFileOps* file_ops = nullptr;
};

// Appends commands to a journal directory.
//
// Thread-safety: none; one thread (the sequencer) uses a writer. At most one
// writer per directory at a time, across processes (enforced with an
// advisory lock on <dir>/LOCK).
//
// After any I/O error the writer is "failed": Append() and Commit() return
// FailedPrecondition from then on (the server stops accepting orders), and
// nothing that was not acknowledged by a successful Commit() may be treated
// as durable. Every command acknowledged before the failure stays readable.
class JournalWriter {
 public:
  // Opens (or creates) the journal in options.dir, scans the last segment to
  // its last valid record, cuts off a torn or corrupt tail left by a crash
  // (described in recovery_report()), and positions appends after it.
  //
  // Errors:
  //   InvalidArgument    options.dir empty, segment_bytes < 4096.
  //   Busy               another writer holds the directory's lock.
  //   IoError            the directory or a file cannot be created, read,
  //                      truncated or synced.
  //   Corruption         a segment header is bad, or a record that is not
  //                      part of the tail does not verify; nothing is
  //                      changed on disk.
  static Result<std::unique_ptr<JournalWriter>> Open(
      const JournalOptions& options);

  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Buffers the command; it is durable only after the next successful
  // Commit(). May write (never sync) a full buffer or roll to a new segment
  // (a roll syncs the finished segment when durable).
  //
  // Errors:
  //   InvalidArgument     cmd.header.seq <= last_seq(); nothing changes.
  //   FailedPrecondition  the writer has failed earlier.
  //   IoError             writing failed; the writer is now failed.
  [[nodiscard]] Status Append(const engine::Command& cmd);

  // Writes the buffer and, when SyncMode::kDurable, fdatasyncs the segment
  // (and the directory if a segment was created). After OK every appended
  // command is durable and durable_seq() == last_seq(). Committing with
  // nothing appended is a cheap no-op.
  //
  // Errors:
  //   FailedPrecondition  the writer has failed earlier.
  //   IoError             a write or sync failed (disk full, read-only, EIO);
  //                       the writer is now failed and durable_seq() keeps
  //                       its previous value.
  [[nodiscard]] Status Commit();

  // The last appended command's seq (0 for an empty journal).
  // NOLINTNEXTLINE(readability-identifier-naming): accessor
  [[nodiscard]] SequenceNumber last_seq() const;
  // The last committed command's seq (0 for an empty journal). After Open()
  // this equals last_seq(): everything found on disk counts as committed.
  // NOLINTNEXTLINE(readability-identifier-naming): accessor
  [[nodiscard]] SequenceNumber durable_seq() const;
  // True once an I/O error has made the writer refuse further work.
  // NOLINTNEXTLINE(readability-identifier-naming): accessor
  [[nodiscard]] bool failed() const;
  // What Open() found and did, one line, e.g. "truncated torn tail of 37
  // bytes at offset 4096 of journal-...cxj"; empty when the journal was
  // clean. The caller logs it.
  // NOLINTNEXTLINE(readability-identifier-naming): accessor
  [[nodiscard]] const std::string& recovery_report() const;

 private:
  class Impl;
  explicit JournalWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads a journal directory's commands in order.
//
// Thread-safety: none; one thread uses a reader. A reader must not run while
// a writer appends to the same directory (it may see a partial tail and stop
// there, which is harmless but incomplete).
class JournalReader {
 public:
  // Lists the directory's segments. A missing or empty directory is an empty
  // journal (Next() returns std::nullopt at once).
  //
  // Errors:
  //   IoError     the directory exists but cannot be listed.
  //   Corruption  a file in it looks like a segment but has a bad name.
  static Result<std::unique_ptr<JournalReader>> Open(const std::string& dir);

  // As Open(dir), but Next() starts with the first command whose seq is
  // greater than `after` (recovery from an engine snapshot taken at `after`).
  // Segments wholly at or before `after` are not read at all; earlier
  // commands of the segment holding `after` are read, verified and skipped.
  // Errors: as Open(dir).
  static Result<std::unique_ptr<JournalReader>> Open(const std::string& dir,
                                                     SequenceNumber after);

  ~JournalReader();
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  // The next command in sequence order; std::nullopt at the clean end (the
  // end of the last segment, or a torn tail there). After an error the
  // reader stays at the bad record and returns the same error again.
  //
  // Errors:
  //   Corruption  a bad segment header, a record that does not verify and is
  //               not the torn tail, a payload that does not decode, a seq
  //               that does not increase, or a segment whose first seq does
  //               not match its name.
  //   IoError     a read failed.
  [[nodiscard]] Result<std::optional<engine::Command>> Next();

  // How many bytes of torn tail the reader stopped at (0 if none); valid once
  // Next() has returned std::nullopt.
  // NOLINTNEXTLINE(readability-identifier-naming): accessor
  [[nodiscard]] std::uint64_t torn_tail_bytes() const;

 private:
  class Impl;
  explicit JournalReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An open segment file being appended to: the writer's only way to write.
// Closing happens in the destructor (close errors are ignored: durability
// comes from Sync()).
class JournalFile {
 public:
  virtual ~JournalFile() = default;
  // Writes all of `bytes` at the end of the file (retrying short writes).
  [[nodiscard]] virtual Status Write(std::span<const std::uint8_t> bytes) = 0;
  // fdatasync(2).
  [[nodiscard]] virtual Status Sync() = 0;
  // Makes the file at least `size` bytes long, with zeros written (not a
  // hole) past its current end; where Write() appends does not move.
  // Default: nothing (a file that cannot reserve is still correct).
  [[nodiscard]] virtual Status Reserve(std::uint64_t size);
  // ftruncate(2) to `size`, dropping reserved zeros past the data.
  // Default: nothing.
  [[nodiscard]] virtual Status Truncate(std::uint64_t size);
};

// The file-system operations the writer performs, as a seam for tests that
// inject faults (disk full, EIO on fsync). Implementations must be safe to
// call from one writer thread at a time; PosixJournalFileOps() is stateless.
class JournalFileOps {
 public:
  virtual ~JournalFileOps() = default;
  // mkdir(path, 0700) unless it exists as a directory.
  [[nodiscard]] virtual Status CreateDir(const std::string& path) = 0;
  // Creates a new, empty file (fails with AlreadyExists if it exists).
  [[nodiscard]] virtual Result<std::unique_ptr<JournalFile>> CreateFile(
      const std::string& path) = 0;
  // Opens an existing file, truncates it to `size` bytes and positions
  // writes at its end.
  [[nodiscard]] virtual Result<std::unique_ptr<JournalFile>> OpenForAppend(
      const std::string& path, std::uint64_t size) = 0;
  [[nodiscard]] virtual Status RemoveFile(const std::string& path) = 0;
  // fsync(2) of a directory, making created and removed entries durable.
  [[nodiscard]] virtual Status SyncDir(const std::string& path) = 0;
};

// The real file system. Process-wide, never null.
JournalFileOps* PosixJournalFileOps();

// A segment file of a journal directory, as found on disk.
struct JournalSegment {
  SequenceNumber first_seq;  // from the file name
  std::string path;
};

// The segments of `dir` in ascending first_seq. A missing directory has none.
// Errors: IoError (cannot list), Corruption (a segment-like bad name).
Result<std::vector<JournalSegment>> ListJournalSegments(const std::string& dir);

// For snapshots: deletes every segment all of whose commands have seq < `seq`
// (judged by the next segment's name; the last segment is never deleted).
// Must not run concurrently with a writer rolling segments.
// Errors: IoError, Corruption (as ListJournalSegments).
[[nodiscard]] Status RemoveJournalSegmentsBefore(const std::string& dir,
                                                 SequenceNumber seq);

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_JOURNAL_H_
