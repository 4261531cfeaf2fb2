// The `smtp` email gateway: one SMTP transaction per message, run concurrently on a CurlMulti
// whose connections are reused between messages.
#include "../adapters.hpp"
#include "../common.hpp"

namespace herald::gateways {
namespace {

// The server's reply carrying the final code: libcurl sends QUIT after a refusal, so the very
// last line is usually "221 Bye".
std::string reply_text(const TransferResponse& response) {
  const std::string code = std::to_string(response.status);
  for (auto it = response.reply_lines.rbegin(); it != response.reply_lines.rend(); ++it) {
    if (it->compare(0, code.size(), code) == 0) return *it;
  }
  return response.reply_lines.empty() ? std::string{} : response.reply_lines.back();
}

class SmtpGateway final : public Gateway {
 public:
  SmtpGateway(const GatewayConfig& config, SmtpSettings settings, CurlMulti::Options transport)
      : name_(config.name),
        channel_(config.channel),
        settings_(std::move(settings)),
        transport_(std::move(transport)),
        metrics_(config.name) {}

  const std::string& name() const override { return name_; }
  Channel channel() const override { return channel_; }

  std::vector<SendResult> send_batch(const std::vector<OutboundMessage>& batch) override {
    const TimePoint now = system_now();
    std::vector<TransferRequest> requests;
    requests.reserve(batch.size());
    for (const auto& m : batch) requests.emplace_back(build_smtp_request(settings_, m, now));
    std::vector<TransferResponse> responses = transport_.perform(requests);

    std::vector<SendResult> results;
    results.reserve(batch.size());
    for (std::size_t i = 0; i < responses.size(); ++i) {
      const TransferResponse& response = responses[i];
      const std::string last_reply = reply_text(response);
      SendResult r;
      if (response.completed()) {
        r = classify_smtp_result(true, static_cast<int>(response.status), last_reply);
        r.provider_id = mime_message_id(settings_, batch[i]);
      } else if (response.status >= 400) {
        r = classify_smtp_result(false, static_cast<int>(response.status), last_reply);
      } else {
        // No refusal from the server: the connection, TLS or a timeout failed us.
        r = transfer_failure(response);
      }
      r.duration_ms = response.duration_ms;
      metrics_.record(r);
      results.push_back(std::move(r));
    }
    return results;
  }

 private:
  std::string name_;
  Channel channel_;
  SmtpSettings settings_;
  CurlMulti transport_;
  GatewayMetrics metrics_;
};

}  // namespace

std::unique_ptr<Gateway> make_smtp_gateway(const GatewayConfig& config, SmtpSettings settings,
                                           CurlMulti::Options transport) {
  return std::make_unique<SmtpGateway>(config, std::move(settings), std::move(transport));
}

}  // namespace herald::gateways
