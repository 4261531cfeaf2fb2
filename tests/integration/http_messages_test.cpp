// Over real HTTP: the admin's message log (filters, keyset pages, masking, reveal audit),
// message detail, and the volume report as JSON and CSV.
#include "http_test_client.hpp"
#include "store_test_util.hpp"

namespace herald::test {
namespace {

class HttpMessages : public HttpServerFixture {
 protected:
  std::int64_t add(MessageRow m) { return insert_message(*db_, m); }
  std::int64_t add_at(std::string status, std::string created_at, std::string channel = "sms") {
    MessageRow m;
    m.status = std::move(status);
    m.created_at = std::move(created_at);
    m.channel = channel;
    if (channel == "email") m.address = "a@example.com";
    return add(m);
  }
};

TEST_F(HttpMessages, ListsNewestFirstWithMaskedAddresses) {
  auto older = add({});
  auto newer = add({});
  auto r = call("GET", "/v1/messages", admin_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto items = r.json()["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["id"], newer);
  EXPECT_EQ(items[1]["id"], older);
  EXPECT_NE(items[0]["address"], "+12175550101");
  EXPECT_TRUE(r.json()["next_cursor"].is_null());
}

TEST_F(HttpMessages, EveryFilterNarrowsTheList) {
  MessageRow base;
  MessageRow other = base;
  other.customer_id = "C-2";
  other.account_id = "A-2";
  other.channel = "email";
  other.address = "ada@example.com";
  other.type = "payment.received";
  other.topic = "other";
  other.status = "delivered";
  other.body = "Thanks for your payment";
  other.created_at = "2026-01-05T12:00:00Z";
  // The older message is written first, as the outbox would: ids follow created_at.
  auto b = add(other);
  auto a = add(base);

  auto ids = [&](const std::string& query) {
    auto r = call("GET", "/v1/messages?" + query, admin_key_);
    EXPECT_EQ(r.status, 200) << query << " " << r.body;
    std::vector<std::int64_t> out;
    const auto body = r.json();  // a named value: iterating a temporary's member dangles
    for (const auto& m : body["items"]) out.push_back(m["id"]);
    return out;
  };
  using V = std::vector<std::int64_t>;
  EXPECT_EQ(ids("customer_id=C-2"), V{b});
  EXPECT_EQ(ids("account_id=A-1"), V{a});
  EXPECT_EQ(ids("address=ADA%40example.com"), V{b});
  EXPECT_EQ(ids("address=%28217%29%20555-0101"), V{a});  // searched as stored, E.164
  EXPECT_EQ(ids("channel=email"), V{b});
  EXPECT_EQ(ids("type=bill.ready"), V{a});
  EXPECT_EQ(ids("topic=other"), V{b});
  EXPECT_EQ(ids("status=delivered"), V{b});
  EXPECT_EQ(ids("q=payment"), V{b});
  EXPECT_EQ(ids("from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z"), V{b});
  EXPECT_EQ(ids("channel=sms&status=delivered"), V{});
}

TEST_F(HttpMessages, CursorWalksEveryMessageOnceAcrossPages) {
  std::vector<std::int64_t> all;
  for (int i = 0; i < 7; ++i) all.push_back(add({}));
  std::vector<std::int64_t> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = call("GET", "/v1/messages?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor), admin_key_);
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = r.json();
    EXPECT_LE(body["items"].size(), 3u);
    for (const auto& m : body["items"]) seen.push_back(m["id"]);
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
    add({});  // inserts between pages do not disturb the walk
  }
  std::vector<std::int64_t> expected(all.rbegin(), all.rend());
  EXPECT_EQ(seen, expected);
}

TEST_F(HttpMessages, LimitOutsideOneToFiveHundredIsUnprocessable) {
  EXPECT_EQ(call("GET", "/v1/messages?limit=0", admin_key_).status, 422);
  EXPECT_EQ(call("GET", "/v1/messages?limit=501", admin_key_).status, 422);
  EXPECT_EQ(call("GET", "/v1/messages?limit=abc", admin_key_).status, 422);
  EXPECT_EQ(call("GET", "/v1/messages?limit=500", admin_key_).status, 200);
}

TEST_F(HttpMessages, BadFilterValuesAreClientErrors) {
  EXPECT_EQ(call("GET", "/v1/messages?channel=fax", admin_key_).status, 422);
  EXPECT_EQ(call("GET", "/v1/messages?from=yesterday", admin_key_).status, 422);
  EXPECT_EQ(call("GET", "/v1/messages?cursor=garbage!", admin_key_).status, 400);
}

// A reversed range is the client's mistake, named, on every list that takes one (not an empty page).
TEST_F(HttpMessages, ReversedRangeNamesFromOnEveryList) {
  for (const std::string path : {"/v1/messages", "/v1/inbound", "/v1/outages", "/v1/outage-reports"}) {
    auto r = call("GET", path + "?from=2026-03-03T00:00:00Z&to=2026-03-01T00:00:00Z", admin_key_);
    ASSERT_EQ(r.status, 422) << path << " " << r.body;
    EXPECT_EQ(r.json()["error"]["field"], "from") << path;
    EXPECT_EQ(r.json()["error"]["code"], "invalid_range") << path;
    EXPECT_EQ(call("GET", path + "?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z", admin_key_).status, 200) << path;
  }
}

// Percent-decoded query text that is not UTF-8 (or holds a NUL) names its field instead of
// failing in the database.
TEST_F(HttpMessages, TextFiltersThatAreNotUtf8AreUnprocessable) {
  for (const std::string name : {"q", "customer_id", "account_id", "address", "type"}) {
    for (const std::string value : {"%FF%FE", "bill%C0%AF", "ada%00"}) {
      auto r = call("GET", "/v1/messages?" + name + "=" + value, admin_key_);
      ASSERT_EQ(r.status, 422) << name << "=" << value << " " << r.body;
      EXPECT_EQ(r.json()["error"]["field"], name);
      EXPECT_EQ(r.json()["error"]["code"], "invalid_text");
    }
  }
  EXPECT_EQ(call("GET", "/v1/messages?q=caf%C3%A9", admin_key_).status, 200);
}

TEST_F(HttpMessages, RevealShowsAddressesAndIsAudited) {
  add({});
  auto r = call("GET", "/v1/messages?reveal=1", admin_key_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["items"][0]["address"], "+12175550101");
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.audit_log WHERE action = 'messages.reveal'"), "1");
  EXPECT_EQ(db_->query_value("SELECT actor FROM herald.audit_log ORDER BY id DESC LIMIT 1"), "key:admin");
}

TEST_F(HttpMessages, DetailHasDecisionAttemptsAndReceipts) {
  auto id = add({});
  auto r = call("GET", "/v1/messages/" + std::to_string(id), admin_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto m = r.json();
  EXPECT_EQ(m["id"], id);
  // The stored decision is completed from the message's columns.
  EXPECT_EQ(m["decision"]["event_type"], "bill.ready");
  EXPECT_EQ(m["decision"]["channel"], "sms");
  EXPECT_EQ(m["decision"]["decided_at"], m["created_at"]);
  EXPECT_TRUE(m["attempts"].is_array());
  EXPECT_TRUE(m["receipts"].is_array());
  EXPECT_EQ(call("GET", "/v1/messages/999999", admin_key_).status, 404);
  EXPECT_EQ(call("GET", "/v1/messages/abc", admin_key_).status, 404);
  EXPECT_EQ(call("GET", "/v1/messages/-1", admin_key_).status, 404);
}

TEST_F(HttpMessages, VolumeReportGroupsByRequestedColumns) {
  for (int i = 0; i < 3; ++i) add_at("delivered", "2026-03-02T10:00:00Z");
  add_at("sent", "2026-03-02T11:00:00Z", "email");
  auto r = call("GET",
                "/v1/reports/volume?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z&bucket=day&group_by=channel,status",
                admin_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto rows = r.json()["rows"];
  ASSERT_EQ(rows.size(), 2u);
  Json sms = rows[0]["channel"] == "sms" ? rows[0] : rows[1];
  EXPECT_EQ(sms["status"], "delivered");
  EXPECT_EQ(sms["count"], 3);
  EXPECT_EQ(sms["bucket"].get<std::string>().substr(0, 10), "2026-03-02");
}

TEST_F(HttpMessages, VolumeReportAsCsvHasAHeaderRow) {
  add_at("delivered", "2026-03-02T10:00:00Z");
  auto r = call("GET",
                "/v1/reports/volume?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z&bucket=day&group_by=channel&format=csv",
                admin_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type").rfind("text/csv", 0), 0u);
  EXPECT_EQ(r.body.substr(0, r.body.find("\r\n")), "bucket,channel,count");
  EXPECT_NE(r.body.find(",sms,1\r\n"), std::string::npos) << r.body;
}

TEST_F(HttpMessages, VolumeReportRejectsBadParameters) {
  EXPECT_EQ(call("GET", "/v1/reports/volume?bucket=year", admin_key_).status, 422);
  EXPECT_EQ(call("GET", "/v1/reports/volume?group_by=address", admin_key_).status, 422);
  EXPECT_EQ(call("GET", "/v1/reports/volume?from=nope", admin_key_).status, 422);
  EXPECT_EQ(call("GET", "/v1/reports/volume?from=2026-03-03T00:00:00Z&to=2026-03-01T00:00:00Z", admin_key_).status, 422);
  EXPECT_EQ(call("GET", "/v1/reports/volume", admin_key_).status, 200);  // defaults: last 7 days by day
}

}  // namespace
}  // namespace herald::test
