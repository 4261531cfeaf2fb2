// Service keyword texts per language and the registration reply reader.
#include <gtest/gtest.h>

#include "herald/rules/conversation.hpp"
#include "herald/rules/services.hpp"
#include "herald/rules/templates.hpp"
#include "herald/source_dir.hpp"

namespace herald::rules {
namespace {

TEST(ServiceTexts, SpanishAndEnglishBuiltInFallingBackByLanguageAndText) {
  const auto replies = default_service_replies();
  EXPECT_NE(service_texts_for(replies, "es", "en").cis_down.find("No pudimos procesar"), std::string::npos);
  EXPECT_NE(service_texts_for(replies, "es-MX", "en").no_outage.find("No hay apagones"), std::string::npos);
  EXPECT_NE(service_texts_for(replies, "fr", "en").cis_down.find("We couldn't process that right now"),
            std::string::npos);
  EXPECT_NE(service_texts_for(replies, "fr", "es").balance.find("saldo"), std::string::npos);

  ServiceReplies custom;
  custom.languages["es"].paid = "Pagado: {amount}";
  const auto t = service_texts_for(custom, "es", "en");
  EXPECT_EQ(t.paid, "Pagado: {amount}");
  EXPECT_FALSE(t.balance.empty());  // a text left out falls back
}

TEST(ServiceTexts, PayConfirmationOffersTheAmountAndCard) {
  const auto t = service_texts_for(default_service_replies(), "en", "en");
  EXPECT_NE(t.pay_confirm.find("Reply Y to pay {amount} with the card ending {card}"), std::string::npos);
}

TEST(ServiceTexts, AccountsAreMaskedToTheirLastFourCharacters) {
  EXPECT_EQ(mask_account("A-1001"), "****1001");
  EXPECT_EQ(mask_account("12-34"), "****1234");
  EXPECT_EQ(mask_account("7"), "****7");
}

TEST(RegistrationReply, AccountNumberAndZipInEitherOrder) {
  struct Case {
    const char* text;
    const char* account;
    const char* zip;
  };
  for (const auto& c : {Case{"A-1001 62701", "A-1001", "62701"}, Case{"  1234567   62701 ", "1234567", "62701"},
                        Case{"62701, A-1001", "A-1001", "62701"}, Case{"A-1001,62701-1234", "A-1001", "62701"},
                        Case{"12345 62701", "12345", "62701"}, Case{"A-1001 62701.", "A-1001", "62701"}}) {
    const auto r = parse_registration_reply(c.text);
    ASSERT_TRUE(r.has_value()) << c.text;
    EXPECT_EQ(r->account_id, c.account) << c.text;
    EXPECT_EQ(r->zip, c.zip) << c.text;
  }
}

TEST(RegistrationReply, AnythingElseIsNotUnderstood) {
  for (const char* text : {"", "A-1001", "my account is A-1001 62701", "A-1001 6270", "BAL", "A-1001 ABCDE",
                           "abc 62701"}) {
    EXPECT_FALSE(parse_registration_reply(text).has_value()) << text;
  }
}

TEST(ConversationReplies, AnyReplyTakesWhatTheListedRepliesDoNot) {
  const Json expected = expected_json({{std::string(kAnyReply), "registration.verify"}, {"N", "close"}});
  const auto free = match_reply(expected, "A-1001 62701");
  ASSERT_TRUE(free.has_value());
  EXPECT_EQ(free->reply, "*");
  EXPECT_EQ(free->action, "registration.verify");
  EXPECT_EQ(match_reply(expected, "no")->action, "close");
  EXPECT_FALSE(match_reply(expected_json({{"Y", "payment.authorize"}}), "A-1001 62701").has_value());
}

TEST(PastDueText, OffersReplyToPayOnlyWithACardOnFile) {
  const TemplateStore store(std::string(HERALD_SOURCE_DIR) + "/config/templates");
  Json ctx = {{"utility", {{"name", "City Water"}, {"phone", "+1 800 555 0100"}}},
              {"account", {{"id_masked", "****1001"}}},
              {"data", {{"amount_due", "82.17"}, {"amount_due_formatted", "$82.17"}, {"card_last4", "4242"}}}};
  auto with_card = store.render("account.past_due", Channel::sms, "en", "en", ctx);
  ASSERT_TRUE(with_card.ok());
  EXPECT_EQ(with_card->body,
            "City Water: Account ****1001 is past due: $82.17. Reply Y to pay $82.17 with the card ending 4242 or call "
            "+1 800 555 0100 to set up a plan. Reply STOP to opt out.");
  ctx["data"].erase("card_last4");
  ctx["data"]["pay_url"] = "https://pay.example.com";
  auto without = store.render("account.past_due", Channel::sms, "en", "en", ctx);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without->body,
            "City Water: Account ****1001 is past due: $82.17. Please pay now at https://pay.example.com or call "
            "+1 800 555 0100 to set up a plan. Reply STOP to opt out.");
}

// The Spanish text asks for "SI", and the reply a Spanish speaker types ("sí", "Si") is the Y the
// conversation expects.
TEST(PastDueText, SpanishOffersReplyToPayWithSi) {
  const TemplateStore store(std::string(HERALD_SOURCE_DIR) + "/config/templates");
  Json ctx = {{"utility", {{"name", "City Water"}, {"phone", "+1 800 555 0100"}}},
              {"account", {{"id_masked", "****1001"}}},
              {"data", {{"amount_due", "82.17"}, {"amount_due_formatted", "$82.17"}, {"card_last4", "4242"}}}};
  auto with_card = store.render("account.past_due", Channel::sms, "es", "en", ctx);
  ASSERT_TRUE(with_card.ok());
  EXPECT_EQ(with_card->body,
            "City Water: La cuenta ****1001 tiene un saldo vencido de $82.17. Responda SI para pagar $82.17 con la "
            "tarjeta que termina en 4242 o llame al +1 800 555 0100 para un plan de pagos. Responda STOP para cancelar.");
  const Json expected = expected_json({{"Y", "payment.authorize"}, {"N", "close"}});
  for (const char* reply : {"sí", "Si", "SI."}) {
    const auto match = match_reply(expected, reply);
    ASSERT_TRUE(match.has_value()) << reply;
    EXPECT_EQ(match->action, "payment.authorize") << reply;
  }
}

}  // namespace
}  // namespace herald::rules
