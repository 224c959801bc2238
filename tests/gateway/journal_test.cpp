#define CATCH_CONFIG_MAIN
#include "carbonex/gateway/journal.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "carbonex/gateway/command_codec.h"

namespace carbonex::gateway {
namespace {

namespace fs = std::filesystem;
using engine::Command;

std::uint64_t Seed() {
  const char* env =
      std::getenv("CARBONEX_SEED");  // NOLINT(concurrency-mt-unsafe)
  const std::uint64_t seed =
      env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::cout << "CARBONEX_SEED=" << seed << "\n";
  return seed;
}

// A fresh directory, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "journal_test.XXXXXX");
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    root_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The journal directory (created by the writer).
  [[nodiscard]] std::string Journal() const { return root_ / "journal"; }

 private:
  fs::path root_;
};

// A varied command with the given seq: cycles through every command type.
Command MakeCommand(std::uint64_t seq, std::mt19937_64& rng) {
  Command cmd;
  cmd.header.seq = SequenceNumber(seq);
  cmd.header.time = Timestamp(static_cast<std::int64_t>(seq * 1000 + 7));
  cmd.header.broker = BrokerId(static_cast<std::uint32_t>(rng() % 5));
  const auto account = AccountId(static_cast<std::uint32_t>(rng() % 100));
  const auto instrument = InstrumentId(static_cast<std::uint32_t>(rng() % 4));
  const ClientOrderId id("c" + std::to_string(seq));
  switch (rng() % 12) {
    case 0: {
      engine::PlaceOrder p;
      p.cl_ord_id = id;
      p.account = account;
      p.instrument = instrument;
      p.side = rng() % 2 == 0 ? Side::kBuy : Side::kSell;
      if (rng() % 2 == 0) {
        p.price = Price(static_cast<std::int64_t>(rng() % 10'000 + 1));
      } else {
        p.type = engine::OrderType::kMarket;
      }
      p.qty = Quantity(static_cast<std::int64_t>(rng() % 1000 + 1));
      p.tif = engine::TimeInForce::kGtc;
      cmd.body = p;
      break;
    }
    case 1:
      cmd.body =
          engine::CancelOrder{id,      ClientOrderId("o"), OrderId(rng()),
                              account, instrument,         Side::kSell};
      break;
    case 2:
      cmd.body = engine::ReplaceOrder{
          id,         ClientOrderId("o"), std::nullopt, account,
          instrument, Side::kBuy,         Price(5),     Quantity(9)};
      break;
    case 3:
      cmd.body = engine::MassCancel{id, engine::MassCancelScope::kAccount,
                                    account, std::nullopt, true};
      break;
    case 4:
      cmd.body = engine::QueryOrderStatus{id, std::nullopt, account, instrument,
                                          Side::kBuy};
      break;
    case 5:
      cmd.body = engine::ExpireDayOrders{};
      break;
    case 6:
      cmd.body = engine::AdjustUnits{account, instrument, Quantity(-3)};
      break;
    case 7:
      cmd.body = engine::AdjustCash{account, Cash(1'000'000)};
      break;
    case 8:
      cmd.body = engine::AddInstrument{instrument, Price(1), Quantity(50),
                                       TradingStatus::kHalted};
      break;
    case 9:
      cmd.body = engine::AddAccount{account, Quantity(77)};
      break;
    case 10:
      cmd.body = engine::SetEntitlement{BrokerId(1), account, false};
      break;
    default:
      cmd.body = engine::SetTradingStatus{instrument, TradingStatus::kOpen};
      break;
  }
  return cmd;
}

// Commands compare by their encoding, which is unique per command.
std::vector<std::uint8_t> Bytes(const Command& cmd) {
  std::vector<std::uint8_t> out;
  EncodeCommand(cmd, &out);
  return out;
}

std::unique_ptr<JournalWriter> OpenWriter(const JournalOptions& options) {
  auto writer = JournalWriter::Open(options);
  INFO(writer.status().message());
  REQUIRE(writer.ok());
  return std::move(*writer);
}

// The whole journal as read back, with the torn tail the reader stopped at.
struct ReadBack {
  std::vector<Command> commands;
  std::uint64_t torn_bytes = 0;
};

// Reads the whole journal; fails the test on an error.
ReadBack ReadWithTail(const std::string& dir) {
  auto reader = JournalReader::Open(dir);
  REQUIRE(reader.ok());
  ReadBack out;
  while (true) {
    auto next = (*reader)->Next();
    INFO(next.status().message());
    REQUIRE(next.ok());
    if (!next->has_value()) {
      out.torn_bytes = (*reader)->torn_tail_bytes();
      return out;
    }
    out.commands.push_back(**next);
  }
}

std::vector<Command> ReadAll(const std::string& dir) {
  return ReadWithTail(dir).commands;
}

// Reads until the end or the first error; returns the commands and the error.
std::pair<std::vector<Command>, Status> ReadUntilError(const std::string& dir) {
  auto reader = JournalReader::Open(dir);
  REQUIRE(reader.ok());
  std::vector<Command> out;
  while (true) {
    auto next = (*reader)->Next();
    if (!next.ok()) {
      return {out, next.status()};
    }
    if (!next->has_value()) {
      return {out, Status::Ok()};
    }
    out.push_back(**next);
  }
}

void RequireSame(const std::vector<Command>& got,
                 const std::vector<Command>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("command " << i);
    REQUIRE(Bytes(got[i]) == Bytes(want[i]));
  }
}

std::vector<std::uint8_t> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void WriteFileBytes(const std::string& path,
                    const std::vector<std::uint8_t>& bytes, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(size));
  REQUIRE(out.good());
}

std::vector<JournalSegment> Segments(const std::string& dir) {
  auto segments = ListJournalSegments(dir);
  REQUIRE(segments.ok());
  return *segments;
}

TEST_CASE("a missing or empty journal reads as empty", "[journal]") {
  TempDir tmp;
  CHECK(ReadAll(tmp.Journal()).empty());
  auto writer = OpenWriter({.dir = tmp.Journal()});
  CHECK(writer->last_seq() == SequenceNumber(0));
  CHECK(writer->durable_seq() == SequenceNumber(0));
  CHECK(writer->Commit().ok());
  CHECK(writer->recovery_report().empty());
  CHECK(ReadAll(tmp.Journal()).empty());
  CHECK((fs::status(tmp.Journal()).permissions() & fs::perms::all) ==
        fs::perms::owner_all);
}

TEST_CASE("options are validated", "[journal]") {
  TempDir tmp;
  auto no_dir = JournalWriter::Open({});
  REQUIRE_FALSE(no_dir.ok());
  CHECK(no_dir.status().code() == StatusCode::kInvalidArgument);
  auto tiny = JournalWriter::Open({.dir = tmp.Journal(), .segment_bytes = 100});
  REQUIRE_FALSE(tiny.ok());
  CHECK(tiny.status().code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(fs::exists(tmp.Journal()));  // bad input changes nothing
}

TEST_CASE("round trip over many segments, reopening in between", "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  const JournalOptions options{.dir = tmp.Journal(), .segment_bytes = 4096};
  std::vector<Command> written;
  std::uint64_t seq = 0;
  for (int session = 0; session < 3; ++session) {
    auto writer = OpenWriter(options);
    CHECK(writer->last_seq() == SequenceNumber(seq));
    CHECK(writer->durable_seq() == SequenceNumber(seq));
    for (int batch = 0; batch < 40; ++batch) {
      const auto n = rng() % 50;
      for (std::uint64_t i = 0; i < n; ++i) {
        seq += 1 + rng() % 3;  // gaps are allowed, order is not optional
        written.push_back(MakeCommand(seq, rng));
        REQUIRE(writer->Append(written.back()).ok());
      }
      CHECK(writer->last_seq() == SequenceNumber(seq));
      REQUIRE(writer->Commit().ok());
      CHECK(writer->durable_seq() == SequenceNumber(seq));
    }
    CHECK(writer->recovery_report().empty());
  }
  RequireSame(ReadAll(tmp.Journal()), written);

  // Segments are named by their first seq and none is far past the limit.
  const auto segments = Segments(tmp.Journal());
  CHECK(segments.size() > 10);
  CHECK(segments.front().first_seq == written.front().header.seq);
  for (const auto& segment : segments) {
    CHECK(fs::file_size(segment.path) < 4096 + kMaxEncodedCommandBytes + 12);
  }
}

TEST_CASE("append refuses a seq that does not increase", "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(1);
  {
    auto writer = OpenWriter({.dir = tmp.Journal()});
    REQUIRE(writer->Append(MakeCommand(10, rng)).ok());
    for (const std::uint64_t bad : {10U, 9U, 0U}) {
      const Status s = writer->Append(MakeCommand(bad, rng));
      CHECK(s.code() == StatusCode::kInvalidArgument);
    }
    CHECK_FALSE(writer->failed());  // a refused append changes nothing
    REQUIRE(writer->Append(MakeCommand(11, rng)).ok());
    REQUIRE(writer->Commit().ok());
  }
  auto writer = OpenWriter({.dir = tmp.Journal()});
  CHECK(writer->last_seq() == SequenceNumber(11));
  CHECK(writer->Append(MakeCommand(11, rng)).code() ==
        StatusCode::kInvalidArgument);
  REQUIRE(writer->Append(MakeCommand(12, rng)).ok());
  REQUIRE(writer->Commit().ok());
  CHECK(ReadAll(tmp.Journal()).size() == 3);
}

TEST_CASE("uncommitted appends are not read back after close", "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(2);
  {
    auto writer = OpenWriter({.dir = tmp.Journal()});
    REQUIRE(writer->Append(MakeCommand(1, rng)).ok());
    REQUIRE(writer->Commit().ok());
    REQUIRE(writer->Append(MakeCommand(2, rng)).ok());
    CHECK(writer->durable_seq() == SequenceNumber(1));
  }
  CHECK(ReadAll(tmp.Journal()).size() == 1);
}

TEST_CASE("a second writer on the same directory is refused", "[journal]") {
  TempDir tmp;
  auto first = OpenWriter({.dir = tmp.Journal()});
  auto second = JournalWriter::Open({.dir = tmp.Journal()});
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kBusy);
  first.reset();
  CHECK(JournalWriter::Open({.dir = tmp.Journal()}).ok());
}

// Writes `count` commands, one commit each, and returns them with the size
// of the last segment before the last command was appended.
struct Written {
  std::vector<Command> commands;
  std::uint64_t size_before_last = 0;
};
Written WriteCommits(const JournalOptions& options, std::uint64_t count,
                     std::mt19937_64& rng) {
  Written w;
  auto writer = OpenWriter(options);
  for (std::uint64_t seq = 1; seq <= count; ++seq) {
    if (seq == count) {
      w.size_before_last = fs::file_size(Segments(options.dir).back().path);
    }
    w.commands.push_back(MakeCommand(seq, rng));
    REQUIRE(writer->Append(w.commands.back()).ok());
    REQUIRE(writer->Commit().ok());
  }
  return w;
}

TEST_CASE("a torn tail at any byte of the last record is the clean end",
          "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  const JournalOptions options{.dir = tmp.Journal()};
  const Written w = WriteCommits(options, 20, rng);
  const std::string path = Segments(tmp.Journal()).back().path;
  const std::vector<std::uint8_t> full = ReadFileBytes(path);
  const std::vector<Command> before_last(w.commands.begin(),
                                         w.commands.end() - 1);
  for (std::size_t cut = w.size_before_last; cut < full.size(); ++cut) {
    INFO("cut at " << cut << " of " << full.size());
    WriteFileBytes(path, full, cut);
    {
      const ReadBack got = ReadWithTail(tmp.Journal());
      RequireSame(got.commands, before_last);
      CHECK(got.torn_bytes == cut - w.size_before_last);
    }
    {
      auto writer = OpenWriter(options);
      CHECK(writer->last_seq() == SequenceNumber(19));
      CHECK(writer->recovery_report().empty() == (cut == w.size_before_last));
      CHECK(fs::file_size(path) == w.size_before_last);  // tail cut off
      REQUIRE(writer->Append(w.commands.back()).ok());
      REQUIRE(writer->Commit().ok());
    }
    RequireSame(ReadAll(tmp.Journal()), w.commands);
  }
}

TEST_CASE("a torn first record of a new segment removes the segment",
          "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  const JournalOptions options{.dir = tmp.Journal(), .segment_bytes = 4096};
  // Write until a commit has just started a new segment.
  std::vector<Command> commands;
  {
    auto writer = OpenWriter(options);
    for (std::uint64_t seq = 1;; ++seq) {
      commands.push_back(MakeCommand(seq, rng));
      REQUIRE(writer->Append(commands.back()).ok());
      REQUIRE(writer->Commit().ok());
      if (Segments(tmp.Journal()).size() == 2) {
        break;
      }
    }
  }
  const auto segments = Segments(tmp.Journal());
  REQUIRE(segments.back().first_seq == commands.back().header.seq);
  const std::string path = segments.back().path;
  const std::vector<std::uint8_t> full = ReadFileBytes(path);
  const std::vector<Command> before_last(commands.begin(), commands.end() - 1);
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    INFO("cut at " << cut << " of " << full.size());
    WriteFileBytes(path, full, cut);
    RequireSame(ReadAll(tmp.Journal()), before_last);
    {
      auto writer = OpenWriter(options);
      CHECK(writer->last_seq() == before_last.back().header.seq);
      CHECK_FALSE(fs::exists(path));
      CHECK(writer->recovery_report().find("removed segment") !=
            std::string::npos);
      REQUIRE(writer->Append(commands.back()).ok());
      REQUIRE(writer->Commit().ok());
    }
    RequireSame(ReadAll(tmp.Journal()), commands);
  }
  // A zero-filled tail (a crash after the size was extended but before the
  // data reached the disk) is torn too.
  std::vector<std::uint8_t> zeros = full;
  zeros.resize(full.size() + 300, 0);
  WriteFileBytes(path, zeros, zeros.size());
  RequireSame(ReadAll(tmp.Journal()), commands);
  auto writer = OpenWriter(options);
  CHECK(writer->last_seq() == commands.back().header.seq);
  CHECK(fs::file_size(path) == full.size());
}

