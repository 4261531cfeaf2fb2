// make_gateway: validates a gateway's config section and builds the adapter it names.
#include <charconv>
#include <optional>
#include <set>

#include "adapters.hpp"

namespace herald::gateways {
namespace {

// The message starts with the key, as the app's config errors do, so it reads on its own.
ApiError config_error(const std::string& field, std::string code, const std::string& text) {
  return {ErrorKind::invalid, std::move(code), field + ": " + text, field};
}

// Reads the settings of one gateway; every error names "gateways.<name>.<key>".
class SettingsReader {
 public:
  SettingsReader(const GatewayConfig& config, std::set<std::string> allowed)
      : config_(config), allowed_(std::move(allowed)) {}

  std::string field(std::string_view key) const {
    return "gateways." + config_.name + "." + std::string(key);
  }

  std::optional<ApiError> unknown_key() const {
    for (const auto& [key, value] : config_.settings) {
      if (allowed_.count(key) == 0) {
        return config_error(field(key), "unknown_setting",
                             "unknown setting for a " + config_.type + " gateway");
      }
    }
    return std::nullopt;
  }

  std::string get(const std::string& key, std::string fallback = {}) const {
    auto it = config_.settings.find(key);
    return it == config_.settings.end() || it->second.empty() ? std::move(fallback) : it->second;
  }

  ApiError missing(std::string_view key) const {
    return config_error(field(key), "missing_setting", "required setting is missing");
  }

  // A positive whole number of milliseconds or transfers.
  Result<long> positive(const std::string& key, long fallback) const {
    const std::string text = get(key);
    if (text.empty()) return fallback;
    long value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value <= 0) {
      return config_error(field(key), "invalid_setting", "must be a positive whole number");
    }
    return value;
  }

