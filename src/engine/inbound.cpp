// The inbound SMS pipeline: store once, classify, act in the order of MESSAGING_RULES.md, reply.
#include "herald/engine/inbound.hpp"

#include <chrono>
#include <thread>

#include <spdlog/spdlog.h>

#include "herald/domain/metrics.hpp"
#include "herald/domain/phone.hpp"
#include "herald/rules/conversation.hpp"
#include "herald/store/consent.hpp"
#include "herald/store/contacts.hpp"

namespace herald::engine {

namespace {

// How long a replay waits for its first delivery, still being handled elsewhere, to be answered.
constexpr auto kReplayWait = std::chrono::seconds(5);
constexpr auto kReplayPoll = std::chrono::milliseconds(50);

Json account_json(const NumberAccount& a) {
  return {{"customer_id", a.customer_id}, {"account_id", a.account_id}, {"premise_id", a.premise_id},
          {"label", a.label}, {"language", a.language}};
}

std::optional<NumberAccount> account_from_json(const Json& j) {
  if (!j.is_object() || !j.contains("account_id")) return std::nullopt;
  auto text = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
  return NumberAccount{text("customer_id"), text("account_id"), text("premise_id"), text("label"), text("language")};
}

std::map<std::string, std::string> utility_values(const InboundSettings& s) {
  return {{"utility", s.utility_name}, {"phone", s.utility_phone}, {"url", s.utility_url}};
}

rules::InboundTexts filled_texts(const InboundSettings& s, std::string_view language) {
  auto t = rules::texts_for(s.replies, language, s.default_language);
  const auto values = utility_values(s);
  for (auto field : {&rules::InboundTexts::opted_out, &rules::InboundTexts::opted_in,
                     &rules::InboundTexts::contact_confirmed, &rules::InboundTexts::help,
                     &rules::InboundTexts::menu, &rules::InboundTexts::choose_account, &rules::InboundTexts::closed,
                     &rules::InboundTexts::unavailable})
    t.*field = rules::fill_text(t.*field, values);
  return t;
}

metrics::Counter& inbound_counter(const std::string& matched) {
  return metrics::Registry::global().counter("herald_inbound_total", "Inbound messages by what they matched",
                                             {{"matched", matched}});
}

}  // namespace

void ActionRegistry::add(std::string name, Action action) { actions_[std::move(name)] = std::move(action); }

const Action* ActionRegistry::find(std::string_view name) const {
  auto it = actions_.find(name);
  return it == actions_.end() ? nullptr : &it->second;
}

std::vector<std::string> ActionRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : actions_) out.push_back(name);
  return out;
}

rules::InboundTexts texts_for(const ActionRequest& request) {
  static const InboundSettings kDefaults;
  return filled_texts(request.settings ? *request.settings : kDefaults, request.language);
}

std::optional<ActionResult> ask_which_account(const ActionRequest& request, std::string_view then_action, Json carry) {
  if (request.account || request.accounts.size() < 2) return std::nullopt;
  const auto texts = texts_for(request);
  Json choices = Json::object();
  std::string listed;
  FollowUp follow_up;
  for (std::size_t i = 0; i < request.accounts.size(); ++i) {
    const auto& a = request.accounts[i];
    const auto key = std::to_string(i + 1);
    const auto label = a.label.empty() ? "account " + a.account_id : a.label;
    if (!listed.empty()) listed += ", ";
    listed += rules::fill_text(texts.choice_item, {{"key", key}, {"label", label}});
    choices[key] = {{"account", account_json(a)}};
    follow_up.replies[key] = "choose";
  }
  if (request.settings) follow_up.ttl = request.settings->choice_ttl;
  follow_up.context = {{"choices", choices}, {"then", std::string(then_action)}, {"carry", std::move(carry)}};
  ActionResult r;
  r.reply = rules::fill_text(texts.choose_account, {{"choices", listed}});
  r.next = ActionResult::Next::follow_up;
  r.follow_up = std::move(follow_up);
  return r;
}

