// Address masking for views: one address, or every copy of it inside a JSON document.
#include "herald/http/views/masking.hpp"

#include "herald/domain/phone.hpp"

namespace herald::http::views {

std::string shown_address(const std::string& address, bool reveal) {
  return reveal ? address : mask_address(address);
}

void mask_within(Json& j, std::string_view address, std::string_view shown) {
  if (j.is_string()) {
    if (j.get_ref<const std::string&>() == address) j = std::string(shown);
  } else if (j.is_structured()) {
    for (auto& child : j) mask_within(child, address, shown);
  }
}

}  // namespace herald::http::views
