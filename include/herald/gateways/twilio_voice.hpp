// Twilio's Programmable Voice wire format: the create-call request, the TwiML Herald answers a
// call with, and call statuses as message statuses. Pure functions; the transport is the twilio
// gateway's (src/gateways/twilio).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/gateways/transfer.hpp"
#include "herald/gateways/twilio.hpp"

namespace herald::gateways {

// POST {base_url}/2010-04-01/Accounts/{sid}/Calls.json, form-encoded To, From, Url (the
// message's voice_url: Twilio fetches the call's TwiML there once the call is answered),
// Method=POST, StatusCallback (when set) with StatusCallbackEvent=completed, and
// MachineDetection (unless "none"): with DetectMessageEnd Twilio waits for the end of a
// machine's greeting before fetching the TwiML, so the message is spoken after the beep.
// Basic auth sid:token, Idempotency-Key as for messages. The answer is read by
// parse_twilio_send (a created call has a "sid", CA...; the error shapes are the same).
HttpRequest build_twilio_call(const TwilioSettings& settings, const OutboundMessage& message,
                              std::string_view machine_detection);

// How a message language is spoken: Twilio's <Say language> and voice.
struct SpeechVoice {
  std::string language;  // "en-US", "es-MX"
  std::string voice;     // "Polly.Joanna"; "" lets Twilio pick its default for the language
};

// What a call says around the message, in one language.
struct VoiceTexts {
  std::string not_understood;  // a key that is not one of the choices
  std::string goodbye;         // after the choices went unanswered
  // By action name: the sentence offering the digit that runs it, {key} the digit
  // ("Press {key} if you are still without power.").
  std::map<std::string, std::string> prompts;
};

// [voice] in heraldd.toml: languages, texts and how long a call waits for a key.
struct VoiceSettings {
  std::map<std::string, SpeechVoice> speech;  // by message language ("en", "es")
  std::map<std::string, VoiceTexts> texts;    // by message language
  std::string default_language = "en";
  int gather_timeout_seconds = 5;  // silence after the prompt before the call moves on
  int gather_rounds = 2;           // times a key that is not a choice is asked again
  // A call that was busy or not answered is placed again this many times, this long after
  // (then held to the send window and the customer's quiet hours unless the message is urgent).
  int redial_attempts = 2;
  int redial_after_seconds = 600;
};
// en-US and es-MX, with English and Spanish texts and the outage report prompt.
VoiceSettings default_voice_settings();

// The speech and texts for a message language: exact, then its primary subtag ("es-MX" → "es"),
// then the default language; a text missing in that language is taken from the default one.
SpeechVoice speech_for(const VoiceSettings& settings, std::string_view language);
VoiceTexts texts_for(const VoiceSettings& settings, std::string_view language);

// Twilio's AnsweredBy on the TwiML request of a call placed with machine detection.
enum class Answerer { person, machine, fax };
// human, unknown and "" (no detection) → person; machine_start, machine_end_beep,
// machine_end_silence, machine_end_other → machine; fax → fax.
Answerer answerer_of(std::string_view answered_by);

// What a call asks for: the expected replies that can be keyed ("1", "*"), each with its action.
struct KeyChoice {
  std::string key, action;
};
// Of a conversation's expected replies ({"1": "outage.report", "Y": "close"}), those made of
// digits, * and # only, in key order.
std::vector<KeyChoice> keyed_choices(const Json& expected);

// The TwiML of an answered call.
struct CallScript {
  std::string body;                 // the message
  SpeechVoice speech;
  VoiceTexts texts;
  std::vector<KeyChoice> choices;   // empty: nothing to gather
  std::string gather_action;        // absolute URL the keys are posted to
  int gather_timeout_seconds = 5;
};
// A person: the message and each choice's prompt inside <Gather input="dtmf" numDigits action
// method="POST">, then the goodbye (said only when no key came). No choices: the message alone.
std::string person_twiml(const CallScript& script);
// An answering machine: the message after the beep, no prompts (nobody can answer them), hang up.
std::string voicemail_twiml(const CallScript& script);
// A fax machine: nothing to say.
std::string hangup_twiml();
// After the keys: `say` (the action's reply), then hang up.
std::string reply_twiml(const SpeechVoice& speech, std::string_view say);
// A key that is not a choice: not_understood, then the choices again with `script.gather_action`.
std::string ask_again_twiml(const CallScript& script);

// Twilio's CallStatus as the message status it moves a voice message to. completed: someone
// (or their voicemail) took the call → delivered. busy, no-answer → undelivered. failed,
// canceled → failed. queued, initiated, ringing, in-progress rank below sent (no change).
MessageStatus message_status_of_call(std::string_view call_status);

}  // namespace herald::gateways
