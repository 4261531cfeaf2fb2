// Parsing and validation of API bodies into domain values, and their JSON form.
#include "herald/domain/json_io.hpp"

#include <array>
#include <set>
#include <stdexcept>

#include <date/tz.h>

#include "herald/domain/phone.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/domain/text.hpp"

namespace herald {

namespace {

constexpr std::size_t kMaxIdLength = 128;
constexpr std::size_t kMaxTextLength = 512;

std::string indexed(std::string_view base, std::size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}
std::string dotted(std::string_view base, std::string_view key) {
  if (base.empty()) return std::string(key);
  return std::string(base) + "." + std::string(key);
}

ApiError wrong_type(const std::string& field, std::string_view expected) {
  return unprocessable(field, "invalid_type", field + " must be " + std::string(expected));
}
ApiError missing(const std::string& field) {
  return unprocessable(field, "required", field + " is required");
}

// Optional string member: absent or null leaves `out` alone; anything but a string, or a
// string holding a control character (none of these fields is multi-line), is an error.
std::optional<ApiError> read_string(const Json& obj, std::string_view key, const std::string& field,
                                    std::string& out, std::size_t max_length = kMaxTextLength) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return wrong_type(field, "a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_length) {
    return unprocessable(field, "too_long", field + " is longer than " + std::to_string(max_length));
  }
  if (auto err = reject_control_characters(s, field)) return err;
  out = s;
  return std::nullopt;
}

std::optional<ApiError> read_required_string(const Json& obj, std::string_view key, const std::string& field,
                                             std::string& out, std::size_t max_length = kMaxTextLength) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return missing(field);
  if (auto err = read_string(obj, key, field, out, max_length)) return err;
  if (out.empty()) return unprocessable(field, "required", field + " must not be empty");
  return std::nullopt;
}

std::optional<ApiError> read_language(const Json& obj, const std::string& field, std::string& out) {
  std::string value;
  if (auto err = read_string(obj, "language", field, value, 16)) return err;
  auto it = obj.find("language");
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!is_language_tag(value)) {
    return unprocessable(field, "invalid_language", field + " must be a language tag such as \"en\" or \"es\"");
  }
  out = value;
  return std::nullopt;
}

bool is_event_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

Result<Account> parse_account(const Json& a, const std::string& field) {
  if (!a.is_object()) return wrong_type(field, "an object");
  Account account;
  if (auto err = read_required_string(a, "account_id", dotted(field, "account_id"), account.account_id, kMaxIdLength)) {
    return *err;
  }
  if (auto err = read_string(a, "premise_id", dotted(field, "premise_id"), account.premise_id, kMaxIdLength)) {
    return *err;
  }
  if (auto it = a.find("service_address"); it != a.end() && !it->is_null()) {
    std::string sa_field = dotted(field, "service_address");
    if (!it->is_object()) return wrong_type(sa_field, "an object");
    ServiceAddress& sa = account.service_address;
    const std::pair<const char*, std::string*> parts[] = {
        {"line1", &sa.line1}, {"line2", &sa.line2}, {"city", &sa.city}, {"state", &sa.state}, {"zip", &sa.zip}};
    for (const auto& [key, target] : parts) {
      if (auto err = read_string(*it, key, dotted(sa_field, key), *target)) return *err;
    }
  }
  std::string tz_field = dotted(field, "timezone");
  if (auto err = read_required_string(a, "timezone", tz_field, account.timezone, 64)) return *err;
  if (!is_known_time_zone(account.timezone)) {
    return unprocessable(tz_field, "invalid_timezone",
                         tz_field + " must be an IANA time zone such as \"America/Chicago\"");
  }
  if (auto err = read_string(a, "feeder", dotted(field, "feeder"), account.feeder, kMaxIdLength)) return *err;
  if (auto it = a.find("segments"); it != a.end() && !it->is_null()) {
    std::string seg_field = dotted(field, "segments");
    if (!it->is_array()) return wrong_type(seg_field, "an array of strings");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const Json& s = (*it)[i];
      if (!s.is_string()) return wrong_type(indexed(seg_field, i), "a string");
      if (auto err = reject_control_characters(s.get_ref<const std::string&>(), indexed(seg_field, i))) return *err;
      account.segments.push_back(s.get<std::string>());
    }
  }
  if (auto err = read_language(a, dotted(field, "language"), account.language)) return *err;
  return account;
}

