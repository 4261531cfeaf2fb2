// Route table keyed by path pattern ("/v1/customers/{id}", "/portal/*"), matched on method second.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::http {

class PathPattern {
 public:
  // Segments are literals, "{name}" (one whole segment) or a final "*" (the rest, possibly empty).
  explicit PathPattern(std::string pattern);
  const std::string& text() const { return text_; }
  // Matches decoded segments; fills params ({name} -> value, "*" -> rest joined by '/').
  bool match(const std::vector<std::string>& segments, std::map<std::string, std::string>& params) const;
  // Higher is more specific: literal segments count more than parameters, wildcards least.
  int specificity() const;

 private:
  std::string text_;
  std::vector<std::string> segments_;
  bool wildcard_ = false;
};

struct RouteMatch {
  std::size_t index = 0;  // into the order routes were added
  std::string pattern;
  std::map<std::string, std::string> params;
};

struct RouteLookup {
  std::optional<RouteMatch> match;
  int status = 200;                // 404 no pattern matches, 405 patterns match but not the method
  std::vector<std::string> allow;  // for 405, sorted
};

class Router {
 public:
  // Returns the index of the route, used by the caller to find its handler.
  std::size_t add(std::string method, std::string pattern);
  RouteLookup lookup(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    PathPattern pattern;
  };
  std::vector<Route> routes_;
};

}  // namespace herald::http
