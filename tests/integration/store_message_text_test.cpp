// Text search fed off the write path: the indexer's rounds, its watermark, and `q` across it.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <algorithm>
#include <functional>
#include <memory>
#include <set>

#include "herald/store/message_text.hpp"
#include "herald/store/messages.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::insert_message;
using herald::test::MessageRow;
using herald::test::TestDb;

std::int64_t watermark(TestDb& t) {
  return std::stoll(t.query_value("SELECT indexed_through FROM herald.message_text_state"));
}

// Runs rounds until the watermark has passed every committed message (a round settles the id
// mark the previous one took, so it takes two at least); returns the rounds run.
int index_all(TestDb& t, std::size_t batch_size = 5000) {
  for (int rounds = 1; rounds <= 100; ++rounds) {
    const auto r = index_message_text(t.db(), batch_size);
    EXPECT_TRUE(r.ran);
    if (r.indexed_through >= r.newest_id && r.indexed == 0) return rounds;
  }
  ADD_FAILURE() << "the indexer did not catch up in 100 rounds";
  return 100;
}

std::vector<std::int64_t> search_all(TestDb& t, MessageFilter f, int page_size) {
  f.limit = page_size;
  std::vector<std::int64_t> out;
  for (int pages = 0; pages < 100; ++pages) {
    const auto page = list_messages(t.db(), f);
    for (const auto& m : page.items) out.push_back(m.id);
    if (!page.next_before_id) return out;
    f.before_id = *page.next_before_id;
  }
  ADD_FAILURE() << "paging did not end";
  return out;
}

MessageRow with_body(std::string body, std::string customer = "C-1") {
  MessageRow m;
  m.body = std::move(body);
  m.customer_id = std::move(customer);
  return m;
}

TEST(StoreMessageText, FoundByScanBeforeIndexingAndByIndexAfter) {
  TestDb t;
  const auto id = insert_message(t, with_body("Water main break on Elm Street"));
  insert_message(t, with_body("Your bill is ready"));
  MessageFilter f;
  f.q = "main BREAK";

  ASSERT_EQ(watermark(t), 0);
  EXPECT_EQ(search_all(t, f, 50), (std::vector<std::int64_t>{id}));  // above the watermark: scanned

  index_all(t);
  EXPECT_GE(watermark(t), id);
  EXPECT_EQ(t.query_value("SELECT text FROM herald.message_text WHERE message_id = " + std::to_string(id)),
            " water main break on elm street");  // subject (empty here) and body, lower-cased
  EXPECT_EQ(search_all(t, f, 50), (std::vector<std::int64_t>{id}));

  // Below the watermark the answer comes from message_text, not from the message: a body
  // changed behind the indexer's back (Herald never does) is still found by its indexed text.
  t.exec("UPDATE herald.messages SET body = 'rewritten' WHERE id = " + std::to_string(id));
  EXPECT_EQ(search_all(t, f, 50), (std::vector<std::int64_t>{id}));
  f.q = "rewritten";
  EXPECT_TRUE(search_all(t, f, 50).empty());
}

TEST(StoreMessageText, SubjectIsSearchedAndHtmlIsNot) {
  TestDb t;
  MessageRow email = with_body("Pay by Friday");
  email.channel = "email";
  email.address = "ada@example.com";
  email.subject = "Outage update";
  const auto id = insert_message(t, email);
  t.exec("UPDATE herald.messages SET html = '<p class=\"notice\">Pay by Friday</p>' WHERE id = " + std::to_string(id));
  index_all(t);
  MessageFilter f;
  f.q = "outage update pay";
  EXPECT_EQ(search_all(t, f, 50), (std::vector<std::int64_t>{id}));
  f.q = "notice";
  EXPECT_TRUE(search_all(t, f, 50).empty());
}

