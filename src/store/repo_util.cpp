// Row decoding, contacts with consent, and preferences rows shared by the repository files.
#include "repo_util.hpp"

#include "herald/domain/json_io.hpp"

namespace herald::store {

namespace {

// contacts.consent is the current consent of the address (kept by 0002_contact_consent.sql).
const char* const kSelectContacts =
    "SELECT c.contact_id, c.channel, c.address, c.verified, c.active, c.source, c.consent"
    " FROM herald.contacts c"
    " WHERE c.customer_id = $1 AND (c.active OR NOT $2::boolean)"
    " ORDER BY c.contact_id";

const char* const kSelectPreferences =
    "SELECT topics::text, quiet_hours_enabled, quiet_start, quiet_end, language"
    " FROM herald.preferences WHERE customer_id = $1";
const char* const kSelectPreferencesForUpdate =
    "SELECT topics::text, quiet_hours_enabled, quiet_start, quiet_end, language"
    " FROM herald.preferences WHERE customer_id = $1 FOR UPDATE";

const char* const kUpsertPreferences =
    "INSERT INTO herald.preferences (customer_id, topics, quiet_hours_enabled, quiet_start, quiet_end, language,"
    "  updated_at)"
    " VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7::timestamptz)"
    " ON CONFLICT (customer_id) DO UPDATE SET topics = excluded.topics,"
    "  quiet_hours_enabled = excluded.quiet_hours_enabled, quiet_start = excluded.quiet_start,"
    "  quiet_end = excluded.quiet_end, language = excluded.language, updated_at = excluded.updated_at";

const char* const kInsertPreferenceChange =
    "INSERT INTO herald.preference_changes (customer_id, actor, old_value, new_value, changed_at)"
    " VALUES ($1, $2, NULLIF($3, '')::jsonb, $4::jsonb, $5::timestamptz)";

template <typename T>
T parse_or_throw(std::optional<T> v, const pqxx::field& f, const char* what) {
  if (!v) throw std::runtime_error(std::string("unexpected ") + what + " in database: " + text_of(f));
  return *v;
}

}  // namespace

TimePoint time_of(const pqxx::field& f) { return parse_or_throw(parse_time(text_of(f)), f, "timestamp"); }

std::optional<TimePoint> optional_time_of(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return time_of(f);
}

Json json_of(const pqxx::field& f) {
  if (f.is_null()) return Json();
  return Json::parse(f.c_str());
}

Channel channel_of(const pqxx::field& f) { return parse_or_throw(parse_channel(text_of(f)), f, "channel"); }
Topic topic_of(const pqxx::field& f) { return parse_or_throw(parse_topic(text_of(f)), f, "topic"); }
MessageStatus message_status_of(const pqxx::field& f) {
  return parse_or_throw(parse_message_status(text_of(f)), f, "message status");
}
ConsentState consent_of(const pqxx::field& f) {
  return parse_or_throw(parse_consent_state(text_of(f)), f, "consent state");
}

Preferences preferences_of(const pqxx::row& row, int first) {
  const auto& topics_field = row[first];
  const auto topics = Json::parse(text_of(topics_field), nullptr, false);
  if (!topics.is_object()) throw std::runtime_error("unexpected preferences topics in database: " + text_of(topics_field));
  Preferences p;
  for (const auto& [name, channels] : topics.items()) {
    const auto topic = parse_topic(name);
    if (!topic) throw std::runtime_error("unexpected topic in database preferences: " + name);
    if (!channels.is_array())
      throw std::runtime_error("unexpected channels of topic " + name + " in database preferences: " + channels.dump());
    auto& set = p.topics[*topic];
    for (const auto& c : channels) {
      const auto channel = c.is_string() ? parse_channel(c.get<std::string>()) : std::nullopt;
      if (!channel) throw std::runtime_error("unexpected channel in database preferences of topic " + name + ": " + c.dump());
      set.insert(*channel);
    }
  }
  p.quiet_hours.enabled = row[first + 1].as<bool>();
  p.quiet_hours.start = LocalTime{row[first + 2].as<int>()};
  p.quiet_hours.end = LocalTime{row[first + 3].as<int>()};
  p.language = text_of(row[first + 4]);
  return p;
}

Contact contact_of(const pqxx::row& row, int first) {
  Contact c;
  c.id = row[first].as<std::int64_t>();
  c.channel = channel_of(row[first + 1]);
  c.address = row[first + 2].c_str();
  c.verified = row[first + 3].as<bool>();
  c.active = row[first + 4].as<bool>();
  c.source = row[first + 5].c_str();
  c.consent = consent_of(row[first + 6]);
  return c;
}

std::vector<Contact> load_contacts(pqxx::transaction_base& t, std::string_view customer_id, bool active_only) {
  std::vector<Contact> out;
  for (const auto& row : t.exec_params(kSelectContacts, std::string(customer_id), active_only))
    out.push_back(contact_of(row, 0));
  return out;
}

std::string topics_db_json(const Preferences& p) {
  Json topics = Json::object();
  for (const auto& [topic, channels] : p.topics) {
    Json list = Json::array();
    for (auto c : channels) list.push_back(std::string(to_string(c)));
    topics[std::string(to_string(topic))] = std::move(list);
  }
  return topics.dump();
}


std::optional<Preferences> load_preferences(pqxx::transaction_base& t, std::string_view customer_id, bool lock) {
  const auto r = t.exec_params(lock ? kSelectPreferencesForUpdate : kSelectPreferences, std::string(customer_id));
  if (r.empty()) return std::nullopt;
  return preferences_of(r[0], 0);
}

void store_preferences(pqxx::transaction_base& t, std::string_view customer_id, const Preferences& p,
                       TimePoint now) {
  t.exec_params(kUpsertPreferences, std::string(customer_id), topics_db_json(p), p.quiet_hours.enabled,
                p.quiet_hours.start.minutes, p.quiet_hours.end.minutes, p.language, format_time(now));
}

void record_preference_change(pqxx::transaction_base& t, std::string_view customer_id, std::string_view actor,
                              const std::optional<Preferences>& old_value, const Preferences& new_value,
                              TimePoint now) {
  t.exec_params(kInsertPreferenceChange, std::string(customer_id), std::string(actor),
                old_value ? to_json(*old_value).dump() : std::string(),
                to_json(new_value).dump(), format_time(now));
}

std::string like_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace herald::store
