// The engagement report's queries, each over one time range.
#include "herald/store/engagement.hpp"

#include "repo_util.hpp"

namespace herald::store {

namespace {

const char* const kInbound =
    "SELECT matched, keyword, count(*) FROM herald.inbound_messages"
    " WHERE received_at >= $1::timestamptz AND received_at < $2::timestamptz AND handled_at IS NOT NULL"
    " GROUP BY 1, 2 ORDER BY 1, 2";

// A STOP counts when it recorded the opt-out (a repeated STOP records nothing); what preceded it
// is the newest SMS a gateway had accepted for the number by then.
const char* const kOptOuts =
    "SELECT last.type, count(*) FROM herald.inbound_messages i"
    " LEFT JOIN LATERAL (SELECT m.type FROM herald.messages m"
    "   WHERE m.address = i.from_address AND m.channel = 'sms' AND m.status IN ('sent', 'delivered', 'undelivered')"
    "     AND coalesce(m.sent_at, m.updated_at) <= i.received_at"
    "   ORDER BY m.id DESC LIMIT 1) last ON true"
    " WHERE i.received_at >= $1::timestamptz AND i.received_at < $2::timestamptz AND i.matched = 'opt_out'"
    "   AND EXISTS (SELECT 1 FROM herald.consent_events ce WHERE ce.channel = 'sms' AND ce.address = i.from_address"
    "               AND ce.state = 'opted_out' AND ce.evidence = 'inbound:' || i.id)"
    " GROUP BY 1 ORDER BY 2 DESC, 1";

const char* const kQuestions =
    "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM herald.inbound_messages i"
    "                                                WHERE i.conversation_id = c.id))"
    " FROM herald.conversations c"
    " WHERE c.message_id IS NOT NULL AND c.opened_at >= $1::timestamptz AND c.opened_at < $2::timestamptz";

// Conversations that offered payment.authorize, opened by a message (reply-to-pay) or by PAY.
const char* const kPayments =
    "SELECT c.message_id IS NOT NULL, count(*),"
    " count(*) FILTER (WHERE EXISTS (SELECT 1 FROM herald.inbound_messages i"
    "                                WHERE i.conversation_id = c.id AND i.action = 'payment.authorize')),"
    " count(*) FILTER (WHERE EXISTS (SELECT 1 FROM herald.cis_actions a WHERE a.conversation_id = c.id"
    "                                AND a.action = 'payment.authorize' AND a.status = 'ok'))"
    " FROM herald.conversations c"
    " WHERE c.opened_at >= $1::timestamptz AND c.opened_at < $2::timestamptz"
    "   AND EXISTS (SELECT 1 FROM jsonb_each_text(c.expected) e WHERE e.value = 'payment.authorize')"
    " GROUP BY 1";

const char* const kOutageReports =
    "SELECT source, count(*) FROM herald.outage_reports"
    " WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz GROUP BY 1 ORDER BY 1";

const char* const kDelivery =
    "SELECT channel, count(*) FILTER (WHERE status IN ('sent', 'delivered', 'undelivered')),"
    " count(*) FILTER (WHERE status = 'delivered'), count(*) FILTER (WHERE status = 'undelivered')"
    " FROM herald.messages WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz"
    " GROUP BY 1 ORDER BY 1";

}  // namespace

EngagementReport engagement_report(Database& db, TimePoint from, TimePoint to) {
  const std::string f = format_time(from), t = format_time(to);
  EngagementReport out;
  with_connection(db, [&](pqxx::connection& c) {
    out = EngagementReport{};
    // One snapshot: the numbers agree with one another.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> w(c);
    for (const auto& r : w.exec_params(kInbound, f, t))
      out.inbound.push_back({r[0].c_str(), r[1].c_str(), r[2].as<std::int64_t>()});
    for (const auto& r : w.exec_params(kOptOuts, f, t))
      out.opt_outs.push_back({r[0].is_null() ? std::nullopt : std::optional<std::string>(r[0].c_str()),
                              r[1].as<std::int64_t>()});
    const auto q = w.exec_params1(kQuestions, f, t);
    out.questions_sent = q[0].as<std::int64_t>();
    out.questions_answered = q[1].as<std::int64_t>();
    for (const auto& r : w.exec_params(kPayments, f, t)) {
      auto& conv = r[0].as<bool>() ? out.reply_to_pay : out.pay_keyword;
      conv = {r[1].as<std::int64_t>(), r[2].as<std::int64_t>(), r[3].as<std::int64_t>()};
    }
    for (const auto& r : w.exec_params(kOutageReports, f, t)) out.outage_reports.emplace_back(r[0].c_str(), r[1].as<std::int64_t>());
    for (const auto& r : w.exec_params(kDelivery, f, t))
      out.delivery.push_back({r[0].c_str(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>(), r[3].as<std::int64_t>()});
    w.commit();
  });
  return out;
}

}  // namespace herald::store
