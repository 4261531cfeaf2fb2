// Opt-outs against a real Postgres: recording one stops what is already queued for the address,
// and dispatch re-checks consent after its lease, also while a batch is being sent.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <pqxx/pqxx>

#include "herald/engine/engine.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/rules/clock.hpp"
#include "herald/source_dir.hpp"
#include "herald/store/consent.hpp"
#include "herald/store/customers.hpp"
#include "herald/store/outbox.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald {
namespace {

using namespace std::chrono_literals;
using test::insert_message;
using test::MessageRow;

constexpr const char* kPhone = "+12175550101";
constexpr const char* kEmail = "ada@example.com";

// An SMS gateway that records what it was handed. With `hold_first` its first call blocks
// until release(): a provider slow to answer while the rest of the batch waits its turn.
class RecordingGateway final : public gateways::Gateway {
 public:
  RecordingGateway(Channel channel, std::size_t concurrency, bool hold_first)
      : name_(std::string(to_string(channel)) + "-recorder"), channel_(channel), concurrency_(concurrency),
        hold_first_(hold_first) {}
  const std::string& name() const override { return name_; }
  Channel channel() const override { return channel_; }
  std::size_t max_concurrent() const override { return concurrency_; }

  std::vector<gateways::SendResult> send_batch(const std::vector<gateways::OutboundMessage>& batch) override {
    std::unique_lock lock(mu_);
    const bool hold = hold_first_ && calls_ == 0;
    ++calls_;
    for (const auto& m : batch) sent_.push_back({m.id, m.to, released_});
    if (hold) {
      held_.set_value();
      cv_.wait(lock, [&] { return released_; });
    }
    std::vector<gateways::SendResult> out(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      out[i].outcome = gateways::SendOutcome::sent;
      out[i].provider_id = "rec-" + std::to_string(batch[i].id);
    }
    return out;
  }

  void wait_until_holding() { held_future_.wait(); }
  void release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

  struct Sent {
    std::int64_t id;
    std::string to;
    bool after_release;
  };
  std::vector<Sent> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  const std::string name_;
  const Channel channel_;
  const std::size_t concurrency_;
  const bool hold_first_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  int calls_ = 0;
  std::vector<Sent> sent_;
  std::promise<void> held_;
  std::shared_future<void> held_future_ = held_.get_future().share();
};

struct OptOutTest : ::testing::Test {
  test::TestDb tdb{6};
  rules::ManualClock clock{*parse_time("2026-11-24T17:00:00Z")};  // 11:00 in Chicago
  rules::RulesConfig rules_config = rules::default_rules_config();
  rules::TemplateStore templates{std::string(HERALD_SOURCE_DIR) + "/config/templates"};
  std::shared_ptr<RecordingGateway> sms, email;

  void SetUp() override {
    rules_config.default_preferences.topics = {{Topic::billing, {Channel::sms}}, {Topic::outage, {Channel::sms}}};
    auto customer = test::make_customer("c-1", {"A-1"}, {test::make_contact(Channel::sms, kPhone),
                                                         test::make_contact(Channel::email, kEmail)});
    customer.accounts[0].timezone = "America/Chicago";
    auto stored = store::upsert_customer(tdb.db(), customer, rules_config.default_preferences, "test", clock.now());
    ASSERT_TRUE(stored.ok()) << stored.error().message;
  }

  std::unique_ptr<engine::Engine> make_engine(std::size_t sms_concurrency = 0, bool hold_first = false) {
    engine::EngineConfig config;
    config.instance_id = "opt-out-test";
    config.dispatch.lease = 60s;
    config.dispatch.batch_size = 500;
    config.dispatch.workers = 1;
    sms = std::make_shared<RecordingGateway>(Channel::sms, sms_concurrency, hold_first);
    email = std::make_shared<RecordingGateway>(Channel::email, 0, false);
    config.routes[Channel::sms].push_back({sms, 1e6, 1e6});
    config.routes[Channel::email].push_back({email, 1e6, 1e6});
    return std::make_unique<engine::Engine>(tdb.db(), config, rules_config, templates, clock);
  }

