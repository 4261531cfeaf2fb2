// Reply texts: language fallback field by field, and placeholder filling.
#include "herald/rules/inbound_texts.hpp"

#include <gtest/gtest.h>

namespace herald::rules {
namespace {

TEST(InboundTexts, FallsBackToThePrimarySubtagThenTheDefaultFieldByField) {
  auto replies = default_inbound_replies();
  replies.languages["es"].help = "";  // a language that left one text out
  const auto es_mx = texts_for(replies, "es-MX", "en");
  EXPECT_NE(es_mx.opted_out.find("Se canceló"), std::string::npos);
  EXPECT_EQ(es_mx.help, replies.languages.at("en").help);
  EXPECT_EQ(texts_for(replies, "fr", "en").menu, replies.languages.at("en").menu);
}

TEST(InboundTexts, EveryBuiltInTextOfEveryLanguageIsSet) {
  for (const auto& [language, t] : default_inbound_replies().languages) {
    for (const auto* text : {&t.opted_out, &t.opted_in, &t.contact_confirmed, &t.help, &t.menu, &t.choose_account,
                             &t.choice_item, &t.closed, &t.unavailable})
      EXPECT_FALSE(text->empty()) << language;
    EXPECT_NE(t.help.find("STOP"), std::string::npos) << language;  // CTIA: HELP says how to stop
  }
}

TEST(InboundTexts, FillReplacesKnownPlaceholdersOnly) {
  EXPECT_EQ(fill_text("{utility}: call {phone} {unknown} {", {{"utility", "Springfield"}, {"phone", "555"}}),
            "Springfield: call 555 {unknown} {");
}

}  // namespace
}  // namespace herald::rules
