// Store-internal helpers shared by the repository files: Result transactions, row decoding,
// contacts with their consent, preferences <-> rows. Included only by src/store/*.cpp.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"
#include "pg.hpp"

namespace herald::store {

// Runs fn(pqxx::work&) -> Result<T> in one transaction, committing only when it returns a
// value: a domain error rolls back whatever the function wrote before finding it. A
// transaction Postgres aborts as a deadlock victim or serialization failure runs once more.
template <typename T, typename F>
Result<T> transact(Database& db, F&& fn) {
  std::optional<Result<T>> out;
  retry_rolled_back([&] {
    with_connection(db, [&](pqxx::connection& c) {
      out.reset();
      pqxx::work w(c);
      out.emplace(fn(w));
      if (out->ok()) w.commit();
    });
  });
  return std::move(*out);
}

inline ApiError not_found(std::string code, std::string message) {
  return {ErrorKind::not_found, std::move(code), std::move(message), {}};
}

// Text of a field; "" for NULL.
inline std::string text_of(const pqxx::field& f) { return f.is_null() ? std::string() : std::string(f.c_str()); }

// A timestamptz column as Postgres prints it (ISO DateStyle, any session time zone).
TimePoint time_of(const pqxx::field& f);
std::optional<TimePoint> optional_time_of(const pqxx::field& f);
// A jsonb column; null JSON for NULL.
Json json_of(const pqxx::field& f);

Channel channel_of(const pqxx::field& f);
Topic topic_of(const pqxx::field& f);
MessageStatus message_status_of(const pqxx::field& f);
ConsentState consent_of(const pqxx::field& f);
// Each throws std::runtime_error naming the unexpected value: a row this build cannot read is
// an error, never a guess.

// A preferences row read from `first` on: topics::text, quiet_hours_enabled, quiet_start,
// quiet_end, language. An unknown topic or channel in topics, or topics not shaped
// {"topic": ["channel", ...]}, throws.
Preferences preferences_of(const pqxx::row& row, int first);

// A contact from the columns contact_id, channel, address, verified, active, source, consent
// of `row`, starting at column `first`.
Contact contact_of(const pqxx::row& row, int first);
// The contacts of a customer with their current (topic-less) consent: the newest
// consent_events row for (channel, address), opted_in when there is none.
std::vector<Contact> load_contacts(pqxx::transaction_base& t, std::string_view customer_id, bool active_only);

// Preferences as stored (topics jsonb {"billing": ["sms"]}).
std::string topics_db_json(const Preferences& p);
// The customer's preferences row; nullopt when it has none. lock: SELECT ... FOR UPDATE.
std::optional<Preferences> load_preferences(pqxx::transaction_base& t, std::string_view customer_id, bool lock);
// Inserts or replaces the customer's preferences row; `now` becomes its updated_at.
void store_preferences(pqxx::transaction_base& t, std::string_view customer_id, const Preferences& p,
                       TimePoint now);
// Appends to the change log, changed at `now`.
void record_preference_change(pqxx::transaction_base& t, std::string_view customer_id, std::string_view actor,
                              const std::optional<Preferences>& old_value, const Preferences& new_value,
                              TimePoint now);

// "%", "_" and "\" escaped for LIKE / ILIKE (default escape character).
std::string like_escape(std::string_view s);

}  // namespace herald::store