  // `count` bill.ready events for A-1, turned into queued SMS by one intake round.
  void queue_bills(engine::Engine& engine, int count) {
    std::string values;
    for (int i = 0; i < count; ++i) {
      values += (i ? "," : "") + std::string("('bill-") + std::to_string(i) + "', 'bill.ready', 'A-1', '" +
                format_time(clock.now()) + R"(', '{"amount_due": "82.17", "due_date": "2026-12-10"}'))";
    }
    tdb.exec("INSERT INTO herald.events (event_id, type, account_id, occurred_at, data) VALUES " + values);
    ASSERT_EQ(engine.intake_once(), static_cast<std::size_t>(count));
    ASSERT_EQ(count_where("channel = 'sms' AND status = 'queued'"), std::to_string(count));
  }

  std::string count_where(const std::string& condition) {
    return tdb.query_value("SELECT count(*) FROM herald.messages WHERE " + condition);
  }
  std::string queue_rows() { return tdb.query_value("SELECT count(*) FROM herald.message_queue"); }
};

TEST_F(OptOutTest, StopSuppressesFiftyQueuedMessagesAndADispatchRoundSendsNone) {
  auto engine = make_engine();
  queue_bills(*engine, 50);
  // A regulatory notice on SMS is stopped by STOP too; the email on the same customer is not.
  MessageRow notice;
  notice.customer_id = "c-1";
  notice.type = "disconnection.scheduled";
  notice.address = kPhone;
  const auto notice_id = insert_message(tdb, notice);
  tdb.exec("UPDATE herald.messages SET decision = '{\"rule\": {\"regulatory\": true}}' WHERE id = " +
           std::to_string(notice_id));
  MessageRow mail;
  mail.customer_id = "c-1";
  mail.channel = "email";
  mail.address = kEmail;
  insert_message(tdb, mail);
  tdb.exec("UPDATE herald.message_queue SET due_at = " + test::sql_quote(format_time(clock.now())));

  EXPECT_EQ(store::record_opt_out(tdb.db(), Channel::sms, kPhone, std::nullopt, "sms", "inbound:1", clock.now()), 51u);

  EXPECT_EQ(count_where("channel = 'sms' AND status = 'suppressed' AND suppression_reason = 'opted_out'"), "51");
  EXPECT_EQ(queue_rows(), "1");  // the email's
  EXPECT_EQ(engine->dispatch_once(), 1u);
  EXPECT_TRUE(sms->sent().empty());
  ASSERT_EQ(email->sent().size(), 1u);
  EXPECT_EQ(count_where("channel = 'sms' AND status <> 'suppressed'"), "0");
  EXPECT_EQ(tdb.query_value("SELECT consent FROM herald.contacts WHERE channel = 'sms' AND address = '" +
                            std::string(kPhone) + "'"),
            "opted_out");
}

TEST_F(OptOutTest, AnOptOutCommittedWhileADispatchHoldsTheBatchStopsEverythingNotYetHandedOver) {
  // Chunks of 5: the first is handed to the gateway right after the claim and held there.
  auto engine = make_engine(/*sms_concurrency=*/5, /*hold_first=*/true);
  queue_bills(*engine, 50);
  auto round = std::async(std::launch::async, [&] { return engine->dispatch_once(); });
  sms->wait_until_holding();

  // All 50 are leased by the running round: the opt-out commits without waiting for it and
  // leaves them to it.
  EXPECT_EQ(store::record_opt_out(tdb.db(), Channel::sms, kPhone, std::nullopt, "sms", "inbound:2", clock.now()), 0u);
  sms->release();
  EXPECT_EQ(round.get(), 50u);

  const auto sent = sms->sent();
  EXPECT_EQ(sent.size(), 5u);
  for (const auto& s : sent) EXPECT_FALSE(s.after_release) << "message " << s.id << " handed over after the opt-out";
  EXPECT_EQ(count_where("channel = 'sms' AND status = 'sent'"), "5");
  EXPECT_EQ(count_where("channel = 'sms' AND status = 'suppressed' AND suppression_reason = 'opted_out'"), "45");
  EXPECT_EQ(queue_rows(), "0");
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.message_attempts"), "5");
}

TEST_F(OptOutTest, AnOptOutBetweenTheLeaseAndTheCheckBeforeSendingSuppressesTheLeasedMessages) {
  auto engine = make_engine();
  queue_bills(*engine, 3);
  const auto claimed = store::claim_due_messages(tdb.db(), "w1", 10, clock.now(), 60s);
  ASSERT_EQ(claimed.size(), 3u);
  for (const auto& c : claimed) EXPECT_FALSE(c.opted_out);
  store::record_opt_out(tdb.db(), Channel::sms, kPhone, std::nullopt, "sms", "inbound:3", clock.now());

  std::vector<std::int64_t> ids;
  for (const auto& c : claimed) ids.push_back(c.message.id);
  const auto check = store::check_before_send(tdb.db(), "w1", ids, clock.now(), 60s);
  EXPECT_TRUE(check.leased.empty());
  EXPECT_EQ(check.opted_out.size(), 3u);
}

// The consent lock orders an opt-out and a dispatch check of the same address (0007): whichever
// comes second waits for the first to commit, and a check that waited reads consent afterwards.
struct LockOrder : OptOutTest {
  // Polls until a transaction of this database waits for an advisory lock.
  bool someone_waits_for_the_consent_lock() {
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < until) {
      if (tdb.query_value("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                          " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") != "0")
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  std::vector<std::int64_t> leased_ids() {
    std::vector<std::int64_t> ids;
    for (const auto& c : store::claim_due_messages(tdb.db(), "w1", 10, clock.now(), 60s)) ids.push_back(c.message.id);
    return ids;
  }
};

TEST_F(LockOrder, ACheckThatMeetsAnUncommittedOptOutWaitsAndThenSeesIt) {
  auto engine = make_engine();
  queue_bills(*engine, 2);
  const auto ids = leased_ids();
  ASSERT_EQ(ids.size(), 2u);
  pqxx::connection other(tdb.url());
  pqxx::work opt_out(other);
  opt_out.exec("SELECT herald.consent_lock('sms', '" + std::string(kPhone) + "')");
  opt_out.exec("INSERT INTO herald.consent_events (channel, address, state, source, evidence)"
               " VALUES ('sms', '" + std::string(kPhone) + "', 'opted_out', 'sms', 'STOP')");

  auto check = std::async(std::launch::async, [&] { return store::check_before_send(tdb.db(), "w1", ids, clock.now(), 60s); });
  ASSERT_TRUE(someone_waits_for_the_consent_lock());
  opt_out.commit();
  const auto result = check.get();
  EXPECT_TRUE(result.leased.empty());
  EXPECT_EQ(result.opted_out.size(), 2u);
}

TEST_F(LockOrder, AnOptOutThatMeetsACheckInProgressWaitsForItAndTheNextCheckSeesIt) {
  auto engine = make_engine();
  queue_bills(*engine, 1);
  const auto ids = leased_ids();
  ASSERT_EQ(ids.size(), 1u);
  pqxx::connection other(tdb.url());
  pqxx::work check(other);
  EXPECT_TRUE(check.exec("SELECT herald.opted_out_messages(ARRAY[" + std::to_string(ids[0]) + "]::bigint[])").empty());

  auto opt_out = std::async(std::launch::async, [&] {
    return store::record_opt_out(tdb.db(), Channel::sms, kPhone, std::nullopt, "sms", "inbound:6", clock.now());
  });
  ASSERT_TRUE(someone_waits_for_the_consent_lock());
  check.commit();  // the send this check allowed was decided before the opt-out
  EXPECT_EQ(opt_out.get(), 0u);  // the message is leased: left to its dispatch
  const auto next = store::check_before_send(tdb.db(), "w1", ids, clock.now(), 60s);
  EXPECT_EQ(next.opted_out, ids);
}

TEST_F(OptOutTest, AMessageTheOptOutPassedByBecauseItWasLockedIsCaughtByTheClaim) {
  auto engine = make_engine();
  queue_bills(*engine, 2);
  const auto locked_id = tdb.query_value("SELECT min(id) FROM herald.messages");
  // Another transaction holds one queue row (a claim or a recording in progress).
  pqxx::connection other(tdb.url());
  pqxx::work holder(other);
  holder.exec("SELECT 1 FROM herald.message_queue WHERE message_id = " + locked_id + " FOR UPDATE");

  EXPECT_EQ(store::record_opt_out(tdb.db(), Channel::sms, kPhone, std::nullopt, "sms", "inbound:4", clock.now()), 1u);
  holder.abort();

  const auto claimed = store::claim_due_messages(tdb.db(), "w1", 10, clock.now(), 60s);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(std::to_string(claimed[0].message.id), locked_id);
  EXPECT_TRUE(claimed[0].opted_out);
  // The round suppresses it and sends nothing.
  store::release_leases(tdb.db(), "w1");
  EXPECT_EQ(engine->dispatch_once(), 1u);
  EXPECT_TRUE(sms->sent().empty());
  EXPECT_EQ(count_where("status = 'suppressed' AND suppression_reason = 'opted_out'"), "2");
}

TEST_F(OptOutTest, AMessageQueuedAfterTheOptOutIsSuppressedAtItsClaim) {
  auto engine = make_engine();
  // Intake read the contact before the opt-out and committed after it: the message is queued.
  store::record_opt_out(tdb.db(), Channel::sms, kPhone, std::nullopt, "sms", "inbound:5", clock.now());
  MessageRow late;
  late.customer_id = "c-1";
  late.address = kPhone;
  insert_message(tdb, late);
  tdb.exec("UPDATE herald.message_queue SET due_at = " + test::sql_quote(format_time(clock.now())));
  EXPECT_EQ(engine->dispatch_once(), 1u);
  EXPECT_TRUE(sms->sent().empty());
  EXPECT_EQ(count_where("status = 'suppressed' AND suppression_reason = 'opted_out'"), "1");
}

// An address that opted out and then in again is sent to (the claim looks its consent up, as it
// is among the addresses that ever opted out, 0027), and a second opt-out stops it again; the
// address stays noted once throughout.
TEST_F(OptOutTest, AnAddressThatOptedInAgainIsSentToAndItsNextOptOutStopsItAgain) {
  auto engine = make_engine();
  const auto seen = [&] {
    return tdb.query_value("SELECT count(*) FROM herald.opt_outs_seen WHERE channel = 'sms' AND address = " +
                           test::sql_quote(kPhone));
  };
  const auto queue_one = [&] {
    MessageRow m;
    m.customer_id = "c-1";
    m.address = kPhone;
    insert_message(tdb, m);
    tdb.exec("UPDATE herald.message_queue SET due_at = " + test::sql_quote(format_time(clock.now())));
  };
  EXPECT_EQ(seen(), "0");
  store::record_opt_out(tdb.db(), Channel::sms, kPhone, std::nullopt, "sms", "inbound:1", clock.now());
  EXPECT_EQ(seen(), "1");
  store::record_consent(tdb.db(), Channel::sms, kPhone, std::nullopt, ConsentState::opted_in, "sms", "inbound:2",
                        clock.now());
  EXPECT_EQ(seen(), "1");
  queue_one();
  EXPECT_EQ(engine->dispatch_once(), 1u);
  ASSERT_EQ(sms->sent().size(), 1u);
  EXPECT_EQ(count_where("status = 'sent'"), "1");

  store::record_opt_out(tdb.db(), Channel::sms, kPhone, std::nullopt, "sms", "inbound:3", clock.now());
  EXPECT_EQ(seen(), "1");
  queue_one();  // read before the opt-out, committed after it: caught at the claim
  EXPECT_EQ(engine->dispatch_once(), 1u);
  EXPECT_EQ(sms->sent().size(), 1u);
  EXPECT_EQ(count_where("status = 'suppressed' AND suppression_reason = 'opted_out'"), "1");
}

// Only a topic-less opt-out is noted: a topic's opt-out is a preference change, and consent
// records of other states or addresses add nothing.
TEST_F(OptOutTest, OnlyTopicLessOptOutsAreNoted) {
  store::record_opt_out(tdb.db(), Channel::email, kEmail, Topic::billing, "web", "unsubscribe", clock.now());
  store::record_consent(tdb.db(), Channel::sms, "+12175550199", std::nullopt, ConsentState::opted_in, "cis", "load",
                        clock.now());
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.opt_outs_seen"), "0");
  tdb.exec("INSERT INTO herald.consent_events (channel, address, state, source, evidence) VALUES"
           " ('sms', '+12175550198', 'opted_out', 'admin', 'a'), ('sms', '+12175550198', 'opted_out', 'admin', 'b'),"
           " ('voice', '+12175550198', 'opted_in', 'admin', 'c')");
  EXPECT_EQ(tdb.query_value("SELECT string_agg(channel || ' ' || address, ',') FROM herald.opt_outs_seen"),
            "sms +12175550198");
}

TEST_F(OptOutTest, TheUnsubscribeLinkSuppressesQueuedMessagesOfItsTopicOnly) {
  MessageRow bill;
  bill.customer_id = "c-1";
  bill.channel = "email";
  bill.address = kEmail;
  const auto billing = insert_message(tdb, bill);
  MessageRow regulatory = bill;
  regulatory.type = "disconnection.scheduled";
  const auto notice = insert_message(tdb, regulatory);
  tdb.exec("UPDATE herald.messages SET decision = '{\"rule\": {\"regulatory\": true}}' WHERE id = " +
           std::to_string(notice));
  MessageRow outage = bill;
  outage.type = "outage.confirmed";
  outage.topic = "outage";
  const auto other_topic = insert_message(tdb, outage);
  MessageRow sms_bill;
  sms_bill.customer_id = "c-1";
  const auto other_channel = insert_message(tdb, sms_bill);

  store::unsubscribe_topic(tdb.db(), Channel::email, kEmail, Topic::billing, "token:abc", clock.now());

  auto status = [&](std::int64_t id) {
    return tdb.query_value("SELECT status || coalesce(' ' || suppression_reason, '') FROM herald.messages WHERE id = " +
                           std::to_string(id));
  };
  EXPECT_EQ(status(billing), "suppressed opted_out");
  EXPECT_EQ(status(notice), "queued");
  EXPECT_EQ(status(other_topic), "queued");
  EXPECT_EQ(status(other_channel), "queued");
  EXPECT_EQ(queue_rows(), "3");
}

TEST_F(OptOutTest, AProviderOptOutSuppressesTheAddresssOtherWaitingMessages) {
  MessageRow row;
  row.customer_id = "c-1";
  row.address = kPhone;
  const auto first = insert_message(tdb, row);
  insert_message(tdb, row);
  row.status = "scheduled";
  insert_message(tdb, row);
  MessageRow elsewhere;
  elsewhere.address = "+12175550199";
  const auto other_number = insert_message(tdb, elsewhere);
  tdb.exec("UPDATE herald.message_queue SET due_at = due_at + interval '1 hour' WHERE message_id <> " +
           std::to_string(first));

  const auto now = clock.now() + std::chrono::hours(24 * 365 * 2);  // past the first row's now()
  const auto claimed = store::claim_due_messages(tdb.db(), "w1", 1, now, 60s);
  ASSERT_EQ(claimed.size(), 1u);
  store::MessageUpdate u;
  u.id = claimed[0].message.id;
  u.channel = Channel::sms;
  u.address = kPhone;
  u.status = MessageStatus::failed;
  u.attempted = true;
  u.attempt = 1;
  u.outcome = store::AttemptOutcome::failed;
  u.gateway = "twilio";
  u.error_code = "21610";
  u.provider_opt_out = true;
  u.started_at = now;
  EXPECT_EQ(store::record_dispatch_results(tdb.db(), "w1", {u}, now), 1u);

  EXPECT_EQ(tdb.query_value("SELECT source || ' ' || state || ' ' || evidence FROM herald.consent_events"
                            " WHERE address = '" + std::string(kPhone) + "' ORDER BY id DESC LIMIT 1"),
            "provider opted_out message:" + std::to_string(first) + " error 21610");
  EXPECT_EQ(count_where("address = '" + std::string(kPhone) + "' AND status = 'suppressed'"), "2");
  EXPECT_EQ(tdb.query_value("SELECT status FROM herald.messages WHERE id = " + std::to_string(first)), "failed");
  EXPECT_EQ(tdb.query_value("SELECT status FROM herald.messages WHERE id = " + std::to_string(other_number)), "queued");
  EXPECT_EQ(queue_rows(), "1");
}

}  // namespace
}  // namespace herald
