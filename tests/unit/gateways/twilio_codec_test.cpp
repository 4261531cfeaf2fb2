// Twilio codec: the send request on the wire, response classification, webhook signatures,
// and the encodings they rest on. No network.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "herald/gateways/encoding.hpp"
#include "herald/gateways/twilio.hpp"
#include "gateway_fixtures.hpp"

namespace herald::gateways {
namespace {

using test::sms;
using test::utc;
const auto settings = test::twilio_settings;

using ::testing::Contains;
using ::testing::Pair;

TEST(TwilioRequest, PostsFormToAccountMessagesResourceWithBasicAuth) {
  HttpRequest r = build_twilio_send(settings(), sms("Your bill is ready"));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:8080/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json");
  EXPECT_EQ(find_header(r.headers, "content-type").value_or(""), "application/x-www-form-urlencoded");
  EXPECT_EQ(find_header(r.headers, "Authorization").value_or(""),
            "Basic " + base64_encode("AC0123456789abcdef0123456789abcdef:tok3n"));
  EXPECT_EQ(find_header(r.headers, "Idempotency-Key").value_or(""), "herald-42");
  EXPECT_EQ(r.body, "To=%2B12175550101&From=%2B12175550100&Body=Your+bill+is+ready");
}

TEST(TwilioRequest, EncodesPlusAmpersandAndUnicodeSoTheyRoundTrip) {
  const std::string body = "Pay $5 + fees & tax = 10% — ¡gracias! 💡";
  HttpRequest r = build_twilio_send(settings(), sms(body));
  EXPECT_EQ(r.body.find(' '), std::string::npos);
  EXPECT_NE(r.body.find("%2B"), std::string::npos);  // '+' must not read as a space
  EXPECT_NE(r.body.find("%F0%9F%92%A1"), std::string::npos);  // the emoji's UTF-8 bytes
  FormParams form = parse_form(r.body);
  EXPECT_THAT(form, Contains(Pair("Body", body)));
  EXPECT_THAT(form, Contains(Pair("To", "+12175550101")));
}

TEST(TwilioRequest, UsesMessagingServiceAndStatusCallbackWhenSet) {
  TwilioSettings s = settings();
  s.messaging_service_sid = "MG0123";
  OutboundMessage m = sms("hi");
  m.status_callback_url = "https://herald.example.com/v1/webhooks/twilio/status";
  FormParams form = parse_form(build_twilio_send(s, m).body);
  EXPECT_THAT(form, Contains(Pair("MessagingServiceSid", "MG0123")));
  EXPECT_THAT(form, Contains(Pair("StatusCallback", "https://herald.example.com/v1/webhooks/twilio/status")));
  for (const auto& [name, value] : form) EXPECT_NE(name, "From");
}

TEST(TwilioResponse, CreatedIsSentWithTheMessageSid) {
  SendResult r = parse_twilio_send(
      201, {}, R"({"sid": "SM0123456789abcdef", "status": "queued", "to": "+12175550101"})", utc(2024, 1, 1, 0, 0, 0));
  EXPECT_EQ(r.outcome, SendOutcome::sent);
  EXPECT_EQ(r.provider_id, "SM0123456789abcdef");
  EXPECT_EQ(r.http_status, 201);
}

TEST(TwilioResponse, TooManyRequestsIsRetryHonouringRetryAfterSeconds) {
  SendResult r = parse_twilio_send(429, {{"retry-after", "30"}},
                                   R"({"code": 20429, "message": "Too Many Requests", "status": 429})",
                                   utc(2024, 1, 1, 0, 0, 0));
  EXPECT_EQ(r.outcome, SendOutcome::retry);
  ASSERT_TRUE(r.retry_after.has_value());
  EXPECT_EQ(r.retry_after->count(), 30);
  EXPECT_EQ(r.error_code, "20429");
}

TEST(TwilioResponse, RetryAfterHttpDateIsMadeRelativeToNow) {
  SendResult r = parse_twilio_send(429, {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}, "",
                                   utc(2015, 10, 21, 7, 26, 30));
  EXPECT_EQ(r.outcome, SendOutcome::retry);
  ASSERT_TRUE(r.retry_after.has_value());
  EXPECT_EQ(r.retry_after->count(), 90);
}

TEST(TwilioResponse, OptedOutRecipientIsPermanentOptOut) {
  SendResult r = parse_twilio_send(
      400, {}, R"({"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400})",
      utc(2024, 1, 1, 0, 0, 0));
  EXPECT_EQ(r.outcome, SendOutcome::opted_out);
  EXPECT_EQ(r.error_code, "21610");
  EXPECT_EQ(r.detail, "Attempt to send to unsubscribed recipient");
}

