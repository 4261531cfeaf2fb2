// Loading, compiling and rendering mustache templates, with language fallback.
#include "herald/rules/templates.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <kainjow/mustache.hpp>

namespace herald::rules {

namespace mus = kainjow::mustache;

struct TemplateStore::Compiled {
  explicit Compiled(const std::string& text) : source(text), tmpl(text) {}
  std::string source;          // kept for usages()
  mutable mus::mustache tmpl;  // render() is non-const in kainjow, but reads only (see header)
};

namespace {

constexpr std::string_view kExtension = ".mustache";

mus::data to_mustache(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      mus::data obj{mus::data::type::object};
      for (const auto& [k, v] : j.items()) obj.set(k, to_mustache(v));
      return obj;
    }
    case Json::value_t::array: {
      mus::data list{mus::data::type::list};
      for (const auto& v : j) list.push_back(to_mustache(v));
      return list;
    }
    case Json::value_t::string: return mus::data{j.get<std::string>()};
    case Json::value_t::boolean: return mus::data{j.get<bool>()};
    case Json::value_t::null:
    case Json::value_t::discarded: return mus::data{false};
    default: return mus::data{j.dump()};  // numbers as their JSON text
  }
}

std::string trim_trailing_space(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

// A subject is one line: line breaks in it would break the mail header.
std::string one_line(std::string s) {
  s = trim_trailing_space(std::move(s));
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  auto start = s.find_first_not_of(' ');
  return start == std::string::npos ? std::string() : s.substr(start);
}

// Sections that render nothing can leave extra blank lines (kainjow drops a standalone
// section line only when the section renders): plain text keeps at most one blank line.
std::string collapse_blank_lines(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  int newlines = 0;
  for (char c : s) {
    if (c == '\n') {
      if (++newlines > 2) continue;
    } else if (c != '\r') {
      newlines = 0;
    }
    out += c;
  }
  return out;
}

std::string_view primary_subtag(std::string_view language) { return language.substr(0, language.find('-')); }

// Name lookup for kainjow: the same resolution as its own context (innermost item first,
// "a.b" walks objects), without the string stream it splits dotted names with, which made
// lookups the larger part of rendering.
class Lookup : public mus::basic_context<std::string> {
 public:
  void push(const mus::data* data) override { items_.insert(items_.begin(), data); }
  void pop() override { items_.erase(items_.begin()); }

  const mus::data* get(const std::string& name) const override {
    if (name == ".") return items_.front();
    for (const mus::data* item : items_) {
      if (const mus::data* found = walk(item, name)) return found;
    }
    return nullptr;
  }
  const mus::data* get_partial(const std::string& name) const override {
    for (const mus::data* item : items_) {
      if (const mus::data* found = item->get(name)) return found;
    }
    return nullptr;
  }

 private:
  static const mus::data* walk(const mus::data* item, const std::string& name) {
    if (name.find('.') == std::string::npos) return item->get(name);
    std::size_t start = 0;
    std::string piece;
    while (item) {
      const std::size_t dot = name.find('.', start);
      piece.assign(name, start, dot == std::string::npos ? std::string::npos : dot - start);
      item = item->get(piece);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return item;
  }

  std::vector<const mus::data*> items_;
};

// kainjow's render(context, stream) writes with <<: this stream appends to a string.
struct Appender {
  std::string& out;
  Appender& operator<<(const std::string& s) {
    out += s;
    return *this;
  }
};

std::string identity(const std::string& s) { return s; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The names a mustache source's variable and section tags use, in order. Comments and
// partials name nothing; a set-delimiter tag ends the scan (no shipped template uses one).
std::vector<std::string> tag_names(std::string_view source) {
  std::vector<std::string> out;
  std::vector<std::string> sections;
  std::size_t pos = 0;
  while ((pos = source.find("{{", pos)) != std::string_view::npos) {
    const bool triple = source.substr(pos, 3) == "{{{";
    const std::size_t start = pos + (triple ? 3 : 2);
    const std::size_t end = source.find(triple ? "}}}" : "}}", start);
    if (end == std::string_view::npos) break;
    std::string_view tag = trim(source.substr(start, end - start));
    pos = end + (triple ? 3 : 2);
    const char op = tag.empty() ? '\0' : tag.front();
    if (op == '=') break;
    if (op == '!' || op == '>') continue;
    if (op == '#' || op == '^' || op == '/' || op == '&') tag = trim(tag.substr(1));
    if (op == '/') {
      if (!sections.empty()) sections.pop_back();
      continue;
    }
    std::string name(tag);
    if (!sections.empty() && sections.back() == "data" && name.find('.') == std::string::npos && name != ".") {
      name = "data." + name;
    }
    out.push_back(name);
    if (op == '#' || op == '^') sections.push_back(name);
  }
  return out;
}

}  // namespace

struct TemplateData::Impl {
  mus::data root;
};

TemplateData::TemplateData(const Json& context) : impl_(std::make_unique<Impl>(Impl{to_mustache(context)})) {}
TemplateData::TemplateData(TemplateData&&) noexcept = default;
TemplateData& TemplateData::operator=(TemplateData&&) noexcept = default;
TemplateData::~TemplateData() = default;

TemplateStore::TemplateStore() = default;
TemplateStore::TemplateStore(TemplateStore&&) noexcept = default;
TemplateStore& TemplateStore::operator=(TemplateStore&&) noexcept = default;
TemplateStore::~TemplateStore() = default;

TemplateStore::TemplateStore(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return;
  std::vector<fs::path> files;
  for (const auto& lang_dir : fs::directory_iterator(root)) {
    if (!lang_dir.is_directory()) continue;
    for (const auto& entry : fs::directory_iterator(lang_dir.path())) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());  // a stable order for validate()
  for (const fs::path& file : files) {
    std::string language = file.parent_path().filename().string();
    std::string name = file.filename().string();
    std::string shown = language + "/" + name;
    if (name.size() <= kExtension.size() || !name.ends_with(kExtension)) {
      problems_.push_back(shown + ": not a .mustache file");
      continue;
    }
    std::string stem = name.substr(0, name.size() - kExtension.size());
    std::string type, part;
    std::optional<Channel> channel;
    for (std::string_view p : {".email.subject", ".email.txt", ".email.html"}) {
      if (stem.ends_with(p)) {
        type = stem.substr(0, stem.size() - p.size());
        channel = Channel::email;
        part = std::string(p.substr(p.rfind('.') + 1));
      }
    }
    if (!channel) {
      auto dot = stem.rfind('.');
      if (dot != std::string::npos) {
        auto c = parse_channel(std::string_view(stem).substr(dot + 1));
        if (c && *c != Channel::email) {
          channel = c;
          type = stem.substr(0, dot);
        }
      }
    }
    if (!channel || type.empty()) {
      problems_.push_back(shown + ": name is not <type>.<sms|voice>.mustache or <type>.email.<subject|txt|html>.mustache");
      continue;
    }
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      problems_.push_back(shown + ": cannot be read");
      continue;
    }
    auto compiled = std::make_shared<Compiled>(text.str());
    if (!compiled->tmpl.is_valid()) {
      problems_.push_back(shown + ": " + compiled->tmpl.error_message());
      continue;
    }
    if (part != "html") compiled->tmpl.set_custom_escape(identity);
    templates_[Key{language, type, *channel, part}] = std::move(compiled);
  }
  // An email needs its subject and plain-text part; either alone cannot be sent.
  std::set<std::string> incomplete;
  for (const auto& [key, value] : templates_) {
    const auto& [language, type, channel, part] = key;
    if (channel == Channel::email && !has(type, channel, language)) {
      incomplete.insert(language + "/" + type + ".email: needs both .email.subject and .email.txt");
    }
  }
  problems_.insert(problems_.end(), incomplete.begin(), incomplete.end());
}

void TemplateStore::add(std::string_view language, std::string_view type, Channel channel, std::string_view part,
                        std::string_view source) {
  auto compiled = std::make_shared<Compiled>(std::string(source));
  std::string shown = std::string(language) + "/" + std::string(type) + "." + std::string(to_string(channel)) +
                      (part.empty() ? "" : "." + std::string(part));
  if (!compiled->tmpl.is_valid()) {
    problems_.push_back(shown + ": " + compiled->tmpl.error_message());
    return;
  }
  if (part != "html") compiled->tmpl.set_custom_escape(identity);
  templates_[Key{std::string(language), std::string(type), channel, std::string(part)}] = std::move(compiled);
}

bool TemplateStore::has(std::string_view type, Channel channel, std::string_view language) const {
  auto present = [&](std::string_view part) {
    return templates_.count(Key{std::string(language), std::string(type), channel, std::string(part)}) > 0;
  };
  if (channel == Channel::email) return present("subject") && present("txt");
  return present("");
}

Result<Rendered> TemplateStore::render(std::string_view type, Channel channel, std::string_view language,
                                       std::string_view default_language, const Json& context) const {
  return render_prepared(type, channel, language, default_language, TemplateData(context));
}

Result<Rendered> TemplateStore::render_prepared(std::string_view type, Channel channel, std::string_view language,
                                                std::string_view default_language, const TemplateData& data,
                                                const std::vector<std::pair<std::string, std::string>>& extra) const {
  std::vector<std::string_view> candidates{language, primary_subtag(language), default_language};
  std::string_view chosen;
  for (std::string_view candidate : candidates) {
    if (!candidate.empty() && has(type, channel, candidate)) {
      chosen = candidate;
      break;
    }
  }
  if (chosen.empty()) {
    return ApiError{ErrorKind::invalid, "no_template",
                    "no " + std::string(to_string(channel)) + " template for " + std::string(type) + " in " +
                        std::string(language) + " or " + std::string(default_language),
                    ""};
  }
  mus::data overlay{mus::data::type::object};
  for (const auto& [name, value] : extra) overlay.set(name, mus::data{value});
  std::string failure;
  auto render_part = [&](std::string_view part) -> std::string {
    auto it = templates_.find(Key{std::string(chosen), std::string(type), channel, std::string(part)});
    if (it == templates_.end()) return {};
    Lookup lookup;
    lookup.push(&data.impl_->root);
    if (!extra.empty()) lookup.push(&overlay);
    std::string out;
    Appender sink{out};
    it->second->tmpl.render(lookup, sink);
    if (!it->second->tmpl.is_valid() && failure.empty()) failure = it->second->tmpl.error_message();
    return out;
  };
  Rendered r;
  r.language = std::string(chosen);
  if (channel == Channel::email) {
    r.subject = one_line(render_part("subject"));
    r.body = collapse_blank_lines(trim_trailing_space(render_part("txt"))) + "\n";
    r.html = render_part("html");
  } else {
    r.body = collapse_blank_lines(trim_trailing_space(render_part("")));
  }
  if (!failure.empty()) {
    return ApiError{ErrorKind::invalid, "render_failed",
                    std::string(type) + " " + std::string(to_string(channel)) + ": " + failure, ""};
  }
  return r;
}

std::vector<std::string> TemplateStore::validate() const { return problems_; }

std::vector<TemplateStore::Usage> TemplateStore::usages() const {
  std::vector<Usage> out;
  for (const auto& [key, compiled] : templates_) {
    const auto& [language, type, channel, part] = key;
    out.push_back({language + "/" + type + "." + std::string(to_string(channel)) + (part.empty() ? "" : "." + part),
                   type, tag_names(compiled->source)});
  }
  return out;
}

std::vector<std::string> TemplateStore::languages() const {
  std::set<std::string> out;
  for (const auto& [key, value] : templates_) out.insert(std::get<0>(key));
  return {out.begin(), out.end()};
}

}  // namespace herald::rules
