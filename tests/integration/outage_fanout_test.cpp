// Outage notices against a real Postgres with an injected clock: who hears, ETR thresholds,
// collapse and replacement of queued messages, restoration and OUT, planned outages, events.
#include <gtest/gtest.h>

#include "herald/engine/engine.hpp"
#include "herald/engine/inbound.hpp"
#include "herald/engine/service_actions.hpp"
#include "herald/engine/cis.hpp"
#include "herald/rules/clock.hpp"
#include "herald/source_dir.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/store/message_text.hpp"
#include "herald/store/outages.hpp"
#include "outage_fixture.hpp"
#include "test_db.hpp"
#include "test_zones.hpp"

namespace herald {
namespace {

using namespace std::chrono_literals;
using namespace outage_test;

TEST_F(OutageFanout, AFeederOutageNotifiesExactlyTheSubscribedCustomersOnTheirChannels) {
  put("O-1", confirmed());
  EXPECT_GT(engine().outages_once(), 0u);
  EXPECT_EQ(count("outage_id = 'O-1' AND channel = 'sms' AND status <> 'suppressed'"), std::to_string(expected_sms()));
  EXPECT_EQ(count("outage_id = 'O-1' AND channel = 'email' AND status <> 'suppressed'"),
            std::to_string(expected_email()));
  EXPECT_EQ(count("outage_id = 'O-1' AND channel = 'voice'"), "0");
  EXPECT_EQ(count("outage_id = 'O-1' AND status NOT IN ('queued', 'suppressed')"), "0");
  EXPECT_EQ(count("account_id > 'A1000' AND account_id <> 'A0001b'"), "0");  // the other feeder
  for (int i : {5, 7, 11, 35})
    EXPECT_EQ(count("customer_id = 'c" + std::to_string(i) + "' AND channel = 'sms' AND status <> 'suppressed'"), "0");
  // A customer at two affected premises hears about each.
  EXPECT_EQ(count("customer_id = 'c1' AND channel = 'sms'"), "2");
  EXPECT_EQ(tdb.query_value("SELECT body FROM herald.messages WHERE account_id = 'A0001b' AND channel = 'sms'"),
            "City Utilities: Power outage at 9 Elm St (cause: storm). Estimated restoration November 24, 2026 at "
            "5:00 PM CST. Reply STOP to opt out.");
  const auto spanish = tdb.query_value("SELECT body FROM herald.messages WHERE account_id = 'A0003' AND channel = 'sms'");
  EXPECT_EQ(spanish.rfind("City Utilities: Apagón en 3 Main St (causa: storm).", 0), 0u) << spanish;
  EXPECT_EQ(tdb.query_value("SELECT encoding || ':' || segments FROM herald.messages WHERE account_id = 'A0003'"
                            " AND channel = 'sms'"),
            "UCS-2:3");
  EXPECT_EQ(tdb.query_value("SELECT encoding || ':' || segments FROM herald.messages WHERE account_id = 'A0001b'"
                            " AND channel = 'sms'"),
            "GSM-7:1");
  EXPECT_EQ(count("outage_id = 'O-1' AND channel = 'sms' AND status <> 'suppressed' AND segments < 1"), "0");
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.message_queue q JOIN herald.messages m ON m.id = q.message_id"
                            " WHERE m.outage_id = 'O-1'"),
            std::to_string(expected_sms() + expected_email()));
  EXPECT_EQ(tdb.query_value("SELECT decision->>'reason' || ':' || (decision->'outage'->>'notice')"
                            " FROM herald.messages WHERE account_id = 'A0002'"),
            "send_now:confirmed");

  const auto detail = store::get_outage(tdb.db(), "O-1");
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->counts.affected_customers, kPremises);
  EXPECT_EQ(detail->counts.affected_accounts, kPremises + 1);
  EXPECT_EQ(detail->counts.notified.at("sms").at("queued"), expected_sms());
  EXPECT_EQ(detail->counts.notices, 1);

  dispatch_all();
  EXPECT_EQ(count("outage_id = 'O-1' AND status = 'sent'"), std::to_string(expected_sms() + expected_email()));
}

