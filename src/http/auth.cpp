// Bearer token resolution (customer tokens by signature, API keys by lookup with a short cache)
// and the per-route access rules.
#include "herald/http/auth.hpp"

#include "herald/domain/customer_token.hpp"

#include <algorithm>
#include <cctype>

#include <openssl/sha.h>

namespace herald::http {

std::string_view to_string(Role r) {
  switch (r) {
    case Role::cis: return "cis";
    case Role::admin: return "admin";
    case Role::customer: return "customer";
  }
  return "cis";
}

std::string Principal::actor() const {
  if (role == Role::customer) return "customer:" + customer_id;
  return "key:" + (name.empty() ? std::string(to_string(role)) : name);
}

std::optional<std::string> bearer_token(const std::optional<std::string>& authorization) {
  if (!authorization) return std::nullopt;
  std::string_view v = *authorization;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  constexpr std::string_view kScheme = "bearer";
  if (v.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(v[i])) != kScheme[i]) return std::nullopt;
  if (v[kScheme.size()] != ' ') return std::nullopt;
  v.remove_prefix(kScheme.size());
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty() || v.find(' ') != std::string_view::npos) return std::nullopt;
  return std::string(v);
}

std::optional<ApiError> authorize(Access access, const std::optional<Principal>& who,
                                  std::string_view path_customer_id) {
  if (access == Access::open) return std::nullopt;
  if (!who) return ApiError{ErrorKind::unauthenticated, "unauthorized", "missing or invalid credentials", ""};
  switch (access) {
    case Access::open: return std::nullopt;
    case Access::cis_or_admin:
      if (who->role == Role::cis || who->role == Role::admin) return std::nullopt;
      return ApiError{ErrorKind::forbidden, "forbidden", "this route needs a cis or admin key", ""};
    case Access::admin:
      if (who->role == Role::admin) return std::nullopt;
      return ApiError{ErrorKind::forbidden, "forbidden", "this route needs an admin key", ""};
    case Access::customer_or_staff:
      if (who->role == Role::cis || who->role == Role::admin) return std::nullopt;
      if (who->customer_id == path_customer_id) return std::nullopt;
      // Another customer's resource looks exactly like a missing one.
      return ApiError{ErrorKind::not_found, "not_found", "no such customer", ""};
  }
  return ApiError{ErrorKind::forbidden, "forbidden", "", ""};
}

Authenticator::Authenticator(KeyLookup lookup, TokenVerify verify, std::chrono::seconds cache_ttl, Now now)
    : lookup_(std::move(lookup)), verify_(std::move(verify)), ttl_(cache_ttl), now_(std::move(now)) {}

namespace {
std::string digest(const std::string& key) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), md);
  return std::string(reinterpret_cast<const char*>(md), sizeof md);
}
}  // namespace

std::optional<Principal> Authenticator::authenticate(const std::string& token) {
  if (token.empty() || token.size() > 4096) return std::nullopt;
  if (auto claims = verify_(token)) {
    if (auto customer = customer_of_claims(*claims)) return Principal{Role::customer, "", *customer};
    return std::nullopt;
  }
  auto key = digest(token);
  auto now = now_();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (it->second.until > now) return it->second.who;
      cache_.erase(it);
    }
  }
  auto info = lookup_(token);
  if (!info) return std::nullopt;
  Principal who;
  if (info->role == "admin") {
    who.role = Role::admin;
  } else if (info->role == "cis") {
    who.role = Role::cis;
  } else {
    return std::nullopt;
  }
  who.name = info->name;
  std::lock_guard lock(mu_);
  if (cache_.size() > 10000) {
    for (auto it = cache_.begin(); it != cache_.end();) it = it->second.until <= now ? cache_.erase(it) : std::next(it);
  }
  cache_[key] = Cached{who, now + ttl_};
  return who;
}

}  // namespace herald::http
