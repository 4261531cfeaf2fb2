// The keyword classifier for inbound SMS: normalising a reply and telling what it asks for.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace herald::rules {

// What an inbound text asks for, in the order MESSAGING_RULES.md checks them:
// opt_out, opt_in, help first; yes (an opt-in unless an open conversation expects it);
// then the caller tries the open conversation; service keywords; else unknown.
enum class Intent { opt_out, opt_in, help, yes, service, unknown };
std::string_view to_string(Intent i);

// One language's words (written as a customer would; compared normalised, see normalize_reply).
struct KeywordList {
  std::vector<std::string> opt_out, opt_in, help, yes;
  // Service keyword (canonical: OUT, STATUS, BAL, PAY, REG) -> the words that mean it.
  std::map<std::string, std::vector<std::string>> service;
};

struct KeywordConfig {
  std::map<std::string, KeywordList> languages;  // by language ("en", "es")
};

// English as MESSAGING_RULES.md lists it (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT,
// REVOKE, OPTOUT, OPT OUT, STOP ALL; START, UNSTOP; HELP, INFO; YES) and Spanish as US carriers
// commonly accept it (ALTO, PARAR, BAJA, CANCELAR, DETENER; COMENZAR, INICIAR; AYUDA; SI).
// Service keywords OUT, STATUS, BAL (also BALANCE), PAY, REG; Spanish APAGON, ESTADO, SALDO,
// PAGAR, REGISTRAR.
KeywordConfig default_keyword_config();

// Trimmed, upper-cased (ASCII, and Latin accents folded: "sí" -> "SI"), trailing punctuation
// (. ! ? , ; : and quotes) stripped, runs of whitespace and hyphens made one space:
// " Opt-Out! " -> "OPT OUT".
std::string normalize_reply(std::string_view text);
// normalize_reply without the spaces: how words are compared, so "STOP ALL" = "STOPALL" and
// "Opt-Out" = "OPTOUT". A message is a keyword only when it is the whole message:
// "stopwatch" and "don't stop" are not STOP.
std::string compact_reply(std::string_view text);

struct Classified {
  Intent intent = Intent::unknown;
  std::string keyword;     // the canonical word: the list's first entry (STOP, START, HELP, YES), or the service name (BAL)
  std::string language;    // whose list matched; "" when none did
  std::string normalized;  // normalize_reply(text)
};

// Every language's lists are checked (a Spanish speaker's STOP still stops), the
// language asked for first so that a word in two lists is read as that language's.
Classified classify(std::string_view text, const KeywordConfig& config, std::string_view language = "en");

}  // namespace herald::rules
