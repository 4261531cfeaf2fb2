// Over real HTTP: event intake, idempotency on event_id, validation and batches.
#include "http_test_client.hpp"

namespace herald::test {
namespace {

class HttpEvents : public HttpServerFixture {
 protected:
  void SetUp() override {
    HttpServerFixture::SetUp();
    put_customer("c1");
  }
  static Json event(const std::string& id, const std::string& amount = "82.17",
                    const std::string& type = "bill.ready", const std::string& account = "A-c1") {
    return Json{{"event_id", id},
                {"type", type},
                {"account_id", account},
                {"occurred_at", "2026-11-20T10:00:00Z"},
                {"data", {{"amount_due", amount}, {"due_date", "2026-12-10"}}}};
  }
};

TEST_F(HttpEvents, NewEventIsAcceptedThenSameBodyIsDuplicateThenOtherBodyConflicts) {
  auto first = call("POST", "/v1/events", cis_key_, event("e-1"));
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(first.json(), (Json{{"event_id", "e-1"}, {"status", "accepted"}}));

  auto again = call("POST", "/v1/events", cis_key_, event("e-1"));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["event_id"], "e-1");
  EXPECT_TRUE(again.json().contains("status"));
  EXPECT_TRUE(again.json()["message_ids"].is_array());

  auto other = call("POST", "/v1/events", cis_key_, event("e-1", "1.00"));
  ASSERT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(other.json()["error"]["code"], "idempotency_conflict");
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.events WHERE event_id = 'e-1'"), "1");
  EXPECT_EQ(db_->query_value("SELECT data->>'amount_due' FROM herald.events WHERE event_id = 'e-1'"), "82.17");
}

TEST_F(HttpEvents, ReusedEventIdWithABodyInvalidForItsTypeConflictsBeforeTheDataIsJudged) {
  ASSERT_EQ(call("POST", "/v1/events", cis_key_, event("e-reused")).status, 202);
  Json missing_due_date = event("e-reused");
  missing_due_date["data"].erase("due_date");
  auto other = call("POST", "/v1/events", cis_key_, missing_due_date);
  ASSERT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(other.json()["error"]["code"], "idempotency_conflict");
  auto elsewhere = call("POST", "/v1/events", cis_key_, event("e-reused", "82.17", "bill.ready", "A-missing"));
  ASSERT_EQ(elsewhere.status, 409) << elsewhere.body;

  // A fresh id with the same bad body is judged on its data.
  missing_due_date["event_id"] = "e-fresh";
  auto fresh = call("POST", "/v1/events", cis_key_, missing_due_date);
  ASSERT_EQ(fresh.status, 422) << fresh.body;
  EXPECT_EQ(fresh.json()["error"]["field"], "data.due_date");
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.events"), "1");
}

TEST_F(HttpEvents, BatchItemReusingAnEventIdWithAnInvalidBodyIsAConflict) {
  ASSERT_EQ(call("POST", "/v1/events", cis_key_, event("b-taken")).status, 202);
  Json bad = event("b-taken");
  bad["data"]["amount_due"] = "abc";
  Json bad_fresh = bad;
  bad_fresh["event_id"] = "b-free";
  auto r = call("POST", "/v1/events/batch", cis_key_, Json{{"events", {bad, bad_fresh}}});
  ASSERT_EQ(r.status, 207) << r.body;
  auto results = r.json()["results"];
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["status"], "rejected");
  EXPECT_EQ(results[0]["error"]["code"], "idempotency_conflict");
  EXPECT_EQ(results[1]["status"], "rejected");
  EXPECT_EQ(results[1]["error"]["field"], "data.amount_due");
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.events"), "1");
}

TEST_F(HttpEvents, UnknownTypeIsUnprocessableNamingTheField) {
  auto r = call("POST", "/v1/events", cis_key_, event("e-2", "1", "bill.unheard_of"));
  ASSERT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["error"]["code"], "unknown_event_type");
  EXPECT_EQ(r.json()["error"]["field"], "type");
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.events"), "0");
}

TEST_F(HttpEvents, UnknownAccountIsUnprocessableAndNothingStored) {
  auto r = call("POST", "/v1/events", cis_key_, event("e-3", "1", "bill.ready", "A-nobody"));
  ASSERT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["error"]["code"], "unknown_account");
  EXPECT_EQ(r.json()["error"]["field"], "account_id");
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.events"), "0");
}

