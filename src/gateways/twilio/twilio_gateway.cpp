// The `twilio` gateway: texts (Messages) or, on channel voice, calls (Calls), the codec's
// requests performed concurrently on a CurlMulti.
#include "../adapters.hpp"
#include "../common.hpp"
#include "herald/gateways/twilio_voice.hpp"

namespace herald::gateways {
namespace {

class TwilioGateway final : public TransferGateway {
 public:
  TwilioGateway(const GatewayConfig& config, TwilioSettings settings, CurlMulti::Options transport)
      : TransferGateway(config, std::move(transport)), settings_(std::move(settings)),
        calls_(config.channel == Channel::voice) {}

 private:
  TransferRequest build_request(const OutboundMessage& m, TimePoint) const override {
    return calls_ ? build_twilio_call(settings_, m, settings_.machine_detection) : build_twilio_send(settings_, m);
  }
  SendResult classify(const TransferResponse& response, const OutboundMessage&, TimePoint now) const override {
    return response.completed()
               ? parse_twilio_send(static_cast<int>(response.status), response.headers, response.body, now)
               : transfer_failure(response);
  }

  TwilioSettings settings_;
  const bool calls_;  // a voice gateway places calls; the provider id is then the CallSid
};

}  // namespace

std::unique_ptr<Gateway> make_twilio_gateway(const GatewayConfig& config, TwilioSettings settings,
                                             CurlMulti::Options transport) {
  return std::make_unique<TwilioGateway>(config, std::move(settings), std::move(transport));
}

}  // namespace herald::gateways