Result<Contact> parse_contact(const Json& c, const std::string& field, std::string_view default_region) {
  if (!c.is_object()) return wrong_type(field, "an object");
  Contact contact;
  std::string channel_field = dotted(field, "channel");
  std::string channel_name;
  if (auto err = read_required_string(c, "channel", channel_field, channel_name, 16)) return *err;
  auto channel = parse_channel(channel_name);
  if (!channel) {
    return unprocessable(channel_field, "unknown_channel", channel_field + " must be sms, email or voice");
  }
  contact.channel = *channel;
  std::string address_field = dotted(field, "address");
  std::string address;
  if (auto err = read_required_string(c, "address", address_field, address, 256)) return *err;
  if (contact.channel == Channel::email) {
    auto email = normalize_email(address);
    if (!email) return unprocessable(address_field, "invalid_email", address_field + " is not an email address");
    contact.address = *email;
  } else {
    auto phone = to_e164(address, default_region);
    if (!phone) return unprocessable(address_field, "invalid_phone", address_field + " is not a phone number");
    contact.address = *phone;
  }
  // The CIS got the contact from the customer: it counts as verified (API.md).
  contact.verified = true;
  contact.source = "cis";
  return contact;
}

}  // namespace

bool is_language_tag(std::string_view s) {
  auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto is_alnum = [&](char c) { return is_alpha(c) || (c >= '0' && c <= '9'); };
  std::size_t dash = s.find('-');
  std::string_view primary = s.substr(0, dash);
  if (primary.size() < 2 || primary.size() > 3) return false;
  for (char c : primary) {
    if (!is_alpha(c)) return false;
  }
  if (dash == std::string_view::npos) return true;
  std::string_view sub = s.substr(dash + 1);
  if (sub.size() < 2 || sub.size() > 8) return false;
  for (char c : sub) {
    if (!is_alnum(c)) return false;
  }
  return true;
}

bool is_known_time_zone(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  try {
    date::locate_zone(name);
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

Result<Json> parse_json_body(std::string_view text, int max_depth) {
  bool too_deep = false;
  // The callback sees the depth before each container opens; discarding a too-deep container
  // keeps the DOM shallow while the parser (iterative, no recursion) checks the syntax.
  Json::parser_callback_t limit = [&](int depth, Json::parse_event_t event, Json&) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth >= max_depth) {
      too_deep = true;
      return false;
    }
    return true;
  };
  Json parsed = Json::parse(text.begin(), text.end(), limit, /*allow_exceptions=*/false);
  if (parsed.is_discarded() && !too_deep) {
    return bad_request("", "invalid_json", "the body is not valid JSON");
  }
  if (too_deep) {
    return bad_request("", "json_too_deep",
                       "the body nests deeper than " + std::to_string(max_depth) + " levels");
  }
  return parsed;
}