TEST_F(OutageFanout, AnEtrMovedTenMinutesSendsNothingTwoHoursAnUpdateAndRestoredTheRestorationText) {
  put("O-2", confirmed("2026-11-24T23:00:00Z"));
  engine().outages_once();
  dispatch_all();
  const auto first = count("outage_id = 'O-2'");

  clock.set(at("2026-11-24T17:10:00Z"));
  put("O-2", {{"status", "etr_updated"}, {"etr", "2026-11-24T23:10:00Z"}});
  engine().outages_once();
  EXPECT_EQ(count("outage_id = 'O-2'"), first);

  clock.set(at("2026-11-24T17:20:00Z"));
  put("O-2", {{"status", "etr_updated"}, {"etr", "2026-11-25T01:10:00Z"}});
  engine().outages_once();
  EXPECT_EQ(count("outage_id = 'O-2' AND type = 'outage.etr_updated' AND channel = 'sms'"),
            std::to_string(expected_sms()));
  EXPECT_EQ(tdb.query_value("SELECT body FROM herald.messages WHERE account_id = 'A0002' AND type = 'outage.etr_updated'"),
            "City Utilities: New estimated restoration for the outage at 2 Main St: November 24, 2026 at 7:10 PM CST. "
            "Reply STOP to opt out.");
  dispatch_all();

  clock.set(at("2026-11-24T18:00:00Z"));
  put("O-2", {{"status", "restored"}});
  engine().outages_once();
  EXPECT_EQ(count("outage_id = 'O-2' AND type = 'outage.restored' AND channel = 'sms'"), std::to_string(expected_sms()));
  EXPECT_EQ(tdb.query_value("SELECT body FROM herald.messages WHERE account_id = 'A0002' AND type = 'outage.restored'"),
            "City Utilities: Power is restored at 2 Main St. Still out? Reply OUT");
  dispatch_all();
  const auto after = count("outage_id = 'O-2'");

  // Nothing about the outage after its restoration.
  clock.set(at("2026-11-24T19:00:00Z"));
  put("O-2", {{"status", "restored"}, {"etr", "2026-11-25T05:00:00Z"}});
  engine().outages_once();
  EXPECT_EQ(count("outage_id = 'O-2'"), after);
}

TEST_F(OutageFanout, ThreeEtrChangesWithinTheCollapseWindowBecomeOneMessageWithTheLast) {
  put("O-3", confirmed("2026-11-24T20:00:00Z"));
  engine().outages_once();
  dispatch_all();
  const char* etrs[] = {"2026-11-24T22:00:00Z", "2026-11-25T00:00:00Z", "2026-11-25T02:00:00Z"};
  const char* times[] = {"2026-11-24T17:00:20Z", "2026-11-24T17:00:40Z", "2026-11-24T17:01:00Z"};
  for (int k = 0; k < 3; ++k) {
    clock.set(at(times[k]));
    put("O-3", {{"status", "etr_updated"}, {"etr", etrs[k]}});
    engine().outages_once();
    EXPECT_EQ(count("outage_id = 'O-3' AND type = 'outage.etr_updated'"), "0");
  }
  clock.set(at("2026-11-24T17:02:00Z"));  // the window (120 s after the first notice) is over
  engine().outages_once();
  EXPECT_EQ(count("outage_id = 'O-3' AND type = 'outage.etr_updated' AND account_id = 'A0002'"), "1");
  EXPECT_NE(tdb.query_value("SELECT body FROM herald.messages WHERE account_id = 'A0002' AND type = 'outage.etr_updated'")
                .find("November 24, 2026 at 8:00 PM CST"),
            std::string::npos);
  EXPECT_EQ(count("outage_id = 'O-3' AND type = 'outage.etr_updated' AND channel = 'sms'"),
            std::to_string(expected_sms()));
}

