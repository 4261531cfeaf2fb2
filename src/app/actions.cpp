// Wiring of the inbound actions: built-ins first, then each feature's registrations.
#include "herald/app/actions.hpp"

namespace herald::app {

void register_actions(engine::ActionRegistry& registry, const Config& config, store::Database& db) {
  engine::register_builtin_actions(registry);
  // Features register their actions below, one call each.
}

}  // namespace herald::app
