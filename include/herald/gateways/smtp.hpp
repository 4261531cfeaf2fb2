// Email over SMTP: the MIME message (RFC 5322/2045/2047, RFC 8058 one-click unsubscribe) and
// the classification of SMTP replies. Pure functions; the transport is in src/gateways/smtp.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/gateways/transfer.hpp"

namespace herald::gateways {

struct SmtpSettings {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string username, password;
  std::string from;       // envelope and header sender address
  std::string from_name;  // display name, may be non-ASCII
  StartTls starttls = StartTls::try_;
};

// The complete message, CRLF line ends: From, To, Subject (RFC 2047 encoded words when not
// ASCII), Date, Message-ID, MIME-Version, List-Unsubscribe + List-Unsubscribe-Post when
// unsubscribe_url is set, then multipart/alternative (text/plain, text/html) or a single
// text/plain part when html is empty; UTF-8, quoted-printable. Deterministic for a given
// message and time, so a re-send is byte-identical.
std::string build_mime_message(const SmtpSettings& settings, const OutboundMessage& message,
                               TimePoint now);

// <herald-<id>@from-domain>, from the idempotency key when set: stable across re-sends so
// receivers can deduplicate.
std::string mime_message_id(const SmtpSettings& settings, const OutboundMessage& message);

// The envelope and message for the transport.
SmtpRequest build_smtp_request(const SmtpSettings& settings, const OutboundMessage& message,
                               TimePoint now);

// Quoted-printable body encoding (RFC 2045 §6.7): CRLF hard line breaks, soft breaks so that
// no line exceeds 76 characters, trailing white space and a leading '.' encoded.
std::string quoted_printable_encode(std::string_view text);

// A header value: returned as is when printable ASCII, else RFC 2047 "=?UTF-8?B?...?="
// words of at most 75 characters, folded with CRLF SP, never splitting a UTF-8 character.
// CR and LF in the input become spaces (no header injection).
std::string encode_header_text(std::string_view text);

// "Tue, 02 Jan 2024 15:04:05 +0000"
std::string format_rfc5322_date(TimePoint t);

// How one SMTP transaction ended. completed: the server accepted the message (250 after
// DATA). Otherwise reply_code is the last reply (0 when the connection failed first):
// 4xx → retry, 5xx → failed (530/534/535 authentication → retry: the gateway's
// credentials, not the message, are wrong), none → retry.
SendResult classify_smtp_result(bool completed, int reply_code, std::string_view reply_text);

}  // namespace herald::gateways
