// Status and Result<T>: how infrastructure failures are returned.
//
// Business outcomes (an order rejected for insufficient cash) are engine
// events, not Statuses. A Status is for things that went wrong around the
// business logic: a file that cannot be read, an LMDB error, a malformed
// input line, a refused operator command. The message names the operation
// and the cause, ready to print as the one-line error of a command.
//
// Thread-safety: values; safe to copy between threads.
#ifndef CARBONEX_COMMON_STATUS_H_
#define CARBONEX_COMMON_STATUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace carbonex {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the input is malformed or out of range
  kNotFound,            // a named entity does not exist
  kAlreadyExists,       // a create that would duplicate an entity
  kFailedPrecondition,  // refused in the current state (insufficient units…)
  kBusy,                // another writer holds the resource
  kIoError,             // the operating system or storage failed
  kCorruption,          // stored data does not decode or does not verify
  kInternal,            // a bug: an invariant did not hold
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) {
    return {StatusCode::kNotFound, std::move(m)};
  }
  static Status AlreadyExists(std::string m) {
    return {StatusCode::kAlreadyExists, std::move(m)};
  }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Busy(std::string m) {
    return {StatusCode::kBusy, std::move(m)};
  }
  static Status IoError(std::string m) {
    return {StatusCode::kIoError, std::move(m)};
  }
  static Status Corruption(std::string m) {
    return {StatusCode::kCorruption, std::move(m)};
  }
  static Status Internal(std::string m) {
    return {StatusCode::kInternal, std::move(m)};
  }

  [[nodiscard]] bool ok() const { return code_ == StatusCode::kOk; }
  [[nodiscard]] StatusCode code() const { return code_; }
  [[nodiscard]] const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return value_.has_value(); }
  [[nodiscard]] const Status& status() const { return status_; }

  // Precondition: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace carbonex

#endif  // CARBONEX_COMMON_STATUS_H_
