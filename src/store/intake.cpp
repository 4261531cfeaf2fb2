// Intake SQL: claim accepted events, load recipients, write messages and event outcomes in one transaction.
#include "herald/store/intake.hpp"

#include <optional>
#include <set>

#include "copy_line.hpp"
#include "herald/domain/json_io.hpp"
#include "pg.hpp"
#include "pg_array.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

// Every intake statement looks rows up by key: at most one batch of events, their accounts,
// customers, preferences and contacts. With a batch's thousands of keys the planner's default costs
// prefer reading whole tables (sequential and parallel scans, hash joins), and at 100,000
// customers it chose them for every batch: each batch scanned the customers, preferences and
// contacts tables, and the event claim read all pending events to sort them. Index lookups
// are what these statements need at any size, so the transaction asks for them.
const char* const kKeyedLookupsOnly =
    "SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off;"
    " SET LOCAL enable_bitmapscan = off; SET LOCAL max_parallel_workers_per_gather = 0";

// Area notices (a notice.broadcast without an account) are the area-notice round's (0019).
const char* const kClaimEvents = R"SQL(
SELECT seq, event_id, type, coalesce(account_id, ''),
       (extract(epoch FROM occurred_at) * 1000000)::bigint, data::text
FROM herald.events
-- outage.updated rows are the outage loop's, area notices (no account) the area notice loop's
WHERE status = 'accepted' AND type <> 'outage.updated' AND NOT (type = 'notice.broadcast' AND account_id IS NULL)
ORDER BY seq
LIMIT $1
FOR UPDATE SKIP LOCKED)SQL";

const char* const kLoadAccounts = R"SQL(
SELECT a.account_id, a.customer_id, a.premise_id, a.service_address::text, a.timezone, a.feeder,
       to_json(a.segments)::text, a.language, c.name, c.language,
       p.topics::text, p.quiet_hours_enabled, p.quiet_start, p.quiet_end, p.language
FROM herald.accounts a
JOIN herald.customers c USING (customer_id)
LEFT JOIN herald.preferences p USING (customer_id)
WHERE a.account_id = ANY($1::text[]) AND a.active)SQL";

// contacts.consent is the current consent of the address (kept by 0002_contact_consent.sql).
const char* const kLoadContacts = R"SQL(
SELECT ct.customer_id, ct.contact_id, ct.channel, ct.address, ct.verified, ct.source, ct.consent
FROM herald.contacts ct
WHERE ct.customer_id = ANY($1::text[]) AND ct.active
ORDER BY ct.contact_id)SQL";

// Messages are written with COPY: several times the throughput of a multi-row INSERT. Their
// ids are drawn from the sequence first, so the queue rows can be written by COPY as well.
const char* const kReserveMessageIds =
    "SELECT nextval('herald.messages_id_seq') FROM generate_series(1, $1::integer)";

const std::vector<std::string> kMessageColumns = {
    "id", "event_seq", "event_id", "customer_id", "account_id", "contact_id", "channel", "address", "type", "topic",
    "language", "priority", "urgent", "subject", "body", "html", "unsubscribe_url", "segments", "encoding", "status",
    "suppression_reason", "decision", "not_before", "expires_at", "created_at", "updated_at"};

const std::vector<std::string> kQueueColumns = {"message_id", "due_at", "lane"};

const char* const kFinishEvents = R"SQL(
UPDATE herald.events e
SET status = x.status, error = x.error, processed_at = $2::timestamptz
FROM jsonb_to_recordset($1::jsonb) AS x(seq bigint, status text, error jsonb)
WHERE e.seq = x.seq)SQL";

TimePoint from_epoch_us(long long us) { return TimePoint(std::chrono::microseconds(us)); }

std::vector<Event> claim(pqxx::work& w, std::size_t limit) {
  std::vector<Event> events;
  for (const auto& row : w.exec_params(kClaimEvents, static_cast<long long>(limit))) {
    Event e;
    e.seq = row[0].as<long long>();
    e.event_id = row[1].as<std::string>();
    e.type = row[2].as<std::string>();
    e.account_id = row[3].as<std::string>();
    e.occurred_at = from_epoch_us(row[4].as<long long>());
    e.data = Json::parse(row[5].as<std::string>(), nullptr, false);
    if (e.data.is_discarded()) e.data = Json::object();
    events.push_back(std::move(e));
  }
  return events;
}

struct Recipients {
  RecipientContexts contexts;
  std::map<std::string, std::string> unreadable;  // account id -> why its rows cannot be read
};