TEST_CASE("a corrupt record before the tail is reported, not skipped",
          "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  const JournalOptions options{.dir = tmp.Journal(), .segment_bytes = 4096};
  std::vector<Command> commands;
  {
    auto writer = OpenWriter(options);
    for (std::uint64_t seq = 1; seq <= 300; ++seq) {
      commands.push_back(MakeCommand(seq, rng));
      REQUIRE(writer->Append(commands.back()).ok());
    }
    REQUIRE(writer->Commit().ok());
  }
  const auto segments = Segments(tmp.Journal());
  REQUIRE(segments.size() >= 3);

  SECTION("in the last segment: reader and writer both refuse") {
    const std::string path = segments.back().path;
    std::vector<std::uint8_t> bytes = ReadFileBytes(path);
    bytes[32 + 20] ^= 0x40;  // inside the first record's payload
    WriteFileBytes(path, bytes, bytes.size());
    auto [got, status] = ReadUntilError(tmp.Journal());
    CHECK(status.code() == StatusCode::kCorruption);
    CHECK(status.message().find(path) != std::string::npos);
    CHECK(got.size() == segments.back().first_seq.value() - 1);
    auto writer = JournalWriter::Open(options);
    REQUIRE_FALSE(writer.ok());
    CHECK(writer.status().code() == StatusCode::kCorruption);
    CHECK(ReadFileBytes(path) == bytes);  // nothing changed on disk
  }
  SECTION("a torn end of a middle segment is corruption") {
    const std::string path = segments[1].path;
    const std::vector<std::uint8_t> bytes = ReadFileBytes(path);
    WriteFileBytes(path, bytes, bytes.size() - 3);
    auto [got, status] = ReadUntilError(tmp.Journal());
    CHECK(status.code() == StatusCode::kCorruption);
    CHECK(got.size() < commands.size());
  }
  SECTION("a damaged segment header is corruption") {
    const std::string path = segments[1].path;
    std::vector<std::uint8_t> bytes = ReadFileBytes(path);
    bytes[17] ^= 1;  // first seq in the header
    WriteFileBytes(path, bytes, bytes.size());
    auto [got, status] = ReadUntilError(tmp.Journal());
    CHECK(status.code() == StatusCode::kCorruption);
    CHECK(got.size() == segments[1].first_seq.value() - 1);
  }
  SECTION("a missing middle segment breaks nothing silently") {
    // Removing a middle segment leaves a gap in seqs, which the journal
    // cannot see (seqs may have gaps), but the first seq of every segment
    // must match its name, so a renamed segment is caught.
    fs::rename(segments[1].path, tmp.Journal() + "/../moved-aside");
    fs::rename(segments[2].path, segments[1].path);
    auto [got, status] = ReadUntilError(tmp.Journal());
    CHECK(status.code() == StatusCode::kCorruption);
  }
  SECTION("an error sticks") {
    std::vector<std::uint8_t> bytes = ReadFileBytes(segments[0].path);
    bytes[40] ^= 1;
    WriteFileBytes(segments[0].path, bytes, bytes.size());
    auto reader = JournalReader::Open(tmp.Journal());
    REQUIRE(reader.ok());
    CHECK((*reader)->Next().status().code() == StatusCode::kCorruption);
    CHECK((*reader)->Next().status().code() == StatusCode::kCorruption);
  }
}