TEST(TwilioResponse, InvalidNumberIsFailedWithTwiliosCode) {
  SendResult r = parse_twilio_send(
      400, {}, R"({"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})",
      utc(2024, 1, 1, 0, 0, 0));
  EXPECT_EQ(r.outcome, SendOutcome::failed);
  EXPECT_EQ(r.error_code, "21211");
  EXPECT_FALSE(r.retry_after.has_value());
}

TEST(TwilioResponse, ServerErrorIsRetry) {
  SendResult r = parse_twilio_send(500, {}, "<html>Internal Server Error</html>", utc(2024, 1, 1, 0, 0, 0));
  EXPECT_EQ(r.outcome, SendOutcome::retry);
  EXPECT_EQ(r.error_code, "http_500");
}

TEST(TwilioResponse, GarbageIsRetryNeverSent) {
  for (int status : {200, 201, 400}) {
    SendResult r = parse_twilio_send(status, {}, "<<not json", utc(2024, 1, 1, 0, 0, 0));
    EXPECT_EQ(r.outcome, SendOutcome::retry) << status;
    EXPECT_EQ(r.error_code, "unparsable_response") << status;
  }
  SendResult no_sid = parse_twilio_send(201, {}, R"({"status": "queued"})", utc(2024, 1, 1, 0, 0, 0));
  EXPECT_EQ(no_sid.outcome, SendOutcome::retry);
}

TEST(TwilioResponse, BadCredentialsAreRetryBecauseTheMessageIsNotAtFault) {
  SendResult r = parse_twilio_send(401, {}, R"({"code": 20003, "message": "Authenticate", "status": 401})",
                                   utc(2024, 1, 1, 0, 0, 0));
  EXPECT_EQ(r.outcome, SendOutcome::retry);
  EXPECT_EQ(r.error_code, "20003");
}

FormParams documented_params() {
  return {{"CallSid", "CA1234567890ABCDE"},
          {"Caller", "+12349013030"},
          {"Digits", "1234"},
          {"From", "+12349013030"},
          {"To", "+18005551212"}};
}

constexpr std::string_view kDocumentedUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";

TEST(TwilioSignature, MatchesTwiliosDocumentedExample) {
  EXPECT_EQ(twilio_signature("12345", kDocumentedUrl, documented_params()), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  EXPECT_TRUE(verify_twilio_signature("12345", kDocumentedUrl, documented_params(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
}

TEST(TwilioSignature, IndependentOfParameterOrder) {
  FormParams shuffled = documented_params();
  std::reverse(shuffled.begin(), shuffled.end());
  EXPECT_TRUE(verify_twilio_signature("12345", kDocumentedUrl, shuffled, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
}

TEST(TwilioSignature, ChangedParameterUrlOrTokenFails) {
  FormParams changed = documented_params();
  changed[2].second = "1235";
  EXPECT_FALSE(verify_twilio_signature("12345", kDocumentedUrl, changed, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
  EXPECT_FALSE(verify_twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", documented_params(),
                                       "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
  EXPECT_FALSE(verify_twilio_signature("54321", kDocumentedUrl, documented_params(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
  EXPECT_FALSE(verify_twilio_signature("12345", kDocumentedUrl, documented_params(), ""));
  EXPECT_FALSE(verify_twilio_signature("12345", kDocumentedUrl, documented_params(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ"));
}

TEST(FormEncoding, ParsesPlusAsSpaceAndPercentEscapesAsBytes) {
  FormParams form = parse_form("MessageSid=SM1&Body=Stop+it%21+%C3%A9t%C3%A9&From=%2B12175550101&Empty=&Flag");
  ASSERT_EQ(form.size(), 5u);
  EXPECT_EQ(form[1], (std::pair<std::string, std::string>{"Body", "Stop it! été"}));
  EXPECT_EQ(form[2].second, "+12175550101");
  EXPECT_EQ(form[3], (std::pair<std::string, std::string>{"Empty", ""}));
  EXPECT_EQ(form[4], (std::pair<std::string, std::string>{"Flag", ""}));
}

TEST(FormEncoding, KeepsMalformedEscapesLiterally) {
  FormParams form = parse_form("a=100%&b=%zz&c=%4");
  EXPECT_EQ(form[0].second, "100%");
  EXPECT_EQ(form[1].second, "%zz");
  EXPECT_EQ(form[2].second, "%4");
}

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(RetryAfter, RejectsGarbageAndClampsPastDatesToZero) {
  const TimePoint now = utc(2024, 1, 1, 0, 0, 0);
  EXPECT_FALSE(parse_retry_after("soon", now).has_value());
  EXPECT_FALSE(parse_retry_after("-5", now).has_value());
  EXPECT_FALSE(parse_retry_after("Wed, 32 Oct 2015 07:28:00 GMT", now).has_value());
  EXPECT_EQ(parse_retry_after(" 5 ", now).value().count(), 5);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now).value().count(), 0);
}

}  // namespace
}  // namespace herald::gateways