// A recipient's rows are decoded one account (and one customer's contacts) at a time: a row
// this build cannot read rejects the events of that account, not the whole batch, and not
// every later batch that would claim the same events again.
Recipients load_recipients(pqxx::work& w, const std::vector<Event>& events) {
  std::set<std::string> account_ids;
  for (const auto& e : events)
    if (!e.account_id.empty()) account_ids.insert(e.account_id);
  Recipients out;
  if (account_ids.empty()) return out;

  std::set<std::string> customer_ids;
  for (const auto& row : w.exec_params(kLoadAccounts, text_array({account_ids.begin(), account_ids.end()}))) {
    RecipientContext r;
    r.account.account_id = row[0].as<std::string>();
    try {
      r.customer.customer_id = row[1].as<std::string>();
      r.account.premise_id = row[2].as<std::string>();
      const auto address = Json::parse(row[3].as<std::string>(), nullptr, false);
      if (address.is_object()) {
        auto text = [&](const char* key) { return address.contains(key) && address[key].is_string() ? address[key].get<std::string>() : std::string(); };
        r.account.service_address = {text("line1"), text("line2"), text("city"), text("state"), text("zip")};
      }
      r.account.timezone = row[4].as<std::string>();
      r.account.feeder = row[5].as<std::string>();
      const auto segments = Json::parse(row[6].as<std::string>(), nullptr, false);
      if (segments.is_array())
        for (const auto& s : segments)
          if (s.is_string()) r.account.segments.push_back(s.get<std::string>());
      r.account.language = row[7].as<std::string>();
      r.customer.name = row[8].as<std::string>();
      r.customer.language = row[9].as<std::string>();
      r.preferences_stored = !row[10].is_null();
      if (r.preferences_stored) r.preferences = preferences_of(row, 10);
    } catch (const std::runtime_error& e) {
      out.unreadable.emplace(r.account.account_id, e.what());
      continue;
    }
    customer_ids.insert(r.customer.customer_id);
    out.contexts.emplace(r.account.account_id, std::move(r));
  }
  if (customer_ids.empty()) return out;

  std::map<std::string, std::vector<Contact>> contacts;
  std::map<std::string, std::string> unreadable_customers;
  for (const auto& row : w.exec_params(kLoadContacts, text_array({customer_ids.begin(), customer_ids.end()}))) {
    const auto customer_id = row[0].as<std::string>();
    try {
      Contact c;
      c.id = row[1].as<long long>();
      c.channel = channel_of(row[2]);
      c.address = row[3].as<std::string>();
      c.verified = row[4].as<bool>();
      c.source = row[5].as<std::string>();
      c.consent = consent_of(row[6]);
      contacts[customer_id].push_back(std::move(c));
    } catch (const std::runtime_error& e) {
      unreadable_customers.emplace(customer_id, e.what());
    }
  }
  for (auto it = out.contexts.begin(); it != out.contexts.end();) {
    auto& r = it->second;
    if (const auto bad = unreadable_customers.find(r.customer.customer_id); bad != unreadable_customers.end()) {
      out.unreadable.emplace(it->first, bad->second);
      it = out.contexts.erase(it);
      continue;
    }
    if (const auto found = contacts.find(r.customer.customer_id); found != contacts.end()) r.contacts = found->second;
    r.customer.contacts = r.contacts;
    ++it;
  }
  return out;
}

bool goes_out(const Message& m) { return m.status == MessageStatus::queued || m.status == MessageStatus::scheduled; }

// One COPY row, in kMessageColumns order. `not_before` is m.not_before formatted ("" when unset).
void copy_message(CopyWriter& copy, CopyLine& line, std::int64_t id, const Message& m, const std::string& not_before,
                  const std::string& stamp) {
  line.clear();
  line.integer(id)
      .integer(m.event_seq)
      .text(m.event_id)
      .text(m.customer_id)
      .text(m.account_id);
  if (m.contact_id != 0) line.integer(m.contact_id);
  else line.null();
  line.text(to_string(m.channel))
      .text(m.address)
      .text(m.type)
      .text(to_string(m.topic))
      .text(m.language)
      .integer(m.priority)
      .boolean(m.urgent)
      .text(m.subject)
      .text(m.body)
      .text(m.html)
      .text(m.unsubscribe_url)
      .integer(m.segments)
      .text(m.encoding)
      .text(to_string(m.status))
      .text_or_null(m.suppression_reason, !m.suppression_reason.empty())
      .text(m.decision.dump())
      .text_or_null(not_before, m.not_before.has_value())
      .text_or_null(m.expires_at ? format_time(*m.expires_at) : std::string(), m.expires_at.has_value())
      .text(stamp)
      .text(stamp);
  copy.write(line);
}

}  // namespace

struct IntakeBatch::Impl {
  explicit Impl(Database& db) : lease(db) {}
  ConnectionLease lease;
  std::optional<pqxx::work> work;  // declared after the lease: ends (rolls back) before it
  std::vector<Event> events;
  RecipientContexts recipients;
  std::vector<EventOutcome> rejected;

