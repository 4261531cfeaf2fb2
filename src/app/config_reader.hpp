// App-internal: where settings come from (the TOML file, HERALD_* variables) as flat "section.key"
// text, and typed readers that record an error naming the key. Included only by src/app/config*.cpp.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "herald/app/config.hpp"

namespace herald::app {

// Flattened settings: "http.port" -> "8080"; arrays become comma-separated text.
using Flat = std::map<std::string, std::string>;

// An invalid-config error naming `key`; the message starts with the key.
ApiError config_error(const std::string& key, const std::string& message);

// A TOML value as text: strings as they are, numbers and booleans printed, arrays comma-separated.
std::string node_text(const toml::node& n);
// Every value of `t` under its dotted key ("http.port"), except the rules.types tables.
void flatten(const toml::table& t, const std::string& prefix, Flat& out, std::vector<ApiError>& errors);
// HERALD_<SECTION>_<KEY> variables onto `flat`; `origin` records which variable set each key.
void apply_environment(const Environment& env, Flat& flat, std::map<std::string, std::string>& origin);
// The file to read when none is given: HERALD_CONFIG, else config/heraldd.toml when it exists, else ""
// (built-in defaults).
std::string default_config_path(const Environment& env);
// "a, b,c" -> {"a", "b", "c"}.
std::vector<std::string> split_list(const std::string& text);

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

}  // namespace herald::app
