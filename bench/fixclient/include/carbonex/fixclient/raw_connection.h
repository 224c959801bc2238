// carbonex::fixclient::RawConnection: a plain TCP client speaking raw bytes.
//
// For tests of what a FIX session must survive: garbled messages, wrong
// checksums or body lengths, application messages before Logon. Nothing is
// checked or added on the way out; on the way in, QuickFIX's Parser cuts the
// byte stream into messages (no FIX parsing of our own).
//
// BuildFrame() makes a well-formed message from tag=value pairs with a
// correct BodyLength(9) and CheckSum(10) (computed by QuickFIX's Message), so
// that a test can then corrupt exactly one thing with ReplaceRawField().
//
// Thread-safety: not thread-safe; one thread uses a RawConnection at a time.
// The connection owns its socket and closes it on destruction.
#ifndef CARBONEX_FIXCLIENT_RAW_CONNECTION_H_
#define CARBONEX_FIXCLIENT_RAW_CONNECTION_H_

#include <quickfix/Message.h>
#include <quickfix/Parser.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "carbonex/common/status.h"
#include "carbonex/fixclient/messages.h"  // UtcTimestampNow

namespace carbonex::fixclient {

using FieldList = std::vector<std::pair<int, std::string>>;

// A complete FIX message from tag=value pairs. BeginString(8) defaults to
// "FIX.4.4" if absent; BodyLength(9) and CheckSum(10) are computed (given
// values for them are ignored). Header fields (35, 49, 56, 34, 52, ...) are
// put first in the standard order, body fields after them in tag order.
// Repeating groups are not supported (a repeated tag keeps its last value).
std::string BuildFrame(const FieldList& fields);

// The fields of a Logon (A) as a broker sends it: 35, 49, 56, 34, 52 (now),
// 98=0, 108, 553, 554 (and 141=Y if reset).
FieldList LogonFields(const std::string& sender_comp_id,
                      const std::string& target_comp_id, int seq_num,
                      const std::string& username, const std::string& password,
                      int heartbeat_interval_s = 30, bool reset = true);

// Replaces the value of the first occurrence of `tag` in a raw frame without
// recomputing BodyLength or CheckSum. Returns the frame unchanged if the tag
// is absent.
std::string ReplaceRawField(std::string frame, int tag, std::string_view value);

class RawConnection {
 public:
  RawConnection() = default;
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Connects to host:port (a dotted IPv4 address or a name). Errors:
  // FailedPrecondition if already connected, InvalidArgument for an unknown
  // host, IoError if the connection fails or times out. A positive
  // `receive_buffer_bytes` fixes the socket's receive buffer at about that
  // size (no autotuning), so a peer that is not read from soon finds its
  // writes blocked.
  Status Connect(const std::string& host, int port,
                 std::chrono::milliseconds timeout,
                 int receive_buffer_bytes = 0);

  // Writes all the bytes. Errors: FailedPrecondition if not connected,
  // IoError if the peer has closed the connection or the write fails.
  Status SendRaw(std::string_view bytes);

  // Reads the next complete raw message. Errors: FailedPrecondition if not
  // connected, Busy on timeout, NotFound if the peer closed the connection
  // with no complete message pending, Corruption if the bytes cannot be
  // framed as FIX.
  Result<std::string> ReadRaw(std::chrono::milliseconds timeout);

  // ReadRaw, parsed by QuickFIX without dictionary validation. Errors as
  // ReadRaw, and Corruption if QuickFIX cannot parse the message.
  Result<FIX::Message> Read(std::chrono::milliseconds timeout);

  // Waits until the peer closes the connection, discarding what it sends.
  // Errors: Busy if it is still open after timeout.
  Status WaitClosed(std::chrono::milliseconds timeout);

  void Close();
  [[nodiscard]] bool IsConnected() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  bool peer_closed_ = false;
  FIX::Parser parser_;
};

}  // namespace carbonex::fixclient

#endif  // CARBONEX_FIXCLIENT_RAW_CONNECTION_H_
