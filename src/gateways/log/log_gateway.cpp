// The `log` gateway: "sends" by writing one line per message, so the product runs without a
// provider account. Cheap by design: no body text, one masked address per line.
#include <spdlog/spdlog.h>

#include <chrono>

#include "../adapters.hpp"
#include "../common.hpp"
#include "herald/domain/phone.hpp"

namespace herald::gateways {
namespace {

class LogGateway final : public Gateway {
 public:
  explicit LogGateway(const GatewayConfig& config)
      : name_(config.name), channel_(config.channel), metrics_(config.name) {}

  const std::string& name() const override { return name_; }
  Channel channel() const override { return channel_; }

  std::vector<SendResult> send_batch(const std::vector<OutboundMessage>& batch) override {
    std::vector<SendResult> results(batch.size());
    spdlog::logger* logger = spdlog::default_logger_raw();
    const bool enabled = logger->should_log(spdlog::level::info);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const OutboundMessage& m = batch[i];
      const auto start = std::chrono::steady_clock::now();
      if (enabled) {
        logger->info("gateway {} ({}) message {} to {}: subject {} bytes, body {} bytes, html {} bytes",
                     name_, to_string(channel_), m.id, mask_address(m.to), m.subject.size(),
                     m.body.size(), m.html.size());
      }
      SendResult& r = results[i];
      r.outcome = SendOutcome::sent;
      r.provider_id = "log-" + std::to_string(m.id);
      r.duration_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      metrics_.record(r);
    }
    return results;
  }

 private:
  std::string name_;
  Channel channel_;
  GatewayMetrics metrics_;
};

}  // namespace

std::unique_ptr<Gateway> make_log_gateway(const GatewayConfig& config) {
  return std::make_unique<LogGateway>(config);
}

}  // namespace herald::gateways