void register_builtin_actions(ActionRegistry& registry) {
  registry.add("close", [](const ActionRequest& r) {
    ActionResult out;
    out.reply = texts_for(r).closed;
    return out;
  });
  registry.add("choose", [&registry](const ActionRequest& r) {
    const auto& choices = r.context.value("choices", Json::object());
    const auto then = r.context.value("then", std::string());
    const Action* next = registry.find(then);
    if (!choices.contains(r.reply) || !next) {
      ActionResult out;
      out.reply = texts_for(r).unavailable;
      out.error = "choose: no choice '" + r.reply + "' or no action '" + then + "'";
      return out;
    }
    ActionRequest chosen = r;
    chosen.action = then;
    chosen.context = r.context.value("carry", Json::object());
    if (auto account = account_from_json(choices[r.reply].value("account", Json())); account) {
      chosen.account = account;
      if (!account->language.empty()) chosen.language = account->language;
    }
    return (*next)(chosen);
  });
}

struct InboundPipeline::Impl {
  store::Database& db;
  InboundSettings settings;
  const ActionRegistry& actions;
  const rules::Clock& clock;

  store::InboundOutcome act(std::int64_t inbound_id, const std::string& from, const std::string& body, TimePoint now);
  store::InboundOutcome act_on_keys(std::int64_t inbound_id, const std::string& from, const InboundSms& keys,
                                    TimePoint now);
  ActionRequest conversation_request(std::int64_t inbound_id, Channel channel, const std::string& from,
                                     const std::string& body, const rules::ReplyMatch& match,
                                     const store::Conversation& conversation,
                                     const std::vector<NumberAccount>& accounts, std::string language, TimePoint now);
  store::InboundOutcome run_action(const std::string& name, ActionRequest request,
                                   const std::optional<store::Conversation>& conversation, TimePoint now);
  void opt_in(const std::string& from, std::int64_t inbound_id, TimePoint now);
};

InboundPipeline::InboundPipeline(store::Database& db, InboundSettings settings, const ActionRegistry& actions,
                                 const rules::Clock& clock)
    : impl_(std::make_unique<Impl>(Impl{db, std::move(settings), actions, clock})) {}
InboundPipeline::~InboundPipeline() = default;

const InboundSettings& InboundPipeline::settings() const { return impl_->settings; }

InboundResult InboundPipeline::handle(const InboundSms& sms) {
  auto& s = *impl_;
  const auto now = s.clock.now();
  const std::string from = to_e164(sms.from, s.settings.default_region).value_or(sms.from);
  store::NewInbound in{sms.provider, sms.provider_message_id, sms.channel, from, sms.to, sms.body,
                       sms.received_at == TimePoint{} ? now : sms.received_at};
  auto stored = store::store_inbound(s.db, in, now);
  if (stored.duplicate) {
    inbound_counter("duplicate").inc();
    // The first delivery stored it: answer what it answered. If it is still being handled
    // (the provider retried quickly), wait a little for its answer; if whoever handled it
    // died, take it over.
    const bool take_over = !stored.handled && store::reclaim_inbound(s.db, stored.id, now - s.settings.reclaim_after, now);
    if (!take_over) {
      const auto deadline = std::chrono::steady_clock::now() + kReplayWait;
      while (!stored.handled && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(kReplayPoll);
        if (auto again = store::inbound_state(s.db, stored.id)) stored.handled = again->handled, stored.reply = again->reply;
      }
      return {stored.id, true, stored.reply};
    }
  }
  auto outcome = sms.channel == Channel::voice ? s.act_on_keys(stored.id, from, sms, now)
                                               : s.act(stored.id, from, sms.body, now);
  store::record_inbound_outcome(s.db, stored.id, outcome, now);
  inbound_counter(outcome.matched).inc();
  return {stored.id, false, outcome.reply};
}