TEST(StoreMessageText, PagesAcrossTheWatermarkNeitherRepeatNorSkip) {
  TestDb t;
  std::vector<std::int64_t> matching, for_c2;
  for (int i = 0; i < 30; ++i) {
    const auto customer = i % 3 == 0 ? "C-2" : "C-1";
    const auto id = insert_message(t, with_body("Boil-water notice " + std::to_string(i), customer));
    matching.push_back(id);
    if (i % 3 == 0) for_c2.push_back(id);
    insert_message(t, with_body("Your bill is ready", customer));
  }
  // Two rounds: the first takes the mark, the second indexes the oldest 16 messages only.
  index_message_text(t.db(), 16);
  const auto round = index_message_text(t.db(), 16);
  ASSERT_EQ(round.indexed, 16u);
  const auto boundary = watermark(t);
  ASSERT_GT(boundary, matching.front());
  ASSERT_LT(boundary, matching.back());

  const std::vector<std::int64_t> all(matching.rbegin(), matching.rend());
  const std::vector<std::int64_t> c2(for_c2.rbegin(), for_c2.rend());
  MessageFilter f;
  f.q = "boil-water";
  for (int page_size : {1, 3, 7, 50}) {
    EXPECT_EQ(search_all(t, f, page_size), all) << "page size " << page_size;
  }
  f.customer_id = "C-2";  // with another filter the statement joins first
  for (int page_size : {1, 4, 50}) {
    EXPECT_EQ(search_all(t, f, page_size), c2) << "page size " << page_size;
  }

  index_all(t);
  EXPECT_EQ(search_all(t, f, 4), c2);
  f.customer_id.clear();
  EXPECT_EQ(search_all(t, f, 7), all);
}

TEST(StoreMessageText, OtherFiltersCombineWithTextOnBothSides) {
  TestDb t;
  MessageRow base = with_body("Crews restored power on feeder 12");
  base.created_at = "2026-11-20T10:00:00Z";
  const auto plain = insert_message(t, base);
  MessageRow outage = base;
  outage.type = "outage.restored";
  outage.topic = "outage";
  outage.status = "delivered";
  outage.channel = "email";
  outage.address = "ada@example.com";
  const auto typed = insert_message(t, outage);
  MessageRow later = base;
  later.created_at = "2026-11-22T10:00:00Z";
  later.account_id = "A-9";
  const auto late = insert_message(t, later);

  auto check = [&](const char* where) {
    MessageFilter f;
    f.q = "restored power";
    EXPECT_EQ(search_all(t, f, 50), (std::vector<std::int64_t>{late, typed, plain})) << where;
    f.type = "outage.restored";
    f.topic = Topic::outage;
    f.status = MessageStatus::delivered;
    f.channel = Channel::email;
    f.address = "ada@example.com";
    EXPECT_EQ(search_all(t, f, 50), (std::vector<std::int64_t>{typed})) << where;
    f = {};
    f.q = "restored power";
    f.account_id = "A-9";
    EXPECT_EQ(search_all(t, f, 50), (std::vector<std::int64_t>{late})) << where;
    f = {};
    f.q = "restored power";
    f.from = *parse_time("2026-11-21T00:00:00Z");
    EXPECT_EQ(search_all(t, f, 50), (std::vector<std::int64_t>{late})) << where;
    f.from.reset();
    f.to = *parse_time("2026-11-21T00:00:00Z");
    EXPECT_EQ(search_all(t, f, 50), (std::vector<std::int64_t>{typed, plain})) << where;
  };
  check("scanned");
  index_all(t);
  ASSERT_GE(watermark(t), late);
  check("indexed");
}

TEST(StoreMessageText, CatchesUpInBatches) {
  TestDb t;
  for (int i = 0; i < 25; ++i) insert_message(t, with_body("Meter read " + std::to_string(i)));
  const auto newest = std::stoll(t.query_value("SELECT max(id) FROM herald.messages"));
  const auto rounds = index_all(t, 10);
  EXPECT_GE(rounds, 4);  // a mark, then three batches of at most 10
  EXPECT_EQ(watermark(t), newest);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_text"), "25");
  // Nothing new: a round writes nothing, not even the watermark row, and the watermark stays.
  const auto row_version = t.query_value("SELECT xmin FROM herald.message_text_state");
  const auto idle = index_message_text(t.db(), 10);
  EXPECT_EQ(idle.indexed, 0u);
  EXPECT_EQ(idle.indexed_through, newest);
  EXPECT_EQ(t.query_value("SELECT xmin FROM herald.message_text_state"), row_version);
  // A new message after an idle round is still picked up.
  const auto next = insert_message(t, with_body("Meter read 26"));
  index_all(t, 10);
  EXPECT_EQ(watermark(t), next);
}

