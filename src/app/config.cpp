// Loading heraldd.toml and HERALD_* overrides into Config, with errors that name the key.
#include "herald/app/config.hpp"

#include <filesystem>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "herald/rules/event_data.hpp"
#include "herald/rules/templates.hpp"

extern char** environ;

namespace herald::app {

namespace {

// Flattened settings: "http.port" -> "8080"; arrays become comma-separated text.
using Flat = std::map<std::string, std::string>;

const std::set<std::string> kSections = {"database", "http",     "auth",     "utility",  "rules",
                                         "intake",   "dispatch", "channels", "gateways", "server"};

ApiError config_error(const std::string& key, const std::string& message) {
  return {ErrorKind::invalid, "invalid_config", key + ": " + message, key};
}

std::string node_text(const toml::node& n) {
  if (auto s = n.value<std::string>()) return *s;
  if (n.is_boolean()) return *n.value<bool>() ? "true" : "false";
  if (n.is_integer()) return std::to_string(*n.value<std::int64_t>());
  if (n.is_floating_point()) {
    std::ostringstream o;
    o << *n.value<double>();
    return o.str();
  }
  if (auto a = n.as_array()) {
    std::string out;
    for (const auto& e : *a) out += (out.empty() ? "" : ",") + node_text(e);
    return out;
  }
  return "";
}

void flatten(const toml::table& t, const std::string& prefix, Flat& out, std::vector<ApiError>& errors) {
  for (const auto& [k, v] : t) {
    const auto key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (key == "rules.types") continue;  // type names contain dots: read separately
    if (auto sub = v.as_table()) {
      flatten(*sub, key, out, errors);
    } else if (v.is_array() || v.is_value()) {
      out[key] = node_text(v);
    } else {
      errors.push_back(config_error(key, "unsupported value"));
    }
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

// Typed readers that record an error naming the key when the text does not fit.
struct Reader {
  const Flat& flat;
  std::set<std::string>& used;
  std::vector<ApiError>& errors;

  const std::string* find(const std::string& key) {
    auto it = flat.find(key);
    if (it == flat.end()) return nullptr;
    used.insert(key);
    return &it->second;
  }
  void text(const std::string& key, std::string& out) {
    if (auto v = find(key)) out = *v;
  }
  template <typename Int>
  void integer(const std::string& key, Int& out, long long min, long long max) {
    auto v = find(key);
    if (!v) return;
    try {
      std::size_t pos = 0;
      const auto n = std::stoll(*v, &pos);
      if (pos != v->size() || n < min || n > max) throw std::out_of_range("range");
      out = static_cast<Int>(n);
    } catch (const std::exception&) {
      errors.push_back(config_error(key, "expected an integer between " + std::to_string(min) + " and " +
                                             std::to_string(max) + ", got '" + *v + "'"));
    }
  }
  void number(const std::string& key, double& out, double min) {
    auto v = find(key);
    if (!v) return;
    try {
      std::size_t pos = 0;
      const auto n = std::stod(*v, &pos);
      if (pos != v->size() || n < min) throw std::out_of_range("range");
      out = n;
    } catch (const std::exception&) {
      errors.push_back(config_error(key, "expected a number ≥ " + std::to_string(min) + ", got '" + *v + "'"));
    }
  }
  void boolean(const std::string& key, bool& out) {
    auto v = find(key);
    if (!v) return;
    if (*v == "true" || *v == "1") out = true;
    else if (*v == "false" || *v == "0") out = false;
    else errors.push_back(config_error(key, "expected true or false, got '" + *v + "'"));
  }
  template <typename Rep, typename Period>
  void duration(const std::string& key, std::chrono::duration<Rep, Period>& out, long long min, long long max) {
    long long n = out.count();
    integer(key, n, min, max);
    out = std::chrono::duration<Rep, Period>(n);
  }
  void local_time(const std::string& key, LocalTime& out) {
    auto v = find(key);
    if (!v) return;
    if (auto t = parse_local_time(*v)) out = *t;
    else errors.push_back(config_error(key, "expected HH:MM, got '" + *v + "'"));
  }
  void channels(const std::string& key, std::set<Channel>& out) {
    auto v = find(key);
    if (!v) return;
    out.clear();
    for (const auto& name : split_list(*v)) {
      if (auto c = parse_channel(name)) out.insert(*c);
      else errors.push_back(config_error(key, "unknown channel '" + name + "' (sms, email, voice)"));
    }
  }
};

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

void read_event_types(const toml::table& root, rules::RulesConfig& rules, std::vector<ApiError>& errors) {
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
      if (k.str() != "data") flat[std::string(k.str())] = node_text(v);
    std::set<std::string> used;
    std::vector<ApiError> local;
    Reader r{flat, used, local};
    if (const auto* data = t->get_as<toml::table>("data")) read_data_fields(*data, rule, local);
    else if (t->contains("data")) local.push_back(config_error("data", "expected a table of fields"));
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
    for (const auto& [k, _] : flat)
      if (!used.count(k)) local.push_back(config_error(k, "unknown key"));
    for (auto& e : local) {
      e.field = prefix + "." + e.field;
      e.message = prefix + "." + e.message;
      errors.push_back(std::move(e));
    }
  }
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
    if (g.type.empty()) errors.push_back(config_error("gateways." + name + ".type", "missing (log, twilio, smtp)"));
}

void apply(const Flat& flat, Config& c, std::vector<ApiError>& errors) {
  std::set<std::string> used;
  Reader r{flat, used, errors};
  r.text("database.url", c.database_url);
  r.integer("database.pool_size", c.database_pool_size, 1, 200);

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

  for (auto channel : kAllChannels) {
    const auto key = "channels." + std::string(to_string(channel));
    if (auto v = r.find(key)) c.channels[channel] = split_list(*v);
  }
  read_gateways(flat, used, c, errors);

  r.duration("server.shutdown_grace_seconds", c.shutdown_grace, 1, 3600);
  r.duration("server.drain_delay_seconds", c.drain_delay, 0, 3600);
  if (c.drain_delay >= c.shutdown_grace)
    errors.push_back(config_error("server.drain_delay_seconds", "must be shorter than server.shutdown_grace_seconds"));
  r.text("server.migrations_dir", c.migrations_dir);
  r.text("server.log_level", c.log_level);

  for (const auto& [key, _] : flat)
    if (!used.count(key)) errors.push_back(config_error(key, "unknown key"));
}

// HERALD_HTTP_PORT -> "http.port"; HERALD_GATEWAYS_TWILIO_AUTH_TOKEN -> "gateways.twilio.auth_token".
// Variables whose section is not a config section (HERALD_CONFIG, HERALD_TEST_...) are ignored.
void apply_environment(const Environment& env, Flat& flat, std::map<std::string, std::string>& origin) {
  for (const auto& [name, value] : env) {
    if (name.rfind("HERALD_", 0) != 0) continue;
    const auto rest = lower(name.substr(7));
    const auto us = rest.find('_');
    if (us == std::string::npos) continue;
    const auto section = rest.substr(0, us);
    if (!kSections.count(section)) continue;
    auto key = rest.substr(us + 1);
    if (section == "gateways") {
      const auto us2 = key.find('_');
      if (us2 == std::string::npos) continue;
      key = key.substr(0, us2) + "." + key.substr(us2 + 1);
    } else if (section == "rules" && key.rfind("default_preferences_", 0) == 0) {
      key = "default_preferences." + key.substr(20);
    } else if (section == "http" && key.rfind("rate_limits_", 0) == 0) {
      key = "rate_limits." + key.substr(12);
    }
    flat[section + "." + key] = value;
    origin[section + "." + key] = name;
  }
}

std::string default_config_path(const Environment& env) {
  if (auto it = env.find("HERALD_CONFIG"); it != env.end() && !it->second.empty()) return it->second;
  if (std::filesystem::exists("config/heraldd.toml")) return "config/heraldd.toml";
  return "";
}

}  // namespace

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

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
      read_event_types(root, c.rules, errors);
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
  auto& base = c.public_urls.base;
  if (base.empty()) base = "http://" + c.http.address + ":" + std::to_string(c.http.port);
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!errors.empty()) {
    auto e = errors.front();
    if (auto it = origin.find(e.field); it != origin.end()) e.message += " (from " + it->second + ")";
    return e;
  }
  return c;
}

std::vector<ApiError> validate_config(const Config& c) {
  std::vector<ApiError> problems;
  for (const auto& [channel, names] : c.channels) {
    const auto key = "channels." + std::string(to_string(channel));
    for (const auto& name : names) {
      auto it = c.gateways.find(name);
      if (it == c.gateways.end()) {
        problems.push_back(config_error(key, "no gateway named '" + name + "'"));
        continue;
      }
      auto g = it->second;
      g.channel = channel;
      auto made = gateways::make_gateway(g);
      if (!made) problems.push_back(made.error());
    }
  }
  if (!std::filesystem::is_directory(c.templates_dir)) {
    problems.push_back(config_error("rules.templates_dir", "not a directory: " + c.templates_dir));
  } else {
    rules::TemplateStore templates(c.templates_dir);
    for (const auto& bad : templates.validate()) problems.push_back(config_error("rules.templates_dir", bad));
    for (const auto& bad : rules::undeclared_template_variables(templates, c.rules))
      problems.push_back(config_error("rules.templates_dir", bad));
  }
  if (!std::filesystem::is_directory(c.migrations_dir))
    problems.push_back(config_error("server.migrations_dir", "not a directory: " + c.migrations_dir));
  return problems;
}

}  // namespace herald::app
