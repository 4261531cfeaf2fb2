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

class SmtpGateway final : public TransferGateway {
 public:
  SmtpGateway(const GatewayConfig& config, SmtpSettings settings, CurlMulti::Options transport)
      : TransferGateway(config, std::move(transport)), settings_(std::move(settings)) {}

 private:
  TransferRequest build_request(const OutboundMessage& m, TimePoint now) const override {
    return build_smtp_request(settings_, m, now);
  }
  SendResult classify(const TransferResponse& response, const OutboundMessage& m, TimePoint) const override {
    const std::string last_reply = reply_text(response);
    if (response.completed()) {
      SendResult r = classify_smtp_result(true, static_cast<int>(response.status), last_reply);
      r.provider_id = mime_message_id(settings_, m);
      return r;
    }
    if (response.status >= 400) return classify_smtp_result(false, static_cast<int>(response.status), last_reply);
    // No refusal from the server: the connection, TLS or a timeout failed us.
    return transfer_failure(response);
  }

  SmtpSettings settings_;
};

}  // namespace

std::unique_ptr<Gateway> make_smtp_gateway(const GatewayConfig& config, SmtpSettings settings,
                                           CurlMulti::Options transport) {
  return std::make_unique<SmtpGateway>(config, std::move(settings), std::move(transport));
}

}  // namespace herald::gateways
