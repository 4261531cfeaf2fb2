// Normalising inbound replies and matching them against the configured keyword lists.
#include "herald/rules/keywords.hpp"

#include <algorithm>

namespace herald::rules {

namespace {

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_trailing_punctuation(unsigned char c) {
  return c == '.' || c == '!' || c == '?' || c == ',' || c == ';' || c == ':' || c == '"' || c == '\'';
}

// Latin-1 letters with accents (UTF-8: 0xC3 followed by one byte) as their base letter,
// upper case. Other bytes pass through.
char fold_c3(unsigned char second) {
  static const char kFold[64] = {
      // 0x80..0x9F: À Á Â Ã Ä Å Æ Ç È É Ê Ë Ì Í Î Ï Ð Ñ Ò Ó Ô Õ Ö × Ø Ù Ú Û Ü Ý Þ ß
      'A', 'A', 'A', 'A', 'A', 'A', 0, 'C', 'E', 'E', 'E', 'E', 'I', 'I', 'I', 'I',
      0,   'N', 'O', 'O', 'O', 'O', 'O', 0, 'O', 'U', 'U', 'U', 'U', 'Y', 0,   0,
      // 0xA0..0xBF: à á â ã ä å æ ç è é ê ë ì í î ï ð ñ ò ó ô õ ö ÷ ø ù ú û ü ý þ ÿ
      'A', 'A', 'A', 'A', 'A', 'A', 0, 'C', 'E', 'E', 'E', 'E', 'I', 'I', 'I', 'I',
      0,   'N', 'O', 'O', 'O', 'O', 'O', 0, 'O', 'U', 'U', 'U', 'U', 'Y', 0,   'Y'};
  if (second < 0x80 || second > 0xBF) return 0;
  return kFold[second - 0x80];
}

std::string fold_case(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0xC3 && i + 1 < text.size()) {
      if (char folded = fold_c3(static_cast<unsigned char>(text[i + 1]))) {
        out += folded;
        ++i;
        continue;
      }
    }
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : static_cast<char>(c);
  }
  return out;
}

bool in_list(const std::vector<std::string>& words, const std::string& compact) {
  return std::any_of(words.begin(), words.end(), [&](const std::string& w) { return compact_reply(w) == compact; });
}

std::string first_word(const std::vector<std::string>& words) { return words.empty() ? std::string() : normalize_reply(words.front()); }

}  // namespace

std::string_view to_string(Intent i) {
  switch (i) {
    case Intent::opt_out: return "opt_out";
    case Intent::opt_in: return "opt_in";
    case Intent::help: return "help";
    case Intent::yes: return "yes";
    case Intent::service: return "service";
    case Intent::unknown: return "unknown";
  }
  return "unknown";
}

KeywordConfig default_keyword_config() {
  KeywordConfig c;
  auto& en = c.languages["en"];
  en.opt_out = {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"};
  en.opt_in = {"START", "UNSTOP"};
  en.help = {"HELP", "INFO"};
  en.yes = {"YES"};
  en.service = {{"OUT", {"OUT", "OUTAGE"}},
                {"STATUS", {"STATUS"}},
                {"BAL", {"BAL", "BALANCE"}},
                {"PAY", {"PAY"}},
                {"REG", {"REG", "REGISTER"}}};
  auto& es = c.languages["es"];
  es.opt_out = {"ALTO", "PARAR", "BAJA", "CANCELAR", "DETENER"};
  es.opt_in = {"COMENZAR", "INICIAR"};
  es.help = {"AYUDA"};
  es.yes = {"SI"};
  es.service = {{"OUT", {"APAGON"}},
                {"STATUS", {"ESTADO"}},
                {"BAL", {"SALDO"}},
                {"PAY", {"PAGAR", "PAGO"}},
                {"REG", {"REGISTRAR"}}};
  return c;
}

std::string normalize_reply(std::string_view text) {
  const std::string folded = fold_case(text);
  std::string_view s = folded;
  while (!s.empty() && is_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  // Trailing punctuation and whitespace in any mix: "stop !" and "Stop. " alike.
  while (!s.empty() && (is_space(static_cast<unsigned char>(s.back())) ||
                        is_trailing_punctuation(static_cast<unsigned char>(s.back()))))
    s.remove_suffix(1);
  std::string out;
  out.reserve(s.size());
  bool gap = false;
  for (unsigned char c : s) {
    if (is_space(c) || c == '-') {
      gap = true;
      continue;
    }
    if (gap && !out.empty()) out += ' ';
    gap = false;
    out += static_cast<char>(c);
  }
  return out;
}

std::string compact_reply(std::string_view text) {
  auto s = normalize_reply(text);
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  return s;
}

Classified classify(std::string_view text, const KeywordConfig& config, std::string_view language) {
  Classified out;
  out.normalized = normalize_reply(text);
  if (out.normalized.empty()) return out;
  const std::string compact = compact_reply(text);

  std::vector<const std::pair<const std::string, KeywordList>*> order;
  if (auto it = config.languages.find(std::string(language)); it != config.languages.end()) order.push_back(&*it);
  for (const auto& entry : config.languages)
    if (entry.first != language) order.push_back(&entry);

  // Opt-out, opt-in and help outrank everything in every language before any service word.
  const std::pair<Intent, std::vector<std::string> KeywordList::*> kOrdered[] = {
      {Intent::opt_out, &KeywordList::opt_out},
      {Intent::opt_in, &KeywordList::opt_in},
      {Intent::help, &KeywordList::help},
      {Intent::yes, &KeywordList::yes}};
  for (const auto& [intent, list] : kOrdered) {
    for (const auto* entry : order) {
      const auto& words = entry->second.*list;
      if (in_list(words, compact)) {
        out.intent = intent;
        out.keyword = first_word(words);
        out.language = entry->first;
        return out;
      }
    }
  }
  for (const auto* entry : order) {
    for (const auto& [name, words] : entry->second.service) {
      if (in_list(words, compact) || compact_reply(name) == compact) {
        out.intent = Intent::service;
        out.keyword = normalize_reply(name);
        out.language = entry->first;
        return out;
      }
    }
  }
  return out;
}

}  // namespace herald::rules