TEST(StoreMessageText, NeverPassesAMessageStillToCommit) {
  TestDb t;
  insert_message(t, with_body("first"));
  // A writer draws its id, then is slow to commit while a later writer commits a higher id.
  pqxx::connection slow(t.url());
  pqxx::work slow_tx(slow);
  const auto late_id = slow_tx.exec1(
      "INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, status, body)"
      " VALUES ('ev-slow', 'C-1', 'A-1', 'sms', '+12175550101', 'bill.ready', 'billing', 'sent', 'slow writer')"
      " RETURNING id")[0].as<std::int64_t>();
  const auto later = insert_message(t, with_body("later writer"));
  ASSERT_GT(later, late_id);
  for (int i = 0; i < 5; ++i) index_message_text(t.db(), 5000);
  EXPECT_LT(watermark(t), late_id);  // held below the open transaction's id

  slow_tx.commit();
  index_all(t);
  EXPECT_GE(watermark(t), later);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_text WHERE message_id = " + std::to_string(late_id)),
            "1");
  MessageFilter f;
  f.q = "slow writer";
  EXPECT_EQ(search_all(t, f, 50), (std::vector<std::int64_t>{late_id}));
}

TEST(StoreMessageText, DeletedMessagesVanishWithTheirText) {
  TestDb t;
  const auto kept = insert_message(t, with_body("Leak detected at meter 4"));
  const auto gone = insert_message(t, with_body("Leak detected at meter 5"));
  index_all(t);
  ASSERT_EQ(t.query_value("SELECT count(*) FROM herald.message_text"), "2");
  t.exec("DELETE FROM herald.messages WHERE id = " + std::to_string(gone));
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_text WHERE message_id = " + std::to_string(gone)),
            "0");
  MessageFilter f;
  f.q = "leak detected";
  EXPECT_EQ(search_all(t, f, 1), (std::vector<std::int64_t>{kept}));
}

// The indexer copies the message's written-once filter columns with its text (0020).
TEST(StoreMessageText, TextRowsCarryChannelTypeAndTopic) {
  TestDb t;
  MessageRow m = with_body("Possible water leak");
  m.channel = "voice";
  m.type = "leak.detected";
  m.topic = "other";
  const auto id = insert_message(t, m);
  index_all(t);
  EXPECT_EQ(t.query_value("SELECT channel || ' ' || type || ' ' || topic FROM herald.message_text WHERE message_id = " +
                          std::to_string(id)),
            "voice leak.detected other");
}

