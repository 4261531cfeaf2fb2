// Errors that depend on the input: returned as values; what went wrong, not how a protocol says it.
#pragma once

#include <string>
#include <variant>
#include <utility>

namespace herald {

// The HTTP layer maps each kind to a status in one place (herald::http::http_status).
enum class ErrorKind {
  malformed,               // the input cannot be read at all: bad JSON, a cursor we never issued
  unauthenticated,         // no credential, or one that does not verify
  forbidden,               // a valid credential that may not do this
  not_found,               // no such thing
  method_not_allowed,      // the thing exists, but cannot be acted on that way
  unsupported_media_type,  // the input comes in a format we do not read
  conflict,                // contradicts what is already stored
  too_large,               // more input than we accept
  invalid,                 // readable, but a value breaks a rule (names the field)
  rate_limited,            // too many requests; try again later
  unavailable,             // a dependency is down; try again later
};

struct ApiError {
  ErrorKind kind = ErrorKind::malformed;
  std::string code;     // snake_case, stable
  std::string message;  // human text, never a secret or a stack trace
  std::string field;    // path.to.field, empty when none
};

// A field whose value breaks a rule.
inline ApiError invalid(std::string field, std::string code, std::string message) {
  return {ErrorKind::invalid, std::move(code), std::move(message), std::move(field)};
}
// Input that cannot be read.
inline ApiError malformed(std::string field, std::string code, std::string message) {
  return {ErrorKind::malformed, std::move(code), std::move(message), std::move(field)};
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
