// The MIME message Herald sends: headers, one-click unsubscribe, quoted-printable parts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "herald/gateways/encoding.hpp"
#include "herald/gateways/smtp.hpp"

namespace herald::gateways {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr std::size_t kQpMaxLine = 76;
// "=?UTF-8?B?" + base64 of 39 bytes (52 chars) + "?=" = 64 characters: with a header name in
// front the line stays under RFC 2047's 76.
constexpr std::size_t kEncodedWordBytes = 39;

bool is_plain_header_text(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 32 || c > 126) return false;
  }
  return s.find("=?") == std::string_view::npos;
}

std::string without_line_breaks(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

bool is_utf8_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

void append_hex_escape(std::string& out, unsigned char c) {
  out += '=';
  out += kHexUpper[c >> 4];
  out += kHexUpper[c & 0xF];
}

// One line (no line breaks) of quoted-printable, soft-broken to at most 76 characters.
void append_qp_line(std::string& out, std::string_view line) {
  std::size_t len = 0;  // characters on the current output line
  std::string token;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    const bool last = i + 1 == line.size();
    auto make_token = [&] {
      token.clear();
      const bool at_line_start = len == 0;
      const bool literal =
          (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      // A leading '.' would meet SMTP dot-stuffing and a leading "From " mbox quoting; both are
      // encoded so that no relay rewrites the text.
      const bool guard = at_line_start && (c == '.' || (c == 'F' && line.substr(i, 5) == "From "));
      if (literal && !guard) {
        token += static_cast<char>(c);
      } else {
        append_hex_escape(token, c);
      }
    };
    make_token();
    // A soft break costs one '=' at the end of the line; the line's last token needs none.
    const std::size_t limit = last ? kQpMaxLine : kQpMaxLine - 1;
    if (len + token.size() > limit) {
      out += "=\r\n";
      len = 0;
      make_token();
    }
    out += token;
    len += token.size();
  }
}

std::string sanitized_id_part(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '+';
    out += ok ? c : '-';
  }
  return out;
}

std::string domain_of(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at + 1 >= address.size()) return "localhost";
  return sanitized_id_part(address.substr(at + 1));
}

std::string quoted_display_name(std::string_view name) {
  std::string out = "\"";
  for (char c : without_line_breaks(name)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string from_header(const SmtpSettings& settings) {
  const std::string address = without_line_breaks(settings.from);
  if (settings.from_name.empty()) return address;
  const std::string name = is_plain_header_text(settings.from_name)
                               ? quoted_display_name(settings.from_name)
                               : encode_header_text(settings.from_name);
  // Fold before the address when "From: " + the name's last line + " <address>" would pass
  // the 76 characters RFC 2047 allows on a line holding encoded words.
  const auto last_break = name.rfind("\r\n");
  const std::size_t last_line =
      last_break == std::string::npos ? 6 + name.size() : name.size() - last_break - 2;
  const char* separator = last_line + 3 + address.size() > 76 ? "\r\n <" : " <";
  return name + separator + address + ">";
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

void append_part(std::string& out, std::string_view boundary, std::string_view content_type,
                 std::string_view text) {
  out += "--";
  out += boundary;
  out += "\r\n";
  append_header(out, "Content-Type", content_type);
  append_header(out, "Content-Transfer-Encoding", "quoted-printable");
  out += "\r\n";
  out += quoted_printable_encode(text);
  out += "\r\n";
}

}  // namespace

std::string quoted_printable_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) {
      append_qp_line(out, text.substr(start));
      break;
    }
    append_qp_line(out, text.substr(start, end - start));
    out += "\r\n";
    start = end + ((text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n') ? 2 : 1);
  }
  return out;
}

std::string encode_header_text(std::string_view text) {
  if (is_plain_header_text(text)) return without_line_breaks(text);
  const std::string clean = without_line_breaks(text);
  std::string out;
  std::size_t pos = 0;
  while (pos < clean.size()) {
    std::size_t end = std::min(pos + kEncodedWordBytes, clean.size());
    // Back off to a character boundary, unless the "character" is longer than a word.
    std::size_t cut = end;
    while (cut > pos && cut < clean.size() && is_utf8_continuation(clean[cut])) --cut;
    if (cut == pos) cut = end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?";
    out += base64_encode(std::string_view(clean).substr(pos, cut - pos));
    out += "?=";
    pos = cut;
  }
  return out;
}

std::string format_rfc5322_date(TimePoint t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day_start = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day_start};
  const std::chrono::weekday wd{day_start};
  const std::chrono::hh_mm_ss hms{std::chrono::floor<std::chrono::seconds>(t - day_start)};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000",
                kDays[wd.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string mime_message_id(const SmtpSettings& settings, const OutboundMessage& message) {
  const std::string local = message.idempotency_key.empty()
                                ? "herald-" + std::to_string(message.id)
                                : sanitized_id_part(message.idempotency_key);
  return "<" + local + "@" + domain_of(settings.from) + ">";
}

std::string build_mime_message(const SmtpSettings& settings, const OutboundMessage& message,
                               TimePoint now) {
  std::string out;
  out.reserve(1024 + 2 * (message.body.size() + message.html.size()));
  append_header(out, "From", from_header(settings));
  append_header(out, "To", without_line_breaks(message.to));
  append_header(out, "Subject", encode_header_text(message.subject));
  append_header(out, "Date", format_rfc5322_date(now));
  append_header(out, "Message-ID", mime_message_id(settings, message));
  append_header(out, "MIME-Version", "1.0");
  if (!message.unsubscribe_url.empty()) {
    append_header(out, "List-Unsubscribe", "<" + without_line_breaks(message.unsubscribe_url) + ">");
    append_header(out, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
  }
  constexpr std::string_view kPlain = "text/plain; charset=UTF-8";
  if (message.html.empty()) {
    append_header(out, "Content-Type", kPlain);
    append_header(out, "Content-Transfer-Encoding", "quoted-printable");
    out += "\r\n";
    out += quoted_printable_encode(message.body);
    out += "\r\n";
    return out;
  }
  // "=_" never occurs in quoted-printable text, so the boundary cannot collide with a part.
  const std::string boundary = "=_herald_" + std::to_string(message.id);
  append_header(out, "Content-Type", "multipart/alternative; boundary=\"" + boundary + "\"");
  out += "\r\n";
  append_part(out, boundary, kPlain, message.body);
  append_part(out, boundary, "text/html; charset=UTF-8", message.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

SmtpRequest build_smtp_request(const SmtpSettings& settings, const OutboundMessage& message,
                               TimePoint now) {
  SmtpRequest request;
  request.url = settings.url;
  request.username = settings.username;
  request.password = settings.password;
  request.starttls = settings.starttls;
  request.mail_from = settings.from;
  request.recipients = {message.to};
  request.message = build_mime_message(settings, message, now);
  return request;
}

SendResult classify_smtp_result(bool completed, int reply_code, std::string_view reply_text) {
  SendResult result;
  result.http_status = reply_code;
  result.detail = std::string(reply_text.substr(0, 300));
  if (completed) {
    result.outcome = SendOutcome::sent;
    return result;
  }
  if (reply_code == 0) {
    result.outcome = SendOutcome::retry;
    result.error_code = "smtp_no_reply";
    return result;
  }
  result.error_code = "smtp_" + std::to_string(reply_code);
  const bool auth_problem = reply_code == 530 || reply_code == 534 || reply_code == 535;
  result.outcome = reply_code >= 500 && reply_code < 600 && !auth_problem ? SendOutcome::failed
                                                                          : SendOutcome::retry;
  return result;
}

}  // namespace herald::gateways
