// The keyword classifier and reply normalisation, table-driven over the variants carriers and
// the FCC expect to be honoured, and those that must not be.
#include "herald/rules/keywords.hpp"

#include <gtest/gtest.h>

namespace herald::rules {
namespace {

struct Case {
  const char* text;
  Intent intent;
  const char* keyword;  // canonical word, or "" for unknown
};

class KeywordTable : public ::testing::TestWithParam<Case> {};

TEST_P(KeywordTable, ClassifiesTheWholeMessage) {
  const auto& c = GetParam();
  const auto got = classify(c.text, default_keyword_config(), "en");
  EXPECT_EQ(to_string(got.intent), to_string(c.intent)) << "text: '" << c.text << "'";
  EXPECT_EQ(got.keyword, c.keyword) << "text: '" << c.text << "'";
}

const Case kCases[] = {
    // Opt-out: every listed word, with case, whitespace and punctuation variants.
    {"STOP", Intent::opt_out, "STOP"},
    {"stop", Intent::opt_out, "STOP"},
    {"Stop.", Intent::opt_out, "STOP"},
    {" stop ", Intent::opt_out, "STOP"},
    {"stop!", Intent::opt_out, "STOP"},
    {"STOP!!!", Intent::opt_out, "STOP"},
    {"\tStop ?\n", Intent::opt_out, "STOP"},
    {"STOP ALL", Intent::opt_out, "STOP"},
    {"stop   all", Intent::opt_out, "STOP"},
    {"STOPALL", Intent::opt_out, "STOP"},
    {"Opt-Out", Intent::opt_out, "STOP"},
    {"opt out", Intent::opt_out, "STOP"},
    {"OPTOUT", Intent::opt_out, "STOP"},
    {"opt - out", Intent::opt_out, "STOP"},
    {"Unsubscribe", Intent::opt_out, "STOP"},
    {"cancel", Intent::opt_out, "STOP"},
    {"End", Intent::opt_out, "STOP"},
    {"quit.", Intent::opt_out, "STOP"},
    {"REVOKE", Intent::opt_out, "STOP"},
    // Spanish opt-out words stop too, whatever the customer's language.
    {"alto", Intent::opt_out, "ALTO"},
    {"Baja.", Intent::opt_out, "ALTO"},
    {"PARAR", Intent::opt_out, "ALTO"},
    {"cancelar", Intent::opt_out, "ALTO"},
    // Not opt-outs: a keyword must be the whole message.
    {"stopwatch", Intent::unknown, ""},
    {"don't stop", Intent::unknown, ""},
    {"Please stop sending", Intent::unknown, ""},
    {"stop it now", Intent::unknown, ""},
    {"nonstop", Intent::unknown, ""},
    // Opt-in, help, yes.
    {"START", Intent::opt_in, "START"},
    {"start.", Intent::opt_in, "START"},
    {"Unstop", Intent::opt_in, "START"},
    {"comenzar", Intent::opt_in, "COMENZAR"},
    {"HELP", Intent::help, "HELP"},
    {"help?", Intent::help, "HELP"},
    {"Info", Intent::help, "HELP"},
    {"ayuda", Intent::help, "AYUDA"},
    {"yes", Intent::yes, "YES"},
    {"Yes!", Intent::yes, "YES"},
    {"sí", Intent::yes, "SI"},
    {"SÍ", Intent::yes, "SI"},
    // Service keywords and their per-language words.
    {"bal", Intent::service, "BAL"},
    {"Balance?", Intent::service, "BAL"},
    {"saldo", Intent::service, "BAL"},
    {"PAY", Intent::service, "PAY"},
    {"pagar", Intent::service, "PAY"},
    {"out", Intent::service, "OUT"},
    {"Outage", Intent::service, "OUT"},
    {"apagón", Intent::service, "OUT"},
    {"status", Intent::service, "STATUS"},
    {"estado", Intent::service, "STATUS"},
    {"REG", Intent::service, "REG"},
    {"registrar", Intent::service, "REG"},
    // Conversation answers and anything else: not keywords.
    {"Y", Intent::unknown, ""},
    {"1", Intent::unknown, ""},
    {"", Intent::unknown, ""},
    {"   ", Intent::unknown, ""},
    {"what is my balance", Intent::unknown, ""},
};

INSTANTIATE_TEST_SUITE_P(Variants, KeywordTable, ::testing::ValuesIn(kCases));

TEST(Keywords, NormalizeTrimsFoldsAndCollapses) {
  EXPECT_EQ(normalize_reply("  Opt-Out! "), "OPT OUT");
  EXPECT_EQ(normalize_reply("y."), "Y");
  EXPECT_EQ(normalize_reply("don't stop"), "DON'T STOP");
  EXPECT_EQ(normalize_reply("sí"), "SI");
  EXPECT_EQ(compact_reply("stop all"), "STOPALL");
}

TEST(Keywords, OptOutOutranksEveryOtherList) {
  // A word configured both as a service keyword and an opt-out is an opt-out.
  auto config = default_keyword_config();
  config.languages["en"].service["OUT"].push_back("QUIT");
  EXPECT_EQ(classify("quit", config).intent, Intent::opt_out);
}

TEST(Keywords, ConfiguredLanguageListsAreUsed) {
  KeywordConfig config;
  config.languages["fr"].opt_out = {"ARRET"};
  config.languages["fr"].help = {"AIDE"};
  EXPECT_EQ(classify("Arrêt", config).intent, Intent::opt_out);
  EXPECT_EQ(classify("arret", config).language, "fr");
  EXPECT_EQ(classify("aide", config).intent, Intent::help);
  EXPECT_EQ(classify("stop", config).intent, Intent::unknown);  // lists are what the config says
}

}  // namespace
}  // namespace herald::rules