TEST_CASE("reading can start after a seq (recovery from a snapshot)",
          "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  std::vector<Command> written;
  {
    auto writer = OpenWriter({.dir = tmp.Journal(), .segment_bytes = 4096});
    std::uint64_t seq = 0;
    for (int i = 0; i < 500; ++i) {
      seq += 1 + rng() % 2;
      written.push_back(MakeCommand(seq, rng));
      REQUIRE(writer->Append(written.back()).ok());
    }
    REQUIRE(writer->Commit().ok());
  }
  const auto segments = Segments(tmp.Journal());
  REQUIRE(segments.size() > 3);
  // Every seq in and around the journal, including segment boundaries.
  std::vector<std::uint64_t> afters = {0, written.back().header.seq.value(),
                                       written.back().header.seq.value() + 5};
  for (const auto& segment : segments) {
    afters.push_back(segment.first_seq.value() - 1);
    afters.push_back(segment.first_seq.value());
  }
  for (int i = 0; i < 20; ++i) {
    afters.push_back(rng() % (written.back().header.seq.value() + 1));
  }
  for (const std::uint64_t after : afters) {
    INFO("after " << after);
    auto reader = JournalReader::Open(tmp.Journal(), SequenceNumber(after));
    REQUIRE(reader.ok());
    std::vector<Command> want;
    for (const Command& cmd : written) {
      if (cmd.header.seq.value() > after) {
        want.push_back(cmd);
      }
    }
    std::vector<Command> got;
    while (true) {
      auto next = (*reader)->Next();
      REQUIRE(next.ok());
      if (!next->has_value()) {
        break;
      }
      got.push_back(**next);
    }
    RequireSame(got, want);
  }
  // Segments wholly before `after` are not even opened: damage there does
  // not matter to a recovery from a later snapshot.
  std::vector<std::uint8_t> bytes = ReadFileBytes(segments[0].path);
  bytes[0] ^= 0xFF;
  WriteFileBytes(segments[0].path, bytes, bytes.size());
  auto reader = JournalReader::Open(
      tmp.Journal(), SequenceNumber(segments[1].first_seq.value() - 1));
  REQUIRE(reader.ok());
  auto next = (*reader)->Next();
  REQUIRE(next.ok());
  REQUIRE(next->has_value());
  CHECK((*next)->header.seq == segments[1].first_seq);
  CHECK(ReadUntilError(tmp.Journal()).second.code() == StatusCode::kCorruption);
}

