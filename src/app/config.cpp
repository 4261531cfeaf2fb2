// Loading heraldd.toml and HERALD_* overrides into Config: every key, its type and range.
#include "herald/app/config.hpp"

#include <sstream>
#include <thread>

#include "herald/rules/event_data.hpp"

#include "config_reader.hpp"

namespace herald::app {

namespace {

// [rules.types."bill.ready".data] amount_due = { kind = "money", required = true }: a field
// declared here replaces the built-in declaration of that name; the type's other fields stay.
void read_data_fields(const toml::table& data, EventTypeRule& rule, std::vector<ApiError>& errors) {
  for (const auto& [name_key, node] : data) {
    const std::string key = "data." + std::string(name_key.str());
    const auto* spec = node.as_table();
    if (!spec) {
      errors.push_back(config_error(key, "expected a table such as { kind = \"money\", required = true }"));
      continue;
    }
    Flat flat;
    for (const auto& [k, v] : *spec) flat[std::string(k.str())] = node_text(v);
    std::set<std::string> used;
    std::vector<ApiError> local;
    Reader r{flat, used, local};
    DataField field;
    if (auto v = r.find("kind")) {
      if (auto kind = rules::parse_data_kind(*v)) field.kind = *kind;
      else local.push_back(config_error("kind", "unknown kind '" + *v +
                                                    "' (text, money, number, integer, date, datetime, url, choice)"));
    } else {
      local.push_back(config_error("kind", "missing"));
    }
    r.boolean("required", field.required);
    r.boolean("negative", field.negative);
    r.boolean("multiline", field.multiline);
    r.integer("max_length", field.max_length, 1, 100000);
    r.number("max", field.max, 0);
    if (auto v = r.find("choices")) field.choices = split_list(*v);
    if (field.kind == DataKind::choice && field.choices.empty())
      local.push_back(config_error("choices", "a choice field needs its choices"));
    for (const auto& [k, _] : flat)
      if (!used.count(k)) local.push_back(config_error(k, "unknown key"));
    for (auto& e : local) {
      e.field = key + "." + e.field;
      e.message = key + "." + e.message;
      errors.push_back(std::move(e));
    }
    rule.data[std::string(name_key.str())] = field;
  }
}

// [rules.types."account.past_due".conversation] ttl_hours = 72, replies = { Y = "payment.authorize",
// N = "close" }: what an SMS of this type asks; check-config checks the replies and actions.
void read_conversation(const toml::table& t, rules::ConversationSpec& spec, std::vector<ApiError>& errors) {
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "replies") {
      const auto* replies = v.as_table();
      if (!replies) {
        errors.push_back(config_error("conversation.replies", "expected a table such as { Y = \"payment.authorize\" }"));
        continue;
      }
      for (const auto& [reply, action] : *replies) {
        if (!action.is_string()) {
          errors.push_back(config_error("conversation.replies." + std::string(reply.str()), "expected an action name"));
          continue;
        }
        spec.replies[std::string(reply.str())] = node_text(action);
      }
    } else if (key == "ttl_hours" || key == "ttl_minutes") {
      const auto n = v.value<std::int64_t>();
      const long long unit = key == "ttl_hours" ? 3600 : 60;
      if (!n || *n < 1 || *n * unit > 30ll * 24 * 3600)
        errors.push_back(config_error("conversation." + key, "expected a whole number, at most 30 days"));
      else spec.ttl = Seconds(*n * unit);
    } else {
      errors.push_back(config_error("conversation." + key, "unknown key (replies, ttl_hours, ttl_minutes)"));
    }
  }
}

