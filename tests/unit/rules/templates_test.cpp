// Template loading, escaping per part, language fallback and validation.
#include "herald/rules/templates.hpp"
#include "herald/source_dir.hpp"

#include <filesystem>
#include <fstream>
#include <algorithm>

#include <unistd.h>

#include <gtest/gtest.h>

namespace herald::rules {
namespace {

namespace fs = std::filesystem;

const fs::path kShipped = fs::path(HERALD_SOURCE_DIR) / "config" / "templates";

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("herald-templates-" + std::to_string(::getpid()) + "-" +
                                                 std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  void write(const std::string& relative, const std::string& text) const {
    fs::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative) << text;
  }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(ShippedTemplates, AllCompileAndCoverEveryChannel) {
  TemplateStore store(kShipped);
  EXPECT_EQ(store.validate(), std::vector<std::string>{});
  for (const char* type : {"bill.ready", "bill.due_soon", "payment.received", "payment.declined", "card.expiring",
                           "meter.read", "usage.high", "leak.detected", "payment.scheduled", "account.past_due",
                           "disconnection.scheduled", "service.order_updated", "appointment.scheduled",
                           "notice.broadcast"}) {
    for (Channel c : kAllChannels) {
      EXPECT_TRUE(store.has(type, c, "en")) << type << " " << to_string(c);
      EXPECT_TRUE(store.has(type, c, "es")) << type << " " << to_string(c);
    }
  }
  EXPECT_EQ(store.languages(), (std::vector<std::string>{"en", "es"}));
}

// A Spanish-speaking customer must never get an English text because one file was forgotten:
// every shipped template file exists in every shipped language.
TEST(ShippedTemplates, EveryLanguageHasEveryFile) {
  auto names = [](const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto english = names(kShipped / "en");
  ASSERT_FALSE(english.empty());
  for (const auto& language : fs::directory_iterator(kShipped)) {
    if (!language.is_directory()) continue;
    EXPECT_EQ(names(language.path()), english) << language.path().filename();
  }
}

TEST(ShippedTemplates, SmsEndWithTheOptOutInstruction) {
  TemplateStore store(kShipped);
  Json ctx = {{"utility", {{"name", "City Water"}}}, {"data", Json::object()}};
  for (const char* type : {"bill.ready", "meter.read", "leak.detected", "notice.broadcast"}) {
    auto en = store.render(type, Channel::sms, "en", "en", ctx);
    ASSERT_TRUE(en) << type;
    EXPECT_TRUE(en->body.ends_with("Reply STOP to opt out.")) << en->body;
  }
  for (const char* type : {"bill.ready", "account.past_due", "disconnection.scheduled", "notice.broadcast"}) {
    auto es = store.render(type, Channel::sms, "es", "en", ctx);
    ASSERT_TRUE(es) << type;
    EXPECT_TRUE(es->body.ends_with("Responda STOP para cancelar.")) << es->body;
  }
}

TEST(TemplateStore, EscapesHtmlOnlyInTheHtmlPart) {
  TemplateStore store;
  store.add("en", "t", Channel::email, "subject", "Re: {{x}}");
  store.add("en", "t", Channel::email, "txt", "Text {{x}}\n");
  store.add("en", "t", Channel::email, "html", "<p>{{x}}</p>");
  store.add("en", "t", Channel::sms, "", "SMS {{x}}");
  Json ctx = {{"x", "Tom & Jerry's <b>"}};
  auto email = store.render("t", Channel::email, "en", "en", ctx);
  ASSERT_TRUE(email);
  EXPECT_EQ(email->subject, "Re: Tom & Jerry's <b>");
  EXPECT_EQ(email->body, "Text Tom & Jerry's <b>\n");
  EXPECT_EQ(email->html, "<p>Tom &amp; Jerry&apos;s &lt;b&gt;</p>");
  auto sms = store.render("t", Channel::sms, "en", "en", ctx);
  ASSERT_TRUE(sms);
  EXPECT_EQ(sms->body, "SMS Tom & Jerry's <b>");
}

TEST(TemplateStore, RendersNestedNumbersBooleansAndSections) {
  TemplateStore store;
  store.add("en", "t", Channel::sms, "", "{{a.b}} {{n}}{{#flag}} yes{{/flag}}{{^off}} no{{/off}}{{#missing}}!{{/missing}}\n");
  auto r = store.render("t", Channel::sms, "en", "en", {{"a", {{"b", "deep"}}}, {"n", 42}, {"flag", true}, {"off", nullptr}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "deep 42 yes no");
}

TEST(TemplateStore, EmptySectionsLeaveAtMostOneBlankLineInText) {
  TemplateStore store;
  store.add("en", "t", Channel::email, "subject", "s");
  store.add("en", "t", Channel::email, "txt", "Top.\n{{#extra}}\nExtra: {{extra}}\n{{/extra}}\n\nBottom.\n");
  auto without = store.render("t", Channel::email, "en", "en", Json::object());
  ASSERT_TRUE(without);
  EXPECT_EQ(without->body, "Top.\n\nBottom.\n");
  auto with = store.render("t", Channel::email, "en", "en", {{"extra", "yes"}});
  ASSERT_TRUE(with);
  EXPECT_EQ(with->body, "Top.\nExtra: yes\n\nBottom.\n");
}

TEST(TemplateStore, SubjectIsOneLine) {
  TemplateStore store;
  store.add("en", "t", Channel::email, "subject", "Line {{x}}\n");
  store.add("en", "t", Channel::email, "txt", "body");
  auto r = store.render("t", Channel::email, "en", "en", {{"x", "one\r\ntwo"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->subject, "Line one  two");
  EXPECT_EQ(r->html, "");
}

TEST(TemplateStore, FallsBackToTheDefaultLanguage) {
  TemplateStore store;
  store.add("en", "t", Channel::sms, "", "hello");
  store.add("es", "t", Channel::sms, "", "hola");
  store.add("en", "only_en", Channel::sms, "", "english");
  auto es = store.render("t", Channel::sms, "es", "en", {});
  ASSERT_TRUE(es);
  EXPECT_EQ(es->body, "hola");
  EXPECT_EQ(es->language, "es");
  auto regional = store.render("t", Channel::sms, "es-MX", "en", {});
  ASSERT_TRUE(regional);
  EXPECT_EQ(regional->body, "hola");
  auto fallback = store.render("only_en", Channel::sms, "es", "en", {});
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->body, "english");
  EXPECT_EQ(fallback->language, "en");
}

TEST(TemplateStore, MissingInBothLanguagesIsNoTemplate) {
  TemplateStore store;
  store.add("es", "t", Channel::sms, "", "hola");
  auto r = store.render("t", Channel::sms, "fr", "en", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "no_template");
  EXPECT_FALSE(store.render("t", Channel::voice, "es", "en", {}));
  EXPECT_FALSE(store.has("t", Channel::voice, "es"));
}

TEST(TemplateStore, EmailNeedsSubjectAndText) {
  TemplateStore store;
  store.add("en", "t", Channel::email, "html", "<p>hi</p>");
  store.add("en", "t", Channel::email, "subject", "hi");
  EXPECT_FALSE(store.has("t", Channel::email, "en"));
  EXPECT_FALSE(store.render("t", Channel::email, "en", "en", {}));
  store.add("en", "t", Channel::email, "txt", "hi");
  EXPECT_TRUE(store.has("t", Channel::email, "en"));
}

TEST(TemplateStore, LoadsFilesAndReportsBrokenOrStrayOnes) {
  TempDir dir;
  dir.write("en/good.sms.mustache", "Good {{x}}\n");
  dir.write("en/broken.sms.mustache", "{{#open}} never closed");
  dir.write("en/readme.txt", "notes");
  dir.write("en/what.fax.mustache", "fax");
  dir.write("en/half.email.subject.mustache", "subject only");
  dir.write("README.md", "ignored: only language folders are read");
  TemplateStore store(dir.path());
  EXPECT_TRUE(store.has("good", Channel::sms, "en"));
  EXPECT_FALSE(store.has("broken", Channel::sms, "en"));
  auto problems = store.validate();
  ASSERT_EQ(problems.size(), 4u) << ::testing::PrintToString(problems);
  auto mentions = [&](std::string_view needle) {
    return std::any_of(problems.begin(), problems.end(), [&](const std::string& p) { return p.find(needle) != std::string::npos; });
  };
  EXPECT_TRUE(mentions("en/broken.sms.mustache"));
  EXPECT_TRUE(mentions("en/readme.txt"));
  EXPECT_TRUE(mentions("en/what.fax.mustache"));
  EXPECT_TRUE(mentions("en/half.email"));
}

TEST(TemplateStore, MissingRootIsAnEmptyStore) {
  TemplateStore store("/nonexistent/herald/templates");
  EXPECT_TRUE(store.validate().empty());
  EXPECT_FALSE(store.has("bill.ready", Channel::sms, "en"));
}

}  // namespace
}  // namespace herald::rules
