// Kannel's smsbox wire format: the sendsms request, its answer, and the delivery reports
// (DLRs) smsbox calls back with. Pure functions; the transport is in src/gateways/kannel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/gateways/transfer.hpp"

namespace herald::gateways {

struct KannelSettings {
  std::string url;  // smsbox's sendsms endpoint, e.g. http://127.0.0.1:13013/cgi-bin/sendsms
  std::string username, password;  // a sendsms-user of smsbox
  std::string from;                // sender; empty: smsbox's default-sender
  // Herald's GET /v1/webhooks/kannel/dlr as smsbox reaches it; empty: no DLRs are asked for.
  std::string dlr_url;
  std::string webhook_token;  // checked by the DLR and MO webhooks; URL-safe characters only
  int dlr_mask = 31;          // 1 delivered | 2 undelivered | 4 queued | 8 SMSC ack | 16 SMSC reject
};

// Kannel's sendsms answers with no id of its own: the message id is the provider id, and
// the DLR url carries it back.
std::string kannel_provider_id(std::int64_t message_id);

// The dlr-url handed to smsbox for one message: dlr_url?token=..&id=<message id>&status=%d&reply=%A
// (smsbox replaces %d by the DLR type and %A by the SMSC's report text).
std::string kannel_dlr_url(const KannelSettings& settings, std::int64_t message_id);

// GET {url}?username&password&from&to&text&charset=UTF-8 [&coding=2 when the text has a
// character outside GSM 03.38, so smsbox sends UCS-2 instead of replacing it] [&dlr-mask&dlr-url].
HttpRequest build_kannel_send(const KannelSettings& settings, const OutboundMessage& message);

// 202 (or 200) "0: Accepted for delivery" / "3: Queued for later delivery" / "Sent." → sent
// with kannel_provider_id(message.id); 403 "Authorization failed" → retry (the gateway's
// credentials, not the message); other 403 (not routable) and 4xx → failed; 503, other 5xx,
// anything else → retry.
SendResult parse_kannel_send(const OutboundMessage& message, int status, std::string_view body);

// The message status a DLR type (%d) reports: 1 delivered, 2 undelivered, 4 queued (queued:
// buffered on the way), 8 SMSC ack (sent), 16 SMSC reject (failed). nullopt for anything
// else. Receipts never move a status backwards, so a late 4 or 8 leaves a delivered message be.
std::optional<MessageStatus> kannel_dlr_status(int dlr_type);

// Constant-time comparison of a webhook's token with the configured one (empty never matches).
bool kannel_token_matches(std::string_view expected, std::string_view given);

}  // namespace herald::gateways
