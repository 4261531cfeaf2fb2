// Request/response helpers: headers, query strings, percent-decoding, the JSON error shape and
// the one mapping from error kind to HTTP status.
#include "herald/http/message.hpp"

#include <algorithm>
#include <cctype>

#include "herald/domain/json_io.hpp"

namespace herald::http {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view Request::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view Request::query_string() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::optional<std::string> Request::header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

void Request::set_header(std::string name, std::string value) { headers[lower(name)] = std::move(value); }

void Response::set_header(std::string name, std::string value) {
  auto key = lower(name);
  for (auto& [k, v] : headers) {
    if (lower(k) == key) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string> Response::header(std::string_view name) const {
  auto key = lower(name);
  for (const auto& [k, v] : headers)
    if (lower(k) == key) return v;
  return std::nullopt;
}

Response json_response(int status, const Json& body) {
  Response r;
  r.status = status;
  r.set_header("Content-Type", "application/json");
  // Replace invalid UTF-8 rather than throw: stored text is not guaranteed clean.
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

Response text_response(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.set_header("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::malformed: return 400;
    case ErrorKind::unauthenticated: return 401;
    case ErrorKind::forbidden: return 403;
    case ErrorKind::not_found: return 404;
    case ErrorKind::method_not_allowed: return 405;
    case ErrorKind::conflict: return 409;
    case ErrorKind::too_large: return 413;
    case ErrorKind::unsupported_media_type: return 415;
    case ErrorKind::invalid: return 422;
    case ErrorKind::rate_limited: return 429;
    case ErrorKind::unavailable: return 503;
  }
  return 400;
}

Response error_response(const ApiError& e) {
  Json inner = {{"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) inner["field"] = e.field;
  auto r = json_response(http_status(e.kind), Json{{"error", inner}});
  if (e.kind == ErrorKind::unauthenticated) r.set_header("WWW-Authenticate", "Bearer");
  return r;
}

Response error_response(ErrorKind kind, std::string code, std::string message, std::string field) {
  return error_response(ApiError{kind, std::move(code), std::move(message), std::move(field)});
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    // A malformed escape keeps the raw text: the handler's validation then rejects the value.
    out[key ? *key : std::string(pair.substr(0, eq))] =
        value ? *value : std::string(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
  }
  return out;
}

std::optional<std::vector<std::string>> split_path(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty() || path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    auto raw = path.substr(0, slash);
    auto seg = percent_decode(raw, false);
    if (!seg || seg->find('/') != std::string::npos || seg->find('\0') != std::string::npos) return std::nullopt;
    out.push_back(std::move(*seg));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  // "/v1/x/" and "/v1/x" are the same resource; "/" is no segments.
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

}  // namespace herald::http
