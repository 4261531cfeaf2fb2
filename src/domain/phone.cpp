// Phone numbers to E.164 (libphonenumber), email normalisation and address masking.
#include "herald/domain/phone.hpp"

#include <algorithm>
#include <cctype>

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

namespace herald {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> to_e164(std::string_view input, std::string_view default_region) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  input = trim(input);
  if (input.empty() || input.size() > 64) return std::nullopt;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  std::string region(default_region);
  std::transform(region.begin(), region.end(), region.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (util.Parse(std::string(input), region, &number) != PhoneNumberUtil::NO_PARSING_ERROR) {
    return std::nullopt;
  }
  if (!util.IsPossibleNumber(number)) return std::nullopt;
  std::string out;
  util.Format(number, PhoneNumberUtil::E164, &out);
  return out;
}

std::optional<std::string> normalize_email(std::string_view input) {
  input = trim(input);
  if (input.empty() || input.size() > 254) return std::nullopt;
  auto at = input.find('@');
  if (at == std::string_view::npos || at == 0 || input.find('@', at + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view domain = input.substr(at + 1);
  auto dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  for (unsigned char c : input) {
    if (std::isspace(c) || std::iscntrl(c)) return std::nullopt;
  }
  std::string out(input);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string mask_address(std::string_view address) {
  auto at = address.find('@');
  if (at != std::string_view::npos) {
    if (at == 0) return std::string(address);
    std::string out(1, address[0]);
    out.append(at - 1, '*');
    out.append(address.substr(at));
    return out;
  }
  // Phone-like: keep the country code and area code (enough to route an investigation)
  // and the last two digits.
  constexpr std::size_t kKeepHead = 5, kKeepTail = 2;
  if (address.size() <= kKeepHead + kKeepTail) {
    std::string out(address.size() > kKeepTail ? address.size() - kKeepTail : 0, '*');
    out.append(address.substr(address.size() > kKeepTail ? address.size() - kKeepTail : 0));
    return out;
  }
  std::string out(address.substr(0, kKeepHead));
  out.append(address.size() - kKeepHead - kKeepTail, '*');
  out.append(address.substr(address.size() - kKeepTail));
  return out;
}

}  // namespace herald
