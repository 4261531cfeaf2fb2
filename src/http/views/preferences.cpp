// The API's view of preferences: the document the customer edits and the contacts behind it.
#include "herald/http/views/preferences.hpp"

#include "herald/domain/json_io.hpp"

namespace herald::http::views {

Json preferences_json(const store::PreferencesView& view) {
  Json out = to_json(view.preferences);
  Json contacts = Json::array();
  for (const auto& c : view.contacts) {
    contacts.push_back({{"channel", to_string(c.channel)},
                        {"address", c.address},
                        {"verified", c.verified},
                        {"consent", to_string(c.consent)}});
  }
  out["contacts"] = std::move(contacts);
  return out;
}

}  // namespace herald::http::views
