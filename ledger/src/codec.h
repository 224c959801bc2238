// Byte encodings of the registry's LMDB keys and values (docs/ledger.md).
//
// Keys are big-endian so that LMDB's bytewise order is numeric order; values
// are little-endian and start with a record type byte and a version byte.
// Strings are a u16 length followed by the bytes. Decoding is bounds-checked:
// a short or malformed value is a kCorruption Status, never undefined
// behaviour.
#ifndef CARBONEX_LEDGER_SRC_CODEC_H_
#define CARBONEX_LEDGER_SRC_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "carbonex/common/status.h"

namespace carbonex::ledger {

enum class RecordType : std::uint8_t {
  kFormat = 1,
  kInstrument = 2,
  kAccount = 3,
  kCap = 4,
  kInstallation = 5,
  kHolding = 6,
  kCash = 7,
  kBroker = 8,
  kEntitlement = 9,
  kTrade = 10,
  kVerifier = 11,
  kEmissions = 12,
  kSurrender = 13,
  kTotal = 14,
  kAudit = 15,
  kAllocation = 16,
  kPolicy = 17,
  kIndex = 18,
  kJournalPosition = 19,
  kAuditHead = 20,
};

inline constexpr std::uint8_t kRecordVersion = 1;

// Builds a key, big-endian.
class KeyWriter {
 public:
  KeyWriter& U16(std::uint16_t v) { return Be(v, 2); }
  KeyWriter& U32(std::uint32_t v) { return Be(v, 4); }
  KeyWriter& U64(std::uint64_t v) { return Be(v, 8); }
  KeyWriter& Bytes(std::string_view s) {
    out_.append(s);
    return *this;
  }
  [[nodiscard]] const std::string& Encoded() const { return out_; }

 private:
  KeyWriter& Be(std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) {
      out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
    return *this;
  }
  std::string out_;
};

// Reads a big-endian key.
class KeyReader {
 public:
  explicit KeyReader(std::string_view in) : in_(in) {}
  bool U16(std::uint16_t* v) { return Be(v, 2); }
  bool U32(std::uint32_t* v) { return Be(v, 4); }
  bool U64(std::uint64_t* v) { return Be(v, 8); }

 private:
  template <typename T>
  bool Be(T* v, std::size_t n) {
    if (in_.size() < pos_ + n) {
      return false;
    }
    std::uint64_t r = 0;
    for (std::size_t i = 0; i < n; ++i) {
      r = (r << 8) | static_cast<unsigned char>(in_[pos_ + i]);
    }
    pos_ += n;
    *v = static_cast<T>(r);
    return true;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

// Builds a value: type, version, then fields, little-endian.
class ValueWriter {
 public:
  explicit ValueWriter(RecordType type) {
    out_.push_back(static_cast<char>(type));
    out_.push_back(static_cast<char>(kRecordVersion));
  }
  ValueWriter& U8(std::uint8_t v) { return Le(v, 1); }
  ValueWriter& U16(std::uint16_t v) { return Le(v, 2); }
  ValueWriter& U32(std::uint32_t v) { return Le(v, 4); }
  ValueWriter& U64(std::uint64_t v) { return Le(v, 8); }
  ValueWriter& I64(std::int64_t v) {
    return Le(static_cast<std::uint64_t>(v), 8);
  }
  // Precondition: s.size() <= 65535 (callers validate lengths first).
  ValueWriter& Str(std::string_view s) {
    U16(static_cast<std::uint16_t>(s.size()));
    out_.append(s.substr(0, 0xFFFF));
    return *this;
  }
  ValueWriter& Raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  [[nodiscard]] const std::string& Encoded() const { return out_; }

 private:
  ValueWriter& Le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
      out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
    return *this;
  }
  std::string out_;
};

// Reads a value written by ValueWriter. Check() verifies the type and
// version; each read returns false when the value is too short, and
// status() then names the record.
class ValueReader {
 public:
  ValueReader(std::string_view in, RecordType type, const char* what)
      : in_(in), what_(what) {
    if (in_.size() < 2 ||
        static_cast<std::uint8_t>(in_[0]) != static_cast<std::uint8_t>(type)) {
      bad_ = true;
    } else if (static_cast<std::uint8_t>(in_[1]) != kRecordVersion) {
      bad_ = true;
      version_ = true;
    }
    pos_ = 2;
  }
  bool U8(std::uint8_t* v) { return Le(v, 1); }
  bool U16(std::uint16_t* v) { return Le(v, 2); }
  bool U32(std::uint32_t* v) { return Le(v, 4); }
  bool U64(std::uint64_t* v) { return Le(v, 8); }
  bool I64(std::int64_t* v) {
    std::uint64_t u = 0;
    if (!Le(&u, 8)) {
      return false;
    }
    *v = static_cast<std::int64_t>(u);
    return true;
  }
  bool Str(std::string* s) {
    std::uint16_t n = 0;
    if (!U16(&n)) {
      return false;
    }
    if (bad_ || in_.size() < pos_ + n) {
      bad_ = true;
      return false;
    }
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool Raw(std::size_t n, std::string* s) {
    if (bad_ || in_.size() < pos_ + n) {
      bad_ = true;
      return false;
    }
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  [[nodiscard]] std::size_t Position() const { return pos_; }
  [[nodiscard]] bool ok() const { return !bad_; }
  [[nodiscard]] Status status() const {
    if (!bad_) {
      return Status::Ok();
    }
    return Status::Corruption(
        std::string("decode ") + what_ +
        (version_ ? ": unknown record version" : ": malformed record"));
  }

 private:
  template <typename T>
  bool Le(T* v, std::size_t n) {
    if (bad_ || in_.size() < pos_ + n) {
      bad_ = true;
      return false;
    }
    std::uint64_t r = 0;
    for (std::size_t i = 0; i < n; ++i) {
      r |= std::uint64_t{static_cast<unsigned char>(in_[pos_ + i])} << (8 * i);
    }
    pos_ += n;
    *v = static_cast<T>(r);
    return true;
  }
  std::string_view in_;
  const char* what_;
  std::size_t pos_ = 0;
  bool bad_ = false;
  bool version_ = false;
};

}  // namespace carbonex::ledger

#endif  // CARBONEX_LEDGER_SRC_CODEC_H_