void read_event_types(const toml::table& root, rules::RulesConfig& rules, rules::LaneOverrides& lanes,
                      std::vector<ApiError>& errors) {
  const auto* types = root["rules"]["types"].as_table();
  if (!types) return;
  for (const auto& [name_key, node] : *types) {
    const std::string name(name_key.str());
    const auto prefix = "rules.types." + name;
    const auto* t = node.as_table();
    if (!t) {
      errors.push_back(config_error(prefix, "expected a table"));
      continue;
    }
    auto& rule = rules.types[name];
    rule.type = name;
    Flat flat;
    for (const auto& [k, v] : *t)
      if (k.str() != "data" && k.str() != "conversation") flat[std::string(k.str())] = node_text(v);
    std::set<std::string> used;
    std::vector<ApiError> local;
    Reader r{flat, used, local};
    if (const auto* data = t->get_as<toml::table>("data")) read_data_fields(*data, rule, local);
    else if (t->contains("data")) local.push_back(config_error("data", "expected a table of fields"));
    if (const auto* conversation = t->get_as<toml::table>("conversation"))
      read_conversation(*conversation, rules.conversations[name], local);
    else if (t->contains("conversation"))
      local.push_back(config_error("conversation", "expected a table with replies and ttl_hours"));
    if (auto v = r.find("topic")) {
      if (auto topic = parse_topic(*v)) rule.topic = *topic;
      else local.push_back(config_error("topic", "unknown topic '" + *v + "' (billing, outage, other)"));
    }
    r.boolean("urgent", rule.urgent);
    r.boolean("regulatory", rule.regulatory);
    long long ttl_hours = rule.ttl.count() / 3600;
    r.integer("ttl_hours", ttl_hours, 1, 24 * 365);
    rule.ttl = Seconds(ttl_hours * 3600);
    r.text("expires_at_field", rule.expires_at_field);
    r.integer("priority", rule.priority, -100, 100);
    if (auto v = r.find("lane")) {
      // The verification lane is the codes' own: an alert there would delay a code.
      const auto lane = parse_lane(*v);
      if (lane && *lane != Lane::verification) lanes[name] = *lane;
      else local.push_back(config_error("lane", "unknown lane '" + *v + "' (urgent, outage, standard)"));
    }
    for (const auto& [k, _] : flat)
      if (!used.count(k)) local.push_back(config_error(k, "unknown key"));
    for (auto& e : local) {
      e.field = prefix + "." + e.field;
      e.message = prefix + "." + e.message;
      errors.push_back(std::move(e));
    }
  }
}

// One outage thread per core writes a notice's parts side by side; more would only wait for the
// pool's connections (database.pool_size) and the cores.
std::size_t default_outage_workers() {
  const auto cores = std::thread::hardware_concurrency();
  return cores == 0 ? 2 : std::min<std::size_t>(cores, 8);
}

void read_gateways(const Flat& flat, std::set<std::string>& used, Config& c, std::vector<ApiError>& errors) {
  for (const auto& [key, value] : flat) {
    if (key.rfind("gateways.", 0) != 0) continue;
    const auto rest = key.substr(9);
    const auto dot = rest.find('.');
    if (dot == std::string::npos) {
      errors.push_back(config_error(key, "expected a table [gateways.NAME]"));
      continue;
    }
    const auto name = rest.substr(0, dot);
    const auto setting = rest.substr(dot + 1);
    auto& g = c.gateways[name];
    g.name = name;
    used.insert(key);
    if (setting == "type") g.type = value;
    else if (setting == "rate_per_second" || setting == "burst") {
      Reader r{flat, used, errors};
      r.number(key, setting == "burst" ? g.burst : g.rate_per_second, 0.001);
    } else g.settings[setting] = value;
  }
  for (auto& [name, g] : c.gateways)
    if (g.type.empty()) errors.push_back(config_error("gateways." + name + ".type", "missing (log, twilio, kannel, smtp)"));
}

