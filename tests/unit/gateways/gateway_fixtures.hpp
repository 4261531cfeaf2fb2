// What the gateway codec tests build their requests from: an SMS, Twilio settings, a UTC instant.
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include "herald/gateways/twilio.hpp"

namespace herald::gateways::test {

inline OutboundMessage sms(std::string body) {
  OutboundMessage m;
  m.id = 42;
  m.channel = Channel::sms;
  m.to = "+12175550101";
  m.body = std::move(body);
  m.idempotency_key = "herald-42";
  return m;
}

inline TwilioSettings twilio_settings() {
  TwilioSettings s;
  s.account_sid = "AC0123456789abcdef0123456789abcdef";
  s.auth_token = "tok3n";
  s.from = "+12175550100";
  s.base_url = "http://127.0.0.1:8080/";
  return s;
}

inline TimePoint utc(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  return std::chrono::sys_days{std::chrono::year{y} / m / d} + std::chrono::hours{hh} + std::chrono::minutes{mm} +
         std::chrono::seconds{ss};
}

}  // namespace herald::gateways::test
