// What several parts of heraldd need to know about its deployment: where it is reachable from
// outside, and the key it signs tokens with. app/serve makes one of each and hands it around.
#pragma once

#include <string>
#include <string_view>

namespace herald {

// The public base URL (config http.public_base_url) and the links built on it.
struct PublicUrls {
  std::string base;  // e.g. "https://herald.example.com", no trailing '/'

  std::string unsubscribe(std::string_view token) const;  // the one-click unsubscribe page
  std::string twilio_status_callback() const;             // where Twilio posts delivery statuses
  std::string kannel_dlr() const;                         // where Kannel's smsbox calls with DLRs
  std::string twilio_voice() const;                       // where Twilio fetches a call's TwiML
};

// Signs unsubscribe links and customer portal tokens (config auth.token_secret, else generated
// once and kept in the database).
struct TokenSecret {
  std::string value;
};

}  // namespace herald