// [inbound]: keyword lists and reply texts per language, service keywords' actions. A list or
// text given for a language replaces that one list or text; the rest stay built in.
void read_inbound(const Flat& flat, std::set<std::string>& used, Config& c, std::vector<ApiError>& errors) {
  auto& in = c.inbound;
  Reader r{flat, used, errors};
  auto choice_ttl = std::chrono::duration_cast<std::chrono::minutes>(in.choice_ttl);
  r.duration("inbound.choice_ttl_minutes", choice_ttl, 1, 24 * 60);
  in.choice_ttl = choice_ttl;
  r.duration("inbound.reclaim_after_seconds", in.reclaim_after, 1, 3600);
  using List = std::vector<std::string> rules::KeywordList::*;
  const std::map<std::string, List> lists = {{"opt_out", &rules::KeywordList::opt_out},
                                             {"opt_in", &rules::KeywordList::opt_in},
                                             {"help", &rules::KeywordList::help},
                                             {"yes", &rules::KeywordList::yes}};
  using Text = std::string rules::InboundTexts::*;
  const std::map<std::string, Text> texts = {{"opted_out", &rules::InboundTexts::opted_out},
                                             {"opted_in", &rules::InboundTexts::opted_in},
                                             {"contact_confirmed", &rules::InboundTexts::contact_confirmed},
                                             {"help", &rules::InboundTexts::help},
                                             {"menu", &rules::InboundTexts::menu},
                                             {"choose_account", &rules::InboundTexts::choose_account},
                                             {"choice_item", &rules::InboundTexts::choice_item},
                                             {"closed", &rules::InboundTexts::closed},
                                             {"unavailable", &rules::InboundTexts::unavailable}};
  const std::set<std::string> service_words = {"OUT", "STATUS", "BAL", "PAY", "REG"};
  for (const auto& [key, value] : flat) {
    if (key.rfind("inbound.", 0) != 0) continue;
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
      const auto dot = key.find('.', start);
      parts.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (parts.size() == 3 && parts[1] == "service_actions") {
      used.insert(key);
      if (!service_words.count(parts[2]))
        errors.push_back(config_error(key, "unknown service keyword (OUT, STATUS, BAL, PAY, REG)"));
      else in.service_actions[parts[2]] = value;
    } else if (parts.size() == 4 && parts[1] == "keywords" && lists.count(parts[3])) {
      used.insert(key);
      in.keywords.languages[parts[2]].*lists.at(parts[3]) = split_list(value);
    } else if (parts.size() == 5 && parts[1] == "keywords" && parts[3] == "service") {
      used.insert(key);
      if (!service_words.count(parts[4]))
        errors.push_back(config_error(key, "unknown service keyword (OUT, STATUS, BAL, PAY, REG)"));
      else in.keywords.languages[parts[2]].service[parts[4]] = split_list(value);
    } else if (parts.size() == 4 && parts[1] == "texts" && texts.count(parts[3])) {
      used.insert(key);
      in.replies.languages[parts[2]].*texts.at(parts[3]) = value;
    }
  }
}

// [services]: payment_confirmation_ttl_minutes, registration_ttl_minutes, and
// [services.texts.<language>] <text> = "..." replacing one built-in reply text of that language.
void read_services(const Flat& flat, std::set<std::string>& used, Config& c, std::vector<ApiError>& errors) {
  auto& sv = c.services;
  Reader r{flat, used, errors};
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(sv.payment_confirmation_ttl);
  r.duration("services.payment_confirmation_ttl_minutes", minutes, 1, 24 * 60);
  sv.payment_confirmation_ttl = minutes;
  minutes = std::chrono::duration_cast<std::chrono::minutes>(sv.registration_ttl);
  r.duration("services.registration_ttl_minutes", minutes, 1, 24 * 60);
  sv.registration_ttl = minutes;
  using Text = std::string rules::ServiceTexts::*;
  const std::map<std::string, Text> texts = {
      {"balance", &rules::ServiceTexts::balance},
      {"balance_no_date", &rules::ServiceTexts::balance_no_date},
      {"balance_none", &rules::ServiceTexts::balance_none},
      {"pay_confirm", &rules::ServiceTexts::pay_confirm},
      {"pay_nothing_due", &rules::ServiceTexts::pay_nothing_due},
      {"paid", &rules::ServiceTexts::paid},
      {"pay_declined", &rules::ServiceTexts::pay_declined},
      {"pay_unavailable", &rules::ServiceTexts::pay_unavailable},
      {"cis_down", &rules::ServiceTexts::cis_down},
      {"outage_reported", &rules::ServiceTexts::outage_reported},
      {"outage_known", &rules::ServiceTexts::outage_known},
      {"outage_known_no_etr", &rules::ServiceTexts::outage_known_no_etr},
      {"no_outage", &rules::ServiceTexts::no_outage},
      {"unknown_number", &rules::ServiceTexts::unknown_number},
      {"reg_ask", &rules::ServiceTexts::reg_ask},
      {"reg_not_understood", &rules::ServiceTexts::reg_not_understood},
      {"reg_no_match", &rules::ServiceTexts::reg_no_match},
      {"reg_done", &rules::ServiceTexts::reg_done}};
  const std::string prefix = "services.texts.";
  for (const auto& [key, value] : flat) {
    if (key.rfind(prefix, 0) != 0) continue;
    const auto rest = key.substr(prefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string::npos) continue;  // named as an unknown key below
    const auto it = texts.find(rest.substr(dot + 1));
    if (it == texts.end()) continue;
    used.insert(key);
    if (value.empty()) errors.push_back(config_error(key, "empty; leave the key out to keep the built-in text"));
    else sv.replies.languages[rest.substr(0, dot)].*(it->second) = value;
  }
}

