// SMS encoding and segment count, as the rules name them; they live in domain (gateways need them too).
#pragma once

#include "herald/domain/sms_encoding.hpp"

namespace herald::rules {

using herald::SmsEncodingInfo;
using herald::sms_encoding;

}  // namespace herald::rules