 private:
  const GatewayConfig& config_;
  std::set<std::string> allowed_;
};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

Result<CurlMulti::Options> transport_options(const SettingsReader& reader, long default_timeout_ms,
                                             long default_concurrency) {
  auto timeout = reader.positive("timeout_ms", default_timeout_ms);
  if (!timeout) return timeout.error();
  auto concurrency = reader.positive("max_concurrent", default_concurrency);
  if (!concurrency) return concurrency.error();
  CurlMulti::Options options;
  options.timeout = std::chrono::milliseconds(*timeout);
  options.connect_timeout = std::min(options.timeout, std::chrono::milliseconds(5'000));
  options.max_concurrent = static_cast<int>(std::min(*concurrency, 1'000L));
  options.ca_file = reader.get("ca_file");
  return options;
}

Result<std::unique_ptr<Gateway>> make_twilio(const GatewayConfig& config) {
  // One [gateways.X] may serve both sms and voice (the same account and number): each reads its keys.
  const bool calls = config.channel == Channel::voice;
  SettingsReader reader(config, {"account_sid", "auth_token", "from", "messaging_service_sid", "machine_detection",
                                 "base_url", "timeout_ms", "max_concurrent", "ca_file"});
  if (auto error = reader.unknown_key()) return *error;
  TwilioSettings s;
  s.account_sid = reader.get("account_sid");
  if (s.account_sid.empty()) return reader.missing("account_sid");
  s.auth_token = reader.get("auth_token");
  if (s.auth_token.empty()) return reader.missing("auth_token");
  s.from = reader.get("from");
  s.messaging_service_sid = reader.get("messaging_service_sid");
  if (calls && s.from.empty()) {
    return config_error(reader.field("from"), "missing_setting", "calls need a from number (a messaging service cannot call)");
  }
  if (s.from.empty() && s.messaging_service_sid.empty()) {
    return config_error(reader.field("from"), "missing_setting",
                         "set from (a sender number) or messaging_service_sid");
  }
  s.machine_detection = reader.get("machine_detection", "DetectMessageEnd");
  if (s.machine_detection != "DetectMessageEnd" && s.machine_detection != "Enable" && s.machine_detection != "none") {
    return config_error(reader.field("machine_detection"), "invalid_setting",
                         "must be DetectMessageEnd (speak after a machine's beep), Enable or none");
  }
  s.base_url = reader.get("base_url", "https://api.twilio.com");
  if (!starts_with(s.base_url, "https://") && !starts_with(s.base_url, "http://")) {
    return config_error(reader.field("base_url"), "invalid_setting", "must be an http(s):// URL");
  }
  auto transport = transport_options(reader, 10'000, 64);
  if (!transport) return transport.error();
  return make_twilio_gateway(config, std::move(s), std::move(*transport));
}

// A webhook token travels in URLs smsbox fills in and calls: only characters that need no
// escaping, so no '%' can read as one of smsbox's escapes.
bool url_safe(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == '~';
    if (!ok) return false;
  }
  return true;
}

Result<std::unique_ptr<Gateway>> make_kannel(const GatewayConfig& config) {
  SettingsReader reader(config, {"url", "username", "password", "from", "webhook_token", "dlr_url", "dlr_mask",
                                 "timeout_ms", "max_concurrent", "ca_file"});
  if (auto error = reader.unknown_key()) return *error;
  KannelSettings s;
  s.url = reader.get("url");
  if (s.url.empty()) return reader.missing("url");
  if (!starts_with(s.url, "https://") && !starts_with(s.url, "http://")) {
    return config_error(reader.field("url"), "invalid_setting",
                         "must be smsbox's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms");
  }
  s.username = reader.get("username");
  if (s.username.empty()) return reader.missing("username");
  s.password = reader.get("password");
  if (s.password.empty()) return reader.missing("password");
  s.from = reader.get("from");
  s.webhook_token = reader.get("webhook_token");
  if (s.webhook_token.empty()) return reader.missing("webhook_token");
  if (s.webhook_token.size() < 16 || !url_safe(s.webhook_token)) {
    return config_error(reader.field("webhook_token"), "invalid_setting",
                         "must be at least 16 characters of A-Z a-z 0-9 - _ . ~");
  }
  s.dlr_url = reader.get("dlr_url");
  if (!s.dlr_url.empty() && !starts_with(s.dlr_url, "https://") && !starts_with(s.dlr_url, "http://")) {
    return config_error(reader.field("dlr_url"), "invalid_setting", "must be an http(s):// URL");
  }
  const std::string mask = reader.get("dlr_mask");
  if (!mask.empty()) {
    int value = -1;
    auto [ptr, ec] = std::from_chars(mask.data(), mask.data() + mask.size(), value);
    if (ec != std::errc() || ptr != mask.data() + mask.size() || value < 0 || value > 31) {
      return config_error(reader.field("dlr_mask"), "invalid_setting",
                           "must be 0 to 31 (1 delivered, 2 undelivered, 4 queued, 8 SMSC ack, 16 SMSC reject)");
    }
    s.dlr_mask = value;
  }
  auto transport = transport_options(reader, 10'000, 32);
  if (!transport) return transport.error();
  return make_kannel_gateway(config, std::move(s), std::move(*transport));
}

Result<std::unique_ptr<Gateway>> make_smtp(const GatewayConfig& config) {
  SettingsReader reader(config, {"url", "username", "password", "from", "from_name", "starttls",
                                 "timeout_ms", "max_concurrent", "ca_file"});
  if (auto error = reader.unknown_key()) return *error;
  SmtpSettings s;
  s.url = reader.get("url");
  if (s.url.empty()) return reader.missing("url");
  if (!starts_with(s.url, "smtp://") && !starts_with(s.url, "smtps://")) {
    return config_error(reader.field("url"), "invalid_setting",
                         "must be smtp://host:port or smtps://host:port");
  }
  s.username = reader.get("username");
  s.password = reader.get("password");
  s.from = reader.get("from");
  if (s.from.empty()) return reader.missing("from");
  if (s.from.find('@') == std::string::npos || s.from.find_first_of(" <>\r\n") != std::string::npos) {
    return config_error(reader.field("from"), "invalid_setting", "must be a bare email address");
  }
  s.from_name = reader.get("from_name");
  const std::string starttls = reader.get("starttls", "try");
  if (starttls == "try") {
    s.starttls = StartTls::try_;
  } else if (starttls == "required") {
    s.starttls = StartTls::required;
  } else if (starttls == "none") {
    s.starttls = StartTls::none;
  } else {
    return config_error(reader.field("starttls"), "invalid_setting",
                         "must be try, required or none");
  }
  auto transport = transport_options(reader, 30'000, 8);
  if (!transport) return transport.error();
  return make_smtp_gateway(config, std::move(s), std::move(*transport));
}

}  // namespace

Result<std::unique_ptr<Gateway>> make_gateway(const GatewayConfig& config) {
  if (config.name.empty()) {
    return config_error("gateways", "missing_name", "a gateway needs a name");
  }
  const std::string prefix = "gateways." + config.name + ".";
  if (!(config.rate_per_second > 0)) {
    return config_error(prefix + "rate_per_second", "invalid_setting", "must be greater than 0");
  }
  if (!(config.burst >= 1)) {
    return config_error(prefix + "burst", "invalid_setting", "must be at least 1");
  }
  auto wrong_channel = [&](std::string_view serves) -> ApiError {
    return config_error(prefix + "channel", "unsupported_channel",
                         "a " + config.type + " gateway serves " + std::string(serves) + " only");
  };
  if (config.type == "log") {
    SettingsReader reader(config, {});
    if (auto error = reader.unknown_key()) return *error;
    return make_log_gateway(config);
  }
  if (config.type == "twilio") {
    if (config.channel == Channel::email) return wrong_channel("sms and voice");
    return make_twilio(config);
  }
  if (config.type == "smtp") {
    if (config.channel != Channel::email) return wrong_channel("email");
    return make_smtp(config);
  }
  if (config.type == "kannel") {
    if (config.channel != Channel::sms) return wrong_channel("sms");
    return make_kannel(config);
  }
  return config_error(prefix + "type", "unknown_gateway_type", "type must be log, twilio, kannel or smtp");
}

}  // namespace herald::gateways