// [voice]: gather_timeout_seconds, gather_rounds, redial_attempts, redial_after_seconds; [voice.speech.<language>] language, voice;
// [voice.texts.<language>] not_understood, goodbye; [voice.prompts.<language>] "<action>" = "...".
void read_voice(const Flat& flat, std::set<std::string>& used, Config& c, std::vector<ApiError>& errors) {
  auto& v = c.voice;
  Reader r{flat, used, errors};
  r.integer("voice.gather_timeout_seconds", v.gather_timeout_seconds, 1, 60);
  r.integer("voice.gather_rounds", v.gather_rounds, 0, 5);
  r.integer("voice.redial_attempts", v.redial_attempts, 0, 5);
  r.integer("voice.redial_after_seconds", v.redial_after_seconds, 1, 86400);
  for (const auto& [key, value] : flat) {
    if (key.rfind("voice.", 0) != 0) continue;
    const auto rest = key.substr(6);
    const auto first = rest.find('.');
    const auto second = first == std::string::npos ? std::string::npos : rest.find('.', first + 1);
    if (second == std::string::npos) continue;  // the scalars above, or named as an unknown key below
    const auto table = rest.substr(0, first);
    const auto language = rest.substr(first + 1, second - first - 1);
    const auto name = rest.substr(second + 1);
    if (table == "speech" && (name == "language" || name == "voice")) {
      used.insert(key);
      auto& speech = v.speech[language];
      (name == "language" ? speech.language : speech.voice) = value;
      if (name == "language" && value.empty()) errors.push_back(config_error(key, "empty; Twilio needs a language tag"));
    } else if (table == "texts" && (name == "not_understood" || name == "goodbye")) {
      used.insert(key);
      (name == "goodbye" ? v.texts[language].goodbye : v.texts[language].not_understood) = value;
    } else if (table == "prompts") {
      used.insert(key);
      v.texts[language].prompts[name] = value;
    }
  }
}

