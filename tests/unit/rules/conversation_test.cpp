// Matching replies against a conversation's expected replies, and checking declarations.
#include "herald/rules/conversation.hpp"

#include <gtest/gtest.h>

namespace herald::rules {
namespace {

const Json kPayOrNot = expected_json({{"Y", "payment.authorize"}, {"N", "close"}});

TEST(ConversationMatch, MatchesCaseInsensitivelyWithWhitespaceAndTrailingPunctuation) {
  for (const char* text : {"Y", "y", " y ", "Y.", "y!", "\ty?\n"}) {
    auto m = match_reply(kPayOrNot, text);
    ASSERT_TRUE(m) << text;
    EXPECT_EQ(m->reply, "Y");
    EXPECT_EQ(m->action, "payment.authorize");
  }
  EXPECT_EQ(match_reply(kPayOrNot, "n")->action, "close");
}

TEST(ConversationMatch, YesAndNoAnswerOneLetterQuestions) {
  EXPECT_EQ(match_reply(kPayOrNot, "Yes")->reply, "Y");
  EXPECT_EQ(match_reply(kPayOrNot, "sí")->reply, "Y");
  EXPECT_EQ(match_reply(kPayOrNot, "no.")->reply, "N");
}

TEST(ConversationMatch, AnythingElseDoesNotMatch) {
  for (const char* text : {"", "yy", "yes please", "maybe", "1", "Y N"}) EXPECT_FALSE(match_reply(kPayOrNot, text)) << text;
  EXPECT_FALSE(match_reply(Json(nullptr), "Y"));
}

TEST(ConversationMatch, NumberedChoices) {
  const auto choices = expected_json({{"1", "choose"}, {"2", "choose"}});
  EXPECT_EQ(match_reply(choices, "2")->reply, "2");
  EXPECT_EQ(match_reply(choices, " 1. ")->reply, "1");
  EXPECT_FALSE(match_reply(choices, "3"));
}

TEST(ConversationSpecCheck, AcceptsAGoodDeclaration) {
  ConversationSpec spec{{{"Y", "payment.authorize"}, {"N", "close"}}, Seconds(72 * 3600)};
  EXPECT_TRUE(check_conversation_spec(spec, {"payment.authorize", "close"}).empty());
}

TEST(ConversationSpecCheck, NamesEachProblem) {
  ConversationSpec spec{{{"y", "close"}, {"Y.", "close"}, {"STOP", "close"}, {"2", "nope"}, {" ", "close"}},
                        Seconds(10)};
  const auto problems = check_conversation_spec(spec, {"close"});
  auto has = [&](const std::string& part) {
    for (const auto& p : problems)
      if (p.find(part) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("ttl"));
  EXPECT_TRUE(has("listed twice"));
  EXPECT_TRUE(has("replies.STOP"));
  EXPECT_TRUE(has("unknown action 'nope'"));
  EXPECT_TRUE(has("empty"));
  EXPECT_TRUE(check_conversation_spec(ConversationSpec{}, {}).size() >= 1);  // no replies
}

}  // namespace
}  // namespace herald::rules
