// make_gateway's validation of config sections, and the log gateway.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "herald/domain/metrics.hpp"
#include "herald/gateways/gateway.hpp"

namespace herald::gateways {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

GatewayConfig twilio_config() {
  GatewayConfig c;
  c.name = "twilio-main";
  c.type = "twilio";
  c.channel = Channel::sms;
  c.settings = {{"account_sid", "AC1"}, {"auth_token", "t"}, {"from", "+12175550100"}};
  return c;
}

GatewayConfig smtp_config() {
  GatewayConfig c;
  c.name = "mail";
  c.type = "smtp";
  c.channel = Channel::email;
  c.settings = {{"url", "smtp://127.0.0.1:25"}, {"from", "billing@power.example.com"}};
  return c;
}

std::string error_field(const GatewayConfig& c) {
  auto r = make_gateway(c);
  return r ? std::string("<ok>") : r.error().field;
}

TEST(MakeGateway, BuildsEachTypeFromValidSettings) {
  for (const GatewayConfig& c : {twilio_config(), smtp_config()}) {
    auto g = make_gateway(c);
    ASSERT_TRUE(g) << g.error().field << ": " << g.error().message;
    EXPECT_EQ((*g)->name(), c.name);
    EXPECT_EQ((*g)->channel(), c.channel);
  }
  GatewayConfig log{"voice-log", "log", Channel::voice, 50, 50, {}};
  auto g = make_gateway(log);
  ASSERT_TRUE(g);
  EXPECT_EQ((*g)->channel(), Channel::voice);
}

TEST(MakeGateway, TwilioOnChannelVoicePlacesCallsFromItsNumber) {
  GatewayConfig c = twilio_config();
  c.channel = Channel::voice;
  auto g = make_gateway(c);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ((*g)->channel(), Channel::voice);
  // A messaging service cannot call: a voice gateway needs its own number.
  c.settings.erase("from");
  c.settings["messaging_service_sid"] = "MG1";
  EXPECT_EQ(error_field(c), "gateways.twilio-main.from");
  c.channel = Channel::sms;
  EXPECT_EQ(error_field(c), "<ok>");
  c = twilio_config();
  c.channel = Channel::voice;
  c.settings["machine_detection"] = "Sometimes";
  EXPECT_EQ(error_field(c), "gateways.twilio-main.machine_detection");
  c.settings["machine_detection"] = "none";
  EXPECT_EQ(error_field(c), "<ok>");
}

TEST(MakeGateway, MissingRequiredSettingIsNamed) {
  GatewayConfig c = twilio_config();
  c.settings.erase("auth_token");
  auto r = make_gateway(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "gateways.twilio-main.auth_token");
  EXPECT_EQ(r.error().code, "missing_setting");
  EXPECT_THAT(r.error().message, HasSubstr("gateways.twilio-main.auth_token"));

  c = twilio_config();
  c.settings.erase("from");
  EXPECT_EQ(error_field(c), "gateways.twilio-main.from");
  c.settings["messaging_service_sid"] = "MG1";
  EXPECT_EQ(error_field(c), "<ok>");

  GatewayConfig s = smtp_config();
  s.settings.erase("url");
  EXPECT_EQ(error_field(s), "gateways.mail.url");
}

TEST(MakeGateway, InvalidValuesAndUnknownKeysAreNamed) {
  GatewayConfig c = twilio_config();
  c.settings["timeout_ms"] = "soon";
  EXPECT_EQ(error_field(c), "gateways.twilio-main.timeout_ms");
  c = twilio_config();
  c.settings["base_url"] = "ftp://api.twilio.com";
  EXPECT_EQ(error_field(c), "gateways.twilio-main.base_url");
  c = twilio_config();
  c.settings["auth_tokne"] = "typo";
  EXPECT_EQ(error_field(c), "gateways.twilio-main.auth_tokne");

  GatewayConfig s = smtp_config();
  s.settings["starttls"] = "maybe";
  EXPECT_EQ(error_field(s), "gateways.mail.starttls");
  s = smtp_config();
  s.settings["url"] = "http://mail.example.com";
  EXPECT_EQ(error_field(s), "gateways.mail.url");
  s = smtp_config();
  s.settings["from"] = "City Power <billing@power.example.com>";
  EXPECT_EQ(error_field(s), "gateways.mail.from");
}

TEST(MakeGateway, UnknownTypeWrongChannelAndBadRateAreNamed) {
  GatewayConfig c = twilio_config();
  c.type = "carrier-pigeon";
  EXPECT_EQ(error_field(c), "gateways.twilio-main.type");
  c = twilio_config();
  c.channel = Channel::email;
  EXPECT_EQ(error_field(c), "gateways.twilio-main.channel");
  GatewayConfig s = smtp_config();
  s.channel = Channel::sms;
  EXPECT_EQ(error_field(s), "gateways.mail.channel");
  c = twilio_config();
  c.rate_per_second = 0;
  EXPECT_EQ(error_field(c), "gateways.twilio-main.rate_per_second");
}

// Swaps the default logger for the duration of a test.
class DefaultLoggerSwap {
 public:
  explicit DefaultLoggerSwap(std::shared_ptr<spdlog::logger> logger) : saved_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::move(logger));
  }
  ~DefaultLoggerSwap() { spdlog::set_default_logger(saved_); }

 private:
  std::shared_ptr<spdlog::logger> saved_;
};

std::vector<OutboundMessage> sms_batch(int n) {
  std::vector<OutboundMessage> batch;
  for (int i = 0; i < n; ++i) {
    OutboundMessage m;
    m.id = 1000 + i;
    m.channel = Channel::sms;
    m.to = "+12175550101";
    m.body = "Your bill of $42.10 is ready. Secret body text.";
    m.idempotency_key = "herald-" + std::to_string(m.id);
    batch.push_back(m);
  }
  return batch;
}

TEST(LogGateway, LogsOneMaskedLinePerMessageWithoutTheBody) {
  std::ostringstream out;
  auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->set_pattern("%v");
  DefaultLoggerSwap swap(logger);

  auto g = make_gateway({"sms-log", "log", Channel::sms, 50, 50, {}});
  ASSERT_TRUE(g);
  auto results = (*g)->send_batch(sms_batch(3));
  ASSERT_EQ(results.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(results[i].outcome, SendOutcome::sent);
    EXPECT_EQ(results[i].provider_id, "log-" + std::to_string(1000 + i));
  }
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_THAT(text, HasSubstr("message 1001"));
  EXPECT_THAT(text, Not(HasSubstr("+12175550101")));
  EXPECT_THAT(text, Not(HasSubstr("Secret body text")));
}

TEST(LogGateway, CountsResultsInTheMetricsRegistry) {
  DefaultLoggerSwap swap(std::make_shared<spdlog::logger>("null", std::make_shared<spdlog::sinks::null_sink_mt>()));
  auto g = make_gateway({"metrics-log", "log", Channel::email, 50, 50, {}});
  ASSERT_TRUE(g);
  auto& sent = metrics::Registry::global().counter("herald_gateway_results_total", "",
                                                    {{"gateway", "metrics-log"}, {"outcome", "sent"}});
  const double before = sent.value();
  (*g)->send_batch(sms_batch(5));
  EXPECT_EQ(sent.value() - before, 5);
  EXPECT_THAT(metrics::Registry::global().render(),
              HasSubstr("herald_gateway_request_seconds_count{gateway=\"metrics-log\"}"));
}

}  // namespace
}  // namespace herald::gateways
