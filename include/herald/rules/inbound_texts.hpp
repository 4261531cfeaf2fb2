// The texts Herald answers inbound SMS with (opt-out confirmation, HELP, the keyword menu, the
// choice among accounts...), per language, with {placeholders} filled in. Pure.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace herald::rules {

// Placeholders: {utility}, {phone}, {url} (config [utility]); {choices} in choose_account;
// {key} and {label} in choice_item.
struct InboundTexts {
  std::string opted_out;       // reply to the first STOP (CTIA: one confirmation, then silence)
  std::string opted_in;        // reply to START/UNSTOP (and YES when nothing expects it)
  std::string contact_confirmed;  // YES confirming a number added on the web (double opt-in)
  std::string help;            // HELP/INFO: who, what, "Msg&data rates may apply", how to stop, support
  std::string menu;            // anything not understood: the keywords
  std::string choose_account;  // "Which account? Reply {choices}."
  std::string choice_item;     // "{key} for {label}", joined with ", " into {choices}
  std::string closed;          // a conversation closed by the customer's answer ("N")
  std::string unavailable;     // an action failed on our side or the CIS's
};

struct InboundReplies {
  std::map<std::string, InboundTexts> languages;  // by language; "en" and "es" built in
};

InboundReplies default_inbound_replies();

// The texts of `language`, else its primary subtag ("es-MX" -> "es"), else default_language,
// else English. A text left empty in a language's config falls back the same way, field by field.
InboundTexts texts_for(const InboundReplies& replies, std::string_view language, std::string_view default_language);

// Replaces each {name} in `text` by its value; unknown names stay as written.
std::string fill_text(std::string_view text, const std::map<std::string, std::string>& values);

}  // namespace herald::rules