void apply(const Flat& flat, Config& c, std::vector<ApiError>& errors) {
  std::set<std::string> used;
  Reader r{flat, used, errors};
  r.text("database.url", c.database_url);
  r.integer("database.pool_size", c.database_pool_size, 1, 200);
  r.integer("database.background_nice", c.database_background_nice, 0, 19);
  r.duration("database.idle_transaction_timeout_seconds", c.database_idle_transaction_timeout, 0, 3600);

  auto& h = c.http;
  r.text("http.address", h.address);
  r.integer("http.port", h.port, 0, 65535);
  r.text("http.public_base_url", c.public_urls.base);
  r.integer("http.body_limit", h.body_limit, 1024, 64ll << 20);
  r.duration("http.header_timeout_seconds", h.header_timeout, 1, 3600);
  r.duration("http.body_timeout_seconds", h.body_timeout, 1, 3600);
  r.duration("http.idle_timeout_seconds", h.idle_timeout, 1, 3600);
  r.integer("http.json_max_depth", h.json_max_depth, 2, 256);
  r.integer("http.worker_threads", h.worker_threads, 1, 64);
  r.boolean("http.server_timing", h.server_timing);
  r.text("http.default_region", h.default_region);
  r.text("http.web_root", h.web_root);
  r.duration("http.customer_token_ttl_seconds", h.customer_token_ttl, 60, 30ll * 24 * 3600);
  for (auto [name, limit] : {std::pair{"cis", &h.rate_limits.cis}, {"admin", &h.rate_limits.admin},
                             {"customer", &h.rate_limits.customer}, {"reveal", &h.rate_limits.reveal},
                             {"portal_token", &h.rate_limits.portal_token}}) {
    const auto key = std::string("http.rate_limits.") + name;
    r.number(key + "_per_second", limit->per_second, 0);
    r.number(key + "_burst", limit->burst, 1);
  }

  auto& verification = h.contact_verification;
  r.duration("contacts.verification_code_ttl_seconds", verification.code_ttl, 60, 7ll * 24 * 3600);
  r.integer("contacts.verification_max_attempts", verification.max_attempts, 1, 100);
  r.integer("contacts.verification_sends_per_hour_per_customer", verification.sends_per_hour_per_customer, 1, 1000);
  r.integer("contacts.verification_sends_per_hour_per_address", verification.sends_per_hour_per_address, 1, 1000);

  r.text("auth.token_secret", c.token_secret.value);

  auto& rules = c.rules;
  r.text("utility.name", rules.utility_name);
  r.text("utility.phone", rules.utility_phone);
  r.text("utility.url", rules.utility_url);

  r.text("rules.default_language", rules.default_language);
  r.local_time("rules.window_start", rules.window.start);
  r.local_time("rules.window_end", rules.window.end);
  r.text("rules.templates_dir", c.templates_dir);
  if (auto v = r.find("rules.regulatory_channels")) {
    rules.regulatory_channels.clear();
    for (const auto& name : split_list(*v)) {
      if (auto ch = parse_channel(name)) rules.regulatory_channels.push_back(*ch);
      else errors.push_back(config_error("rules.regulatory_channels", "unknown channel '" + name + "'"));
    }
  }
  auto& prefs = rules.default_preferences;
  for (auto topic : kAllTopics) {
    const auto key = "rules.default_preferences." + std::string(to_string(topic));
    if (flat.count(key)) r.channels(key, prefs.topics[topic]);
  }
  r.boolean("rules.default_preferences.quiet_hours_enabled", prefs.quiet_hours.enabled);
  r.local_time("rules.default_preferences.quiet_start", prefs.quiet_hours.start);
  r.local_time("rules.default_preferences.quiet_end", prefs.quiet_hours.end);
  r.text("rules.default_preferences.language", prefs.language);

  r.integer("intake.batch_size", c.intake.batch_size, 1, 10000);
  r.integer("intake.workers", c.intake.workers, 0, 32);
  r.duration("intake.poll_interval_ms", c.intake.poll_interval, 10, 600000);

  auto& d = c.dispatch;
  r.integer("dispatch.batch_size", d.batch_size, 1, 10000);
  r.integer("dispatch.workers", d.workers, 0, 32);
  r.duration("dispatch.lease_seconds", d.lease, 1, 3600);
  r.duration("dispatch.poll_interval_ms", d.poll_interval, 10, 600000);
  r.integer("dispatch.max_attempts", d.max_attempts, 1, 100);
  r.duration("dispatch.backoff_base_ms", d.backoff_base, 1, 3600000);
  r.duration("dispatch.backoff_cap_ms", d.backoff_cap, 1, 86400000);
  r.integer("dispatch.breaker_failures", d.breaker_failures, 1, 1000);
  r.duration("dispatch.breaker_open_seconds", d.breaker_open, 1, 3600);

  auto& o = c.outages;
  // Minutes and hours in the file, seconds inside.
  const auto scaled = [&r](const std::string& key, Seconds& out, long long unit, long long min, long long max) {
    long long n = out.count() / unit;
    r.integer(key, n, min, max);
    out = Seconds(n * unit);
  };
  scaled("outages.etr_threshold_minutes", o.notices.etr_threshold, 60, 0, 7 * 24 * 60);
  scaled("outages.collapse_window_seconds", o.notices.collapse_window, 1, 0, 24 * 3600);
  r.boolean("outages.notify_crew_assigned", o.notices.notify_crew_assigned);
  scaled("outages.planned_notice_hours", o.notices.planned_notice_before, 3600, 1, 90 * 24);
  scaled("outages.planned_reminder_hours", o.notices.planned_reminder_before, 3600, 1, 90 * 24);
  r.integer("outages.chunk_accounts", o.chunk_accounts, 100, 100000);
  o.workers = default_outage_workers();
  r.integer("outages.workers", o.workers, 0, 32);
  r.integer("outages.notice_parts", o.notice_parts, 1, 1000);
  r.duration("outages.poll_interval_ms", o.poll_interval, 10, 600000);

  r.integer("search.batch_size", c.search.batch_size, 0, 100000);
  r.duration("search.pause_ms", c.search.pause, 0, 600000);
  r.duration("search.poll_interval_ms", c.search.poll_interval, 10, 600000);
  r.integer("search.yield_backlog", c.search.yield_backlog, 0, 10000000);
  r.duration("search.yield_max_ms", c.search.yield_max, 0, 86400000);

  for (auto channel : kAllChannels) {
    const auto key = "channels." + std::string(to_string(channel));
    if (auto v = r.find(key)) c.channels[channel] = split_list(*v);
  }
  read_gateways(flat, used, c, errors);
  read_inbound(flat, used, c, errors);

  r.duration("server.shutdown_grace_seconds", c.shutdown_grace, 1, 3600);
  r.duration("server.drain_delay_seconds", c.drain_delay, 0, 3600);
  if (c.drain_delay >= c.shutdown_grace)
    errors.push_back(config_error("server.drain_delay_seconds", "must be shorter than server.shutdown_grace_seconds"));
  r.text("server.migrations_dir", c.migrations_dir);
  r.text("server.log_level", c.log_level);
  r.integer("server.background_nice", c.background_nice, 0, 19);

  r.text("cis.actions_url", c.cis.actions_url);
  r.text("cis.secret", c.cis.secret);
  r.duration("cis.timeout_ms", c.cis.timeout, 100, 120000);
  r.integer("cis.max_attempts", c.cis.max_attempts, 1, 10);
  r.text("cis.ca_file", c.cis.ca_file);
  read_services(flat, used, c, errors);
  read_voice(flat, used, c, errors);
  if (!c.cis.actions_url.empty() && c.cis.actions_url.rfind("http://", 0) != 0 &&
      c.cis.actions_url.rfind("https://", 0) != 0)
    errors.push_back(config_error("cis.actions_url", "expected an http:// or https:// URL"));
  if (!c.cis.actions_url.empty() && c.cis.secret.empty())
    errors.push_back(config_error("cis.secret", "required when cis.actions_url is set (it signs every action)"));

  r.text("oms.reports_url", c.oms.reports_url);
  r.text("oms.secret", c.oms.secret);
  r.duration("oms.timeout_ms", c.oms.timeout, 100, 120000);
  r.duration("oms.backoff_base_ms", c.oms.backoff_base, 10, 3600000);
  r.duration("oms.backoff_cap_ms", c.oms.backoff_cap, 10, 86400000);
  r.duration("oms.max_age_seconds", c.oms.max_age, 1, 30 * 86400);
  r.duration("oms.poll_interval_ms", c.oms.poll_interval, 10, 600000);
  r.integer("oms.batch_size", c.oms.batch_size, 1, 500);
  r.text("oms.ca_file", c.oms.ca_file);
  if (!c.oms.reports_url.empty() && c.oms.reports_url.rfind("http://", 0) != 0 &&
      c.oms.reports_url.rfind("https://", 0) != 0)
    errors.push_back(config_error("oms.reports_url", "expected an http:// or https:// URL"));
  if (!c.oms.reports_url.empty() && c.oms.secret.empty())
    errors.push_back(config_error("oms.secret", "required when oms.reports_url is set (it signs every report)"));
  if (c.oms.backoff_cap < c.oms.backoff_base)
    errors.push_back(config_error("oms.backoff_cap_ms", "must not be less than oms.backoff_base_ms"));

  for (const auto& [key, _] : flat)
    if (!used.count(key)) errors.push_back(config_error(key, "unknown key"));
}

}  // namespace

