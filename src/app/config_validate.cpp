// check-config's checks beyond parsing: gateways buildable, channels' gateways defined, templates
// compile and use only declared data, directories present.
#include "herald/app/config.hpp"

#include <filesystem>

#include "herald/app/actions.hpp"
#include "herald/rules/event_data.hpp"
#include "herald/rules/templates.hpp"

#include "config_reader.hpp"

namespace herald::app {

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
  // Conversation declarations: replies that can be answered, actions that exist. The registry
  // is built as serve builds it; its database is never reached (connections open on use).
  store::Database unused(c.database_url, 1);
  engine::ActionRegistry actions;
  register_actions(actions, c, unused);
  for (const auto& [type, spec] : c.rules.conversations) {
    const auto key = "rules.types." + type + ".conversation";
    if (!c.rules.types.count(type)) problems.push_back(config_error(key, "no event type '" + type + "'"));
    for (const auto& bad : rules::check_conversation_spec(spec, actions.names()))
      problems.push_back(config_error(key, bad));
  }
  if (!c.oms.ca_file.empty() && !std::filesystem::is_regular_file(c.oms.ca_file))
    problems.push_back(config_error("oms.ca_file", "not a file: " + c.oms.ca_file));
  if (!std::filesystem::is_directory(c.migrations_dir))
    problems.push_back(config_error("server.migrations_dir", "not a directory: " + c.migrations_dir));
  return problems;
}

}  // namespace herald::app
