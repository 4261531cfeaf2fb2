// GSM 03.38 character tables and the segment arithmetic of concatenated SMS.
#include "herald/domain/sms_encoding.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace herald {

namespace {

// GSM 03.38 basic character set (one septet each), as Unicode code points. 0x1B (ESC) is
// left out: it only introduces the extension table.
constexpr std::array<char32_t, 127> kBasic = {
    U'@', U'£', U'$', U'¥', U'è', U'é', U'ù', U'ì', U'ò', U'Ç', U'\n', U'Ø', U'ø', U'\r', U'Å', U'å',
    U'Δ', U'_', U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ', U'Σ', U'Θ', U'Ξ', U'Æ', U'æ', U'ß', U'É',
    U' ', U'!', U'"', U'#', U'¤', U'%', U'&', U'\'', U'(', U')', U'*', U'+', U',', U'-', U'.', U'/',
    U'0', U'1', U'2', U'3', U'4', U'5', U'6', U'7', U'8', U'9', U':', U';', U'<', U'=', U'>', U'?',
    U'¡', U'A', U'B', U'C', U'D', U'E', U'F', U'G', U'H', U'I', U'J', U'K', U'L', U'M', U'N', U'O',
    U'P', U'Q', U'R', U'S', U'T', U'U', U'V', U'W', U'X', U'Y', U'Z', U'Ä', U'Ö', U'Ñ', U'Ü', U'§',
    U'¿', U'a', U'b', U'c', U'd', U'e', U'f', U'g', U'h', U'i', U'j', U'k', U'l', U'm', U'n', U'o',
    U'p', U'q', U'r', U's', U't', U'u', U'v', U'w', U'x', U'y', U'z', U'ä', U'ö', U'ñ', U'ü', U'à'};

// The extension table: ESC + one septet, so two septets each.
constexpr std::array<char32_t, 10> kExtension = {U'\f', U'^', U'{', U'}', U'\\', U'[', U'~', U']', U'|', U'€'};

constexpr char32_t kReplacement = 0xFFFD;

// Septets for one character: 1 (basic table), 2 (extension table) or 0 (not GSM-7). ASCII,
// nearly every character of a utility's messages, is answered from a table.
int gsm_septets(char32_t c) {
  static const std::array<signed char, 128> ascii = [] {
    std::array<signed char, 128> t{};
    for (char32_t b : kBasic)
      if (b < 128) t[b] = 1;
    for (char32_t e : kExtension)
      if (e < 128) t[e] = 2;
    return t;
  }();
  if (c < 128) return ascii[c];
  if (std::find(kBasic.begin(), kBasic.end(), c) != kBasic.end()) return 1;
  if (std::find(kExtension.begin(), kExtension.end(), c) != kExtension.end()) return 2;
  return 0;
}

std::vector<char32_t> decode_utf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (c & 0x3F);
    }
    // Overlong forms, surrogates and values beyond Unicode are not characters.
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (!ok || cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Segments needed for characters of the given sizes, never splitting one character.
int count_segments(const std::vector<int>& sizes, int total, int single_limit, int multi_limit) {
  if (total == 0) return 1;
  if (total <= single_limit) return 1;
  int segments = 1, used = 0;
  for (int size : sizes) {
    if (used + size > multi_limit) {
      ++segments;
      used = 0;
    }
    used += size;
  }
  return segments;
}

}  // namespace

SmsEncodingInfo sms_encoding(std::string_view utf8) {
  std::vector<char32_t> chars = decode_utf8(utf8);
  std::vector<int> septets;
  septets.reserve(chars.size());
  bool gsm = true;
  for (char32_t c : chars) {
    const int size = gsm_septets(c);
    if (size == 0) {
      gsm = false;
      break;
    }
    septets.push_back(size);
  }
  if (gsm) {
    int total = 0;
    for (int s : septets) total += s;
    return {"GSM-7", total, count_segments(septets, total, 160, 153)};
  }
  std::vector<int> units;
  units.reserve(chars.size());
  int total = 0;
  for (char32_t c : chars) {
    units.push_back(c > 0xFFFF ? 2 : 1);
    total += units.back();
  }
  return {"UCS-2", total, count_segments(units, total, 70, 67)};
}

}  // namespace herald
