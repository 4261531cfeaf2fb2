// check-config's checks beyond parsing: gateways buildable, channels' gateways defined, templates
// compile and use only declared data, directories present.
#include "herald/app/config.hpp"

#include <filesystem>

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
  if (!std::filesystem::is_directory(c.migrations_dir))
    problems.push_back(config_error("server.migrations_dir", "not a directory: " + c.migrations_dir));
  return problems;
}

}  // namespace herald::app