void InboundPipeline::Impl::opt_in(const std::string& from, std::int64_t inbound_id, TimePoint now) {
  if (store::current_consent(db, Channel::sms, from) == ConsentState::opted_out)
    store::record_consent(db, Channel::sms, from, std::nullopt, ConsentState::opted_in, "sms",
                          "inbound:" + std::to_string(inbound_id), now);
}

store::InboundOutcome InboundPipeline::Impl::act(std::int64_t inbound_id, const std::string& from,
                                                 const std::string& body, TimePoint now) {
  store::InboundOutcome out;
  const auto accounts = store::accounts_for_number(db, Channel::sms, from);
  std::string language = accounts.empty() ? std::string() : accounts.front().language;
  const auto c = rules::classify(body, settings.keywords, language.empty() ? settings.default_language : language);
  if (language.empty()) language = c.language.empty() ? settings.default_language : c.language;
  const auto texts = filled_texts(settings, language);
  const auto consent = store::current_consent(db, Channel::sms, from);
  const auto evidence = "inbound:" + std::to_string(inbound_id);
  out.keyword = c.keyword;

  switch (c.intent) {
    case rules::Intent::opt_out:
      out.matched = "opt_out";
      // A stopped number has nothing left to answer.
      store::cancel_open_conversations(db, Channel::sms, from, now);
      if (consent == ConsentState::opted_out) return out;  // one confirmation only
      // Suppresses what is still waiting for the number in the same transaction.
      store::record_opt_out(db, Channel::sms, from, std::nullopt, "sms", evidence, now);
      out.reply = texts.opted_out;
      return out;
    case rules::Intent::opt_in:
      out.matched = "opt_in";
      opt_in(from, inbound_id, now);
      out.reply = texts.opted_in;
      return out;
    case rules::Intent::help:
      out.matched = "help";
      out.reply = texts.help;
      return out;
    default: break;
  }

  std::optional<store::Conversation> conversation;
  if (consent != ConsentState::opted_out) conversation = store::newest_open_conversation(db, Channel::sms, from, now);
  if (conversation) {
    if (auto m = rules::match_reply(conversation->expected, body)) {
      auto request = conversation_request(inbound_id, Channel::sms, from, body, *m, *conversation, accounts, language, now);
      out = run_action(m->action, std::move(request), conversation, now);
      out.matched = "conversation";
      out.keyword = m->reply;
      return out;
    }
  }

  if (c.intent == rules::Intent::yes) {
    // A YES to a code text confirms the number a customer added on the web (and records its
    // opt-in); any other YES opts the number back in.
    if (store::confirm_contact_by_reply(db, from, std::to_string(inbound_id), now)) {
      out.matched = "contact_confirmed";
      out.reply = texts.contact_confirmed;
      return out;
    }
    out.matched = "yes";
    opt_in(from, inbound_id, now);
    out.reply = texts.opted_in;
    return out;
  }
  if (consent == ConsentState::opted_out) {
    // Nothing but START and HELP is answered once a number has opted out.
    out.matched = "ignored";
    return out;
  }
  if (c.intent == rules::Intent::service) {
    auto it = settings.service_actions.find(c.keyword);
    if (it != settings.service_actions.end() && actions.find(it->second)) {
      ActionRequest request;
      request.inbound_id = inbound_id;
      request.address = from;
      request.text = body;
      request.reply = c.keyword;
      request.accounts = accounts;
      if (accounts.size() == 1) request.account = accounts.front();
      request.language = language;
      request.now = now;
      request.settings = &settings;
      out = run_action(it->second, std::move(request), std::nullopt, now);
      out.matched = "service";
      out.keyword = c.keyword;
      return out;
    }
  }
  out.matched = "menu";
  out.reply = texts.menu;
  return out;
}

