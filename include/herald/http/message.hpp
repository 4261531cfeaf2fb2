// Plain request/response values the handlers see: no Beast, so tests build them by hand.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"

namespace herald::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query exactly as sent, e.g. "/v1/messages?limit=5"
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string remote;  // peer address, for logs

  // Path part of the target (percent-encoding kept) and the decoded query parameters.
  std::string_view path() const;
  std::string_view query_string() const;
  std::optional<std::string> header(std::string_view lower_name) const;
  void set_header(std::string name, std::string value);  // lower-cases the name
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // excluding Content-Length
  std::string body;
  bool close = false;  // ask the server to close the connection after this response

  void set_header(std::string name, std::string value);
  std::optional<std::string> header(std::string_view name) const;  // case-insensitive
};

Response json_response(int status, const Json& body);
Response text_response(int status, std::string body, std::string content_type);
// The one mapping from what went wrong to the HTTP status that says it.
int http_status(ErrorKind kind);

Response error_response(const ApiError& e);  // status from http_status(e.kind), API error shape
Response error_response(ErrorKind kind, std::string code, std::string message, std::string field = {});

// Query strings: "a=1&b=x%20y" -> {a: 1, b: "x y"}; '+' is a space; the last duplicate wins.
std::map<std::string, std::string> parse_query(std::string_view query);
// Percent-decoding; nullopt for a malformed escape. plus_is_space for form/query encoding.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);
// Splits "/v1/customers/c1" into {"v1", "customers", "c1"}, percent-decoding each segment;
// nullopt when a segment is malformed or decodes to something containing '/'.
std::optional<std::vector<std::string>> split_path(std::string_view path);

}  // namespace herald::http