TEST_CASE("malformed segment names are reported", "[journal]") {
  TempDir tmp;
  fs::create_directories(tmp.Journal());
  std::ofstream(tmp.Journal() + "/journal-12.cxj") << "x";
  auto reader = JournalReader::Open(tmp.Journal());
  REQUIRE_FALSE(reader.ok());
  CHECK(reader.status().code() == StatusCode::kCorruption);
  CHECK_FALSE(JournalWriter::Open({.dir = tmp.Journal()}).ok());
}

TEST_CASE("segments wholly before a seq can be removed", "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(3);
  const JournalOptions options{.dir = tmp.Journal(), .segment_bytes = 4096};
  {
    auto writer = OpenWriter(options);
    for (std::uint64_t seq = 1; seq <= 400; ++seq) {
      REQUIRE(writer->Append(MakeCommand(seq, rng)).ok());
    }
    REQUIRE(writer->Commit().ok());
  }
  const auto before = Segments(tmp.Journal());
  REQUIRE(before.size() >= 4);
  // Keep the segment holding before[2].first_seq + 1.
  const SequenceNumber keep_from(before[2].first_seq.value() + 1);
  REQUIRE(RemoveJournalSegmentsBefore(tmp.Journal(), keep_from).ok());
  const auto after = Segments(tmp.Journal());
  REQUIRE(after.size() == before.size() - 2);
  CHECK(after.front().first_seq == before[2].first_seq);
  const auto rest = ReadAll(tmp.Journal());
  CHECK(rest.front().header.seq == before[2].first_seq);
  CHECK(rest.back().header.seq == SequenceNumber(400));
  // Never the last segment, whatever the seq.
  REQUIRE(
      RemoveJournalSegmentsBefore(tmp.Journal(), SequenceNumber(1000)).ok());
  CHECK(Segments(tmp.Journal()).size() == 1);
  CHECK(ReadAll(tmp.Journal()).back().header.seq == SequenceNumber(400));
}