// Every way a search can be answered (the text side driving, messages_by_status or the dispatch
// queue driving, the tail scanned above the watermark) lists exactly what a plain scan of the
// messages would, page after page, also when the planner is kept from its preferred plan.
TEST(StoreMessageText, CombinedFiltersListWhatAPlainScanLists) {
  TestDb t;
  struct Row {
    std::int64_t id;
    MessageRow m;
  };
  std::vector<Row> rows;
  // Many older failed messages that match no search: with them a failed search counts more
  // status rows than text matches and is driven from the text; undelivered and suppressed are
  // driven from their few status rows.
  t.exec("INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, status, body,"
         " created_at) SELECT 'ev-old', 'C-9', 'A-9', 'sms', '+12175550199', 'bill.ready', 'billing', 'failed', 'filler',"
         " timestamptz '2026-10-01T00:00:00Z' + g * interval '1 second' FROM generate_series(1, 5100) g");
  const char* const channels[] = {"sms", "email", "voice"};
  const char* const types[][2] = {{"bill.ready", "billing"}, {"payment.declined", "billing"},
                                  {"leak.detected", "other"}, {"notice.broadcast", "outage"}};
  const char* const statuses[] = {"delivered", "sent", "failed", "delivered", "undelivered", "suppressed", "queued"};
  const char* const bodies[] = {"Your bill is due Friday", "Payment declined, card expired",
                                "Possible leak: water declined to stop", "Boil-water notice, bill credit due"};
  for (int i = 0; i < 240; ++i) {
    MessageRow m;
    m.channel = channels[(i * 7) % 3];
    const auto& type = types[(i * 5 + i / 11) % 4];
    m.type = type[0];
    m.topic = i % 13 == 0 ? "other" : type[1];  // a topic need not follow the type
    m.status = statuses[(i * 3 + i / 7) % 7];
    m.body = bodies[(i + i / 5) % 4] + std::string(" #") + std::to_string(i);
    m.customer_id = "C-" + std::to_string(i % 4);
    m.created_at = "2026-11-0" + std::to_string(1 + i / 40) + "T" + std::to_string(10 + (i % 40) / 4) + ":0" +
                   std::to_string(i % 4) + ":00Z";
    if (m.channel == "email") {
      m.subject = i % 2 ? "Bill due" : "Notice";
      m.address = "c" + std::to_string(i % 4) + "@example.com";
    }
    rows.push_back({insert_message(t, m), m});
    if (i == 160) {
      // Two thirds are indexed; the rest is the tail, scanned.
      index_all(t);
    }
  }
  // Statuses change after indexing (dispatch updates messages, never message_text).
  for (auto& r : rows) {
    if (r.id % 9 == 0 && r.m.status != "queued") {
      r.m.status = r.m.status == "failed" ? "delivered" : "failed";
      t.exec("UPDATE herald.messages SET status = '" + r.m.status + "' WHERE id = " + std::to_string(r.id));
    }
  }
  // Statistics as autovacuum would gather them: a status search chooses its side by them.
  t.exec("ANALYZE herald.message_text; ANALYZE herald.messages_by_status");
  const auto watermark_id = watermark(t);
  ASSERT_GT(watermark_id, rows.front().id);
  ASSERT_LT(watermark_id, rows.back().id);

  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  auto expected = [&](const MessageFilter& f) {
    std::vector<std::int64_t> out;
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      const auto& m = it->m;
      if (!f.customer_id.empty() && m.customer_id != f.customer_id) continue;
      if (f.channel && m.channel != to_string(*f.channel)) continue;
      if (!f.type.empty() && m.type != f.type) continue;
      if (f.topic && m.topic != to_string(*f.topic)) continue;
      if (f.status && m.status != to_string(*f.status)) continue;
      if (f.from && *parse_time(m.created_at) < *f.from) continue;
      if (f.to && !(*parse_time(m.created_at) < *f.to)) continue;
      if (lower(m.subject + " " + m.body).find(lower(f.q)) == std::string::npos) continue;
      out.push_back(it->id);
    }
    return out;
  };

  std::vector<std::pair<std::string, MessageFilter>> cases;
  auto add = [&](std::string name, std::function<void(MessageFilter&)> set) {
    for (const char* word : {"DUE", "leak", "bill d"}) {
      MessageFilter f;
      f.q = word;
      set(f);
      cases.emplace_back(name + " q=" + word, f);
    }
  };
  add("alone", [](MessageFilter&) {});
  add("type", [](MessageFilter& f) { f.type = "payment.declined"; });
  add("rare type", [](MessageFilter& f) { f.type = "leak.detected"; });
  add("topic", [](MessageFilter& f) { f.topic = Topic::billing; });
  add("topic other", [](MessageFilter& f) { f.topic = Topic::other; });
  add("channel", [](MessageFilter& f) { f.channel = Channel::voice; });
  add("channel + type + topic", [](MessageFilter& f) {
    f.channel = Channel::email;
    f.type = "bill.ready";
    f.topic = Topic::billing;
  });
  add("failed", [](MessageFilter& f) { f.status = MessageStatus::failed; });
  add("suppressed + channel", [](MessageFilter& f) {
    f.status = MessageStatus::suppressed;
    f.channel = Channel::sms;
  });
  add("undelivered + type", [](MessageFilter& f) {
    f.status = MessageStatus::undelivered;
    f.type = "bill.ready";
  });
  add("delivered + topic", [](MessageFilter& f) {
    f.status = MessageStatus::delivered;
    f.topic = Topic::billing;
  });
  add("queued", [](MessageFilter& f) { f.status = MessageStatus::queued; });
  add("customer + failed", [](MessageFilter& f) {
    f.customer_id = "C-2";
    f.status = MessageStatus::failed;
  });
  add("customer + type", [](MessageFilter& f) {
    f.customer_id = "C-1";
    f.type = "payment.declined";
  });
  add("type + range", [](MessageFilter& f) {
    f.type = "bill.ready";
    f.from = *parse_time("2026-11-02T12:00:00Z");
    f.to = *parse_time("2026-11-05T11:00:00Z");
  });
  add("failed + range", [](MessageFilter& f) {
    f.status = MessageStatus::failed;
    f.from = *parse_time("2026-11-03T00:00:00Z");
  });

  // The same searches with the planner kept from each of its ways in, so every plan it might
  // pick on a big history is checked here on a small one.
  const auto separator = t.url().find('?') == std::string::npos ? "?" : "&";
  for (const char* settings : {"", "-c enable_bitmapscan=off", "-c enable_indexscan=off", "-c enable_nestloop=off"}) {
    std::unique_ptr<Database> own;
    Database* db = &t.db();
    if (*settings) {
      std::string options;
      for (const char c : std::string(settings)) options += c == ' ' ? std::string("%20") : c == '=' ? "%3D" : std::string(1, c);
      own = std::make_unique<Database>(t.url() + separator + "options=" + options, 1);
      db = own.get();
    }
    for (const auto& [name, filter] : cases) {
      const auto want = expected(filter);
      const std::vector<int> page_sizes = *settings ? std::vector<int>{50} : std::vector<int>{6, 50};
      for (int page_size : page_sizes) {
        MessageFilter f = filter;
        f.limit = page_size;
        std::vector<std::int64_t> got;
        for (int pages = 0; pages < 100; ++pages) {
          const auto page = list_messages(*db, f);
          for (const auto& m : page.items) got.push_back(m.id);
          if (!page.next_before_id) break;
          f.before_id = *page.next_before_id;
        }
        EXPECT_EQ(got, want) << name << ", page size " << page_size << ", planner " << settings;
      }
    }
  }
}

