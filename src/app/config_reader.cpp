// Where settings come from: heraldd.toml flattened to "section.key" text, and HERALD_* variables.
#include "config_reader.hpp"

#include <filesystem>
#include <sstream>

extern char** environ;

namespace herald::app {

namespace {

const std::set<std::string> kSections = {"database", "http",     "auth",     "utility",  "rules",
                                         "intake",   "dispatch", "channels", "gateways", "server",
                                         "cis",
                                         "oms",
                                         "contacts",
                                         "voice",
                                         "services",
                                         "outages",
                                         "search"};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

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

Environment process_environment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

}  // namespace herald::app