// ---- Fault injection
// ---------------------------------------------------------

// The length of `path` once a writer without reservation has cut it to its
// last record (the data end of a segment written with reserve_bytes).
std::uint64_t DataEnd(const std::string& dir, const std::string& path) {
  { auto writer = OpenWriter({.dir = dir}); }
  return fs::file_size(path);
}

TEST_CASE("zeros reserved ahead are the clean end, and rolls cut them off",
          "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  const JournalOptions options{
      .dir = tmp.Journal(), .segment_bytes = 4096, .reserve_bytes = 64 * 1024};
  std::vector<Command> written;
  {
    auto writer = OpenWriter(options);
    for (std::uint64_t seq = 1; seq <= 300; ++seq) {
      written.push_back(MakeCommand(seq, rng));
      REQUIRE(writer->Append(written.back()).ok());
      REQUIRE(writer->Commit().ok());
    }
  }
  const std::vector<JournalSegment> segments = Segments(tmp.Journal());
  REQUIRE(segments.size() >= 3);
  // Finished segments hold their records only (a zero tail there would be
  // corruption); the last one ends in zeros.
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    INFO(segments[i].path);
    CHECK(fs::file_size(segments[i].path) < options.segment_bytes + 4096);
  }
  const std::string last = segments.back().path;
  const std::vector<std::uint8_t> bytes = ReadFileBytes(last);
  const auto zeros = static_cast<std::size_t>(
      std::find_if(bytes.rbegin(), bytes.rend(),
                   [](std::uint8_t b) { return b != 0; }) -
      bytes.rbegin());
  CHECK(zeros >= options.reserve_bytes / 2);

  {
    const ReadBack got = ReadWithTail(tmp.Journal());
    RequireSame(got.commands, written);
    CHECK(got.torn_bytes == 0);
  }
  // Reopening reports nothing, drops the zeros and goes on.
  {
    auto writer = OpenWriter(options);
    CHECK(writer->recovery_report().empty());
    CHECK(writer->last_seq() == SequenceNumber(300));
    // Only zeros were cut, and the reserved ones were (a record may end
    // in zero bytes itself).
    CHECK(fs::file_size(last) >= bytes.size() - zeros);
    CHECK(fs::file_size(last) + options.reserve_bytes / 2 <= bytes.size());
    for (std::uint64_t seq = 301; seq <= 320; ++seq) {
      written.push_back(MakeCommand(seq, rng));
      REQUIRE(writer->Append(written.back()).ok());
      REQUIRE(writer->Commit().ok());
    }
  }
  RequireSame(ReadAll(tmp.Journal()), written);
}

TEST_CASE("a torn record in reserved zeros is a torn tail", "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  const JournalOptions options{.dir = tmp.Journal(),
                               .reserve_bytes = 64 * 1024};
  const Written w = WriteCommits(options, 20, rng);
  const std::string path = Segments(tmp.Journal()).back().path;
  const std::uint64_t end = DataEnd(tmp.Journal(), path);
  // The first half of the last record again, as a crash in the middle of
  // writing one more would leave it, then zeros.
  std::vector<std::uint8_t> bytes = ReadFileBytes(path);
  REQUIRE(bytes.size() == end);
  const auto frame =
      static_cast<std::ptrdiff_t>(12 + Bytes(w.commands.back()).size());
  const std::vector<std::uint8_t> half(bytes.end() - frame,
                                       bytes.end() - frame / 2);
  bytes.insert(bytes.end(), half.begin(), half.end());
  bytes.resize(bytes.size() + 4096, 0);
  WriteFileBytes(path, bytes, bytes.size());
  {
    const ReadBack got = ReadWithTail(tmp.Journal());
    RequireSame(got.commands, w.commands);
    CHECK(got.torn_bytes == half.size() + 4096);
  }
  auto writer = OpenWriter(options);
  CHECK_THAT(writer->recovery_report(), Catch::Contains("torn tail"));
  CHECK(fs::file_size(path) == end);
  CHECK(writer->last_seq() == SequenceNumber(20));
}

