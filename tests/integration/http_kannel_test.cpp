// Over real HTTP and Postgres: Kannel's delivery reports (GET /v1/webhooks/kannel/dlr), token
// checked, statuses never moved backwards, a report that overtakes its send asked again.
#include "http_test_client.hpp"
#include "store_test_util.hpp"

namespace herald::test {
namespace {

class HttpKannel : public HttpServerFixture {
 protected:
  // A message the kannel gateway sent: its accepted attempt carries the provider id the DLR url names.
  std::int64_t sent_message(const std::string& status = "sent") {
    MessageRow m;
    m.status = status;
    m.gateway = "kannel";
    const auto id = insert_message(*db_, m);
    db_->exec("UPDATE herald.messages SET provider_id = 'kannel-" + std::to_string(id) + "' WHERE id = " +
              std::to_string(id));
    db_->exec("INSERT INTO herald.message_attempts (message_id, attempt, gateway, started_at, outcome, provider_id)"
              " VALUES (" + std::to_string(id) + ", 1, 'kannel', now(), 'sent', 'kannel-" + std::to_string(id) + "')");
    return id;
  }
  HttpResponse dlr(std::int64_t id, const std::string& status, const std::string& token = kKannelToken,
                   const std::string& reply = "") {
    return call("GET", "/v1/webhooks/kannel/dlr?token=" + token + "&id=" + std::to_string(id) + "&status=" + status +
                           (reply.empty() ? "" : "&reply=" + reply));
  }
  std::string status_of(std::int64_t id) {
    return db_->query_value("SELECT status FROM herald.messages WHERE id = " + std::to_string(id));
  }
  std::string receipts() { return db_->query_value("SELECT count(*) FROM herald.delivery_receipts"); }
};

TEST_F(HttpKannel, SmscAckThenDeliveredMovesTheMessageToDeliveredKeepingBothReceipts) {
  const auto id = sent_message();
  auto r = dlr(id, "8", kKannelToken, "ACK%2F");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(status_of(id), "sent");
  r = dlr(id, "1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(status_of(id), "delivered");
  EXPECT_FALSE(db_->query_value("SELECT delivered_at FROM herald.messages WHERE id = " + std::to_string(id)).empty());
  EXPECT_EQ(db_->query_value("SELECT string_agg(status || ':' || gateway || ':' || provider_id || ':' ||"
                             " (raw->>'status'), ',' ORDER BY id) FROM herald.delivery_receipts"),
            "sent:kannel:kannel-" + std::to_string(id) + ":8,delivered:kannel:kannel-" + std::to_string(id) + ":1");
  EXPECT_EQ(db_->query_value("SELECT raw->>'reply' FROM herald.delivery_receipts ORDER BY id LIMIT 1"), "ACK/");
}

TEST_F(HttpKannel, LateQueuedAndAckReportsNeverMoveDeliveredBackwards) {
  const auto id = sent_message("delivered");
  ASSERT_EQ(dlr(id, "4").status, 200);
  ASSERT_EQ(dlr(id, "8").status, 200);
  EXPECT_EQ(status_of(id), "delivered");
  EXPECT_EQ(receipts(), "2");
  EXPECT_EQ(db_->query_value("SELECT string_agg(status, ',' ORDER BY id) FROM herald.delivery_receipts"), "queued,sent");
}

TEST_F(HttpKannel, UndeliveredAndSmscRejectEndTheMessageWithTheSmscErrorCode) {
  const auto undelivered = sent_message();
  ASSERT_EQ(dlr(undelivered, "2", kKannelToken, "id%3A7%20sub%3A001%20dlvrd%3A000%20stat%3AUNDELIV%20err%3A034").status,
            200);
  EXPECT_EQ(status_of(undelivered), "undelivered");
  EXPECT_EQ(db_->query_value("SELECT error_code FROM herald.delivery_receipts"), "034");
  const auto rejected = sent_message();
  ASSERT_EQ(dlr(rejected, "16").status, 200);
  EXPECT_EQ(status_of(rejected), "failed");
}

TEST_F(HttpKannel, BadOrMissingTokenIsForbiddenAndStoresNothing) {
  const auto id = sent_message();
  EXPECT_EQ(dlr(id, "1", "kannel-token-0123456780").status, 403);
  EXPECT_EQ(dlr(id, "1", "").status, 403);
  auto r = call("GET", "/v1/webhooks/kannel/dlr?id=" + std::to_string(id) + "&status=1");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("\"field\":\"token\""), std::string::npos) << r.body;
  EXPECT_EQ(status_of(id), "sent");
  EXPECT_EQ(receipts(), "0");
}

TEST_F(HttpKannel, UnknownDlrTypeOrIdIsRejectedNamingTheField) {
  const auto id = sent_message();
  auto r = dlr(id, "3");
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("\"field\":\"status\""), std::string::npos) << r.body;
  EXPECT_EQ(dlr(id, "31").status, 422);  // a mask, not one report
  EXPECT_EQ(dlr(id, "").status, 422);
  r = call("GET", std::string("/v1/webhooks/kannel/dlr?token=") + kKannelToken + "&id=abc&status=1");
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("\"field\":\"id\""), std::string::npos) << r.body;
  EXPECT_EQ(receipts(), "0");
}

TEST_F(HttpKannel, ReportOvertakingItsSendIsAskedAgainAndCountsOnceTheSendIsRecorded) {
  // Leased, sent by Kannel, not yet recorded by the dispatcher: no attempt carries the id yet.
  MessageRow m;
  m.status = "queued";
  const auto id = insert_message(*db_, m);
  auto r = dlr(id, "1");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(receipts(), "0");
  EXPECT_EQ(status_of(id), "queued");

  // The dispatcher records the send; smsbox's next try finds it.
  db_->exec("DELETE FROM herald.message_queue WHERE message_id = " + std::to_string(id));
  db_->exec("UPDATE herald.messages SET status = 'sent' WHERE id = " + std::to_string(id));
  db_->exec("INSERT INTO herald.message_attempts (message_id, attempt, gateway, started_at, outcome, provider_id)"
            " VALUES (" + std::to_string(id) + ", 1, 'kannel', now(), 'sent', 'kannel-" + std::to_string(id) + "')");
  ASSERT_EQ(dlr(id, "1").status, 200);
  EXPECT_EQ(status_of(id), "delivered");
  EXPECT_EQ(receipts(), "1");
}

TEST_F(HttpKannel, ReportAboutNoMessageHeraldKnowsIsAcknowledgedAndNotStored) {
  // 200, so smsbox does not call again for something that will never match.
  EXPECT_EQ(dlr(987654, "1").status, 200);
  EXPECT_EQ(receipts(), "0");
}

}  // namespace
}  // namespace herald::test
