// Kannel's smsbox calling back: delivery reports (DLRs) for what the kannel gateway sent, and
// texts from phones (its sms-service get-url). smsbox authenticates with the shared token in
// the URL and counts only 200 and 202 as done.
#include <cctype>
#include <charconv>
#include <optional>

#include <spdlog/spdlog.h>

#include "handlers.hpp"
#include "herald/engine/inbound.hpp"
#include "herald/gateways/kannel.hpp"
#include "herald/store/receipts.hpp"

namespace herald::http::handlers {

namespace {

bool token_accepted(const Context& ctx) {
  const auto given = ctx.query_value("token");
  for (const auto& token : ctx.services.kannel_webhook_tokens)
    if (gateways::kannel_token_matches(token, given)) return true;
  return false;
}

Response forbidden_token(const Context& ctx, std::string_view what) {
  spdlog::warn("http: kannel {} with a bad or missing token from {}", what, ctx.request.remote);
  return error_response(ErrorKind::forbidden, "invalid_token", "token does not match a kannel gateway's webhook_token",
                        "token");
}

template <typename Int>
std::optional<Int> whole_number(const std::string& text) {
  Int value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// The SMSC's own error code when its report text carries one (SMPP: "... stat:UNDELIV err:034 ...").
std::string smsc_error_code(std::string_view reply) {
  const auto at = reply.find("err:");
  if (at == std::string_view::npos) return {};
  std::string code;
  for (char c : reply.substr(at + 4, 16)) {
    if (!std::isalnum(static_cast<unsigned char>(c))) break;
    code += c;
  }
  return code;
}

// smsbox reads anything but 200/202 as a failed call (and tries again when it may).
Response done() { return text_response(200, "", "text/plain; charset=utf-8"); }

}  // namespace

Response kannel_dlr(Context& ctx) {
  if (!token_accepted(ctx)) return forbidden_token(ctx, "delivery report");
  if (auto bad = reject_unstorable_parameters(ctx)) return error_response(*bad);
  const auto id = whole_number<std::int64_t>(ctx.query_value("id"));
  if (!id || *id <= 0) return error_response(invalid("id", "invalid_id", "id must be the message id Herald sent"));
  const auto type = whole_number<int>(ctx.query_value("status"));
  const auto status = type ? gateways::kannel_dlr_status(*type) : std::nullopt;
  if (!status)
    return error_response(invalid("status", "invalid_status",
                                  "status must be a DLR type: 1, 2, 4, 8 or 16 (smsbox's %d)"));

  const auto reply = ctx.query_value("reply");
  const Json raw = {{"id", *id}, {"status", *type}, {"reply", reply}};
  const auto provider_id = gateways::kannel_provider_id(*id);
  const auto apply = [&] {
    return store::apply_delivery_receipt(ctx.services.db, provider_id, *status, smsc_error_code(reply), raw, ctx.now);
  };
  if (apply().matched) return done();
  // A DLR can overtake the dispatcher recording the send it reports on: ask smsbox to call
  // again (its http-request-retry) rather than lose it.
  if (store::message_awaits_outcome(ctx.services.db, *id)) {
    spdlog::info("http: kannel DLR {} for message {} before its send was recorded; asking again", *type, *id);
    auto r = error_response(ErrorKind::unavailable, "not_yet_recorded",
                            "the send this report is about is not recorded yet; try again");
    r.set_header("Retry-After", "1");
    return r;
  }
  // Out of the queue now, but the send may have been recorded between the two looks.
  if (!apply().matched) spdlog::info("http: kannel DLR {} for unknown message {}", *type, *id);
  return done();
}

// The reply is the response body: smsbox sends it back to the phone when its sms-service has
// max-messages = 1; an empty body (with omit-empty = true) sends nothing.
Response kannel_mo(Context& ctx) {
  if (!token_accepted(ctx)) return forbidden_token(ctx, "inbound message");
  // A text smsbox passes in another charset than UTF-8 is refused by name rather than failing
  // in the database.
  if (auto bad = reject_unstorable_parameters(ctx)) return error_response(*bad);
  engine::InboundSms sms;
  sms.provider = "kannel";
  sms.from = ctx.query_value("from");
  sms.to = ctx.query_value("to");
  sms.body = ctx.query_value("text");
  // smsbox's %I: the id it gave the text, the same when it calls again after a failed call.
  sms.provider_message_id = ctx.query_value("id");
  sms.received_at = ctx.now;
  if (sms.from.empty()) return error_response(invalid("from", "missing_field", "from is required (smsbox's %p)"));
  if (!ctx.services.inbound)
    return error_response(ErrorKind::unavailable, "inbound_unavailable", "inbound messages are not handled here");
  const auto result = ctx.services.inbound->handle(sms);
  return text_response(200, result.reply, "text/plain; charset=utf-8");
}

}  // namespace herald::http::handlers
