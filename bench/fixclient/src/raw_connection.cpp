#include "carbonex/fixclient/raw_connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <quickfix/Exceptions.h>
#include <quickfix/FieldNumbers.h>
#include <quickfix/FieldTypes.h>
#include <quickfix/Fields.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace carbonex::fixclient {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// strerror is not thread-safe; the generic category's message is.
std::string ErrorText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::string ErrnoText(const char* what) {
  std::string text = what;
  text += ": ";
  text += ErrorText(errno);
  return text;
}

}  // namespace

std::string BuildFrame(const FieldList& fields) {
  FIX::Message message;
  message.getHeader().setField(FIX::FIELD::BeginString, "FIX.4.4");
  for (const auto& [tag, value] : fields) {
    if (tag == FIX::FIELD::BodyLength || tag == FIX::FIELD::CheckSum) {
      continue;
    }
    if (FIX::Message::isHeaderField(tag)) {
      message.getHeader().setField(tag, value);
    } else if (FIX::Message::isTrailerField(tag)) {
      message.getTrailer().setField(tag, value);
    } else {
      message.setField(tag, value);
    }
  }
  return message.toString();
}

FieldList LogonFields(const std::string& sender_comp_id,
                      const std::string& target_comp_id, int seq_num,
                      const std::string& username, const std::string& password,
                      int heartbeat_interval_s, bool reset) {
  FieldList fields = {
      {FIX::FIELD::MsgType, "A"},
      {FIX::FIELD::SenderCompID, sender_comp_id},
      {FIX::FIELD::TargetCompID, target_comp_id},
      {FIX::FIELD::MsgSeqNum, std::to_string(seq_num)},
      {FIX::FIELD::SendingTime, UtcTimestampNow()},
      {FIX::FIELD::EncryptMethod, "0"},
      {FIX::FIELD::HeartBtInt, std::to_string(heartbeat_interval_s)},
      {FIX::FIELD::Username, username},
      {FIX::FIELD::Password, password},
  };
  if (reset) {
    fields.emplace_back(FIX::FIELD::ResetSeqNumFlag, "Y");
  }
  return fields;
}

std::string ReplaceRawField(std::string frame, int tag,
                            std::string_view value) {
  const std::string key = std::to_string(tag) + "=";
  std::size_t start = std::string::npos;
  if (frame.compare(0, key.size(), key) == 0) {
    start = 0;
  } else {
    const std::size_t at = frame.find('\x01' + key);
    if (at != std::string::npos) {
      start = at + 1;
    }
  }
  if (start == std::string::npos) {
    return frame;
  }
  const std::size_t value_start = start + key.size();
  std::size_t value_end = frame.find('\x01', value_start);
  if (value_end == std::string::npos) {
    value_end = frame.size();
  }
  frame.replace(value_start, value_end - value_start, value);
  return frame;
}

RawConnection::~RawConnection() { Close(); }

void RawConnection::Close() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = -1;
  peer_closed_ = false;
  parser_ = FIX::Parser();
}

