// Errors in API JSON: {"error": {"code", "message", "field"}} and the names of error kinds.
#include "herald/domain/json_io.hpp"

namespace herald {

std::string_view to_string(ErrorKind k) {
  switch (k) {
    case ErrorKind::malformed: return "malformed";
    case ErrorKind::unauthenticated: return "unauthenticated";
    case ErrorKind::forbidden: return "forbidden";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::method_not_allowed: return "method_not_allowed";
    case ErrorKind::unsupported_media_type: return "unsupported_media_type";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::too_large: return "too_large";
    case ErrorKind::invalid: return "invalid";
    case ErrorKind::rate_limited: return "rate_limited";
    case ErrorKind::unavailable: return "unavailable";
  }
  return "malformed";
}

Json to_json(const ApiError& e) {
  Json inner = {{"code", e.code.empty() ? std::string(to_string(e.kind)) : e.code}, {"message", e.message}};
  if (!e.field.empty()) inner["field"] = e.field;
  return {{"error", std::move(inner)}};
}

}  // namespace herald