Result<Config> load_config(const std::string& explicit_path, const Environment& env) {
  Config c;
  c.rules = rules::default_rules_config();
  for (auto channel : kAllChannels) c.channels[channel] = {"log"};
  c.gateways["log"] = gateways::GatewayConfig{"log", "log", Channel::sms, 100000, 100000, {}};

  std::vector<ApiError> errors;
  Flat flat;
  const auto path = explicit_path.empty() ? default_config_path(env) : explicit_path;
  c.source = path.empty() ? "(built-in defaults)" : path;
  if (!path.empty()) {
    try {
      const auto root = toml::parse_file(path);
      flatten(root, "", flat, errors);
      read_event_types(root, c.rules, c.intake.lanes, errors);
    } catch (const toml::parse_error& e) {
      std::ostringstream where;
      where << path << ":" << e.source().begin.line << ":" << e.source().begin.column;
      return ApiError{ErrorKind::invalid, "invalid_config", where.str() + ": " + std::string(e.description()),
                      where.str()};
    }
  }
  std::map<std::string, std::string> origin;
  apply_environment(env, flat, origin);
  apply(flat, c, errors);
  c.inbound.utility_name = c.rules.utility_name;
  c.inbound.utility_phone = c.rules.utility_phone;
  c.inbound.utility_url = c.rules.utility_url;
  c.inbound.default_language = c.rules.default_language;
  c.inbound.default_region = c.http.default_region;
  c.voice.default_language = c.rules.default_language;
  auto& base = c.public_urls.base;
  if (base.empty()) base = "http://" + c.http.address + ":" + std::to_string(c.http.port);
  while (!base.empty() && base.back() == '/') base.pop_back();
  // Kannel calls back on the public URL unless its dlr_url says otherwise ("" asks for no DLRs).
  for (auto& [name, g] : c.gateways)
    if (g.type == "kannel" && !g.settings.count("dlr_url")) g.settings["dlr_url"] = c.public_urls.kannel_dlr();
  if (!errors.empty()) {
    auto e = errors.front();
    if (auto it = origin.find(e.field); it != origin.end()) e.message += " (from " + it->second + ")";
    return e;
  }
  return c;
}

}  // namespace herald::app