TEST_CASE("a segment header cut short in reserved zeros is a torn header",
          "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  const Written w =
      WriteCommits({.dir = tmp.Journal(), .reserve_bytes = 64 * 1024}, 10, rng);
  const std::string first = Segments(tmp.Journal()).front().path;
  (void)DataEnd(tmp.Journal(), first);  // as the roll leaves it
  const std::vector<std::uint8_t> header = ReadFileBytes(first);
  // The next segment as a crash could leave it: reserved, and the first
  // bytes of its header (the magic every header starts with) written.
  const std::string next = tmp.Journal() + "/journal-00000000000000000011.cxj";
  std::vector<std::uint8_t> torn(header.begin(), header.begin() + 5);
  torn.resize(64 * 1024, 0);
  WriteFileBytes(next, torn, torn.size());
  {
    const ReadBack got = ReadWithTail(tmp.Journal());
    RequireSame(got.commands, w.commands);
    CHECK(got.torn_bytes == torn.size());
  }
  // Bytes that are not the start of its header are corruption.
  std::vector<std::uint8_t> wrong = torn;
  wrong[1] = 'Z';
  WriteFileBytes(next, wrong, wrong.size());
  const auto [got, status] = ReadUntilError(tmp.Journal());
  CHECK(got.size() == 10);
  CHECK(status.code() == StatusCode::kCorruption);
  // The writer removes the torn one.
  WriteFileBytes(next, torn, torn.size());
  auto writer = OpenWriter({.dir = tmp.Journal()});
  CHECK_THAT(writer->recovery_report(), Catch::Contains("removed segment"));
  CHECK_FALSE(fs::exists(next));
  CHECK(writer->last_seq() == SequenceNumber(10));
}

TEST_CASE("zeros after the records of a finished segment are corruption",
          "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  const Written w =
      WriteCommits({.dir = tmp.Journal(), .segment_bytes = 4096}, 120, rng);
  const std::vector<JournalSegment> segments = Segments(tmp.Journal());
  REQUIRE(segments.size() >= 2);
  std::vector<std::uint8_t> bytes = ReadFileBytes(segments.front().path);
  bytes.resize(bytes.size() + 100, 0);
  WriteFileBytes(segments.front().path, bytes, bytes.size());
  const auto [got, status] = ReadUntilError(tmp.Journal());
  CHECK(status.code() == StatusCode::kCorruption);
  CHECK_THAT(status.message(), Catch::Contains(segments.front().path));
}

TEST_CASE("an asynchronous journal reserves nothing", "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  const Written w = WriteCommits({.dir = tmp.Journal(),
                                  .sync = SyncMode::kAsync,
                                  .reserve_bytes = 64 * 1024},
                                 20, rng);
  const std::string path = Segments(tmp.Journal()).back().path;
  const std::uint64_t size = fs::file_size(path);
  CHECK(DataEnd(tmp.Journal(), path) == size);
}

// Passes everything to the real file system until told to fail: writes then
// stop after a byte budget (a short write, then ENOSPC), syncs fail with EIO.
class FaultyFileOps final : public JournalFileOps {
 public:
  std::int64_t write_budget = -1;  // bytes still allowed; -1 = unlimited
  bool fail_sync = false;
  bool fail_dir_sync = false;
  bool fail_create = false;
  bool fail_reserve = false;
  bool fail_truncate = false;

  class File final : public JournalFile {
   public:
    File(std::unique_ptr<JournalFile> real, FaultyFileOps* ops)
        : real_(std::move(real)), ops_(ops) {}
    Status Write(std::span<const std::uint8_t> bytes) override {
      if (ops_->write_budget >= 0 &&
          static_cast<std::size_t>(ops_->write_budget) < bytes.size()) {
        const auto allowed = static_cast<std::size_t>(ops_->write_budget);
        ops_->write_budget = 0;
        Status partial = real_->Write(bytes.first(allowed));
        (void)partial;
        return Status::IoError("write: No space left on device (injected)");
      }
      if (ops_->write_budget >= 0) {
        ops_->write_budget -= static_cast<std::int64_t>(bytes.size());
      }
      return real_->Write(bytes);
    }
    Status Sync() override {
      if (ops_->fail_sync) {
        return Status::IoError("fdatasync: Input/output error (injected)");
      }
      return real_->Sync();
    }
    Status Reserve(std::uint64_t size) override {
      if (ops_->fail_reserve) {
        // Part of the zeros, as a disk that fills up meanwhile leaves it.
        (void)real_->Reserve(size - 100);
        return Status::IoError("write: No space left on device (injected)");
      }
      return real_->Reserve(size);
    }
    Status Truncate(std::uint64_t size) override {
      if (ops_->fail_truncate) {
        return Status::IoError("truncate: Input/output error (injected)");
      }
      return real_->Truncate(size);
    }

