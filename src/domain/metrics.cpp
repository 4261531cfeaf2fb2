// Prometheus text exposition for the in-process registry.
#include "herald/domain/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace herald::metrics {

void Counter::inc(double v) {
  double cur = value_.load();
  while (!value_.compare_exchange_weak(cur, cur + v)) {
  }
}

void Gauge::inc(double v) {
  double cur = value_.load();
  while (!value_.compare_exchange_weak(cur, cur + v)) {
  }
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::observe(double v) {
  std::lock_guard lock(mu_);
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
  sum_ += v;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  std::lock_guard lock(mu_);
  Snapshot s{bounds_, {}, sum_, count_};
  std::uint64_t running = 0;
  for (auto c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  return s;
}

Registry::Family& Registry::family(const std::string& name, const std::string& type, const std::string& help) {
  auto& f = families_[name];
  if (f.type.empty()) {
    f.type = type;
    f.help = help;
  }
  return f;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, "counter", help).counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, "gauge", help).gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help, const Labels& labels,
                               std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, "histogram", help).histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

void Registry::gauge_callback(const std::string& name, const std::string& help,
                              std::function<std::vector<std::pair<Labels, double>>()> fn) {
  std::lock_guard lock(mu_);
  family(name, "gauge", help).callback = std::move(fn);
}

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string label_text(const Labels& labels, const std::string& extra_key = {}, const std::string& extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ",") + k + "=\"" + escape_label(v) + "\"";
    first = false;
  }
  if (!extra_key.empty()) out += (first ? "" : ",") + extra_key + "=\"" + extra_value + "\"";
  return out + "}";
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

}  // namespace

std::string Registry::render() const {
  std::map<std::string, std::function<std::vector<std::pair<Labels, double>>()>> callbacks;
  std::ostringstream out;
  std::lock_guard lock(mu_);
  for (const auto& [name, f] : families_) {
    out << "# HELP " << name << ' ' << f.help << "\n# TYPE " << name << ' ' << f.type << '\n';
    for (const auto& [labels, c] : f.counters) out << name << label_text(labels) << ' ' << number(c->value()) << '\n';
    for (const auto& [labels, g] : f.gauges) out << name << label_text(labels) << ' ' << number(g->value()) << '\n';
    for (const auto& [labels, h] : f.histograms) {
      const auto s = h->snapshot();
      for (std::size_t i = 0; i < s.bounds.size(); ++i)
        out << name << "_bucket" << label_text(labels, "le", number(s.bounds[i])) << ' ' << s.cumulative[i] << '\n';
      out << name << "_bucket" << label_text(labels, "le", "+Inf") << ' ' << s.cumulative.back() << '\n';
      out << name << "_sum" << label_text(labels) << ' ' << number(s.sum) << '\n';
      out << name << "_count" << label_text(labels) << ' ' << s.count << '\n';
    }
    if (f.callback) {
      try {
        for (const auto& [labels, v] : f.callback()) out << name << label_text(labels) << ' ' << number(v) << '\n';
      } catch (const std::exception&) {
        // A failing source (database down) leaves the family empty for this scrape.
      }
    }
  }
  return out.str();
}

Registry& Registry::global() {
  static Registry r;
  return r;
}

}  // namespace herald::metrics
