// Route matching: path first (404), method second (405 with Allow); the most specific pattern wins.
#include "herald/http/router.hpp"

#include <algorithm>
#include <stdexcept>

#include "herald/http/message.hpp"

namespace herald::http {

PathPattern::PathPattern(std::string pattern) : text_(std::move(pattern)) {
  auto segs = split_path(text_);
  if (!segs) throw std::invalid_argument("bad route pattern: " + text_);
  segments_ = std::move(*segs);
  if (!segments_.empty() && segments_.back() == "*") {
    wildcard_ = true;
    segments_.pop_back();
  }
}

static bool is_param(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

bool PathPattern::match(const std::vector<std::string>& segments, std::map<std::string, std::string>& params) const {
  if (wildcard_ ? segments.size() < segments_.size() : segments.size() != segments_.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const auto& want = segments_[i];
    if (is_param(want)) {
      if (segments[i].empty()) return false;
      found[want.substr(1, want.size() - 2)] = segments[i];
    } else if (want != segments[i]) {
      return false;
    }
  }
  if (wildcard_) {
    std::string rest;
    for (std::size_t i = segments_.size(); i < segments.size(); ++i) {
      if (i > segments_.size()) rest += '/';
      rest += segments[i];
    }
    found["*"] = std::move(rest);
  }
  params = std::move(found);
  return true;
}

int PathPattern::specificity() const {
  int score = 0;
  for (const auto& s : segments_) score += is_param(s) ? 1 : 3;
  return wildcard_ ? score : score + 1;
}

std::size_t Router::add(std::string method, std::string pattern) {
  routes_.push_back(Route{std::move(method), PathPattern(std::move(pattern))});
  return routes_.size() - 1;
}

RouteLookup Router::lookup(std::string_view method, std::string_view path) const {
  RouteLookup out;
  auto segments = split_path(path);
  if (!segments) {
    out.status = 404;
    return out;
  }
  int best = -1;
  bool path_matched = false;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    std::map<std::string, std::string> params;
    if (!routes_[i].pattern.match(*segments, params)) continue;
    path_matched = true;
    if (routes_[i].method != method) {
      out.allow.push_back(routes_[i].method);
      continue;
    }
    if (routes_[i].pattern.specificity() > best) {
      best = routes_[i].pattern.specificity();
      out.match = RouteMatch{i, routes_[i].pattern.text(), std::move(params)};
    }
  }
  if (out.match) {
    out.allow.clear();
    out.status = 200;
  } else {
    out.status = path_matched ? 405 : 404;
    std::sort(out.allow.begin(), out.allow.end());
    out.allow.erase(std::unique(out.allow.begin(), out.allow.end()), out.allow.end());
  }
  return out;
}

}  // namespace herald::http
