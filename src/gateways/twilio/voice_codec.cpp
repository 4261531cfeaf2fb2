// Twilio Calls: the create-call request, the TwiML of a call, call statuses.
#include <algorithm>

#include "herald/gateways/twilio_voice.hpp"

#include "herald/domain/text.hpp"

namespace herald::gateways {
namespace {

std::string without_trailing_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

std::string say(const SpeechVoice& speech, std::string_view text) {
  if (text.empty()) return {};
  std::string out = "<Say";
  if (!speech.language.empty()) out += " language=\"" + xml_escape(speech.language) + "\"";
  if (!speech.voice.empty()) out += " voice=\"" + xml_escape(speech.voice) + "\"";
  return out + ">" + xml_escape(text) + "</Say>";
}

std::string prompts(const CallScript& s) {
  std::string out;
  for (const auto& choice : s.choices) {
    auto it = s.texts.prompts.find(choice.action);
    if (it != s.texts.prompts.end()) out += say(s.speech, replace_all(it->second, "{key}", choice.key));
  }
  return out;
}

// <Gather> around what is said inside it: a key pressed while it speaks interrupts it.
std::string gather(const CallScript& s, const std::string& inner) {
  std::size_t digits = 1;
  for (const auto& c : s.choices) digits = std::max(digits, c.key.size());
  return "<Gather input=\"dtmf\" numDigits=\"" + std::to_string(digits) + "\" timeout=\"" +
         std::to_string(s.gather_timeout_seconds) + "\" action=\"" + xml_escape(s.gather_action) +
         "\" method=\"POST\">" + inner + "</Gather>";
}

bool keyable(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return (c >= '0' && c <= '9') || c == '*' || c == '#'; });
}

}  // namespace

HttpRequest build_twilio_call(const TwilioSettings& settings, const OutboundMessage& message,
                              std::string_view machine_detection) {
  FormParams form;
  form.emplace_back("To", message.to);
  form.emplace_back("From", settings.from);
  form.emplace_back("Url", message.voice_url);
  form.emplace_back("Method", "POST");
  if (!message.status_callback_url.empty()) {
    form.emplace_back("StatusCallback", message.status_callback_url);
    form.emplace_back("StatusCallbackEvent", "completed");
    form.emplace_back("StatusCallbackMethod", "POST");
  }
  if (!machine_detection.empty() && machine_detection != "none") {
    form.emplace_back("MachineDetection", std::string(machine_detection));
  }

  HttpRequest request;
  request.method = "POST";
  request.url = without_trailing_slash(settings.base_url) + "/2010-04-01/Accounts/" + settings.account_sid +
                "/Calls.json";
  request.headers = {
      {"Authorization", "Basic " + base64_encode(settings.account_sid + ":" + settings.auth_token)},
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"},
  };
  if (!message.idempotency_key.empty()) request.headers.emplace_back("Idempotency-Key", message.idempotency_key);
  request.body = form_urlencode(form);
  return request;
}

VoiceSettings default_voice_settings() {
  VoiceSettings s;
  s.speech["en"] = {"en-US", "Polly.Joanna"};
  s.speech["es"] = {"es-MX", "Polly.Mia"};
  s.texts["en"] = {"Sorry, that is not one of the choices.", "Goodbye.",
                   {{"outage.report", "Press {key} if you are still without power."}}};
  s.texts["es"] = {"Lo sentimos, esa no es una de las opciones.", "Adiós.",
                   {{"outage.report", "Oprima {key} si todavía está sin luz."}}};
  return s;
}

namespace {

template <typename Map>
const typename Map::mapped_type* for_language(const Map& map, std::string_view language,
                                              const std::string& fallback) {
  for (std::string key : {std::string(language), std::string(language.substr(0, language.find('-'))), fallback}) {
    auto it = map.find(key);
    if (it != map.end()) return &it->second;
  }
  return nullptr;
}

}  // namespace

SpeechVoice speech_for(const VoiceSettings& settings, std::string_view language) {
  const auto* found = for_language(settings.speech, language, settings.default_language);
  return found ? *found : SpeechVoice{};
}

VoiceTexts texts_for(const VoiceSettings& settings, std::string_view language) {
  const auto* fallback = for_language(settings.texts, settings.default_language, settings.default_language);
  const auto* found = for_language(settings.texts, language, settings.default_language);
  VoiceTexts out = found ? *found : VoiceTexts{};
  if (fallback && found != fallback) {
    if (out.not_understood.empty()) out.not_understood = fallback->not_understood;
    if (out.goodbye.empty()) out.goodbye = fallback->goodbye;
    for (const auto& [action, text] : fallback->prompts) out.prompts.emplace(action, text);  // keeps its own
  }
  return out;
}

Answerer answerer_of(std::string_view answered_by) {
  if (answered_by == "fax") return Answerer::fax;
  if (answered_by.substr(0, 8) == "machine_") return Answerer::machine;
  return Answerer::person;
}

std::vector<KeyChoice> keyed_choices(const Json& expected) {
  std::vector<KeyChoice> out;
  if (!expected.is_object()) return out;
  for (const auto& [key, action] : expected.items())
    if (keyable(key) && action.is_string()) out.push_back({key, action.get<std::string>()});
  return out;  // nlohmann's object iterates in key order
}

std::string person_twiml(const CallScript& s) {
  std::string out(kXmlDeclaration);
  out += "<Response>";
  if (s.choices.empty()) {
    out += say(s.speech, s.body);
  } else {
    out += gather(s, say(s.speech, s.body) + prompts(s));
    out += say(s.speech, s.texts.goodbye);
  }
  return out + "</Response>";
}

std::string voicemail_twiml(const CallScript& s) {
  return std::string(kXmlDeclaration) + "<Response>" + say(s.speech, s.body) + "<Hangup/></Response>";
}

std::string hangup_twiml() { return std::string(kXmlDeclaration) + "<Response><Hangup/></Response>"; }

std::string reply_twiml(const SpeechVoice& speech, std::string_view text) {
  return std::string(kXmlDeclaration) + "<Response>" + say(speech, text) + "<Hangup/></Response>";
}

std::string ask_again_twiml(const CallScript& s) {
  std::string out(kXmlDeclaration);
  out += "<Response>";
  out += say(s.speech, s.texts.not_understood);
  out += gather(s, prompts(s));
  out += say(s.speech, s.texts.goodbye);
  return out + "</Response>";
}

MessageStatus message_status_of_call(std::string_view s) {
  if (s == "completed") return MessageStatus::delivered;
  if (s == "busy" || s == "no-answer") return MessageStatus::undelivered;
  if (s == "failed" || s == "canceled") return MessageStatus::failed;
  return MessageStatus::queued;
}

}  // namespace herald::gateways
