// Constructors of the concrete adapters, called by make_gateway once the settings are valid.
#pragma once

#include <memory>

#include "herald/gateways/curl_multi.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/gateways/kannel.hpp"
#include "herald/gateways/smtp.hpp"
#include "herald/gateways/twilio.hpp"

namespace herald::gateways {

std::unique_ptr<Gateway> make_log_gateway(const GatewayConfig& config);
std::unique_ptr<Gateway> make_twilio_gateway(const GatewayConfig& config, TwilioSettings settings,
                                             CurlMulti::Options transport);
std::unique_ptr<Gateway> make_kannel_gateway(const GatewayConfig& config, KannelSettings settings,
                                             CurlMulti::Options transport);
std::unique_ptr<Gateway> make_smtp_gateway(const GatewayConfig& config, SmtpSettings settings,
                                           CurlMulti::Options transport);

}  // namespace herald::gateways
