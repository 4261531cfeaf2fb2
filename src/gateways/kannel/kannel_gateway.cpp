// The `kannel` SMS gateway: the codec's sendsms requests performed concurrently on a CurlMulti.
#include "../adapters.hpp"
#include "../common.hpp"

namespace herald::gateways {
namespace {

class KannelGateway final : public TransferGateway {
 public:
  KannelGateway(const GatewayConfig& config, KannelSettings settings, CurlMulti::Options transport)
      : TransferGateway(config, std::move(transport)), settings_(std::move(settings)) {}

 private:
  TransferRequest build_request(const OutboundMessage& m, TimePoint) const override {
    return build_kannel_send(settings_, m);
  }
  SendResult classify(const TransferResponse& response, const OutboundMessage& m, TimePoint) const override {
    return response.completed() ? parse_kannel_send(m, static_cast<int>(response.status), response.body)
                                : transfer_failure(response);
  }

  KannelSettings settings_;
};

}  // namespace

std::unique_ptr<Gateway> make_kannel_gateway(const GatewayConfig& config, KannelSettings settings,
                                             CurlMulti::Options transport) {
  return std::make_unique<KannelGateway>(config, std::move(settings), std::move(transport));
}

}  // namespace herald::gateways
