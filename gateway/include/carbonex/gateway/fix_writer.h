// FIX messages written straight into their wire form, for the messages the
// exchange sends most (execution reports): building a FIX::Message field by
// field and serialising it costs more than the rest of an order's way
// through the exchange.
//
// FixBodyWriter collects the body fields of one message ("tag=value<SOH>"),
// in the order they are added; a caller adds them in ascending tag order,
// the order in which QuickFIX serialises a message without repeating groups,
// so the bytes are the same as QuickFIX's. FieldMapWriter takes the same
// calls and sets the fields of a FIX::Message instead, so that one piece of
// code can write a message either way. FrameFixMessage puts the standard
// header and trailer around a body; SendSerialized sends one through a
// QuickFIX session.
//
// Thread-safety: a FixBodyWriter or FieldMapWriter is used by one thread at
// a time; FrameFixMessage is reentrant; SendSerialized takes the session's
// lock.
#ifndef CARBONEX_GATEWAY_FIX_WRITER_H_
#define CARBONEX_GATEWAY_FIX_WRITER_H_

#include <quickfix/FieldMap.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace FIX {
class Session;
}  // namespace FIX

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

// FixBodyWriter's calls, setting the fields of a FIX::Message (or any field
// map) instead.
class FieldMapWriter {
 public:
  explicit FieldMapWriter(FIX::FieldMap& map) : map_(map) {}
  void Add(int tag, std::string_view value) {
    map_.setField(tag, std::string(value));
  }
  void AddInt(int tag, std::int64_t value) {
    map_.setField(tag, std::to_string(value));
  }
  void AddChar(int tag, char value) {
    map_.setField(tag, std::string(1, value));
  }

 private:
  FIX::FieldMap& map_;
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

// Sends through `session` the application message of type `msg_type` whose
// body fields (each ending in SOH, in wire order: FixBodyWriter) are `body`,
// as session.send() sends a FIX::Message with those fields, without
// building one. Under the session's lock it takes the next outgoing
// MsgSeqNum, stamps SendingTime (QuickFIX's clock and precision), frames the
// message (FrameFixMessage), stores it when the session persists messages,
// advances the number, logs it as outgoing and, when the session is logged
// on, writes it through the session's responder. So, as with send(), a
// message to a session that is not logged on is stored and numbered, and
// goes out with a resend after its next logon. `scratch` holds the framed
// message (its capacity is kept for the next call). Returns false only
// where send() does: the store failed (logged to the session's log, nothing
// numbered), or the session resets its numbers at logon and is not logged
// on. The application's toApp is not called.
bool SendSerialized(FIX::Session& session, std::string_view msg_type,
                    std::string_view body, std::string* scratch);

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_FIX_WRITER_H_