TEST_F(OutageFanout, AnUpdateWhileTheFirstMessageIsQueuedReplacesItsText) {
  put("O-4", confirmed("2026-11-24T20:00:00Z"));
  engine().outages_once();
  clock.set(at("2026-11-24T17:05:00Z"));
  put("O-4", {{"status", "etr_updated"}, {"etr", "2026-11-25T02:00:00Z"}});
  engine().outages_once();
  EXPECT_EQ(count("account_id = 'A0002'"), "1");
  EXPECT_EQ(count("outage_id = 'O-4' AND channel = 'sms' AND status <> 'suppressed'"), std::to_string(expected_sms()));
  EXPECT_EQ(count("outage_id = 'O-4' AND type = 'outage.etr_updated'"),
            std::to_string(expected_sms() + expected_email()));
  EXPECT_NE(tdb.query_value("SELECT body FROM herald.messages WHERE account_id = 'A0002'").find("8:00 PM CST"),
            std::string::npos);
  EXPECT_EQ(tdb.query_value("SELECT decision->'replaced'->>'type' FROM herald.messages WHERE account_id = 'A0002'"),
            "outage.confirmed");
  dispatch_all();
  EXPECT_EQ(count("outage_id = 'O-4' AND status = 'sent'"), std::to_string(expected_sms() + expected_email()));
}

TEST_F(OutageFanout, APlannedOutageCancelledBeforeItsNoticeSendsNothing) {
  Json planned = {{"status", "planned"},
                  {"planned_start", "2026-11-30T15:00:00Z"},
                  {"planned_end", "2026-11-30T19:00:00Z"},
                  {"affected", {{"premise_ids", {"P2", "P3"}}}}};
  put("O-5", planned);
  engine().outages_once();
  EXPECT_EQ(count("outage_id = 'O-5'"), "0");
  EXPECT_EQ(tdb.query_value("SELECT to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM herald.outages"
                            " WHERE outage_id = 'O-5'"),
            "2026-11-27 15:00");  // 72 hours before
  clock.set(at("2026-11-26T17:00:00Z"));
  put("O-5", {{"status", "cancelled"}});
  engine().outages_once();
  clock.set(at("2026-11-27T16:00:00Z"));  // past the notice time
  engine().outages_once();
  EXPECT_EQ(count("outage_id = 'O-5'"), "0");
}

TEST_F(OutageFanout, APlannedOutageGetsItsNoticeReminderAndCancellation) {
  Json planned = {{"status", "planned"},
                  {"planned_start", "2026-11-30T15:00:00Z"},
                  {"affected", {{"premise_ids", {"P2"}}}}};
  put("O-6", planned);
  clock.set(at("2026-11-27T15:00:00Z"));
  engine().outages_once();
  EXPECT_EQ(count("outage_id = 'O-6' AND type = 'outage.planned'"), "1");
  dispatch_all();
  clock.set(at("2026-11-29T15:00:00Z"));
  engine().outages_once();
  EXPECT_EQ(count("outage_id = 'O-6' AND type = 'outage.planned_reminder'"), "1");
  dispatch_all();
  clock.set(at("2026-11-29T16:00:00Z"));
  put("O-6", {{"status", "cancelled"}});
  engine().outages_once();
  EXPECT_EQ(tdb.query_value("SELECT body FROM herald.messages WHERE outage_id = 'O-6' AND type = 'outage.cancelled'"),
            "City Utilities: The planned power interruption on November 30, 2026 at 9:00 AM CST at 2 Main St is "
            "cancelled. Reply STOP to opt out.");
}

TEST_F(OutageFanout, OutageUpdatedEventsApplyLikeAPutAndBadOnesAreRejectedNamingTheField) {
  Json data = confirmed();
  data["outage_id"] = "O-7";
  tdb.exec("INSERT INTO herald.events (event_id, type, data) VALUES ('oms-1', 'outage.updated', '" + data.dump() + "')");
  tdb.exec("INSERT INTO herald.events (event_id, type, data) VALUES ('oms-2', 'outage.updated',"
           " '{\"outage_id\": \"O-8\", \"status\": \"fixed\"}')");
  engine().outages_once();
  EXPECT_EQ(tdb.query_value("SELECT status FROM herald.events WHERE event_id = 'oms-1'"), "processed");
  EXPECT_EQ(tdb.query_value("SELECT status || ':' || (error->>'field') FROM herald.events WHERE event_id = 'oms-2'"),
            "rejected:data.status");
  EXPECT_EQ(tdb.query_value("SELECT source FROM herald.outage_history WHERE outage_id = 'O-7'"), "event");
  EXPECT_EQ(count("outage_id = 'O-7' AND channel = 'sms' AND status <> 'suppressed'"), std::to_string(expected_sms()));
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.outages WHERE outage_id = 'O-8'"), "0");
  // Billing intake leaves them alone.
  EXPECT_EQ(engine().intake_once(), 0u);
}