Result<Customer> parse_customer(const Json& body, std::string_view customer_id, std::string_view default_region) {
  if (!body.is_object()) return unprocessable("", "invalid_type", "the body must be a JSON object");
  if (auto err = reject_control_characters(customer_id, "customer_id")) return *err;
  Customer customer;
  customer.customer_id = std::string(customer_id);
  if (auto err = read_required_string(body, "name", "name", customer.name, 256)) return *err;
  if (auto err = read_language(body, "language", customer.language)) return *err;

  if (auto it = body.find("accounts"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return wrong_type("accounts", "an array");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < it->size(); ++i) {
      std::string field = indexed("accounts", i);
      auto account = parse_account((*it)[i], field);
      if (!account) return account.error();
      if (!seen.insert(account->account_id).second) {
        return unprocessable(dotted(field, "account_id"), "duplicate",
                             "account " + account->account_id + " appears twice");
      }
      customer.accounts.push_back(std::move(*account));
    }
  }

  if (auto it = body.find("contacts"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return wrong_type("contacts", "an array");
    std::set<std::pair<Channel, std::string>> seen;
    for (std::size_t i = 0; i < it->size(); ++i) {
      auto contact = parse_contact((*it)[i], indexed("contacts", i), default_region);
      if (!contact) return contact.error();
      // The same number written two ways is one contact (the store keeps one row per
      // customer, channel and address): keep the first.
      if (!seen.emplace(contact->channel, contact->address).second) continue;
      customer.contacts.push_back(std::move(*contact));
    }
  }
  return customer;
}

Json to_json(const Customer& c) {
  Json accounts = Json::array();
  for (const Account& a : c.accounts) {
    Json j = {{"account_id", a.account_id},
              {"premise_id", a.premise_id},
              {"service_address",
               {{"line1", a.service_address.line1},
                {"line2", a.service_address.line2},
                {"city", a.service_address.city},
                {"state", a.service_address.state},
                {"zip", a.service_address.zip}}},
              {"timezone", a.timezone},
              {"feeder", a.feeder},
              {"segments", a.segments}};
    if (!a.language.empty()) j["language"] = a.language;
    accounts.push_back(std::move(j));
  }
  Json contacts = Json::array();
  for (const Contact& k : c.contacts) {
    Json j = {{"channel", to_string(k.channel)},
              {"address", k.address},
              {"verified", k.verified},
              {"active", k.active},
              {"consent", to_string(k.consent)},
              {"source", k.source}};
    if (k.id != 0) j["contact_id"] = k.id;
    contacts.push_back(std::move(j));
  }
  return {{"customer_id", c.customer_id},
          {"name", c.name},
          {"language", c.language},
          {"accounts", std::move(accounts)},
          {"contacts", std::move(contacts)}};
}

// occurred_at is optional: when absent the Event keeps TimePoint{} (the Unix epoch), which
// every consumer reads as "unset" (the store then records the receive time).
Result<Event> parse_event(const Json& body) {
  if (!body.is_object()) return unprocessable("", "invalid_type", "the body must be a JSON object");
  Event e;
  if (auto err = read_required_string(body, "event_id", "event_id", e.event_id, kMaxIdLength)) return *err;
  for (char c : e.event_id) {
    if (!is_event_id_char(c)) {
      return unprocessable("event_id", "invalid_event_id",
                           "event_id may hold only letters, digits and . _ : -");
    }
  }
  if (auto err = read_required_string(body, "type", "type", e.type, kMaxIdLength)) return *err;
  if (auto err = read_required_string(body, "account_id", "account_id", e.account_id, kMaxIdLength)) return *err;
  if (auto it = body.find("occurred_at"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return wrong_type("occurred_at", "an RFC 3339 time string");
    auto t = parse_time(it->get_ref<const std::string&>());
    if (!t) {
      return unprocessable("occurred_at", "invalid_time",
                           "occurred_at must be an RFC 3339 time such as 2026-11-20T10:00:00Z");
    }
    e.occurred_at = *t;
  }
  if (auto it = body.find("data"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return wrong_type("data", "an object");
    e.data = *it;
  }
  return e;
}

Json to_json(const Event& e) {
  Json j = {{"event_id", e.event_id}, {"type", e.type}, {"account_id", e.account_id}, {"data", e.data}};
  j["occurred_at"] = e.occurred_at == TimePoint{} ? Json(nullptr) : Json(format_time(e.occurred_at));
  return j;
}

// nlohmann's default object type is a std::map, so dump() writes keys sorted: two bodies
// that differ only in key order or whitespace hash alike.
std::string event_body_hash(const Json& body) { return sha256_hex(body.dump()); }

Result<Preferences> parse_preferences(const Json& body) { return parse_preferences(body, Preferences{}); }

Result<Preferences> parse_preferences(const Json& body, const Preferences& base) {
  if (!body.is_object()) return unprocessable("", "invalid_type", "the body must be a JSON object");
  Preferences p = base;
  for (const auto& [key, value] : body.items()) {
    if (key != "topics" && key != "quiet_hours" && key != "language" && key != "contacts") {
      return unprocessable(key, "unknown_field", key + " is not a preference");
    }
  }

  if (auto it = body.find("topics"); it != body.end()) {
    if (!it->is_object()) return wrong_type("topics", "an object");
    p.topics.clear();
    for (const auto& [name, entry] : it->items()) {
      std::string field = dotted("topics", name);
      auto topic = parse_topic(name);
      if (!topic) return unprocessable(field, "unknown_topic", field + ": topics are billing, outage and other");
      if (!entry.is_object()) return wrong_type(field, "an object like {\"channels\": [\"sms\"]}");
      for (const auto& [k, v] : entry.items()) {
        if (k != "channels") return unprocessable(dotted(field, k), "unknown_field", dotted(field, k) + " is not allowed");
      }
      std::string ch_field = dotted(field, "channels");
      auto channels = entry.find("channels");
      if (channels == entry.end()) return missing(ch_field);
      if (!channels->is_array()) return wrong_type(ch_field, "an array");
      std::set<Channel>& chosen = p.topics[*topic];
      for (std::size_t i = 0; i < channels->size(); ++i) {
        std::string f = indexed(ch_field, i);
        const Json& c = (*channels)[i];
        if (!c.is_string()) return wrong_type(f, "a string");
        auto channel = parse_channel(c.get_ref<const std::string&>());
        if (!channel) return unprocessable(f, "unknown_channel", f + " must be sms, email or voice");
        if (!chosen.insert(*channel).second) {
          return unprocessable(f, "duplicate", f + ": " + std::string(to_string(*channel)) + " is listed twice");
        }
      }
    }
  }

  if (auto it = body.find("quiet_hours"); it != body.end()) {
    if (!it->is_object()) return wrong_type("quiet_hours", "an object");
    for (const auto& [k, v] : it->items()) {
      std::string f = dotted("quiet_hours", k);
      if (k == "enabled") {
        if (!v.is_boolean()) return wrong_type(f, "true or false");
        p.quiet_hours.enabled = v.get<bool>();
      } else if (k == "start" || k == "end") {
        auto t = v.is_string() ? parse_local_time(v.get_ref<const std::string&>()) : std::nullopt;
        if (!t) return unprocessable(f, "invalid_time", f + " must be a time of day HH:MM, such as \"21:00\"");
        (k == "start" ? p.quiet_hours.start : p.quiet_hours.end) = *t;
      } else {
        return unprocessable(f, "unknown_field", f + " is not allowed");
      }
    }
  }

  if (auto err = read_language(body, "language", p.language)) return *err;
  return p;
}

Json to_json(const Preferences& p) {
  Json topics = Json::object();
  for (Topic t : kAllTopics) {
    Json channels = Json::array();
    if (auto it = p.topics.find(t); it != p.topics.end()) {
      for (Channel c : it->second) channels.push_back(to_string(c));
    }
    topics[std::string(to_string(t))] = {{"channels", std::move(channels)}};
  }
  return {{"topics", std::move(topics)},
          {"quiet_hours",
           {{"enabled", p.quiet_hours.enabled},
            {"start", format_local_time(p.quiet_hours.start)},
            {"end", format_local_time(p.quiet_hours.end)}}},
          {"language", p.language}};
}

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
