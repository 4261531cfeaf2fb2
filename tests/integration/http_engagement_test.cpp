// GET /v1/reports/engagement over a real server and Postgres, on seeded rows whose expected
// numbers the test computes from the seed itself.
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "http_test_client.hpp"

namespace herald::test {
namespace {

const TimePoint kFrom = *parse_time("2026-11-02T00:00:00Z");
const TimePoint kTo = *parse_time("2026-11-03T00:00:00Z");

std::string at(std::chrono::minutes after_from) { return "'" + format_time(kFrom + after_from) + "'"; }
std::string q(const std::string& s) { return "'" + s + "'"; }

struct SentSms {
  std::string address, type, status;
  std::chrono::minutes sent;  // after kFrom; negative: before the range
};
struct Inbound {
  std::string address, body, matched, keyword, action;
  std::chrono::minutes received;
  bool recorded_opt_out = false;       // its STOP recorded the opt-out (a repeated STOP does not)
  std::optional<int> conversation;     // index into the conversations seeded
};
struct Conversation {
  std::string address;
  bool opened_by_message;
  std::string expected;  // jsonb
  std::chrono::minutes opened;
  std::string cis_status;  // of its payment.authorize; "" when none
};

Inbound in(std::string address, std::string body, std::string matched, std::string keyword, std::string action,
           std::chrono::minutes received, bool recorded_opt_out = false, std::optional<int> conversation = {}) {
  return Inbound{std::move(address), std::move(body),   std::move(matched), std::move(keyword),
                 std::move(action),  received,          recorded_opt_out,   conversation};
}

class EngagementReport : public HttpServerFixture {
 protected:
  std::int64_t insert_message(const SentSms& m) {
    return std::stoll(db_->query_value(
        "INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, status,"
        " created_at, sent_at) VALUES ('ev', 'C-1', 'A-1', 'sms', " + q(m.address) + ", " + q(m.type) +
        ", 'billing', " + q(m.status) + ", " + at(m.sent) + ", " + at(m.sent) + ") RETURNING id"));
  }
};

TEST_F(EngagementReport, CountsWhatWasSeeded) {
  using std::chrono::minutes;
  const std::vector<SentSms> sent = {
      {"+12175550001", "bill.ready", "delivered", minutes(60)},
      {"+12175550002", "account.past_due", "delivered", minutes(60)},
      {"+12175550002", "bill.ready", "sent", minutes(300)},  // after its STOP: not what preceded it
      {"+12175550004", "bill.due_soon", "undelivered", minutes(30)},
      {"+12175550005", "payment.received", "suppressed", minutes(30)},  // never sent
      {"+12175550006", "bill.ready", "delivered", minutes(-120)},       // before the range
  };
  const std::vector<Conversation> conversations = {
      {"+12175550010", true, R"({"Y": "payment.authorize", "N": "close"})", minutes(10), "ok"},
      {"+12175550011", true, R"({"Y": "payment.authorize", "N": "close"})", minutes(20), "declined"},
      {"+12175550012", true, R"({"Y": "payment.authorize", "N": "close"})", minutes(30), ""},
      {"+12175550013", true, R"({"1": "choose", "2": "choose"})", minutes(40), ""},
      {"+12175550014", false, R"({"Y": "payment.authorize", "N": "close"})", minutes(50), "ok"},
      {"+12175550015", true, R"({"Y": "payment.authorize"})", minutes(-30), "ok"},  // before the range
  };
  const std::vector<Inbound> inbound = {
      in("+12175550001", "STOP", "opt_out", "STOP", "", minutes(120), true),
      in("+12175550002", "stop", "opt_out", "STOP", "", minutes(180), true),
      in("+12175550003", "Stop.", "opt_out", "STOP", "", minutes(200), true),  // nothing was sent to it
      in("+12175550003", "STOP", "opt_out", "STOP", "", minutes(210), false),  // repeated
      in("+12175550004", "QUIT", "opt_out", "STOP", "", minutes(220), true),
      in("+12175550006", "STOP", "opt_out", "STOP", "", minutes(-60), true),   // before the range
      in("+12175550010", "y", "conversation", "Y", "payment.authorize", minutes(70), false, 0),
      in("+12175550011", "Y", "conversation", "Y", "payment.authorize", minutes(80), false, 1),
      in("+12175550013", "2", "conversation", "2", "choose", minutes(90), false, 3),
      in("+12175550014", "Y", "conversation", "Y", "payment.authorize", minutes(95), false, 4),
      in("+12175550020", "BAL", "service", "BAL", "balance", minutes(100)),
      in("+12175550021", "BAL", "service", "BAL", "balance", minutes(110)),
      in("+12175550022", "OUT", "service", "OUT", "outage.report", minutes(115)),
      in("+12175550023", "HELP", "help", "HELP", "", minutes(120)),
      in("+12175550024", "hello", "menu", "", "", minutes(130)),
      in("+12175550025", "BAL", "service", "BAL", "balance", minutes(24 * 60 + 1)),  // after the range
  };
  const std::vector<std::pair<std::string, std::chrono::minutes>> reports = {
      {"sms", minutes(5)}, {"sms", minutes(500)}, {"api", minutes(600)}, {"voice", minutes(700)}, {"sms", minutes(-5)}};

  std::vector<std::int64_t> conversation_ids;
  for (const auto& m : sent) insert_message(m);
  for (const auto& c : conversations) {
    const auto message_id = c.opened_by_message ? std::to_string(insert_message({c.address, "account.past_due", "sent", c.opened - minutes(1)})) : "NULL";
    conversation_ids.push_back(std::stoll(db_->query_value(
        "INSERT INTO herald.conversations (message_id, channel, address, expected, opened_at, expires_at)"
        " VALUES (" + message_id + ", 'sms', " + q(c.address) + ", " + q(c.expected) + "::jsonb, " + at(c.opened) +
        ", " + at(c.opened + minutes(24 * 60)) + ") RETURNING id")));
  }
  int sid = 0;
  for (const auto& i : inbound) {
    const auto conversation = i.conversation ? std::to_string(conversation_ids[*i.conversation]) : "NULL";
    const auto id = db_->query_value(
        "INSERT INTO herald.inbound_messages (provider, provider_message_id, from_address, body, received_at,"
        " conversation_id, matched, keyword, action, claimed_at, handled_at) VALUES ('twilio', 'SM" +
        std::to_string(++sid) + "', " + q(i.address) + ", " + q(i.body) + ", " + at(i.received) + ", " + conversation +
        ", " + q(i.matched) + ", " + q(i.keyword) + ", " + q(i.action) + ", " + at(i.received) + ", " +
        at(i.received) + ") RETURNING id");
    if (i.recorded_opt_out)
      db_->exec("INSERT INTO herald.consent_events (channel, address, state, source, evidence, recorded_at)"
                " VALUES ('sms', " + q(i.address) + ", 'opted_out', 'sms', 'inbound:" + id + "', " + at(i.received) + ")");
  }
  for (std::size_t k = 0; k < conversations.size(); ++k) {
    if (conversations[k].cis_status.empty()) continue;
    db_->exec("INSERT INTO herald.cis_actions (idempotency_key, action, request, status, conversation_id, created_at,"
              " updated_at) VALUES ('conversation-" + std::to_string(conversation_ids[k]) +
              "-payment.authorize', 'payment.authorize', '{}', " + q(conversations[k].cis_status) + ", " +
              std::to_string(conversation_ids[k]) + ", " + at(conversations[k].opened) + ", " +
              at(conversations[k].opened) + ")");
  }
  for (const auto& [source, when] : reports)
    db_->exec("INSERT INTO herald.outage_reports (account_id, source, created_at) VALUES ('A-1', " + q(source) + ", " +
              at(when) + ")");

  // What the report should say, from the seed.
  auto in_range = [](std::chrono::minutes m) { return m >= std::chrono::minutes(0) && m < std::chrono::minutes(24 * 60); };
  std::map<std::pair<std::string, std::string>, std::int64_t> by_intent;
  std::map<std::string, std::int64_t> opt_outs_by_type;  // "" for none
  for (const auto& i : inbound) {
    if (!in_range(i.received)) continue;
    ++by_intent[{i.matched, i.keyword}];
    if (!i.recorded_opt_out) continue;
    std::string preceding;
    std::chrono::minutes newest(-100000);
    for (const auto& m : sent)
      if (m.address == i.address && m.status != "suppressed" && m.sent <= i.received && m.sent > newest)
        preceding = m.type, newest = m.sent;
    ++opt_outs_by_type[preceding];
  }
  std::int64_t asked = 0, answered = 0, rtp_asked = 0, rtp_yes = 0, rtp_paid = 0, kw_asked = 0, kw_yes = 0, kw_paid = 0;
  for (std::size_t k = 0; k < conversations.size(); ++k) {
    const auto& c = conversations[k];
    if (!in_range(c.opened)) continue;
    bool replied = false, replied_yes = false;
    for (const auto& i : inbound)
      if (i.conversation == static_cast<int>(k)) replied = true, replied_yes = replied_yes || i.action == "payment.authorize";
    if (c.opened_by_message) asked += 1, answered += replied ? 1 : 0;
    if (c.expected.find("payment.authorize") == std::string::npos) continue;
    auto [a, y, p] = c.opened_by_message ? std::tie(rtp_asked, rtp_yes, rtp_paid) : std::tie(kw_asked, kw_yes, kw_paid);
    a += 1;
    y += replied_yes ? 1 : 0;
    p += c.cis_status == "ok" ? 1 : 0;
  }
  std::map<std::string, std::int64_t> reports_by_source;
  for (const auto& [source, when] : reports)
    if (in_range(when)) ++reports_by_source[source];

  auto r = call("GET", "/v1/reports/engagement?from=" + format_time(kFrom) + "&to=" + format_time(kTo), admin_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = r.json();

  std::map<std::pair<std::string, std::string>, std::int64_t> got_intent;
  for (const auto& row : j["inbound"]["by_intent"]) got_intent[{row["intent"], row["keyword"]}] = row["count"];
  EXPECT_EQ(got_intent, by_intent);
  std::map<std::string, std::int64_t> got_opt_outs;
  for (const auto& row : j["opt_outs"]["by_preceding_type"])
    got_opt_outs[row["type"].is_null() ? "" : row["type"].get<std::string>()] = row["count"];
  EXPECT_EQ(got_opt_outs, opt_outs_by_type);
  EXPECT_EQ(j["reply_rate"]["questions_sent"], asked);
  EXPECT_EQ(j["reply_rate"]["answered"], answered);
  EXPECT_DOUBLE_EQ(j["reply_rate"]["rate"].get<double>(), static_cast<double>(answered) / asked);
  EXPECT_EQ(j["reply_to_pay"]["asked"], rtp_asked);
  EXPECT_EQ(j["reply_to_pay"]["replied_yes"], rtp_yes);
  EXPECT_EQ(j["reply_to_pay"]["paid"], rtp_paid);
  EXPECT_EQ(j["pay_keyword"]["asked"], kw_asked);
  EXPECT_EQ(j["pay_keyword"]["replied_yes"], kw_yes);
  EXPECT_EQ(j["pay_keyword"]["paid"], kw_paid);
  EXPECT_EQ(j["outages_reported"]["sms"], reports_by_source["sms"]);
  std::map<std::string, std::int64_t> got_sources = j["outages_reported"]["by_source"];
  EXPECT_EQ(got_sources, reports_by_source);

  // The seed is not trivial: each number above is something the report had to get right.
  EXPECT_EQ(opt_outs_by_type.size(), 4u);
  EXPECT_EQ(opt_outs_by_type["account.past_due"], 1);
  EXPECT_EQ(rtp_asked, 3);
  EXPECT_EQ(rtp_paid, 1);
}

TEST_F(EngagementReport, BadRangeNamesTheField) {
  auto r = call("GET", "/v1/reports/engagement?from=yesterday", admin_key_);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["error"]["field"], "from");
  r = call("GET", "/v1/reports/engagement?from=" + format_time(kTo) + "&to=" + format_time(kFrom), admin_key_);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(call("GET", "/v1/reports/engagement", cis_key_).status, 403);
  const auto empty = call("GET", "/v1/reports/engagement", admin_key_);
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_TRUE(empty.json()["reply_rate"]["rate"].is_null());
}

}  // namespace
}  // namespace herald::test