TEST_F(OutageFanout, OutAfterTheRestorationTextFilesAReportLinkedToTheOutage) {
  // On the real clock (the outage lookup and report linking compare with the database's time),
  // at a premise where it is daytime now.
  const auto now = rules::SystemClock().now();
  clock.set(now);
  tdb.exec("UPDATE herald.accounts SET timezone = '" + test::daytime_zone() + "' WHERE account_id = 'A0002'");
  put("O-9", {{"status", "confirmed"}, {"affected", {{"premise_ids", {"P2"}}}}});
  engine().outages_once();
  dispatch_all();
  engine::InboundSettings settings;
  engine::ActionRegistry actions;
  engine::register_builtin_actions(actions);
  engine::register_service_actions(actions, tdb.db(), std::make_shared<engine::CisClient>(tdb.db(), engine::CisConfig{}));
  engine::InboundPipeline pipeline(tdb.db(), settings, actions, clock);
  const auto during = pipeline.handle(engine::InboundSms{"twilio", "SM-status-0", "+12175550002", "+12175550000",
                                                         "STATUS", {}});
  EXPECT_NE(during.reply.find("confirmed"), std::string::npos) << during.reply;
  clock.set(now + 1min);
  put("O-9", {{"status", "restored"}});
  engine().outages_once();
  dispatch_all();
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.conversations WHERE account_id = 'A0002'"), "1");
  clock.set(now + 2min);
  const auto r = pipeline.handle(engine::InboundSms{"twilio", "SM-out-1", "+12175550002", "+12175550000", "out", {}});
  EXPECT_NE(r.reply.find("outage report for 2 Main St"), std::string::npos) << r.reply;
  EXPECT_EQ(tdb.query_value("SELECT action FROM herald.inbound_messages WHERE id = " + std::to_string(r.inbound_id)),
            "outage.report");
  EXPECT_EQ(tdb.query_value("SELECT account_id || ':' || premise_id || ':' || outage_id FROM herald.outage_reports"),
            "A0002:P2:O-9");
  EXPECT_EQ(store::get_outage(tdb.db(), "O-9")->counts.reports, 1);
  // STATUS: it is over.
  const auto status = pipeline.handle(engine::InboundSms{"twilio", "SM-status-1", "+12175550002", "+12175550000",
                                                         "STATUS", {}});
  EXPECT_NE(status.reply.find("no known outage at 2 Main St"), std::string::npos) << status.reply;
}

}  // namespace
}  // namespace herald

namespace herald {
namespace {

// Who of customers 1..1000 gets a suppressed row, and why (see hears_sms): alerts off,
// preference_off; SMS chosen but unverified, no_contact; SMS opted out, opted_out.
int expected_suppressed() {
  int n = 0;
  for (int i = 1; i <= kPremises; ++i) n += i % 5 == 0 || i % 7 == 0 || i % 11 == 0;
  return n;
}

TEST_F(OutageFanout, ACustomerWhoDoesNotHearGetsOneSuppressedRowWithItsReasonPerOutage) {
  put("O-10", confirmed("2026-11-24T23:00:00Z"));
  engine().outages_once();
  const auto why = [&](const char* customer) {
    return tdb.query_value("SELECT string_agg(channel || ':' || suppression_reason, ',' ORDER BY channel)"
                           " FROM herald.messages WHERE customer_id = '" + std::string(customer) +
                           "' AND status = 'suppressed'");
  };
  EXPECT_EQ(why("c5"), "sms:preference_off");   // alerts off: one row, on the first reachable channel
  EXPECT_EQ(why("c35"), "email:preference_off");  // ... which is email when the SMS is unverified
  EXPECT_EQ(why("c7"), "sms:no_contact");       // chose SMS, no verified number
  EXPECT_EQ(why("c11"), "sms:opted_out");       // chose SMS and email, opted out of SMS
  EXPECT_EQ(count("customer_id = 'c11' AND channel = 'email' AND status = 'queued'"), "1");
  EXPECT_EQ(tdb.query_value("SELECT decision->>'reason' || ':' || (decision->>'consent') || ':' ||"
                            " (decision->'outage'->>'notice') FROM herald.messages WHERE customer_id = 'c11'"
                            " AND channel = 'sms'"),
            "opted_out:opted_out:confirmed");
  EXPECT_EQ(count("outage_id = 'O-10' AND status = 'suppressed'"), std::to_string(expected_suppressed()));
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.message_queue q JOIN herald.messages m ON m.id = q.message_id"
                            " WHERE m.status = 'suppressed'"),
            "0");

