// The links built on the public base URL.
#include "herald/domain/deployment.hpp"

namespace herald {

std::string PublicUrls::unsubscribe(std::string_view token) const {
  return base + "/v1/unsubscribe/" + std::string(token);
}

std::string PublicUrls::twilio_status_callback() const { return base + "/v1/webhooks/twilio/status"; }

std::string PublicUrls::kannel_dlr() const { return base + "/v1/webhooks/kannel/dlr"; }

std::string PublicUrls::twilio_voice() const { return base + "/v1/webhooks/twilio/voice"; }

}  // namespace herald
