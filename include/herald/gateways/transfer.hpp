// Plain descriptions of one provider request (HTTP or SMTP) and its response: what codecs
// build and parse and what the libcurl transport performs. No libcurl here.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace herald::gateways {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup of the first header with this name.
std::optional<std::string_view> find_header(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  HttpHeaders headers;  // sent as given (Authorization included when the codec sets it)
  std::string body;
};

enum class StartTls { try_, required, none };

struct SmtpRequest {
  std::string url;  // smtp://host:port (STARTTLS per starttls) or smtps://host:port
  std::string username, password;  // empty: no AUTH
  StartTls starttls = StartTls::try_;
  std::string mail_from;                // bare address
  std::vector<std::string> recipients;  // bare addresses
  std::string message;                  // the whole RFC 5322 message, CRLF line ends
};

using TransferRequest = std::variant<HttpRequest, SmtpRequest>;

struct TransferResponse {
  long status = 0;      // HTTP status or the last SMTP reply code; 0 when none came
  HttpHeaders headers;  // HTTP: headers of the final response, names as sent
  std::vector<std::string> reply_lines;  // SMTP: the server's reply lines, in order
  std::string body;                      // HTTP response body (capped)
  int curl_code = 0;                     // 0: the transfer completed
  std::string error_code;  // when curl_code != 0: timeout, resolve, connect, tls, auth, network
  std::string error;       // libcurl's message when curl_code != 0
  double duration_ms = 0;
  bool completed() const { return curl_code == 0; }
};

}  // namespace herald::gateways
