// FIX messages written straight into their wire form, for the messages the
// exchange sends most (execution reports): building a FIX::Message field by
// field and serialising it costs more than the rest of an order's way
// through the exchange.
//
// FixBodyWriter collects the body fields of one message ("tag=value<SOH>"),
// in the order they are added; a caller adds them in ascending tag order,
// the order in which QuickFIX serialises a message without repeating groups,
// so the bytes are the same as QuickFIX's. FrameFixMessage puts the standard
// header and trailer around such a body.
//
// Thread-safety: a FixBodyWriter is used by one thread at a time;
// FrameFixMessage is reentrant.
#ifndef CARBONEX_GATEWAY_FIX_WRITER_H_
#define CARBONEX_GATEWAY_FIX_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace carbonex::gateway {

class FixBodyWriter {
 public:
  // Empties the body, keeping its capacity.
  void Clear() { body_.clear(); }
  void Add(int tag, std::string_view value);
  void AddInt(int tag, std::int64_t value);
  void AddChar(int tag, char value);
  // The body so far: each field followed by SOH.
  [[nodiscard]] std::string_view body() const { return body_; }

 private:
  void AddTag(int tag);

  std::string body_;
};

// The header fields FrameFixMessage writes besides BodyLength(9) and
// MsgType(35).
struct FixHeader {
  std::string_view begin_string;    // 8
  std::int64_t msg_seq_num = 0;     // 34
  std::string_view sender_comp_id;  // 49
  std::string_view sending_time;    // 52
  std::string_view target_comp_id;  // 56
};

// The whole message: BeginString(8), BodyLength(9), MsgType(35), the other
// header fields in ascending tag order (34, 49, 52, 56), `body` (fields, each
// ending in SOH) and CheckSum(10), as QuickFIX's Message::toString writes a
// message with these fields. Appended to `out`.
void FrameFixMessage(const FixHeader& header, std::string_view msg_type,
                     std::string_view body, std::string* out);

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_FIX_WRITER_H_
