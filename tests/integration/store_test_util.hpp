// Builders shared by the store integration tests: customers, preferences, raw message rows, and a
// database migrated up to a given migration.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>

#include "herald/domain/types.hpp"
#include "herald/source_dir.hpp"
#include "herald/store/db.hpp"
#include "test_db.hpp"
#include "test_zones.hpp"

namespace herald::test {

// The injected "now" the store's writes are stamped with in these tests: a fixed instant, so a
// test can read back exactly the time it passed.
inline TimePoint test_now() { return *parse_time("2026-03-02T15:04:05.123456Z"); }

// The default zone is one where it is daytime now: a row built here is never held for quiet hours
// because of the hour the suite happens to run at.
inline Account make_account(std::string id, std::string timezone = daytime_zone()) {
  Account a;
  a.account_id = std::move(id);
  a.premise_id = "P-" + a.account_id;
  a.service_address = {"12 Main St", "", "Springfield", "IL", "62701"};
  a.timezone = std::move(timezone);
  a.feeder = "F-12";
  a.segments = {"low_income"};
  return a;
}

inline Contact make_contact(Channel channel, std::string address) {
  Contact c;
  c.channel = channel;
  c.address = std::move(address);
  c.verified = true;
  return c;
}

inline Customer make_customer(std::string id, std::vector<std::string> account_ids,
                              std::vector<Contact> contacts) {
  Customer c;
  c.customer_id = std::move(id);
  c.name = "Ada Lovelace";
  c.language = "en";
  for (auto& a : account_ids) c.accounts.push_back(make_account(a));
  c.contacts = std::move(contacts);
  return c;
}

inline Preferences make_preferences(std::map<Topic, std::set<Channel>> topics) {
  Preferences p;
  p.topics = std::move(topics);
  return p;
}

inline Preferences default_preferences() {
  return make_preferences({{Topic::billing, {Channel::sms, Channel::email}},
                           {Topic::outage, {Channel::sms}},
                           {Topic::other, {Channel::email}}});
}

inline std::string sql_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// A message row as the outbox would write it; returns its id. A message still to go out gets
// its dispatch-queue row (due now); a provider id is recorded on a sent attempt, as dispatch does.
struct MessageRow {
  std::string customer_id = "C-1";
  std::string account_id = "A-1";
  std::string channel = "sms";
  std::string address = "+12175550101";
  std::string type = "bill.ready";
  std::string topic = "billing";
  std::string status = "queued";
  std::string body = "Your bill is ready";
  std::string subject;
  std::string created_at;  // empty: now()
  std::string event_id = "ev-1";
  std::string provider_id;  // empty: NULL
  std::string gateway;      // empty: NULL
  std::string suppression_reason;
};

inline std::int64_t insert_message(TestDb& t, const MessageRow& m) {
  auto or_null = [](const std::string& s) { return s.empty() ? std::string("NULL") : sql_quote(s); };
  const auto id = std::stoll(t.query_value(
      "INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, status,"
      " body, subject, created_at, provider_id, gateway, suppression_reason) VALUES (" +
      sql_quote(m.event_id) + "," + sql_quote(m.customer_id) + "," + sql_quote(m.account_id) + "," +
      sql_quote(m.channel) + "," + sql_quote(m.address) + "," + sql_quote(m.type) + "," + sql_quote(m.topic) +
      "," + sql_quote(m.status) + "," + sql_quote(m.body) + "," + sql_quote(m.subject) + "," +
      (m.created_at.empty() ? std::string("now()") : sql_quote(m.created_at) + "::timestamptz") + "," +
      or_null(m.provider_id) + "," + or_null(m.gateway) + "," + or_null(m.suppression_reason) +
      ") RETURNING id"));
  if (m.status == "scheduled" || m.status == "queued" || m.status == "sending")
    t.exec("INSERT INTO herald.message_queue (message_id, due_at) VALUES (" + std::to_string(id) + ", now())");
  if (!m.provider_id.empty())
    t.exec("INSERT INTO herald.message_attempts (message_id, attempt, gateway, started_at, outcome, provider_id)"
           " VALUES (" + std::to_string(id) + ", 1, " + sql_quote(m.gateway.empty() ? "twilio" : m.gateway) +
           ", now(), 'sent', " + sql_quote(m.provider_id) + ")");
  return id;
}

// How many of the project's migrations have a file name that sorts before `first` ("0027"), and
// how many at or after it.
inline int migrations_before(const std::string& first) {
  return static_cast<int>(std::count_if(std::filesystem::directory_iterator(HERALD_SOURCE_DIR "/migrations"),
                                        std::filesystem::directory_iterator{},
                                        [&](const auto& e) { return e.path().filename().string() < first; }));
}
inline int migrations_from(const std::string& first) {
  return static_cast<int>(std::distance(std::filesystem::directory_iterator(HERALD_SOURCE_DIR "/migrations"),
                                        std::filesystem::directory_iterator{})) -
         migrations_before(first);
}

// Applies to `t` (an empty database) the project's migrations that sort before `first`: the
// database a later migration meets. Returns how many were applied.
inline int migrate_before(TestDb& t, const std::string& first) {
  const auto dir = std::filesystem::temp_directory_path() / ("herald-mig-" + t.name());
  std::filesystem::create_directories(dir);
  for (const auto& e : std::filesystem::directory_iterator(HERALD_SOURCE_DIR "/migrations"))
    if (e.path().filename().string() < first) std::filesystem::copy_file(e.path(), dir / e.path().filename());
  const int applied = herald::store::migrate(t.db(), dir.string());
  std::filesystem::remove_all(dir);
  return applied;
}

}  // namespace herald::test
