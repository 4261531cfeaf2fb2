// Contacts a customer adds on the web (double opt-in by code), their removal, and the consent
// history of a customer's contacts.
#include <cctype>
#include <charconv>

#include "handlers.hpp"
#include "herald/domain/customer_token.hpp"
#include "herald/domain/phone.hpp"
#include "herald/domain/verification_code.hpp"
#include "herald/http/views/cursor.hpp"
#include "herald/rules/decide.hpp"
#include "herald/rules/segments.hpp"
#include "herald/rules/templates.hpp"
#include "herald/store/contacts.hpp"

namespace herald::http::handlers {

namespace {

ApiError customer_not_found() { return ApiError{ErrorKind::not_found, "customer_not_found", "no such customer", ""}; }

struct ContactInput {
  Channel channel = Channel::sms;
  std::string address;
};

// {"channel": "sms" | "email" | "voice", "address": "..."}: phone numbers to E.164 in the
// configured default region, email addresses normalised.
Result<ContactInput> contact_input(const Json& body, std::string_view default_region) {
  if (!body.is_object()) return invalid("", "invalid_type", "the body must be a JSON object");
  auto text = [&](const char* name) -> const std::string* {
    auto it = body.find(name);
    return it != body.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };
  const auto* channel_name = text("channel");
  if (!channel_name) return invalid("channel", "required", "channel is required (sms, email or voice)");
  auto channel = parse_channel(*channel_name);
  if (!channel) return invalid("channel", "unknown_channel", "channel must be sms, email or voice");
  const auto* address = text("address");
  if (!address || address->empty()) return invalid("address", "required", "address is required");
  if (address->size() > 256) return invalid("address", "too_long", "address is longer than 256 characters");
  ContactInput out{*channel, {}};
  if (*channel == Channel::email) {
    auto email = normalize_email(*address);
    if (!email) return invalid("address", "invalid_email", "address is not an email address");
    out.address = *email;
  } else {
    auto phone = to_e164(*address, default_region);
    if (!phone) return invalid("address", "invalid_phone", "address is not a phone number");
    out.address = *phone;
  }
  return out;
}

std::string url_component(std::string_view s) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "1 2 3 4 5 6": a text-to-speech voice reads digits one by one instead of a large number.
std::string spoken_digits(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

// The code's message in the customer's language. An email carries a link to the preference
// center that signs the customer in (a customer token lasting as long as the code) and fills
// the code in.
Result<store::VerificationText> verification_text(const Context& ctx, const store::CustomerBrief& customer,
                                                  const std::string& customer_id, const ContactInput& contact,
                                                  const std::string& code) {
  const auto& ttl = ctx.config.contact_verification.code_ttl;
  Json context = {{"customer", {{"id", customer_id}, {"name", customer.name},
                                {"first_name", customer.name.substr(0, customer.name.find(' '))}}},
                  {"utility", {{"name", ctx.services.rules.utility_name},
                               {"phone", ctx.services.rules.utility_phone},
                               {"url", ctx.services.rules.utility_url}}},
                  {"language", customer.language},
                  {"code", code},
                  {"code_spoken", spoken_digits(code)},
                  {"minutes", std::chrono::duration_cast<std::chrono::minutes>(ttl).count()}};
  if (contact.channel == Channel::email) {
    const auto token = issue_customer_token(ctx.services.token_secret.value, customer_id,
                                            std::chrono::floor<Seconds>(ctx.now) + ttl);
    context["verify_url"] = ctx.services.public_urls.base + "/portal/#token=" + token +
                            "&verify=email&address=" + url_component(contact.address) + "&code=" + code;
  }
  auto rendered = ctx.services.templates->render("contact.verification", contact.channel, customer.language,
                                                 ctx.services.rules.default_language, context);
  if (!rendered) return rendered.error();
  store::VerificationText text;
  text.language = rendered->language;
  text.subject = std::move(rendered->subject);
  text.body = std::move(rendered->body);
  text.html = std::move(rendered->html);
  if (contact.channel == Channel::sms) {
    const auto info = rules::sms_encoding(text.body);
    text.segments = info.segments;
    text.encoding = info.encoding;
  }
  return text;
}

store::VerificationSettings settings_of(const ContactVerificationConfig& c) {
  store::VerificationSettings s;
  s.code_ttl = c.code_ttl;
  s.max_attempts = c.max_attempts;
  s.sends_per_hour_per_customer = c.sends_per_hour_per_customer;
  s.sends_per_hour_per_address = c.sends_per_hour_per_address;
  return s;
}

Json contact_json(const Contact& c) {
  return {{"channel", to_string(c.channel)},
          {"address", c.address},
          {"verified", c.verified},
          {"consent", to_string(c.consent)},
          {"source", c.source}};
}

}  // namespace

Response post_contact(Context& ctx) {
  auto body = ctx.json_body();
  if (!body) return error_response(body.error());
  auto contact = contact_input(*body, ctx.config.default_region);
  if (!contact) return error_response(contact.error());
  const auto& customer_id = ctx.param("id");
  const auto customer = store::customer_brief(ctx.services.db, customer_id);
  if (!customer) return error_response(customer_not_found());
  if (!ctx.services.templates)
    return error_response(ErrorKind::unavailable, "verification_unavailable", "verification texts are not loaded");

  const auto code = random_verification_code();
  auto text = verification_text(ctx, *customer, customer_id, *contact, code);
  if (!text) return error_response(ErrorKind::unavailable, "verification_unavailable", text.error().message);
  Seconds retry_after{0};
  auto started = store::start_contact_verification(
      ctx.services.db, customer_id, contact->channel, contact->address,
      verification_code_hash(ctx.services.token_secret.value, contact->channel, contact->address, code), *text,
      settings_of(ctx.config.contact_verification), ctx.now, &retry_after);
  if (!started) {
    auto r = error_response(started.error());
    if (started.error().kind == ErrorKind::rate_limited) r.set_header("Retry-After", std::to_string(retry_after.count()));
    return r;
  }
  return json_response(202, Json{{"status", "pending_verification"}, {"expires_at", format_time(started->expires_at)}});
}

Response verify_contact(Context& ctx) {
  auto body = ctx.json_body();
  if (!body) return error_response(body.error());
  auto contact = contact_input(*body, ctx.config.default_region);
  if (!contact) return error_response(contact.error());
  auto code = body->find("code");
  if (code == body->end() || !code->is_string() || code->get_ref<const std::string&>().empty())
    return error_response(invalid("code", "required", "code is required"));
  if (!is_verification_code(code->get_ref<const std::string&>()))
    return error_response(invalid("code", "invalid_code", "the code is six digits"));
  const auto& customer_id = ctx.param("id");
  if (!store::customer_brief(ctx.services.db, customer_id)) return error_response(customer_not_found());

  const auto& settings = ctx.config.contact_verification;
  const auto result = store::verify_contact_code(
      ctx.services.db, customer_id, contact->channel, contact->address,
      verification_code_hash(ctx.services.token_secret.value, contact->channel, contact->address,
                             code->get_ref<const std::string&>()),
      settings.max_attempts, ctx.now);
  using store::VerifyOutcome;
  switch (result.outcome) {
    case VerifyOutcome::verified:
    case VerifyOutcome::already_verified:
      return json_response(200, contact_json(result.contact));
    case VerifyOutcome::wrong_code:
      return error_response(invalid("code", "invalid_code",
                                    "the code does not match; " + std::to_string(result.attempts_left) +
                                        " attempts left"));
    case VerifyOutcome::locked:
      return error_response(invalid("code", "verification_locked",
                                    "too many wrong codes: add the contact again to get a new code"));
    case VerifyOutcome::expired:
      return error_response(invalid("code", "verification_expired",
                                    "the code has expired: add the contact again to get a new code"));
    case VerifyOutcome::no_pending:
      return error_response(invalid("address", "no_pending_verification",
                                    "no verification is under way for this contact: add it first"));
    case VerifyOutcome::not_found:
      break;
  }
  return error_response(ErrorKind::not_found, "contact_not_found", "the customer has no such contact");
}

Response delete_contact(Context& ctx) {
  auto channel = parse_channel(ctx.param("channel"));
  if (!channel) return error_response(ErrorKind::not_found, "contact_not_found", "the customer has no such contact");
  std::string address = ctx.param("address");
  if (*channel == Channel::email) {
    if (auto email = normalize_email(address)) address = *email;
  } else if (auto phone = to_e164(address, ctx.config.default_region)) {
    address = *phone;
  }
  const auto& customer_id = ctx.param("id");
  if (!store::customer_brief(ctx.services.db, customer_id)) return error_response(customer_not_found());
  auto removed = store::remove_web_contact(ctx.services.db, customer_id, *channel, address, ctx.now);
  if (!removed) return error_response(removed.error());
  Response r;
  r.status = 204;
  return r;
}

Response get_consent(Context& ctx) {
  auto page = page_params(ctx);
  if (!page) return error_response(page.error());
  const int limit = page->limit;
  const auto before = page->before_id;
  // One more than asked: whether a next page exists without a second query.
  auto records = store::consent_history(ctx.services.db, ctx.param("id"), limit + 1, before);
  if (!records) return error_response(customer_not_found());
  Json items = Json::array();
  Json next = nullptr;
  for (std::size_t i = 0; i < records->size(); ++i) {
    const auto& c = (*records)[i];
    if (static_cast<int>(i) == limit) {
      next = views::encode_cursor((*records)[i - 1].id);
      break;
    }
    items.push_back({{"channel", to_string(c.channel)},
                     {"address", c.address},
                     {"consent", to_string(c.state)},
                     {"topic", c.topic ? Json(to_string(*c.topic)) : Json(nullptr)},
                     {"source", c.source},
                     {"evidence", c.evidence},
                     {"at", format_time(c.at)}});
  }
  return json_response(200, Json{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
}

}  // namespace herald::http::handlers