   private:
    std::unique_ptr<JournalFile> real_;
    FaultyFileOps* ops_;
  };

  Status CreateDir(const std::string& path) override {
    return Real()->CreateDir(path);
  }
  Result<std::unique_ptr<JournalFile>> CreateFile(
      const std::string& path) override {
    if (fail_create) {
      return Status::IoError("create " + path + ": Read-only (injected)");
    }
    return Wrap(Real()->CreateFile(path));
  }
  Result<std::unique_ptr<JournalFile>> OpenForAppend(
      const std::string& path, std::uint64_t size) override {
    return Wrap(Real()->OpenForAppend(path, size));
  }
  Status RemoveFile(const std::string& path) override {
    return Real()->RemoveFile(path);
  }
  Status SyncDir(const std::string& path) override {
    if (fail_dir_sync) {
      return Status::IoError("fsync directory: Input/output error (injected)");
    }
    return Real()->SyncDir(path);
  }

 private:
  static JournalFileOps* Real() { return PosixJournalFileOps(); }
  Result<std::unique_ptr<JournalFile>> Wrap(
      Result<std::unique_ptr<JournalFile>> file) {
    if (!file.ok()) {
      return file;
    }
    return std::unique_ptr<JournalFile>(
        std::make_unique<File>(std::move(*file), this));
  }
};

TEST_CASE("after an I/O failure the writer refuses and loses nothing acked",
          "[journal]") {
  const std::uint64_t seed = Seed();
  enum class Fault {
    kDiskFull,
    kSyncError,
    kDirSyncError,
    kCreateError,
    kTruncateError,
  };
  for (const Fault fault :
       {Fault::kDiskFull, Fault::kSyncError, Fault::kDirSyncError,
        Fault::kCreateError, Fault::kTruncateError}) {
    DYNAMIC_SECTION("fault " << static_cast<int>(fault)) {
      TempDir tmp;
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(fault));
      FaultyFileOps ops;
      // Segments roll every few batches, each cutting off the zeros
      // reserved ahead of it.
      const JournalOptions options{.dir = tmp.Journal(),
                                   .segment_bytes = 4096,
                                   .reserve_bytes = 6000,
                                   .file_ops = &ops};
      auto writer = OpenWriter(options);
      std::vector<Command> acked;
      std::vector<Command> appended;
      std::uint64_t seq = 0;
      bool armed = false;
      Status failure;
      const int arm_at = 20 + static_cast<int>(rng() % 30);
      for (int batch = 0; batch < 200 && failure.ok(); ++batch) {
        if (batch == arm_at) {
          armed = true;
          switch (fault) {
            case Fault::kDiskFull:
              ops.write_budget = static_cast<std::int64_t>(rng() % 3000);
              break;
            case Fault::kSyncError:
              ops.fail_sync = true;
              break;
            case Fault::kDirSyncError:
              ops.fail_dir_sync = true;
              break;
            case Fault::kCreateError:
              ops.fail_create = true;
              break;
            case Fault::kTruncateError:
              ops.fail_truncate = true;
              break;
          }
        }
        const std::uint64_t n = 1 + rng() % 20;
        for (std::uint64_t i = 0; i < n && failure.ok(); ++i) {
          appended.push_back(MakeCommand(++seq, rng));
          const Status s = writer->Append(appended.back());
          if (!s.ok()) {
            failure = s;
            appended.pop_back();
          }
        }
        if (failure.ok()) {
          const Status s = writer->Commit();
          if (s.ok()) {
            acked.assign(appended.begin(), appended.end());
            CHECK(writer->durable_seq() == appended.back().header.seq);
          } else {
            failure = s;
          }
        }
      }
      INFO("failure: " << failure.message());
      REQUIRE(armed);
      REQUIRE_FALSE(failure.ok());
      CHECK(failure.code() == StatusCode::kIoError);
      CHECK(writer->failed());
      CHECK(writer->durable_seq() ==
            (acked.empty() ? SequenceNumber(0) : acked.back().header.seq));
      // Refuses from now on, even with the fault gone.
      ops = FaultyFileOps();
      CHECK(writer->Append(MakeCommand(seq + 100, rng)).code() ==
            StatusCode::kFailedPrecondition);
      CHECK(writer->Commit().code() == StatusCode::kFailedPrecondition);
      writer.reset();

      // Everything acknowledged is there, in order; anything beyond it is a
      // prefix of what was appended after the last acknowledgement.
      const std::vector<Command> got = ReadAll(tmp.Journal());
      REQUIRE(got.size() >= acked.size());
      REQUIRE(got.size() <= appended.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        REQUIRE(Bytes(got[i]) == Bytes(appended[i]));
      }
      // And the journal can be reopened and continued.
      auto reopened = OpenWriter({.dir = tmp.Journal()});
      CHECK(reopened->last_seq() ==
            (got.empty() ? SequenceNumber(0) : got.back().header.seq));
      REQUIRE(reopened->Append(MakeCommand(seq + 1, rng)).ok());
      REQUIRE(reopened->Commit().ok());
    }
  }
}

