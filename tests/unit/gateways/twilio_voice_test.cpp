// Twilio voice codec: the create-call request on the wire, the TwiML of a call (person,
// voicemail, keys), call statuses as message statuses, speech and texts per language.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "herald/gateways/encoding.hpp"
#include "herald/gateways/twilio_voice.hpp"
#include "gateway_fixtures.hpp"

namespace herald::gateways {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

TwilioSettings settings() {
  TwilioSettings s = test::twilio_settings();
  s.messaging_service_sid = "MG0123";  // a call never uses it
  return s;
}

OutboundMessage call() {
  OutboundMessage m;
  m.id = 42;
  m.channel = Channel::voice;
  m.to = "+12175550101";
  m.body = "Power is restored at 12 Main St.";
  m.voice_url = "https://herald.example.com/v1/webhooks/twilio/voice?message=42";
  m.status_callback_url = "https://herald.example.com/v1/webhooks/twilio/status";
  m.idempotency_key = "herald-42";
  return m;
}

TEST(TwilioCallRequest, PostsToCallsWithUrlStatusCallbackAndMachineDetection) {
  const auto r = build_twilio_call(settings(), call(), "DetectMessageEnd");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:8080/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json");
  EXPECT_THAT(r.headers, Contains(Pair("Authorization", "Basic " + base64_encode(settings().account_sid + ":tok3n"))));
  EXPECT_THAT(r.headers, Contains(Pair("Idempotency-Key", "herald-42")));
  const auto form = parse_form(r.body);
  EXPECT_THAT(form, Contains(Pair("To", "+12175550101")));
  EXPECT_THAT(form, Contains(Pair("From", "+12175550100")));
  EXPECT_THAT(form, Contains(Pair("Url", "https://herald.example.com/v1/webhooks/twilio/voice?message=42")));
  EXPECT_THAT(form, Contains(Pair("Method", "POST")));
  EXPECT_THAT(form, Contains(Pair("StatusCallback", "https://herald.example.com/v1/webhooks/twilio/status")));
  EXPECT_THAT(form, Contains(Pair("StatusCallbackEvent", "completed")));
  EXPECT_THAT(form, Contains(Pair("MachineDetection", "DetectMessageEnd")));
  // The text is fetched as TwiML, never sent in the request; a call has no messaging service.
  for (const auto& [name, value] : form) {
    EXPECT_NE(name, "Body");
    EXPECT_NE(name, "MessagingServiceSid");
  }
}

TEST(TwilioCallRequest, NoMachineDetectionWhenSwitchedOff) {
  const auto form = parse_form(build_twilio_call(settings(), call(), "none").body);
  for (const auto& [name, value] : form) EXPECT_NE(name, "MachineDetection");
}

TEST(TwilioCallResponse, CreatedCallIsSentWithItsCallSid) {
  const auto r = parse_twilio_send(201, {}, R"({"sid": "CA0123", "status": "queued"})", TimePoint{});
  EXPECT_EQ(r.outcome, SendOutcome::sent);
  EXPECT_EQ(r.provider_id, "CA0123");
}

CallScript script(std::string language) {
  const auto voice = default_voice_settings();
  CallScript s;
  s.body = language == "es" ? "Se restableció la luz en 12 Main St." : "Power is restored at 12 Main St.";
  s.speech = speech_for(voice, language);
  s.texts = texts_for(voice, language);
  s.choices = keyed_choices(Json{{"1", "outage.report"}, {"Y", "close"}});
  s.gather_action = "https://herald.example.com/v1/webhooks/twilio/voice?message=42&gather=1";
  s.gather_timeout_seconds = 5;
  return s;
}

TEST(TwilioTwiml, PersonHearsTheMessageAndThePromptInsideAGatherInTheirLanguage) {
  const auto xml = person_twiml(script("es"));
  EXPECT_THAT(xml, HasSubstr("<Response><Gather input=\"dtmf\" numDigits=\"1\" timeout=\"5\" "
                             "action=\"https://herald.example.com/v1/webhooks/twilio/voice?message=42&amp;gather=1\" "
                             "method=\"POST\">"));
  EXPECT_THAT(xml, HasSubstr("<Say language=\"es-MX\" voice=\"Polly.Mia\">Se restableció la luz en 12 Main St.</Say>"));
  EXPECT_THAT(xml, HasSubstr("<Say language=\"es-MX\" voice=\"Polly.Mia\">Oprima 1 si todavía está sin luz.</Say></Gather>"));
  // No key pressed: Twilio goes on past the Gather.
  EXPECT_THAT(xml, HasSubstr("</Gather><Say language=\"es-MX\" voice=\"Polly.Mia\">Adiós.</Say></Response>"));
}

TEST(TwilioTwiml, NothingToGatherWhenTheTypeExpectsNoKeys) {
  auto s = script("en");
  s.choices = keyed_choices(Json{{"Y", "payment.authorize"}, {"N", "close"}});
  EXPECT_TRUE(s.choices.empty());
  const auto xml = person_twiml(s);
  EXPECT_THAT(xml, Not(HasSubstr("<Gather")));
  EXPECT_THAT(xml, HasSubstr("<Say language=\"en-US\" voice=\"Polly.Joanna\">Power is restored at 12 Main St.</Say>"));
}

TEST(TwilioTwiml, MachineGetsTheMessageAsVoicemailWithoutPrompts) {
  const auto xml = voicemail_twiml(script("en"));
  EXPECT_EQ(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Say language=\"en-US\" "
                 "voice=\"Polly.Joanna\">Power is restored at 12 Main St.</Say><Hangup/></Response>");
}

TEST(TwilioTwiml, ReplyIsSpokenEscapedThenTheCallEnds) {
  const auto xml = reply_twiml({"en-US", ""}, "Report OR-7 <filed> & thanks");
  EXPECT_THAT(xml, HasSubstr("<Say language=\"en-US\">Report OR-7 &lt;filed&gt; &amp; thanks</Say><Hangup/>"));
}

TEST(TwilioTwiml, AWrongKeyIsToldSoAndAskedAgain) {
  auto s = script("en");
  s.gather_action = "https://h/v1/webhooks/twilio/voice?message=42&gather=2";
  const auto xml = ask_again_twiml(s);
  EXPECT_THAT(xml, HasSubstr("Sorry, that is not one of the choices.</Say><Gather"));
  EXPECT_THAT(xml, HasSubstr("gather=2"));
  EXPECT_THAT(xml, HasSubstr("Press 1 if you are still without power.</Say></Gather>"));
}

TEST(TwilioTwiml, AnsweredByTellsPersonMachineAndFax) {
  EXPECT_EQ(answerer_of(""), Answerer::person);
  EXPECT_EQ(answerer_of("human"), Answerer::person);
  EXPECT_EQ(answerer_of("unknown"), Answerer::person);
  EXPECT_EQ(answerer_of("machine_end_beep"), Answerer::machine);
  EXPECT_EQ(answerer_of("machine_end_silence"), Answerer::machine);
  EXPECT_EQ(answerer_of("machine_start"), Answerer::machine);
  EXPECT_EQ(answerer_of("fax"), Answerer::fax);
}

TEST(TwilioCallStatus, MapsOntoMessageStatuses) {
  EXPECT_EQ(message_status_of_call("completed"), MessageStatus::delivered);
  EXPECT_EQ(message_status_of_call("busy"), MessageStatus::undelivered);
  EXPECT_EQ(message_status_of_call("no-answer"), MessageStatus::undelivered);
  EXPECT_EQ(message_status_of_call("failed"), MessageStatus::failed);
  EXPECT_EQ(message_status_of_call("canceled"), MessageStatus::failed);
  for (const char* interim : {"queued", "initiated", "ringing", "in-progress"})
    EXPECT_LT(status_rank(message_status_of_call(interim)), status_rank(MessageStatus::sent)) << interim;
}

TEST(TwilioVoiceSettings, LanguageFallsBackToPrimarySubtagThenDefault) {
  auto voice = default_voice_settings();
  voice.texts["es"].goodbye = "";  // a text missing in a language comes from the default one
  EXPECT_EQ(speech_for(voice, "es-MX").language, "es-MX");
  EXPECT_EQ(speech_for(voice, "fr").language, "en-US");
  EXPECT_EQ(texts_for(voice, "es").goodbye, "Goodbye.");
  EXPECT_EQ(texts_for(voice, "es").prompts.at("outage.report"), "Oprima {key} si todavía está sin luz.");
}

}  // namespace
}  // namespace herald::gateways
