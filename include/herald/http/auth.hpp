// Who is calling (API key roles, customer tokens) and what each route lets them do.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"

namespace herald::http {

enum class Role { cis, admin, customer };
std::string_view to_string(Role r);

struct Principal {
  Role role = Role::cis;
  std::string name;         // API key name (empty when unknown)
  std::string customer_id;  // customer tokens only
  // How audit rows and preference changes name this caller: "customer:<id>" or "key:<name or role>".
  std::string actor() const;
};

// What a route requires.
enum class Access {
  open,               // no credentials (ops, webhooks with their own check, public links)
  cis_or_admin,       // API key with role cis or admin
  admin,              // API key with role admin
  customer_or_staff,  // the customer named by the path's {id} with its token, or cis/admin
};

// "Bearer abc" -> "abc" (scheme case-insensitive); nullopt when absent or another scheme.
std::optional<std::string> bearer_token(const std::optional<std::string>& authorization);

// 401 without a principal; 403 when the role is not enough; 404 for a customer token on
// another customer's resource (so ids cannot be probed); nullopt when allowed.
std::optional<ApiError> authorize(Access access, const std::optional<Principal>& who,
                                  std::string_view path_customer_id);

// Resolves bearer tokens. Customer tokens are checked by signature (no database); API keys
// are looked up and found keys cached, so the hot path stays off the database.
class Authenticator {
 public:
  struct KeyInfo {
    std::string role;  // "cis" | "admin"
    std::string name;
  };
  using KeyLookup = std::function<std::optional<KeyInfo>(const std::string& key)>;
  // Returns the token's claims when its signature and expiry check out.
  using TokenVerify = std::function<std::optional<Json>(const std::string& token)>;
  using Now = std::function<std::chrono::steady_clock::time_point()>;

  Authenticator(KeyLookup lookup, TokenVerify verify, std::chrono::seconds cache_ttl = std::chrono::seconds(30),
                Now now = [] { return std::chrono::steady_clock::now(); });

  std::optional<Principal> authenticate(const std::string& token);

 private:
  struct Cached {
    Principal who;
    std::chrono::steady_clock::time_point until;
  };
  KeyLookup lookup_;
  TokenVerify verify_;
  std::chrono::seconds ttl_;
  Now now_;
  std::mutex mu_;
  std::map<std::string, Cached> cache_;  // key digest -> principal
};

}  // namespace herald::http
