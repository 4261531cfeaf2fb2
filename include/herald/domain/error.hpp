// Errors that depend on the input: returned as values, mapped to HTTP statuses in one place.
#pragma once

#include <string>
#include <variant>
#include <utility>

namespace herald {

enum class ErrorKind {
  bad_request,       // 400: malformed input
  unauthorized,      // 401
  forbidden,         // 403
  not_found,         // 404
  method_not_allowed,  // 405
  conflict,          // 409
  payload_too_large,  // 413
  unsupported_media,  // 415
  unprocessable,     // 422: valid JSON, invalid meaning
  rate_limited,      // 429
  unavailable,       // 503
};

int http_status(ErrorKind kind);

struct ApiError {
  ErrorKind kind = ErrorKind::bad_request;
  std::string code;     // snake_case, stable
  std::string message;  // human text, never a secret or a stack trace
  std::string field;    // path.to.field, empty when none
};

inline ApiError unprocessable(std::string field, std::string code, std::string message) {
  return {ErrorKind::unprocessable, std::move(code), std::move(message), std::move(field)};
}
inline ApiError bad_request(std::string field, std::string code, std::string message) {
  return {ErrorKind::bad_request, std::move(code), std::move(message), std::move(field)};
}

// A value or the reason there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(ApiError error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace herald
