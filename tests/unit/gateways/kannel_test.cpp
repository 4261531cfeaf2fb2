// The kannel gateway without a network: the sendsms URL on the wire, the choice of coding,
// answer classification, DLR types, and the checks on its config section.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "herald/gateways/encoding.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/gateways/kannel.hpp"
#include "gateway_fixtures.hpp"

namespace herald::gateways {
namespace {

using test::sms;

using ::testing::Contains;
using ::testing::Not;
using ::testing::Pair;

KannelSettings settings() {
  KannelSettings s;
  s.url = "http://127.0.0.1:13013/cgi-bin/sendsms";
  s.username = "herald";
  s.password = "p&ss word";
  s.from = "12345";
  s.dlr_url = "https://herald.example.com/v1/webhooks/kannel/dlr";
  s.webhook_token = "kannel-token-0123456789";
  return s;
}

// The query of a GET as smsbox decodes it.
FormParams query_of(const HttpRequest& r) {
  const auto q = r.url.find('?');
  return q == std::string::npos ? FormParams{} : parse_form(r.url.substr(q + 1));
}

std::string value_of(const FormParams& params, const std::string& name) {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return "<absent>";
}

TEST(KannelRequest, GetsSendsmsWithCredentialsSenderRecipientAndText) {
  HttpRequest r = build_kannel_send(settings(), sms("Your bill is ready"));
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url.substr(0, r.url.find('?')), "http://127.0.0.1:13013/cgi-bin/sendsms");
  EXPECT_TRUE(r.body.empty());
  const FormParams q = query_of(r);
  EXPECT_THAT(q, Contains(Pair("username", "herald")));
  EXPECT_THAT(q, Contains(Pair("password", "p&ss word")));
  EXPECT_THAT(q, Contains(Pair("from", "12345")));
  EXPECT_THAT(q, Contains(Pair("to", "+12175550101")));
  EXPECT_THAT(q, Contains(Pair("text", "Your bill is ready")));
  EXPECT_THAT(q, Contains(Pair("charset", "UTF-8")));
  EXPECT_EQ(find_header(r.headers, "Idempotency-Key").value_or(""), "herald-42");
}

TEST(KannelRequest, PlusAmpersandAndPercentInTheTextSurviveTheQuery) {
  const std::string body = "Pay $5 + fees & 10% tax = $5.50";
  HttpRequest r = build_kannel_send(settings(), sms(body));
  const std::string raw_query = r.url.substr(r.url.find('?') + 1);
  EXPECT_EQ(raw_query.find(' '), std::string::npos);
  EXPECT_NE(raw_query.find("%2B"), std::string::npos);  // '+' must not read as a space
  EXPECT_EQ(value_of(query_of(r), "text"), body);
  EXPECT_EQ(value_of(query_of(r), "to"), "+12175550101");
}

TEST(KannelRequest, Gsm7TextKeepsTheDefaultCoding) {
  // £, é, Ñ and € are all GSM 03.38 (€ through the extension table).
  HttpRequest r = build_kannel_send(settings(), sms("Señor: £5 or €5 à payer, é"));
  EXPECT_EQ(value_of(query_of(r), "coding"), "<absent>");
  EXPECT_THAT(query_of(r), Contains(Pair("charset", "UTF-8")));
}

TEST(KannelRequest, TextOutsideGsm7IsSentAsUcs2FromUtf8) {
  for (const std::string body : {"¿Pagó? Factura lista ✓", "Leak! 💧", "día", "`quoted`"}) {
    HttpRequest r = build_kannel_send(settings(), sms(body));
    const FormParams q = query_of(r);
    EXPECT_EQ(value_of(q, "coding"), "2") << body;
    EXPECT_EQ(value_of(q, "charset"), "UTF-8") << body;
    EXPECT_EQ(value_of(q, "text"), body) << "the UTF-8 bytes travel unchanged";
  }
}

TEST(KannelRequest, AsksForEveryDlrTypeWithAUrlCarryingTokenMessageIdAndKannelEscapes) {
  HttpRequest r = build_kannel_send(settings(), sms("hi"));
  const FormParams q = query_of(r);
  EXPECT_EQ(value_of(q, "dlr-mask"), "31");
  EXPECT_EQ(value_of(q, "dlr-url"),
            "https://herald.example.com/v1/webhooks/kannel/dlr?token=kannel-token-0123456789&id=42&status=%d&reply=%A");
  // smsbox must see the escapes after decoding, so they are percent-encoded on the wire.
  EXPECT_NE(r.url.find("status%3D%25d"), std::string::npos) << r.url;
}

TEST(KannelRequest, ConfiguredMaskIsSentAndNoDlrUrlMeansNoDlrs) {
  KannelSettings s = settings();
  s.dlr_mask = 3;
  EXPECT_EQ(value_of(query_of(build_kannel_send(s, sms("hi"))), "dlr-mask"), "3");
  s.dlr_url.clear();
  const FormParams q = query_of(build_kannel_send(s, sms("hi")));
  EXPECT_EQ(value_of(q, "dlr-mask"), "<absent>");
  EXPECT_EQ(value_of(q, "dlr-url"), "<absent>");
}

TEST(KannelRequest, NoSenderLeavesItToSmsboxAndAUrlWithAQueryIsExtended) {
  KannelSettings s = settings();
  s.from.clear();
  s.url = "http://kannel.internal/cgi-bin/sendsms?smsc=carrier1";
  HttpRequest r = build_kannel_send(s, sms("hi"));
  EXPECT_EQ(r.url.rfind("http://kannel.internal/cgi-bin/sendsms?smsc=carrier1&username=herald", 0), 0u) << r.url;
  EXPECT_EQ(value_of(query_of(r), "from"), "<absent>");
}

TEST(KannelResponse, AcceptedAndQueuedAreSentWithTheMessageAsProviderId) {
  for (const char* body : {"0: Accepted for delivery", "3: Queued for later delivery", "Sent."}) {
    SendResult r = parse_kannel_send(sms("hi"), 202, body);
    EXPECT_EQ(r.outcome, SendOutcome::sent) << body;
    EXPECT_EQ(r.provider_id, "kannel-42");
    EXPECT_EQ(r.http_status, 202);
  }
  EXPECT_EQ(parse_kannel_send(sms("hi"), 200, "0: Accepted for delivery").outcome, SendOutcome::sent);
}

TEST(KannelResponse, NotRoutableIsAPermanentFailure) {
  SendResult r = parse_kannel_send(sms("hi"), 403, "Not routable. Do not try again.");
  EXPECT_EQ(r.outcome, SendOutcome::failed);
  EXPECT_EQ(r.error_code, "kannel_not_routable");
  EXPECT_EQ(r.detail, "Not routable. Do not try again.");
  EXPECT_TRUE(r.provider_id.empty());
}

TEST(KannelResponse, TemporalFailureAndServerErrorsAreRetried) {
  SendResult r = parse_kannel_send(sms("hi"), 503, "Temporal failure, try again later.");
  EXPECT_EQ(r.outcome, SendOutcome::retry);
  EXPECT_EQ(r.error_code, "kannel_503");
  EXPECT_EQ(parse_kannel_send(sms("hi"), 500, "Sending failed.").outcome, SendOutcome::retry);
  EXPECT_EQ(parse_kannel_send(sms("hi"), 502, "<html>bad gateway</html>").outcome, SendOutcome::retry);
}

TEST(KannelResponse, OtherClientErrorsArePermanent) {
  SendResult r = parse_kannel_send(sms("hi"), 400, "Charset or body misformed, rejected");
  EXPECT_EQ(r.outcome, SendOutcome::failed);
  EXPECT_EQ(r.error_code, "kannel_400");
  EXPECT_EQ(parse_kannel_send(sms("hi"), 404, "Not found").outcome, SendOutcome::failed);
}

TEST(KannelResponse, WrongCredentialsAreTheGatewaysFaultSoTheMessageIsRetried) {
  SendResult r = parse_kannel_send(sms("hi"), 403, "Authorization failed for sendsms");
  EXPECT_EQ(r.outcome, SendOutcome::retry);
  EXPECT_EQ(r.error_code, "kannel_authorization_failed");
}

TEST(KannelResponse, AnUnreadableSuccessIsRetriedAndLongBodiesAreClipped) {
  SendResult r = parse_kannel_send(sms("hi"), 202, std::string(5000, 'x'));
  EXPECT_EQ(r.outcome, SendOutcome::retry);
  EXPECT_EQ(r.error_code, "unparsable_response");
  EXPECT_LE(r.detail.size(), 300u);
  EXPECT_EQ(parse_kannel_send(sms("hi"), 302, "").outcome, SendOutcome::retry);
}

TEST(KannelDlr, TypesMapToStatusesAndUnknownTypesToNothing) {
  EXPECT_EQ(kannel_dlr_status(1), MessageStatus::delivered);
  EXPECT_EQ(kannel_dlr_status(2), MessageStatus::undelivered);
  EXPECT_EQ(kannel_dlr_status(4), MessageStatus::queued);
  EXPECT_EQ(kannel_dlr_status(8), MessageStatus::sent);
  EXPECT_EQ(kannel_dlr_status(16), MessageStatus::failed);
  for (int t : {0, 3, 5, 31, 32, -1}) EXPECT_FALSE(kannel_dlr_status(t).has_value()) << t;
}

TEST(KannelDlr, InterimReportsRankBelowFinalOnesSoTheyNeverMoveAStatusBack) {
  EXPECT_LT(status_rank(*kannel_dlr_status(4)), status_rank(MessageStatus::sent));
  EXPECT_LT(status_rank(*kannel_dlr_status(8)), status_rank(*kannel_dlr_status(1)));
  EXPECT_EQ(status_rank(*kannel_dlr_status(2)), status_rank(*kannel_dlr_status(1)));
}

TEST(KannelToken, MatchesOnlyTheWholeConfiguredToken) {
  EXPECT_TRUE(kannel_token_matches("kannel-token-0123456789", "kannel-token-0123456789"));
  EXPECT_FALSE(kannel_token_matches("kannel-token-0123456789", "kannel-token-012345678"));
  EXPECT_FALSE(kannel_token_matches("kannel-token-0123456789", "kannel-token-01234567890"));
  EXPECT_FALSE(kannel_token_matches("kannel-token-0123456789", ""));
  EXPECT_FALSE(kannel_token_matches("", ""));
}

GatewayConfig kannel_config() {
  GatewayConfig c;
  c.name = "kannel-main";
  c.type = "kannel";
  c.channel = Channel::sms;
  c.settings = {{"url", "http://127.0.0.1:13013/cgi-bin/sendsms"},
                {"username", "herald"},
                {"password", "secret"},
                {"webhook_token", "kannel-token-0123456789"}};
  return c;
}

std::string error_field(const GatewayConfig& c) {
  auto r = make_gateway(c);
  return r ? std::string("<ok>") : r.error().field;
}

TEST(KannelConfig, BuildsFromValidSettingsWithOrWithoutOptionalOnes) {
  auto g = make_gateway(kannel_config());
  ASSERT_TRUE(g) << g.error().field << ": " << g.error().message;
  EXPECT_EQ((*g)->name(), "kannel-main");
  EXPECT_EQ((*g)->channel(), Channel::sms);
  EXPECT_EQ((*g)->max_concurrent(), 32u);
  GatewayConfig c = kannel_config();
  c.settings["from"] = "12345";
  c.settings["dlr_url"] = "https://herald.example.com/v1/webhooks/kannel/dlr";
  c.settings["dlr_mask"] = "3";
  c.settings["max_concurrent"] = "4";
  g = make_gateway(c);
  ASSERT_TRUE(g) << g.error().field;
  EXPECT_EQ((*g)->max_concurrent(), 4u);
}

TEST(KannelConfig, MissingAndInvalidSettingsAreNamed) {
  for (const char* key : {"url", "username", "password", "webhook_token"}) {
    GatewayConfig c = kannel_config();
    c.settings.erase(key);
    EXPECT_EQ(error_field(c), std::string("gateways.kannel-main.") + key);
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"url", "127.0.0.1:13013/cgi-bin/sendsms"},
      {"webhook_token", "short"},
      {"webhook_token", "has a space in it somewhere"},
      {"webhook_token", "percent%64escape-long-enough"},
      {"dlr_url", "ftp://herald.example.com/dlr"},
      {"dlr_mask", "32"},
      {"dlr_mask", "-1"},
      {"dlr_mask", "all"},
      {"timeout_ms", "0"},
      {"pasword", "typo"},
  };
  for (const auto& [key, value] : bad) {
    GatewayConfig c = kannel_config();
    c.settings[key] = value;
    EXPECT_EQ(error_field(c), "gateways.kannel-main." + key) << key << " = " << value;
  }
}

TEST(KannelConfig, ServesSmsOnly) {
  GatewayConfig c = kannel_config();
  c.channel = Channel::email;
  EXPECT_EQ(error_field(c), "gateways.kannel-main.channel");
}

}  // namespace
}  // namespace herald::gateways