Status RawConnection::Connect(const std::string& host, int port,
                              std::chrono::milliseconds timeout,
                              int receive_buffer_bytes) {
  if (fd_ >= 0) {
    return Status::FailedPrecondition("raw connection: already connected");
  }
  const auto deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses);
      rc != 0 || addresses == nullptr) {
    return Status::InvalidArgument("raw connection: cannot resolve '" + host +
                                   "': " + ::gai_strerror(rc));
  }
  const int fd =
      ::socket(addresses->ai_family, addresses->ai_socktype | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    ::freeaddrinfo(addresses);
    return Status::IoError(ErrnoText("raw connection: socket"));
  }
  // Before connect(), so that the TCP window is agreed with this size.
  if (receive_buffer_bytes > 0 &&
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes,
                   sizeof(receive_buffer_bytes)) != 0) {
    Status error = Status::IoError(ErrnoText("raw connection: SO_RCVBUF"));
    ::freeaddrinfo(addresses);
    ::close(fd);
    return error;
  }
  int rc = ::connect(fd, addresses->ai_addr, addresses->ai_addrlen);
  ::freeaddrinfo(addresses);
  if (rc != 0 && errno != EINPROGRESS) {
    Status error = Status::IoError(ErrnoText("raw connection: connect"));
    ::close(fd);
    return error;
  }
  if (rc != 0) {
    pollfd pfd{fd, POLLOUT, 0};
    rc = ::poll(&pfd, 1, RemainingMs(deadline));
    int error = 0;
    socklen_t length = sizeof(error);
    if (rc <= 0 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 ||
        error != 0) {
      ::close(fd);
      return Status::IoError("raw connection: cannot connect to " + host + ":" +
                             service +
                             (rc <= 0 ? std::string(" (timeout)")
                                      : std::string(": ") + ErrorText(error)));
    }
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fd_ = fd;
  return Status::Ok();
}

Status RawConnection::SendRaw(std::string_view bytes) {
  if (fd_ < 0) {
    return Status::FailedPrecondition("raw connection: closed");
  }
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd pfd{fd_, POLLOUT, 0};
        ::poll(&pfd, 1, 1000);
        continue;
      }
      return Status::IoError(ErrnoText("raw connection: send"));
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return Status::Ok();
}

Result<std::string> RawConnection::ReadRaw(std::chrono::milliseconds timeout) {
  if (fd_ < 0) {
    return Status::FailedPrecondition("raw connection: closed");
  }
  const auto deadline = Clock::now() + timeout;
  std::array<char, 4096> buffer{};
  for (;;) {
    std::string message;
    try {
      if (parser_.readFixMessage(message)) {
        return message;
      }
    } catch (const FIX::MessageParseError& e) {
      return Status::Corruption(std::string("raw connection: cannot frame "
                                            "the bytes received: ") +
                                e.what());
    }
    if (peer_closed_) {
      return Status::NotFound("raw connection: closed by peer");
    }
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, RemainingMs(deadline));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready < 0) {
      return Status::IoError(ErrnoText("raw connection: poll"));
    }
    if (ready == 0) {
      return Status::Busy("raw connection: no complete message within " +
                          std::to_string(timeout.count()) + " ms");
    }
    const ssize_t got = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      if (errno == ECONNRESET) {
        peer_closed_ = true;
        continue;
      }
      return Status::IoError(ErrnoText("raw connection: recv"));
    }
    if (got == 0) {
      peer_closed_ = true;
      continue;
    }
    parser_.addToStream(buffer.data(), static_cast<std::size_t>(got));
  }
}

Result<FIX::Message> RawConnection::Read(std::chrono::milliseconds timeout) {
  Result<std::string> raw = ReadRaw(timeout);
  if (!raw.ok()) {
    return raw.status();
  }
  try {
    return FIX::Message(*raw, /*validate=*/false);
  } catch (const FIX::Exception& e) {
    return Status::Corruption(std::string("raw connection: cannot parse '") +
                              *raw + "': " + e.what());
  }
}

Status RawConnection::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    Result<std::string> raw =
        ReadRaw(std::chrono::milliseconds(std::max(RemainingMs(deadline), 0)));
    if (raw.ok()) {
      continue;
    }
    switch (raw.status().code()) {
      case StatusCode::kNotFound:
        return Status::Ok();
      case StatusCode::kCorruption:
        // Garbage before the close: drop what is buffered and keep reading.
        parser_ = FIX::Parser();
        if (RemainingMs(deadline) == 0) {
          return Status::Busy("raw connection: still open");
        }
        continue;
      case StatusCode::kBusy:
        return Status::Busy("raw connection: still open after " +
                            std::to_string(timeout.count()) + " ms");
      default:
        return raw.status();
    }
  }
}

}  // namespace carbonex::fixclient
