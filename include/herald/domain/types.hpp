// Value types shared by every module: customers, events, preferences, messages, decisions.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace herald {

using Json = nlohmann::json;
using TimePoint = std::chrono::sys_time<std::chrono::microseconds>;
using Seconds = std::chrono::seconds;

enum class Channel { sms, email, voice };
enum class Topic { billing, outage, other };

inline constexpr Channel kAllChannels[] = {Channel::sms, Channel::email, Channel::voice};
inline constexpr Topic kAllTopics[] = {Topic::billing, Topic::outage, Topic::other};

std::string_view to_string(Channel c);
std::string_view to_string(Topic t);
std::optional<Channel> parse_channel(std::string_view s);
std::optional<Topic> parse_topic(std::string_view s);

// Message lifecycle. A status never moves to a lower rank (see status_rank).
enum class MessageStatus { scheduled, queued, sending, sent, delivered, undelivered, failed, suppressed };
std::string_view to_string(MessageStatus s);
std::optional<MessageStatus> parse_message_status(std::string_view s);
int status_rank(MessageStatus s);

enum class ConsentState { opted_in, opted_out };
std::string_view to_string(ConsentState s);
std::optional<ConsentState> parse_consent_state(std::string_view s);

// Minutes after local midnight, 0..1439.
struct LocalTime {
  int minutes = 0;
  friend bool operator==(const LocalTime&, const LocalTime&) = default;
};
std::optional<LocalTime> parse_local_time(std::string_view hh_mm);  // "21:00"
std::string format_local_time(LocalTime t);

struct QuietHours {
  bool enabled = true;
  LocalTime start{21 * 60};
  LocalTime end{8 * 60};
  friend bool operator==(const QuietHours&, const QuietHours&) = default;
};

struct Preferences {
  std::map<Topic, std::set<Channel>> topics;  // channels chosen per topic
  QuietHours quiet_hours;
  std::string language = "en";
  bool wants(Topic t, Channel c) const {
    auto it = topics.find(t);
    return it != topics.end() && it->second.count(c) > 0;
  }
  friend bool operator==(const Preferences&, const Preferences&) = default;
};

struct ServiceAddress {
  std::string line1, line2, city, state, zip;
};

struct Account {
  std::string account_id;
  std::string premise_id;
  ServiceAddress service_address;
  std::string timezone;  // IANA name, validated on input
  std::string feeder;
  std::vector<std::string> segments;
  std::string language;  // empty: the customer's
};

struct Contact {
  std::int64_t id = 0;  // 0 until stored
  Channel channel = Channel::sms;
  std::string address;  // E.164 for sms/voice, lower-cased email
  bool verified = false;
  bool active = true;
  ConsentState consent = ConsentState::opted_in;
  std::string source = "cis";
};

struct Customer {
  std::string customer_id;
  std::string name;
  std::string language = "en";
  std::vector<Account> accounts;
  std::vector<Contact> contacts;
};

enum class EventStatus { accepted, processed, rejected };
std::string_view to_string(EventStatus s);
std::optional<EventStatus> parse_event_status(std::string_view s);

struct Event {
  std::int64_t seq = 0;  // database sequence, 0 until stored
  std::string event_id;
  std::string type;
  std::string account_id;
  TimePoint occurred_at{};
  Json data = Json::object();
};

// What the rules engine needs about one event's recipient.
struct RecipientContext {
  Customer customer;
  Account account;  // the event's account
  Preferences preferences;
  bool preferences_stored = true;  // false: no row yet, the configured defaults apply
  std::vector<Contact> contacts;  // active contacts with current consent
};

// The rules engine's verdict for one channel of one event.
struct Decision {
  Channel channel = Channel::sms;
  std::optional<Contact> contact;
  MessageStatus status = MessageStatus::queued;  // queued, scheduled or suppressed
  std::string suppression_reason;                // set when suppressed
  TimePoint not_before{};
  std::optional<TimePoint> expires_at;
  bool urgent = false;
  int priority = 0;
  std::string language;
  std::string subject;  // email
  std::string body;     // sms / voice text, email plain-text part
  std::string html;     // email HTML part
  int segments = 0;     // sms
  std::string encoding;  // sms: "GSM-7" or "UCS-2"
  std::string unsubscribe_url;  // email: the one-click link also put in the footer
  Json explanation = Json::object();  // why: rules that fired, local time, window
};

struct Message {
  std::int64_t id = 0;
  std::int64_t event_seq = 0;
  std::string event_id;
  std::string customer_id, account_id;
  std::int64_t contact_id = 0;
  Channel channel = Channel::sms;
  std::string address;
  std::string type;
  Topic topic = Topic::other;
  std::string language;
  MessageStatus status = MessageStatus::queued;
  std::string suppression_reason;
  std::string subject, body, html;
  int segments = 0;
  std::string encoding;
  int attempts = 0;
  int priority = 0;
  bool urgent = false;
  std::string gateway;
  std::string provider_id;
  std::optional<TimePoint> not_before, expires_at;
  TimePoint created_at{};
  std::string unsubscribe_url;  // email: one-click List-Unsubscribe target
  Json decision = Json::object();  // why the rules made it so: rules that fired, local time, window
};

// One field an event type's `data` may carry: templates may use only declared fields, and
// intake accepts an event only when each declared field holds a value of its kind.
enum class DataKind { text, money, number, integer, date, datetime, url, choice };
struct DataField {
  DataKind kind = DataKind::text;
  bool required = false;
  bool negative = false;           // money, number, integer: below zero allowed (a credit)
  bool multiline = false;          // text: may hold line breaks and tabs
  std::size_t max_length = 512;    // text, url, choice: bytes
  double max = 1e9;                // money, number, integer: the largest magnitude accepted
  std::vector<std::string> choices;  // choice: the values accepted
};

// Per event type: which topic it belongs to and how it is treated.
struct EventTypeRule {
  std::string type;
  Topic topic = Topic::other;
  bool urgent = false;            // may override quiet hours and the 08:00-21:00 window
  bool regulatory = false;        // cannot be switched off by preferences
  Seconds ttl{Seconds(72 * 3600)};  // expires this long after the event occurred
  std::string expires_at_field;   // data field (a date) after which the message is stale
  int priority = 0;
  std::map<std::string, DataField> data;  // declared data fields by name
};

std::string format_time(TimePoint t);  // RFC 3339, UTC, "Z"
std::optional<TimePoint> parse_time(std::string_view rfc3339);

// Unix seconds <-> TimePoint (token "exp" claims, database epochs).
inline std::int64_t to_unix_seconds(TimePoint t) {
  return std::chrono::floor<Seconds>(t).time_since_epoch().count();
}
inline TimePoint from_unix_seconds(std::int64_t s) { return TimePoint(Seconds(s)); }

}  // namespace herald
