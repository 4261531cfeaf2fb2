// The set-based fan-out shared by outage notices and area notices: what the engine renders for
// an affected set of accounts (texts per language, time zone and channel, a timing per time zone
// and quiet hours) and the recipients' own fields it leaves for the database to fill in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/lane.hpp"
#include "herald/domain/types.hpp"

namespace herald::store {

// Who of an affected account is asked, and the settings of customers without a preferences row.
struct FanoutAudience {
  Topic topic = Topic::outage;
  Preferences defaults;
  std::string default_language = "en";  // when neither preferences, account nor customer name one
};

// Recipients that read the same text at the same time: one language and time zone, one set of
// quiet hours. Each group is rendered and timed once per notice, never per recipient.
struct FanoutGroup {
  std::string language, timezone;
  QuietHours quiet_hours;
};

// Sentinels a text may hold where a recipient's own value goes; the fan-out replaces them in
// SQL (HTML-escaped in the HTML part).
namespace fanout_field {
inline constexpr const char* kCustomerId = "@@herald:customer.id@@";
inline constexpr const char* kFirstName = "@@herald:customer.first_name@@";
inline constexpr const char* kName = "@@herald:customer.name@@";
inline constexpr const char* kAccountId = "@@herald:account.id@@";
inline constexpr const char* kAccountMasked = "@@herald:account.id_masked@@";
inline constexpr const char* kAccountLast4 = "@@herald:account.last4@@";
inline constexpr const char* kLine1 = "@@herald:account.line1@@";  // 'your service address' when empty
inline constexpr const char* kLine2 = "@@herald:account.line2@@";
inline constexpr const char* kCity = "@@herald:account.city@@";
inline constexpr const char* kState = "@@herald:account.state@@";
inline constexpr const char* kZip = "@@herald:account.zip@@";
inline constexpr const char* kOneLine = "@@herald:account.one_line@@";
inline constexpr const char* kUnsubscribeUrl = "@@herald:unsubscribe_url@@";
}  // namespace fanout_field

// One text of a group on one channel. `reason` non-empty: the group's recipients on this
// channel get a suppressed row (no_template).
struct FanoutText {
  std::string language, timezone;  // the recipients'
  Channel channel = Channel::sms;
  std::string rendered_language;  // the template's (a fallback to the default language)
  std::string subject, body, html;
  bool ucs2 = false;  // the text without its sentinels needs UCS-2, whatever is put in
  std::string reason;
};

// When a group's recipients are sent to: queued, scheduled (not_before) or suppressed
// (`reason`: invalid_timezone, expired), and the timing part of each message's explanation.
struct FanoutTiming {
  std::string timezone;
  QuietHours quiet_hours;
  std::string status;  // queued, scheduled, suppressed
  TimePoint not_before{};
  std::string reason;  // send_now, held_until_allowed_time, invalid_timezone, expired
  Json explanation = Json::object();
};

// What a notice tells its recipients: one text per group and channel, one timing per group.
struct FanoutPlan {
  std::string type;
  int priority = 0;
  bool urgent = false;
  Lane lane = Lane::outage;
  std::optional<TimePoint> expires_at;
  Json decision = Json::object();  // the rule's part of each message's explanation
  std::vector<FanoutText> texts;
  std::vector<FanoutTiming> timings;
};
Json to_json(const FanoutPlan& plan);
// The plan as to_json wrote it; nullopt when the JSON is not one.
std::optional<FanoutPlan> fanout_plan_of(const Json& json);

// Signs unsubscribe links in SQL: HMAC-SHA256 as sha256(outer || sha256(inner || payload))
// with the secret's padded key XORed with 0x5c and 0x36 (RFC 2104); with the prefix of the
// link (PublicUrls::unsubscribe("")) and the token's lifetime. No prefix: no link. Never stored.
struct FanoutSigning {
  std::string prefix;
  std::string inner_key = std::string(64, '\0'), outer_key = std::string(64, '\0');
  std::int64_t expires_unix = 0;
};

}  // namespace herald::store