  // Runs fn; a broken connection is dropped so that the pool opens a fresh one next time.
  template <typename F>
  auto guarded(F&& fn) {
    try {
      return fn();
    } catch (const pqxx::broken_connection&) {
      work.reset();
      lease.discard();
      throw;
    }
  }

  void claim_and_load(std::size_t limit) {
    work.emplace(lease.get());
    work->exec(kKeyedLookupsOnly);
    auto claimed = claim(*work, limit);
    if (claimed.empty()) return;
    auto loaded = load_recipients(*work, claimed);
    recipients = std::move(loaded.contexts);
    for (auto& e : claimed) {
      if (const auto bad = loaded.unreadable.find(e.account_id); bad != loaded.unreadable.end()) {
        EventOutcome o;
        o.seq = e.seq;
        o.rejection = invalid("account_id", "unreadable_recipient",
                              "the stored data of account '" + e.account_id + "' cannot be read: " + bad->second);
        rejected.push_back(std::move(o));
      } else {
        events.push_back(std::move(e));
      }
    }
  }
};

IntakeBatch::IntakeBatch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IntakeBatch::IntakeBatch(IntakeBatch&&) noexcept = default;
IntakeBatch& IntakeBatch::operator=(IntakeBatch&&) noexcept = default;
IntakeBatch::~IntakeBatch() = default;

IntakeBatch IntakeBatch::open(Database& db, std::size_t limit) {
  auto impl = std::make_unique<Impl>(db);
  try {
    impl->guarded([&] { impl->claim_and_load(limit); });
  } catch (const pqxx::broken_connection&) {
    // A pooled connection may have died with a Postgres restart; one fresh try.
    impl->events.clear();
    impl->rejected.clear();
    impl->recipients.clear();
    impl->guarded([&] { impl->claim_and_load(limit); });
  }
  return IntakeBatch(std::move(impl));
}

const std::vector<Event>& IntakeBatch::events() const { return impl_->events; }
const RecipientContexts& IntakeBatch::recipients() const { return impl_->recipients; }
const std::vector<EventOutcome>& IntakeBatch::rejected() const { return impl_->rejected; }
std::size_t IntakeBatch::claimed() const { return impl_->events.size() + impl_->rejected.size(); }

std::size_t IntakeBatch::commit(const std::vector<EventOutcome>& outcomes, TimePoint now) {
  auto& i = *impl_;
  if (!i.work) return 0;  // nothing was claimed
  return i.guarded([&]() -> std::size_t {
    auto& w = *i.work;
    const auto stamp = format_time(now);
    Json finished = Json::array();
    std::size_t message_count = 0;
    const std::vector<EventOutcome>* const lists[] = {&i.rejected, &outcomes};
    for (const auto* list : lists) {
      for (const auto& o : *list) {
        if (o.rejection) {
          finished.push_back({{"seq", o.seq}, {"status", "rejected"}, {"error", to_json(*o.rejection)["error"]}});
        } else {
          finished.push_back({{"seq", o.seq}, {"status", "processed"}, {"error", nullptr}});
          message_count += o.messages.size();
        }
      }
    }
    std::size_t due_count = 0;
    if (message_count > 0) {
      std::vector<std::int64_t> ids;
      ids.reserve(message_count);
      for (const auto& row : w.exec_params(kReserveMessageIds, static_cast<long long>(message_count)))
        ids.push_back(row[0].as<std::int64_t>());

      // Queue rows (message id, due time, lane) of the messages that go out, gathered while
      // the messages are written.
      struct QueueRow {
        std::int64_t id;
        std::string due_at;
        Lane lane;
      };
      std::vector<QueueRow> queued;
      CopyLine line;
      {
        CopyWriter copy(w, "herald.messages", kMessageColumns);
        std::size_t n = 0;
        for (const auto& o : outcomes) {
          if (o.rejection) continue;
          for (const auto& m : o.messages) {
            std::string not_before = m.not_before ? format_time(*m.not_before) : std::string();
            copy_message(copy, line, ids[n], m, not_before, stamp);
            if (goes_out(m)) queued.push_back({ids[n], m.not_before ? std::move(not_before) : stamp, o.lane});
            ++n;
          }
        }
        copy.complete();
      }
      due_count = queued.size();
      if (due_count > 0) {
        CopyWriter queue(w, "herald.message_queue", kQueueColumns);
        for (const auto& q : queued) {
          line.clear();
          line.integer(q.id).text(q.due_at).integer(static_cast<int>(q.lane));
          queue.write(line);
        }
        queue.complete();
      }
    }
    w.exec_params(kFinishEvents, finished.dump(), stamp);
    if (due_count > 0) w.exec("NOTIFY herald_messages");
    w.commit();
    i.work.reset();
    return due_count;
  });
}

}  // namespace herald::store
