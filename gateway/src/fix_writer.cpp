#include "carbonex/gateway/fix_writer.h"

#include <array>
#include <charconv>
#include <cstddef>

namespace carbonex::gateway {
namespace {

constexpr char kSoh = '\x01';

void AppendInt(std::int64_t value, std::string* out) {
  std::array<char, 24> digits{};
  auto [end, ec] =
      std::to_chars(digits.data(), digits.data() + digits.size(), value);
  (void)ec;  // 24 characters hold every int64
  out->append(digits.data(), end);
}

void AppendField(int tag, std::string_view value, std::string* out) {
  AppendInt(tag, out);
  out->push_back('=');
  out->append(value);
  out->push_back(kSoh);
}

}  // namespace

void FixBodyWriter::AddTag(int tag) {
  AppendInt(tag, &body_);
  body_.push_back('=');
}

void FixBodyWriter::Add(int tag, std::string_view value) {
  AddTag(tag);
  body_.append(value);
  body_.push_back(kSoh);
}

void FixBodyWriter::AddInt(int tag, std::int64_t value) {
  AddTag(tag);
  AppendInt(value, &body_);
  body_.push_back(kSoh);
}

void FixBodyWriter::AddChar(int tag, char value) {
  AddTag(tag);
  body_.push_back(value);
  body_.push_back(kSoh);
}

void FrameFixMessage(const FixHeader& header, std::string_view msg_type,
                     std::string_view body, std::string* out) {
  const std::size_t start = out->size();
  std::array<char, 24> seq{};
  const char* seq_end =
      std::to_chars(seq.data(), seq.data() + seq.size(), header.msg_seq_num)
          .ptr;
  const std::string_view seq_text(
      seq.data(), static_cast<std::size_t>(seq_end - seq.data()));
  // BodyLength counts from MsgType to the SOH before CheckSum: five header
  // fields of two-digit tags ("NN=" value SOH), then the body.
  constexpr std::size_t kHeaderFieldFrame = 4;  // "NN=" and SOH
  const std::size_t body_length =
      5 * kHeaderFieldFrame + msg_type.size() + seq_text.size() +
      header.sender_comp_id.size() + header.sending_time.size() +
      header.target_comp_id.size() + body.size();
  out->reserve(start + body_length + header.begin_string.size() + 24);
  AppendField(8, header.begin_string, out);
  *out += "9=";
  AppendInt(static_cast<std::int64_t>(body_length), out);
  out->push_back(kSoh);
  AppendField(35, msg_type, out);
  AppendField(34, seq_text, out);
  AppendField(49, header.sender_comp_id, out);
  AppendField(52, header.sending_time, out);
  AppendField(56, header.target_comp_id, out);
  out->append(body);
  unsigned sum = 0;
  for (std::size_t i = start; i < out->size(); ++i) {
    sum += static_cast<unsigned char>((*out)[i]);
  }
  sum %= 256;
  const std::array<char, 3> checksum{static_cast<char>('0' + sum / 100),
                                     static_cast<char>('0' + sum / 10 % 10),
                                     static_cast<char>('0' + sum % 10)};
  *out += "10=";
  out->append(checksum.data(), checksum.size());
  out->push_back(kSoh);
}

}  // namespace carbonex::gateway