// q alone or with channel, type or topic walks the rarest filter's index (or the key) when the
// word is common among its rows and takes the trigram matches when it is rare. The history here
// is shaped so both happen: "declined" is in a quarter of the messages (the walk, for every
// filter and page size below), "leak" in one percent (the matches); a tenth of the messages are
// voice, half of them declined.
// Every page lists what ILIKE over the messages lists, on both sides of the watermark, with the
// rows of each channel, type and topic mixed along the ids, and under each planner setting.
TEST(StoreMessageText, TextWithColumnFiltersWalksOrTakesMatchesAndListsTheSame) {
  TestDb t;
  const std::string insert =
      "INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, status, subject,"
      " body) SELECT 'ev-' || g, 'C-' || g % 5, 'A-' || g % 9,"
      " CASE WHEN g % 10 = 1 OR g % 200 = 7 THEN 'voice' WHEN g % 3 = 0 THEN 'email' ELSE 'sms' END, '+12175550101',"
      " (ARRAY['bill.ready', 'payment.declined', 'leak.detected', 'notice.broadcast'])[1 + g % 4],"
      " (ARRAY['billing', 'billing', 'other', 'outage'])[1 + (g + g / 7) % 4], 'delivered',"
      " CASE WHEN g % 3 = 0 THEN 'Notice ' || g ELSE '' END,"
      " CASE WHEN g % 100 = 7 THEN 'Possible LEAK at account A-' || g % 9"
      "      WHEN g % 4 = 1 THEN 'Payment Declined for account A-' || g % 9"
      "      ELSE 'Your bill of $' || g || ' is ready' END"
      " FROM generate_series($1::integer, $2::integer) g";
  pqxx::connection writer(t.url());
  {
    pqxx::work w(writer);
    w.exec_params(insert, 1, 3000);
    w.commit();
  }
  index_all(t);
  {
    pqxx::work w(writer);
    w.exec_params(insert, 3001, 3400);  // the tail, scanned
    w.commit();
  }
  t.exec("ANALYZE herald.message_text; ANALYZE herald.messages");
  const auto watermark_id = watermark(t);
  ASSERT_GT(watermark_id, 0);

  auto ilike_scan = [&](const MessageFilter& f) {
    pqxx::work w(writer);
    std::vector<std::int64_t> out;
    for (const auto& row : w.exec_params(
             "SELECT id FROM herald.messages WHERE (subject || ' ' || body) ILIKE '%' || $1 || '%'"
             " AND ($2 = '' OR channel = $2) AND ($3 = '' OR type = $3) AND ($4 = '' OR topic = $4) ORDER BY id DESC",
             f.q, f.channel ? std::string(to_string(*f.channel)) : "", f.type,
             f.topic ? std::string(to_string(*f.topic)) : "")) {
      out.push_back(row[0].as<std::int64_t>());
    }
    return out;
  };
  std::vector<MessageFilter> cases;
  for (const char* word : {"declined", "LEAK", "a-1", "payment declined for", "OF $12"}) {
    MessageFilter f;
    f.q = word;
    cases.push_back(f);
    f.channel = Channel::voice;
    cases.push_back(f);
    f.channel = Channel::sms;
    cases.push_back(f);
    f.channel.reset();
    f.type = "payment.declined";
    cases.push_back(f);
    f.type = "leak.detected";
    cases.push_back(f);
    f.type.clear();
    f.topic = Topic::outage;
    cases.push_back(f);
    f.topic = Topic::billing;
    f.channel = Channel::email;
    cases.push_back(f);
    f.type = "bill.ready";
    cases.push_back(f);
  }
  const auto separator = t.url().find('?') == std::string::npos ? "?" : "&";
  for (const char* settings : {"", "-c%20enable_bitmapscan%3Doff", "-c%20enable_indexscan%3Doff"}) {
    std::unique_ptr<Database> own;
    Database* db = &t.db();
    if (*settings) {
      own = std::make_unique<Database>(t.url() + separator + "options=" + settings, 1);
      db = own.get();
    }
    for (const auto& filter : cases) {
      const auto want = ilike_scan(filter);
      for (int page_size : {7, 50}) {
        MessageFilter f = filter;
        f.limit = page_size;
        std::vector<std::int64_t> got;
        for (int pages = 0; pages < 1000; ++pages) {
          const auto page = list_messages(*db, f);
          for (const auto& m : page.items) got.push_back(m.id);
          if (!page.next_before_id) break;
          f.before_id = *page.next_before_id;
        }
        EXPECT_EQ(got, want) << "q=" << filter.q << " channel=" << (filter.channel ? to_string(*filter.channel) : "")
                             << " type=" << filter.type << " topic=" << (filter.topic ? to_string(*filter.topic) : "")
                             << ", page size " << page_size << ", planner " << settings;
      }
    }
  }
  // The searches above reach rows on both sides of the watermark.
  MessageFilter declined;
  declined.q = "declined";
  const auto all = ilike_scan(declined);
  EXPECT_GT(all.front(), watermark_id);
  EXPECT_LT(all.back(), watermark_id);
}

