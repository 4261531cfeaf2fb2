// SMS encoding and segment count: GSM 03.38 (7-bit) when every character has a GSM code, else UCS-2.
#pragma once

#include <string>
#include <string_view>

namespace herald {

struct SmsEncodingInfo {
  std::string encoding;  // "GSM-7" or "UCS-2"
  int units = 0;         // GSM-7 septets (extension characters count 2) or UTF-16 code units
  int segments = 0;      // 1 for an empty body
};

// One segment holds 160 septets or 70 UTF-16 units; a concatenated message holds 153 or 67
// per segment (the rest is the UDH). An escape pair or a surrogate pair is never split
// across segments, so a long text may need one more segment than units/153 rounded up.
// Invalid UTF-8 bytes count as U+FFFD (forcing UCS-2), as a provider would send them.
SmsEncodingInfo sms_encoding(std::string_view utf8);

}  // namespace herald
