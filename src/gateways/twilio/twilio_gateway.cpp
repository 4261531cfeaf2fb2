// The `twilio` SMS gateway: the codec's requests performed concurrently on a CurlMulti.
#include "../adapters.hpp"
#include "../common.hpp"

namespace herald::gateways {
namespace {

class TwilioGateway final : public Gateway {
 public:
  TwilioGateway(const GatewayConfig& config, TwilioSettings settings, CurlMulti::Options transport)
      : name_(config.name),
        channel_(config.channel),
        settings_(std::move(settings)),
        transport_(std::move(transport)),
        metrics_(config.name) {}

  const std::string& name() const override { return name_; }
  Channel channel() const override { return channel_; }

  std::vector<SendResult> send_batch(const std::vector<OutboundMessage>& batch) override {
    std::vector<TransferRequest> requests;
    requests.reserve(batch.size());
    for (const auto& m : batch) requests.emplace_back(build_twilio_send(settings_, m));
    std::vector<TransferResponse> responses = transport_.perform(requests);

    const TimePoint now = system_now();
    std::vector<SendResult> results;
    results.reserve(batch.size());
    for (const auto& response : responses) {
      SendResult r = response.completed()
                         ? parse_twilio_send(static_cast<int>(response.status), response.headers,
                                             response.body, now)
                         : transfer_failure(response);
      r.duration_ms = response.duration_ms;
      metrics_.record(r);
      results.push_back(std::move(r));
    }
    return results;
  }

 private:
  std::string name_;
  Channel channel_;
  TwilioSettings settings_;
  CurlMulti transport_;
  GatewayMetrics metrics_;
};

}  // namespace

std::unique_ptr<Gateway> make_twilio_gateway(const GatewayConfig& config, TwilioSettings settings,
                                             CurlMulti::Options transport) {
  return std::make_unique<TwilioGateway>(config, std::move(settings), std::move(transport));
}

}  // namespace herald::gateways