// The messages above the watermark are checked with a faster ILIKE when a row and the pattern
// are ASCII only, and the index holds lower-cased text: both list exactly what ILIKE over the
// messages lists, with letters outside ASCII in the rows or the pattern too.
TEST(StoreMessageText, SearchesMatchILikeOnTextBeyondAscii) {
  TestDb t;
  for (const char* body : {"Corte de AGUA en Peñalolén", "Water main break", "Temperatura 300 \u212A en el depósito",
                           "Oficina de \u0130stanbul", "plain ascii KELVIN 300 k", "PEÑA y agua",
                           "Account A-12345 is past due", "Cuenta Ñ-4567 cerrada", "55 units on account a-12345-9"}) {
    insert_message(t, with_body(body));
  }
  // A run of digits and punctuation that ends the subject: q can span the subject and the body.
  MessageRow email = with_body("55 units, order 12-345/7 shipped");
  email.channel = "email";
  email.address = "ada@example.com";
  email.subject = "Ref 77-10";
  insert_message(t, email);
  pqxx::connection plain(t.url());
  auto ilike_scan = [&](const std::string& q) {
    pqxx::work w(plain);
    std::vector<std::int64_t> out;
    for (const auto& row : w.exec_params("SELECT id FROM herald.messages WHERE (subject || ' ' || body) ILIKE"
                                         " '%' || $1 || '%' ORDER BY id DESC",
                                         q)) {
      out.push_back(row[0].as<std::int64_t>());
    }
    return out;
  };
  const char* const words[] = {"peña", "PEÑALOLÉN", "agua", "water MAIN", "300 k", "istanbul", "\u0130stanbul",
                               "kelvin", "ñ", "DEPÓSITO", "\u212A",
                               // account and order numbers: the tail first looks for their digits and punctuation
                               "a-12345 ", "A-12345", "-12345-", "ñ-4567", "CUENTA Ñ-4567", "77-10 55", "ref 77-10",
                               "12-345/7", "12-345/8", "300 \u212A", "5 UNITS"};
  for (const char* where : {"scanned", "indexed"}) {
    if (std::string(where) == "indexed") index_all(t);
    for (const char* word : words) {
      MessageFilter f;
      f.q = word;
      EXPECT_EQ(search_all(t, f, 50), ilike_scan(word)) << word << ", " << where;
    }
  }
}

TEST(StoreMessageText, InstancesTakeTurns) {
  TestDb t;
  insert_message(t, with_body("hello"));
  pqxx::connection other(t.url());
  pqxx::work holding(other);
  holding.exec("SELECT 1 FROM herald.message_text_state FOR UPDATE");  // another instance's round
  const auto r = index_message_text(t.db(), 5000);
  EXPECT_FALSE(r.ran);
  holding.abort();
  EXPECT_TRUE(index_message_text(t.db(), 5000).ran);
}

}  // namespace
}  // namespace herald::store