TEST_F(HttpEvents, DataACustomerCouldNotReadIsUnprocessableNamingTheFieldAndNothingStored) {
  int n = 0;
  for (const Json& bad : {Json("abc"), Json("NaN"), Json(nullptr), Json("1e308"), Json("-5.00")}) {
    Json e = event("bad-" + std::to_string(n++));
    e["data"]["amount_due"] = bad;
    auto r = call("POST", "/v1/events", cis_key_, e);
    ASSERT_EQ(r.status, 422) << bad.dump() << " " << r.body;
    EXPECT_EQ(r.json()["error"]["field"], "data.amount_due") << bad.dump();
  }
  Json no_date = event("bad-date");
  no_date["data"]["due_date"] = "12/10/2026";
  auto r = call("POST", "/v1/events", cis_key_, no_date);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.json()["error"]["field"], "data.due_date");
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.events"), "0");

  // In a batch each bad event is rejected alone, with the same error.
  Json bad = event("batch-bad");
  bad["data"].erase("amount_due");
  auto batch = call("POST", "/v1/events/batch", cis_key_, Json{{"events", {event("batch-good"), bad}}});
  ASSERT_EQ(batch.status, 207) << batch.body;
  auto results = batch.json()["results"];
  EXPECT_EQ(results[0]["status"], "accepted");
  EXPECT_EQ(results[1]["status"], "rejected");
  EXPECT_EQ(results[1]["error"]["field"], "data.amount_due");
  EXPECT_EQ(results[1]["error"]["code"], "required");
  EXPECT_EQ(db_->query_value("SELECT string_agg(event_id, ',') FROM herald.events"), "batch-good");
}

TEST_F(HttpEvents, MissingFieldsAreUnprocessable) {
  auto r = call("POST", "/v1/events", cis_key_, Json{{"type", "bill.ready"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_TRUE(r.json()["error"].contains("field"));
}

TEST_F(HttpEvents, GetEventShowsStatusAndMessageIds) {
  ASSERT_EQ(call("POST", "/v1/events", cis_key_, event("e-4")).status, 202);
  auto r = call("GET", "/v1/events/e-4", cis_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = r.json();
  EXPECT_EQ(body["event_id"], "e-4");
  EXPECT_EQ(body["type"], "bill.ready");
  EXPECT_EQ(body["status"], "accepted");
  EXPECT_EQ(body["message_ids"], Json::array());
  EXPECT_EQ(call("GET", "/v1/events/nope", cis_key_).status, 404);
  EXPECT_EQ(call("GET", "/v1/events/e-4", admin_key_).status, 200);
}

TEST_F(HttpEvents, BatchReportsEachEventInOrder) {
  ASSERT_EQ(call("POST", "/v1/events", cis_key_, event("b-dup")).status, 202);
  ASSERT_EQ(call("POST", "/v1/events", cis_key_, event("b-conflict")).status, 202);
  Json batch = {{"events",
                 {event("b-new"), event("b-dup"), event("b-conflict", "9.99"), event("b-type", "1", "nope.nope"),
                  event("b-account", "1", "bill.ready", "A-missing"), Json{{"type", "bill.ready"}}, event("b-new")}}};
  auto r = call("POST", "/v1/events/batch", cis_key_, batch);
  ASSERT_EQ(r.status, 207) << r.body;
  auto results = r.json()["results"];
  ASSERT_EQ(results.size(), 7u);
  EXPECT_EQ(results[0], (Json{{"event_id", "b-new"}, {"status", "accepted"}}));
  EXPECT_EQ(results[1]["status"], "duplicate");
  EXPECT_EQ(results[2]["status"], "rejected");
  EXPECT_EQ(results[2]["error"]["code"], "idempotency_conflict");
  EXPECT_EQ(results[3]["error"]["code"], "unknown_event_type");
  EXPECT_EQ(results[4]["error"]["code"], "unknown_account");
  EXPECT_EQ(results[5]["status"], "rejected");
  EXPECT_TRUE(results[5]["event_id"].is_null());
  EXPECT_EQ(results[6]["status"], "duplicate");  // repeated within the batch
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.events"), "3");
}

TEST_F(HttpEvents, BatchOverOneThousandIsUnprocessable) {
  Json events = Json::array();
  for (int i = 0; i < 1001; ++i) events.push_back(event("big-" + std::to_string(i)));
  auto r = call("POST", "/v1/events/batch", cis_key_, Json{{"events", events}});
  ASSERT_EQ(r.status, 422);
  EXPECT_EQ(r.json()["error"]["code"], "too_many_events");
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.events"), "0");
}

TEST_F(HttpEvents, BatchOfOneThousandIsStoredInOneCall) {
  Json events = Json::array();
  for (int i = 0; i < 1000; ++i) events.push_back(event("k-" + std::to_string(i)));
  auto r = call("POST", "/v1/events/batch", cis_key_, Json{{"events", events}});
  ASSERT_EQ(r.status, 207);
  EXPECT_EQ(r.json()["results"].size(), 1000u);
  EXPECT_EQ(db_->query_value("SELECT count(*) FROM herald.events WHERE source = 'api'"), "1000");
}

TEST_F(HttpEvents, BatchWithoutEventsArrayIsUnprocessable) {
  EXPECT_EQ(call("POST", "/v1/events/batch", cis_key_, Json{{"events", "no"}}).status, 422);
  EXPECT_EQ(call("POST", "/v1/events/batch", cis_key_, Json::array()).status, 422);
}

}  // namespace
}  // namespace herald::test
