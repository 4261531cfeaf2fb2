// Preferences in API JSON: PUT /v1/customers/{id}/preferences bodies and their JSON form.
#include "herald/domain/json_io.hpp"

#include <set>

#include "json_read.hpp"

namespace herald {

using namespace json_read;

Result<Preferences> parse_preferences(const Json& body) { return parse_preferences(body, Preferences{}); }

Result<Preferences> parse_preferences(const Json& body, const Preferences& base) {
  if (!body.is_object()) return invalid("", "invalid_type", "the body must be a JSON object");
  Preferences p = base;
  for (const auto& [key, value] : body.items()) {
    if (key != "topics" && key != "quiet_hours" && key != "language" && key != "contacts") {
      return invalid(key, "unknown_field", key + " is not a preference");
    }
  }

  if (auto it = body.find("topics"); it != body.end()) {
    if (!it->is_object()) return wrong_type("topics", "an object");
    p.topics.clear();
    for (const auto& [name, entry] : it->items()) {
      std::string field = dotted("topics", name);
      auto topic = parse_topic(name);
      if (!topic) return invalid(field, "unknown_topic", field + ": topics are billing, outage and other");
      if (!entry.is_object()) return wrong_type(field, "an object like {\"channels\": [\"sms\"]}");
      for (const auto& [k, v] : entry.items()) {
        if (k != "channels") return invalid(dotted(field, k), "unknown_field", dotted(field, k) + " is not allowed");
      }
      std::string ch_field = dotted(field, "channels");
      auto channels = entry.find("channels");
      if (channels == entry.end()) return missing(ch_field);
      if (!channels->is_array()) return wrong_type(ch_field, "an array");
      std::set<Channel>& chosen = p.topics[*topic];
      for (std::size_t i = 0; i < channels->size(); ++i) {
        std::string f = indexed(ch_field, i);
        const Json& c = (*channels)[i];
        if (!c.is_string()) return wrong_type(f, "a string");
        auto channel = parse_channel(c.get_ref<const std::string&>());
        if (!channel) return invalid(f, "unknown_channel", f + " must be sms, email or voice");
        if (!chosen.insert(*channel).second) {
          return invalid(f, "duplicate", f + ": " + std::string(to_string(*channel)) + " is listed twice");
        }
      }
    }
  }

  if (auto it = body.find("quiet_hours"); it != body.end()) {
    if (!it->is_object()) return wrong_type("quiet_hours", "an object");
    for (const auto& [k, v] : it->items()) {
      std::string f = dotted("quiet_hours", k);
      if (k == "enabled") {
        if (!v.is_boolean()) return wrong_type(f, "true or false");
        p.quiet_hours.enabled = v.get<bool>();
      } else if (k == "start" || k == "end") {
        auto t = v.is_string() ? parse_local_time(v.get_ref<const std::string&>()) : std::nullopt;
        if (!t) return invalid(f, "invalid_time", f + " must be a time of day HH:MM, such as \"21:00\"");
        (k == "start" ? p.quiet_hours.start : p.quiet_hours.end) = *t;
      } else {
        return invalid(f, "unknown_field", f + " is not allowed");
      }
    }
  }

  if (auto err = read_language(body, "language", p.language)) return *err;
  return p;
}

Json to_json(const Preferences& p) {
  Json topics = Json::object();
  for (Topic t : kAllTopics) {
    Json channels = Json::array();
    if (auto it = p.topics.find(t); it != p.topics.end()) {
      for (Channel c : it->second) channels.push_back(to_string(c));
    }
    topics[std::string(to_string(t))] = {{"channels", std::move(channels)}};
  }
  return {{"topics", std::move(topics)},
          {"quiet_hours",
           {{"enabled", p.quiet_hours.enabled},
            {"start", format_local_time(p.quiet_hours.start)},
            {"end", format_local_time(p.quiet_hours.end)}}},
          {"language", p.language}};
}

}  // namespace herald
