// The service keywords' actions and reply-to-pay: balance, payment, outage report and status,
// registration. Each reads the account it acts for from the request and answers in its language.
#include "herald/engine/service_actions.hpp"

#include <spdlog/spdlog.h>

#include "herald/rules/context.hpp"
#include "herald/store/outage_reports.hpp"
#include "herald/store/service_lookups.hpp"

namespace herald::engine {

namespace {

using gateways::CisOutcome;

struct Services {
  store::Database& db;
  std::shared_ptr<CisClient> cis;
  ServiceActionsConfig config;
};

// The request's texts with the values every text may use filled in.
struct Replies {
  rules::ServiceTexts texts;
  std::map<std::string, std::string> values;

  std::string say(const std::string& text, std::map<std::string, std::string> more = {}) const {
    for (const auto& [k, v] : values) more.emplace(k, v);
    return rules::fill_text(text, more);
  }
};

Replies replies_for(const Services& s, const ActionRequest& r) {
  Replies out;
  const std::string fallback = r.settings ? r.settings->default_language : std::string("en");
  out.texts = rules::service_texts_for(s.config.replies, r.language, fallback);
  if (r.settings) {
    out.values = {{"utility", r.settings->utility_name},
                  {"phone", r.settings->utility_phone},
                  {"url", r.settings->utility_url}};
  }
  if (r.account) {
    out.values["account"] = rules::mask_account(r.account->account_id);
    out.values["address"] = r.account->label.empty() ? out.values["account"] : r.account->label;
  }
  return out;
}

ActionResult answer(std::string reply, ActionResult::Next next = ActionResult::Next::close, std::string error = {}) {
  ActionResult out;
  out.reply = std::move(reply);
  out.next = next;
  out.error = std::move(error);
  return out;
}

// The account to act for: nullopt when there is one; otherwise the result to return (a question
// among several accounts, or "this number is not registered").
std::optional<ActionResult> without_account(const Services& s, const ActionRequest& r, Json carry = Json::object()) {
  if (r.account) return std::nullopt;
  if (auto ask = ask_which_account(r, r.action, std::move(carry))) return ask;
  return answer(replies_for(s, r).say(replies_for(s, r).texts.unknown_number));
}

store::CisActionOrigin origin_of(const ActionRequest& r) {
  store::CisActionOrigin o;
  if (r.account) o.account_id = r.account->account_id;
  if (r.conversation_id != 0) o.conversation_id = r.conversation_id;
  if (r.inbound_id != 0) o.inbound_id = r.inbound_id;
  return o;
}

// Keys derive from what asked, so asking again (a retry, a replay) reuses them.
std::string inbound_key(const ActionRequest& r, std::string_view action) {
  return "inbound-" + std::to_string(r.inbound_id) + "-" + std::string(action);
}
std::string conversation_key(const ActionRequest& r, std::string_view action) {
  if (r.conversation_id == 0) return inbound_key(r, action);
  return "conversation-" + std::to_string(r.conversation_id) + "-" + std::string(action);
}

ActionResult cis_down(const Replies& say, const CisResult& result, ActionResult::Next next = ActionResult::Next::close) {
  return answer(say.say(say.texts.cis_down), next, "cis: " + result.reason + (result.detail.empty() ? "" : " " + result.detail));
}

std::string text_of(const Json& j, const char* name) {
  if (!j.is_object()) return {};
  auto it = j.find(name);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return {};
}

std::string money(const std::string& amount) { return rules::format_money(Json(amount)).value_or(amount); }

std::string long_date(const std::string& date, const std::string& language) {
  return rules::format_long_date(date, "UTC", language).value_or(date);
}

// BAL -------------------------------------------------------------------------------------------

ActionResult balance(const Services& s, const ActionRequest& r) {
  if (auto other = without_account(s, r)) return *other;
  const auto say = replies_for(s, r);
  std::string amount, due_date;
  if (s.cis->configured()) {
    const auto result = s.cis->perform(gateways::kBalanceLookup, inbound_key(r, gateways::kBalanceLookup),
                                       {{"account_id", r.account->account_id}}, origin_of(r), r.now);
    if (result.outcome == CisOutcome::unavailable) return cis_down(say, result);
    if (result.outcome == CisOutcome::declined) return answer(say.say(say.texts.balance_none), ActionResult::Next::close,
                                                              "cis declined: " + result.reason);
    amount = text_of(result.data, "amount_due");
    due_date = text_of(result.data, "due_date");
  } else if (auto bill = store::latest_bill(s.db, r.account->account_id)) {
    amount = bill->amount_due;
    due_date = bill->due_date;
  }
  if (amount.empty()) return answer(say.say(say.texts.balance_none));
  const auto& text = due_date.empty() ? say.texts.balance_no_date : say.texts.balance;
  return answer(say.say(text, {{"amount", money(amount)}, {"due_date", long_date(due_date, r.language)}}));
}

// PAY and reply-to-pay --------------------------------------------------------------------------

ActionResult payment_request(const Services& s, const ActionRequest& r) {
  if (auto other = without_account(s, r)) return *other;
  const auto say = replies_for(s, r);
  if (!s.cis->configured()) return answer(say.say(say.texts.pay_unavailable));
  const auto result = s.cis->perform(gateways::kBalanceLookup, inbound_key(r, gateways::kBalanceLookup),
                                     {{"account_id", r.account->account_id}}, origin_of(r), r.now);
  if (result.outcome == CisOutcome::unavailable) return cis_down(say, result);
  const auto amount = text_of(result.data, "amount_due");
  const auto card = text_of(result.data, "card_last4");
  if (result.outcome == CisOutcome::declined || amount.empty())
    return answer(say.say(say.texts.balance_none), ActionResult::Next::close, "cis: " + result.reason);
  if (rules::money_cents(Json(amount)).value_or(0) <= 0) return answer(say.say(say.texts.pay_nothing_due));
  if (card.empty()) return answer(say.say(say.texts.pay_unavailable), ActionResult::Next::close, "no card on file");

  FollowUp confirm;
  confirm.replies = {{"Y", std::string(gateways::kPaymentAuthorize)}, {"N", "close"}};
  confirm.ttl = s.config.payment_confirmation_ttl;
  confirm.context = {{"amount_due", amount}, {"card_last4", card}, {"asked_by", "PAY"}};
  auto out = answer(say.say(say.texts.pay_confirm, {{"amount", money(amount)}, {"card", card}}),
                    ActionResult::Next::follow_up);
  out.follow_up = std::move(confirm);
  return out;
}

// The amount and card a conversation offered: its own context (PAY's question) or the data of
// the message that opened it (account.past_due's "Reply Y to pay").
std::string offered(const ActionRequest& r, const char* name) {
  auto v = text_of(r.context, name);
  if (v.empty() && r.context.contains("data")) v = text_of(r.context["data"], name);
  return v;
}

ActionResult payment_authorize(const Services& s, const ActionRequest& r) {
  if (auto other = without_account(s, r, r.context)) return *other;
  const auto say = replies_for(s, r);
  if (!s.cis->configured()) return answer(say.say(say.texts.pay_unavailable));
  const auto amount = offered(r, "amount_due");
  const auto card = offered(r, "card_last4");
  if (amount.empty()) return answer(say.say(say.texts.pay_unavailable), ActionResult::Next::close, "no amount offered");

  Json params{{"account_id", r.account->account_id}, {"amount", amount}, {"card", "on_file"}};
  if (!card.empty()) params["card_last4"] = card;
  const auto result = s.cis->perform(gateways::kPaymentAuthorize, conversation_key(r, gateways::kPaymentAuthorize),
                                     params, origin_of(r), r.now);
  switch (result.outcome) {
    case CisOutcome::ok: {
      const auto charged = text_of(result.data, "amount");
      const auto card_used = text_of(result.data, "card_last4");
      return answer(say.say(say.texts.paid, {{"amount", money(charged.empty() ? amount : charged)},
                                             {"card", card_used.empty() ? card : card_used},
                                             {"confirmation", text_of(result.data, "confirmation")}}));
    }
    case CisOutcome::declined: {
      const auto reason = result.detail.empty() ? result.reason : result.detail;
      return answer(say.say(say.texts.pay_declined, {{"reason", reason}}), ActionResult::Next::close,
                    "cis declined: " + result.reason);
    }
    case CisOutcome::unavailable: break;
  }
  // Open still: Y again tries again, under the same key.
  return cis_down(say, result, ActionResult::Next::keep);
}

// OUT and STATUS --------------------------------------------------------------------------------

ActionResult outage_report(const Services& s, const ActionRequest& r) {
  if (auto other = without_account(s, r)) return *other;
  const auto say = replies_for(s, r);
  store::NewOutageReport report;
  report.account_id = r.account->account_id;
  report.customer_id = r.account->customer_id;
  report.premise_id = r.account->premise_id;
  report.source = r.channel == Channel::voice ? "voice" : "sms";
  if (r.inbound_id != 0) report.inbound_id = r.inbound_id;
  report.note = r.text;
  report.created_at = r.now;
  const auto filed = store::file_outage_report(s.db, report);
  return answer(say.say(say.texts.outage_reported, {{"reference", filed.report_id}}));
}

ActionResult outage_status(const Services& s, const ActionRequest& r) {
  if (auto other = without_account(s, r)) return *other;
  const auto say = replies_for(s, r);
  const auto outage = store::outage_at_premise(s.db, r.account->premise_id);
  if (!outage) return answer(say.say(say.texts.no_outage));
  if (!outage->etr) return answer(say.say(say.texts.outage_known_no_etr, {{"status", outage->status}}));
  const auto etr = rules::format_long_time(format_time(*outage->etr), "UTC", r.language).value_or(format_time(*outage->etr));
  return answer(say.say(say.texts.outage_known, {{"status", outage->status}, {"etr", etr}}));
}

// REG -------------------------------------------------------------------------------------------

ActionResult registration_start(const Services& s, const ActionRequest& r) {
  const auto say = replies_for(s, r);
  FollowUp next;
  // Whatever the customer sends next (STOP, START and HELP still win).
  next.replies = {{std::string(rules::kAnyReply), "registration.verify"}};
  next.ttl = s.config.registration_ttl;
  next.context = {{"asked_by", "REG"}};
  auto out = answer(say.say(say.texts.reg_ask), ActionResult::Next::follow_up);
  out.follow_up = std::move(next);
  // Registering is for this number, whatever accounts it has now.
  out.follow_up->account = std::nullopt;
  return out;
}

ActionResult registration_verify(const Services& s, const ActionRequest& r) {
  auto say = replies_for(s, r);
  const auto reply = rules::parse_registration_reply(r.text);
  if (!reply) return answer(say.say(say.texts.reg_not_understood));
  std::optional<store::RegisteredAccount> account;
  if (s.cis->configured()) {
    const auto result = s.cis->perform(gateways::kRegistrationLookup, inbound_key(r, gateways::kRegistrationLookup),
                                       {{"account_id", reply->account_id}, {"zip", reply->zip}}, origin_of(r), r.now);
    if (result.outcome == CisOutcome::unavailable) return cis_down(say, result, ActionResult::Next::keep);
    const bool verified = result.ok() && result.data.value("verified", true);
    // The CIS vouches for the pair; Herald can link only an account it knows.
    if (verified) account = store::account_by_number(s.db, reply->account_id);
  } else {
    account = store::account_by_number_and_zip(s.db, reply->account_id, reply->zip);
  }
  if (!account) return answer(say.say(say.texts.reg_no_match));
  store::link_sms_contact(s.db, *account, r.address, "inbound:" + std::to_string(r.inbound_id), r.now);
  ActionRequest linked = r;
  linked.account = NumberAccount{account->customer_id, account->account_id, account->premise_id, account->label,
                                 account->language};
  if (!account->language.empty()) linked.language = account->language;
  say = replies_for(s, linked);
  return answer(say.say(say.texts.reg_done));
}

}  // namespace

void register_service_actions(ActionRegistry& registry, store::Database& db, std::shared_ptr<CisClient> cis,
                              ServiceActionsConfig config) {
  auto s = std::make_shared<Services>(Services{db, std::move(cis), std::move(config)});
  auto add = [&](const char* name, ActionResult (*fn)(const Services&, const ActionRequest&)) {
    registry.add(name, [s, fn](const ActionRequest& r) { return fn(*s, r); });
  };
  add("balance", balance);
  add("payment.request", payment_request);
  add(gateways::kPaymentAuthorize.data(), payment_authorize);
  add("outage.report", outage_report);
  add("outage.status", outage_status);
  add("registration.start", registration_start);
  add("registration.verify", registration_verify);
}

}  // namespace herald::engine
