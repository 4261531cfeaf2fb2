// Message templates (mustache) per event type, channel and language, loaded once from files.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"

namespace herald::rules {

struct Rendered {
  std::string subject;   // email
  std::string body;      // sms / voice text, email plain-text part
  std::string html;      // email HTML part (empty when the language has no .html template)
  std::string language;  // the language whose templates were used
};

// A render context converted once for the template engine, so one event's context serves
// every channel it is rendered for (see TemplateStore::render_prepared).
class TemplateData {
 public:
  explicit TemplateData(const Json& context);
  TemplateData(TemplateData&&) noexcept;
  TemplateData& operator=(TemplateData&&) noexcept;
  ~TemplateData();

 private:
  friend class TemplateStore;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Files under root: <lang>/<type>.sms.mustache, <lang>/<type>.voice.mustache and, for email,
// <lang>/<type>.email.subject.mustache, .email.txt.mustache, .email.html.mustache (subject and
// txt required, html optional). {{var}} is HTML-escaped only in the HTML part; the text parts
// are plain text and print values as they are.
//
// Rendering only reads the compiled templates (the data holds no lambdas), so one store may
// be shared by threads once constructed.
class TemplateStore {
 public:
  TemplateStore();
  // Loads every template under root. A missing root is an empty store; files that fail to
  // compile or have names that mean nothing are skipped and reported by validate().
  explicit TemplateStore(const std::filesystem::path& root);
  TemplateStore(TemplateStore&&) noexcept;
  TemplateStore& operator=(TemplateStore&&) noexcept;
  ~TemplateStore();

  // Adds (or replaces) one template from text, e.g. for templates defined in config.
  // part: "" for sms/voice, "subject" / "txt" / "html" for email.
  void add(std::string_view language, std::string_view type, Channel channel, std::string_view part,
           std::string_view source);

  // Tries `language`, then its primary subtag ("en-US" -> "en"), then default_language.
  // Neither has the template -> invalid error, code "no_template".
  Result<Rendered> render(std::string_view type, Channel channel, std::string_view language,
                          std::string_view default_language, const Json& context) const;
  // The same with a context converted beforehand, plus top-level string values that shadow
  // the context's (e.g. {"unsubscribe_url", ...}).
  Result<Rendered> render_prepared(std::string_view type, Channel channel, std::string_view language,
                                   std::string_view default_language, const TemplateData& data,
                                   const std::vector<std::pair<std::string, std::string>>& extra = {}) const;

  // Whether `language` itself (no fallback) can render this type on this channel.
  bool has(std::string_view type, Channel channel, std::string_view language) const;

  // One line per template that failed to load: "<file>: <why>". Empty when all is well.
  std::vector<std::string> validate() const;

  std::vector<std::string> languages() const;

  // Each loaded template ("en/bill.ready.sms", "en/bill.ready.email.subject") with its event
  // type and the names its tags use ("data.amount_due_formatted"; a name inside a {{#data}}
  // section is read as data.<name>), for check-config.
  struct Usage {
    std::string name;
    std::string type;
    std::vector<std::string> variables;
  };
  std::vector<Usage> usages() const;

 private:
  struct Compiled;
  using Key = std::tuple<std::string, std::string, Channel, std::string>;  // language, type, channel, part
  std::map<Key, std::shared_ptr<Compiled>, std::less<>> templates_;
  std::vector<std::string> problems_;
};

}  // namespace herald::rules