TEST_CASE("zeros that cannot be written ahead are no failure", "[journal]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  FaultyFileOps ops;
  ops.fail_reserve = true;
  std::vector<Command> written;
  {
    auto writer = OpenWriter({.dir = tmp.Journal(),
                              .segment_bytes = 4096,
                              .reserve_bytes = 64 * 1024,
                              .file_ops = &ops});
    for (std::uint64_t seq = 1; seq <= 200; ++seq) {
      written.push_back(MakeCommand(seq, rng));
      REQUIRE(writer->Append(written.back()).ok());
      REQUIRE(writer->Commit().ok());
    }
    CHECK_FALSE(writer->failed());
  }
  // The zeros that were written read as the end of the last segment, and
  // the rolls cut them off the others.
  RequireSame(ReadAll(tmp.Journal()), written);
  const std::vector<JournalSegment> segments = Segments(tmp.Journal());
  REQUIRE(segments.size() >= 2);
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    CHECK(fs::file_size(segments[i].path) < 4096 + 4096);
  }
}

// ---- Crash test
// --------------------------------------------------------------

// The child appends and commits forever, reporting each committed seq on the
// pipe; it never returns.
[[noreturn]] void RunChild(const std::string& dir, std::uint64_t seed,
                           int report_fd) {
  std::mt19937_64 rng(seed);
  // Small segments exercise rolling.
  const std::size_t segment_bytes =
      rng() % 2 == 0 ? 8192 + rng() % 8192 : std::size_t{16} << 20;
  // Half the rounds with the server's zeros written ahead.
  const std::size_t reserve_bytes =
      rng() % 2 == 0 ? kServerJournalReserveBytes : 0;
  auto writer = JournalWriter::Open({.dir = dir,
                                     .segment_bytes = segment_bytes,
                                     .reserve_bytes = reserve_bytes});
  if (!writer.ok()) {
    ::_exit(2);
  }
  std::uint64_t seq = (*writer)->last_seq().value();
  while (true) {
    const std::uint64_t n = 1 + rng() % 64;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!(*writer)->Append(MakeCommand(++seq, rng)).ok()) {
        ::_exit(3);
      }
    }
    if (!(*writer)->Commit().ok()) {
      ::_exit(4);
    }
    if (::write(report_fd, &seq, sizeof seq) != sizeof seq) {
      ::_exit(5);
    }
  }
}

TEST_CASE("commands reported committed survive SIGKILL at random points",
          "[journal][crash]") {
  TempDir tmp;
  std::mt19937_64 rng(Seed());
  std::uint64_t last_reported = 0;
  int torn_rounds = 0;
  for (int round = 0; round < 12; ++round) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const std::uint64_t child_seed = rng();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      RunChild(tmp.Journal(), child_seed, fds[1]);
    }
    ::close(fds[1]);
    // Let the child commit a random number of batches, then kill it, often
    // in the middle of writing the next one.
    const std::uint64_t reports = 1 + rng() % 40;
    for (std::uint64_t i = 0; i < reports; ++i) {
      std::uint64_t seq = 0;
      const ssize_t got = ::read(fds[0], &seq, sizeof seq);
      if (got != sizeof seq) {
        break;
      }
      REQUIRE(seq > last_reported);
      last_reported = seq;
    }
    if (rng() % 2 == 0) {
      ::usleep(static_cast<useconds_t>(rng() % 2000));
    }
    ::kill(pid, SIGKILL);
    // Reports written before the kill are acknowledged too.
    std::uint64_t seq = 0;
    while (::read(fds[0], &seq, sizeof seq) == sizeof seq) {
      REQUIRE(seq > last_reported);
      last_reported = seq;
    }
    ::close(fds[0]);
    int wstatus = 0;
    REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
    INFO("child status " << wstatus);
    REQUIRE(WIFSIGNALED(wstatus));

    const std::vector<Command> got = ReadAll(tmp.Journal());
    REQUIRE(!got.empty());
    // Seqs are exactly 1..N: the writer continues where the journal ends.
    std::size_t gaps = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      gaps += got[i].header.seq == SequenceNumber(i + 1) ? 0 : 1;
    }
    REQUIRE(gaps == 0);
    CHECK(got.back().header.seq.value() >= last_reported);
    last_reported = got.back().header.seq.value();
    // Reopening cuts off a torn tail, if the kill left one.
    auto writer = OpenWriter({.dir = tmp.Journal()});
    CHECK(writer->last_seq().value() == last_reported);
    if (!writer->recovery_report().empty()) {
      ++torn_rounds;
      std::cout << "round " << round << ": " << writer->recovery_report()
                << "\n";
    }
  }
  // A kill seldom tears a write(2) of a small batch; torn tails are covered
  // byte by byte above, this test covers acknowledgement order.
  std::cout << torn_rounds << " of 12 kills left a torn tail\n";
}

}  // namespace
}  // namespace carbonex::gateway