ActionRequest InboundPipeline::Impl::conversation_request(std::int64_t inbound_id, Channel channel, const std::string& from,
                                                         const std::string& body, const rules::ReplyMatch& match,
                                                         const store::Conversation& conversation,
                                                         const std::vector<NumberAccount>& accounts,
                                                         std::string language, TimePoint now) {
  ActionRequest request;
  request.inbound_id = inbound_id;
  request.channel = channel;
  request.address = from;
  request.text = body;
  request.reply = match.reply;
  request.conversation_id = conversation.id;
  request.context = conversation.context;
  request.accounts = accounts;
  request.language = std::move(language);
  request.now = now;
  request.settings = &settings;
  if (!conversation.account_id.empty()) {
    request.account = NumberAccount{conversation.customer_id, conversation.account_id, "", "", request.language};
    for (const auto& a : accounts)
      if (a.account_id == conversation.account_id && a.customer_id == conversation.customer_id) request.account = a;
    if (!request.account->language.empty()) request.language = request.account->language;
  } else if (accounts.size() == 1) {
    request.account = accounts.front();
  }
  return request;
}

// Keys pressed during a call answer the conversation its message opened when the call was
// answered, and nothing else: a key that is not one of its replies is "ignored" with no reply,
// and the call asks again.
store::InboundOutcome InboundPipeline::Impl::act_on_keys(std::int64_t inbound_id, const std::string& from,
                                                         const InboundSms& keys, TimePoint now) {
  store::InboundOutcome out;
  out.matched = "ignored";
  const auto conversation = store::open_conversation_of_call(db, keys.call_message_id, now);
  if (!conversation) return out;
  const auto match = rules::match_reply(conversation->expected, keys.body);
  if (!match) return out;
  const auto accounts = store::accounts_for_number(db, Channel::voice, from);
  const std::string language = accounts.empty() || accounts.front().language.empty() ? settings.default_language
                                                                                     : accounts.front().language;
  auto request = conversation_request(inbound_id, Channel::voice, from, keys.body, *match, *conversation, accounts,
                                      language, now);
  out = run_action(match->action, std::move(request), conversation, now);
  out.matched = "conversation";
  out.keyword = match->reply;
  return out;
}

store::InboundOutcome InboundPipeline::Impl::run_action(const std::string& name, ActionRequest request,
                                                        const std::optional<store::Conversation>& conversation,
                                                        TimePoint now) {
  store::InboundOutcome out;
  out.action = name;
  out.conversation_id = conversation ? conversation->id : 0;
  request.action = name;
  ActionResult result;
  if (const Action* action = actions.find(name)) {
    try {
      result = (*action)(request);
    } catch (const std::exception& e) {
      spdlog::error("inbound: action {} failed for inbound {}: {}", name, request.inbound_id, e.what());
      result = ActionResult{};
      result.reply = filled_texts(settings, request.language).unavailable;
      result.error = std::string("action failed: ") + e.what();
      result.next = ActionResult::Next::keep;  // the customer may try the same answer again
    }
  } else {
    result.reply = filled_texts(settings, request.language).unavailable;
    result.error = "no action named '" + name + "'";
    result.next = ActionResult::Next::keep;
  }
  out.reply = result.reply;
  out.error = result.error;

  if (result.next == ActionResult::Next::follow_up && result.follow_up) {
    const auto& f = *result.follow_up;
    const auto account = f.account ? f.account : request.account;
    store::Conversation next;
    if (conversation) next.parent_id = conversation->id;  // supersedes the one answered
    next.channel = request.channel;
    next.address = request.address;
    next.customer_id = account ? account->customer_id : std::string();
    next.account_id = account ? account->account_id : std::string();
    next.expected = rules::expected_json(f.replies);
    next.context = f.context;
    next.opened_at = now;
    next.expires_at = now + f.ttl;
    store::open_conversation(db, next);
  } else if (conversation && result.next != ActionResult::Next::keep) {
    store::close_conversation(db, conversation->id, "closed", now);
  }
  return out;
}

}  // namespace herald::engine
