#include "core/status.h"

#include <cerrno>
#include <cstring>

namespace pqflow {

namespace {
const char* CodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kAlreadyExists: return "already exists";
    case StatusCode::kFailedPrecondition: return "failed precondition";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIOError: return "I/O error";
    case StatusCode::kPermissionDenied: return "permission denied";
    case StatusCode::kInternal: return "internal error";
  }
  return "unknown";
}
}  // namespace

Status Status::FromErrno(const std::string& context, int err) {
  // Transient conditions a caller may retry; ENOSPC and EACCES are not.
  bool retryable = err == EINTR || err == EAGAIN || err == EBUSY || err == ETIMEDOUT;
  return IOError(context + ": " + std::strerror(err), retryable);
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  Status s = *this;
  s.message_ = context + ": " + message_;
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::WithMessage(std::string message) const {
  Status s = *this;
  s.message_ = std::move(message);
  return s;
}

}  // namespace pqflow
