// Status and Result<T>: how every fallible call in pqflow reports failure.
// No exceptions cross module boundaries; what a library throws is caught where it is
// called and turned into a Status whose message carries the context up to the user
// (`export query_perf 2025-10-28: writing ...: No space left on device`).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace pqflow {

enum class StatusCode {
  kOk,
  kInvalidArgument,   // the user asked for something malformed (config, flag, input value)
  kNotFound,          // a named dataset, file or column does not exist
  kAlreadyExists,
  kFailedPrecondition,// the state on disk does not allow the operation (lock held, ...)
  kCorruption,        // data on disk does not match what was recorded (checksums, manifests)
  kIOError,           // the OS or a remote store failed; see retryable()
  kPermissionDenied,  // the caller may not do or see this (an API key's scope or workspaces)
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(StatusCode::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) { return Status(StatusCode::kAlreadyExists, std::move(msg)); }
  static Status FailedPrecondition(std::string msg) { return Status(StatusCode::kFailedPrecondition, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(StatusCode::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg, bool retryable = false) {
    Status s(StatusCode::kIOError, std::move(msg));
    s.retryable_ = retryable;
    return s;
  }
  static Status PermissionDenied(std::string msg) { return Status(StatusCode::kPermissionDenied, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(StatusCode::kInternal, std::move(msg)); }
  // An I/O error built from errno, e.g. FromErrno("writing data/x.parquet", ENOSPC).
  static Status FromErrno(const std::string& context, int err);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return retryable_; }

  // Prefixes the message with what the caller was doing: "ctx: message".
  Status WithContext(const std::string& context) const;
  // The same kind of failure, told in other words.
  Status WithMessage(std::string message) const;
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  bool retryable_ = false;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return std::holds_alternative<T>(value_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(value_);
  }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace pqflow

#define PQ_CONCAT_INNER(a, b) a##b
#define PQ_CONCAT(a, b) PQ_CONCAT_INNER(a, b)

#define PQ_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::pqflow::Status pq_status_ = (expr);        \
    if (!pq_status_.ok()) return pq_status_;     \
  } while (0)

#define PQ_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#define PQ_ASSIGN_OR_RETURN(lhs, expr) \
  PQ_ASSIGN_OR_RETURN_IMPL(PQ_CONCAT(pq_result_, __LINE__), lhs, expr)