  // Later notices of the same outage do not repeat why.
  dispatch_all();
  clock.set(at("2026-11-24T17:20:00Z"));
  put("O-10", {{"status", "etr_updated"}, {"etr", "2026-11-25T03:00:00Z"}});
  engine().outages_once();
  clock.set(at("2026-11-24T18:00:00Z"));
  put("O-10", {{"status", "restored"}});
  engine().outages_once();
  EXPECT_EQ(count("outage_id = 'O-10' AND type = 'outage.restored' AND status <> 'suppressed'"),
            std::to_string(expected_sms() + expected_email()));
  EXPECT_EQ(count("outage_id = 'O-10' AND status = 'suppressed'"), std::to_string(expected_suppressed()));
}

TEST_F(OutageFanout, OutageEmailsCarryASignedUnsubscribeLink) {
  put("O-11", confirmed());
  engine().outages_once();
  std::vector<std::string> row;
  for (const char* column : {"unsubscribe_url", "body", "contact_id::text"})
    row.push_back(tdb.query_value(std::string("SELECT ") + column +
                                  " FROM herald.messages WHERE account_id = 'A0006' AND channel = 'email'"));
  const std::string prefix = "https://herald.example/v1/unsubscribe/";
  ASSERT_EQ(row[0].rfind(prefix, 0), 0u) << row[0];
  EXPECT_NE(row[1].find(row[0]), std::string::npos) << row[1];
  const auto claims = verify_token(row[0].substr(prefix.size()), "outage-secret", clock.now());
  ASSERT_TRUE(claims) << row[0];
  EXPECT_EQ((*claims)["a"], "c6@example.com");
  EXPECT_EQ((*claims)["ch"], "email");
  EXPECT_EQ((*claims)["t"], "outage");
  EXPECT_EQ(std::to_string((*claims)["c"].get<std::int64_t>()), row[2]);
  // SMS carries none.
  EXPECT_EQ(count("outage_id = 'O-11' AND channel = 'sms' AND unsubscribe_url <> ''"), "0");
}

TEST_F(OutageFanout, AQueuedTextReplacedInPlaceIsSearchedByItsNewText) {
  put("O-12", confirmed("2026-11-24T20:00:00Z"));
  engine().outages_once();
  const auto indexed_text = [&] {
    return tdb.query_value("SELECT t.text FROM herald.message_text t JOIN herald.messages m ON m.id = t.message_id"
                           " WHERE m.account_id = 'A0002'");
  };
  const auto indexed_type = [&] {
    return tdb.query_value("SELECT t.type FROM herald.message_text t JOIN herald.messages m ON m.id = t.message_id"
                           " WHERE m.account_id = 'A0002'");
  };
  for (int i = 0; i < 5; ++i) store::index_message_text(tdb.db(), 100000);
  // The index holds text lower-cased (0020).
  ASSERT_NE(indexed_text().find("2:00 pm cst"), std::string::npos) << indexed_text();
  EXPECT_EQ(indexed_type(), "outage.confirmed");
  clock.set(at("2026-11-24T17:05:00Z"));
  put("O-12", {{"status", "etr_updated"}, {"etr", "2026-11-25T02:00:00Z"}});
  engine().outages_once();
  ASSERT_EQ(count("account_id = 'A0002'"), "1");
  EXPECT_NE(indexed_text().find("8:00 pm cst"), std::string::npos) << indexed_text();
  EXPECT_EQ(indexed_text().find("2:00 pm cst"), std::string::npos) << indexed_text();
  // A search by the new type with q finds it (the type is carried in the text row too).
  EXPECT_EQ(indexed_type(), tdb.query_value("SELECT type FROM herald.messages WHERE account_id = 'A0002'"));
  EXPECT_NE(indexed_type(), "outage.confirmed");
}

}  // namespace
}  // namespace herald
