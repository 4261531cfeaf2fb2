// Configuration: reading the TOML file, environment overrides, and errors that name their key.
#include "herald/app/config.hpp"
#include "herald/source_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace herald::app {
namespace {

namespace fs = std::filesystem;

// A config file in a fresh temporary directory, removed with the fixture.
class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("herald-config-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text) {
    const auto path = (dir_ / "heraldd.toml").string();
    std::ofstream(path) << text;
    return path;
  }

  fs::path dir_;
};

TEST_F(ConfigFile, ReadsValuesFromTheFile) {
  const auto c = load_config(write("[http]\nport = 9123\naddress = \"0.0.0.0\"\n[dispatch]\nworkers = 3\n"), {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->http.port, 9123);
  EXPECT_EQ(c->http.address, "0.0.0.0");
  EXPECT_EQ(c->dispatch.workers, 3u);
  EXPECT_EQ(c->source, dir_ / "heraldd.toml");
}

TEST_F(ConfigFile, EnvironmentOverridesTheFile) {
  const auto c = load_config(write("[http]\nport = 9123\n"), {{"HERALD_HTTP_PORT", "9200"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->http.port, 9200);
}

TEST_F(ConfigFile, RateLimitsComeFromTheirTableAndTheEnvironment) {
  const auto c = load_config(write("[http.rate_limits]\ncis_per_second = 100\ncis_burst = 150\n"),
                             {{"HERALD_HTTP_RATE_LIMITS_CUSTOMER_BURST", "7"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->http.rate_limits.cis.per_second, 100);
  EXPECT_EQ(c->http.rate_limits.cis.burst, 150);
  EXPECT_EQ(c->http.rate_limits.customer.burst, 7);
  EXPECT_EQ(c->http.rate_limits.admin.per_second, http::RateLimits{}.admin.per_second);
}

TEST_F(ConfigFile, TextIndexerComesFromItsTableAndTheEnvironment) {
  const auto c = load_config(write("[search]\nbatch_size = 2000\npause_ms = 50\n"),
                             {{"HERALD_SEARCH_POLL_INTERVAL_MS", "250"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->search.batch_size, 2000u);
  EXPECT_EQ(c->search.pause, std::chrono::milliseconds(50));
  EXPECT_EQ(c->search.poll_interval, std::chrono::milliseconds(250));
  const auto off = load_config(write("[search]\nbatch_size = 0\n"), {});
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_EQ(off->search.batch_size, 0u);
  const auto bad = load_config(write("[search]\npause_ms = -1\n"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "search.pause_ms");
}

TEST_F(ConfigFile, ContactVerificationComesFromItsTableAndTheEnvironment) {
  const auto c = load_config(write("[contacts]\nverification_code_ttl_seconds = 600\nverification_max_attempts = 3\n"),
                             {{"HERALD_CONTACTS_VERIFICATION_SENDS_PER_HOUR_PER_ADDRESS", "2"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->http.contact_verification.code_ttl, std::chrono::seconds(600));
  EXPECT_EQ(c->http.contact_verification.max_attempts, 3);
  EXPECT_EQ(c->http.contact_verification.sends_per_hour_per_address, 2);
  EXPECT_EQ(c->http.contact_verification.sends_per_hour_per_customer, 5);
  const auto bad = load_config(write("[contacts]\nverification_max_attempts = 0\n"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "contacts.verification_max_attempts");
}

TEST_F(ConfigFile, CisActionsComeFromTheirTableAndTheEnvironment) {
  const auto c = load_config(write("[cis]\nactions_url = \"https://cis.example.com/actions\"\ntimeout_ms = 2500\n"),
                             {{"HERALD_CIS_SECRET", "s3cret"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->cis.actions_url, "https://cis.example.com/actions");
  EXPECT_EQ(c->cis.secret, "s3cret");
  EXPECT_EQ(c->cis.timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(c->cis.max_attempts, 2);

  const auto unsigned_cis = load_config(write("[cis]\nactions_url = \"https://cis.example.com/actions\"\n"), {});
  ASSERT_FALSE(unsigned_cis.ok());
  EXPECT_EQ(unsigned_cis.error().field, "cis.secret");
  const auto bad_url = load_config(write("[cis]\nactions_url = \"cis.example.com\"\nsecret = \"x\"\n"), {});
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.error().field, "cis.actions_url");
  EXPECT_FALSE(load_config(write("[cis]\nsecret = \"x\"\n"), {})->cis.configured());
}

TEST_F(ConfigFile, OmsForwardingComesFromItsTableAndTheEnvironment) {
  const auto c = load_config(write("[oms]\nreports_url = \"https://oms.example.com/reports\"\ntimeout_ms = 2500\n"
                                   "max_age_seconds = 7200\n"),
                             {{"HERALD_OMS_SECRET", "s3cret"}, {"HERALD_OMS_BACKOFF_CAP_MS", "90000"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->oms.configured());
  EXPECT_EQ(c->oms.reports_url, "https://oms.example.com/reports");
  EXPECT_EQ(c->oms.secret, "s3cret");
  EXPECT_EQ(c->oms.timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(c->oms.max_age, std::chrono::seconds(7200));
  EXPECT_EQ(c->oms.backoff_cap, std::chrono::milliseconds(90000));

  const auto unsigned_oms = load_config(write("[oms]\nreports_url = \"https://oms.example.com/reports\"\n"), {});
  ASSERT_FALSE(unsigned_oms.ok());
  EXPECT_EQ(unsigned_oms.error().field, "oms.secret");
  const auto bad_url = load_config(write("[oms]\nreports_url = \"oms.example.com\"\nsecret = \"x\"\n"), {});
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.error().field, "oms.reports_url");
  const auto cap_below_base = load_config(write("[oms]\nbackoff_base_ms = 5000\nbackoff_cap_ms = 1000\n"), {});
  ASSERT_FALSE(cap_below_base.ok());
  EXPECT_EQ(cap_below_base.error().field, "oms.backoff_cap_ms");
  const auto no_age = load_config(write("[oms]\nmax_age_seconds = 0\n"), {});
  ASSERT_FALSE(no_age.ok());
  EXPECT_EQ(no_age.error().field, "oms.max_age_seconds");
  EXPECT_FALSE(load_config(write(""), {})->oms.configured());
}

TEST_F(ConfigFile, ServiceTextsReplaceOneTextOfOneLanguage) {
  const auto c = load_config(
      write("[services]\npayment_confirmation_ttl_minutes = 30\n[services.texts.es]\npaid = \"Pagado {amount}\"\n"), {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->services.payment_confirmation_ttl, std::chrono::minutes(30));
  EXPECT_EQ(c->services.replies.languages.at("es").paid, "Pagado {amount}");
  EXPECT_FALSE(c->services.replies.languages.at("es").balance.empty());
  const auto unknown = load_config(write("[services.texts.es]\npaied = \"x\"\n"), {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "services.texts.es.paied");
}

TEST_F(ConfigFile, VoiceSpeechTextsAndPromptsReplaceOneValueOfOneLanguage) {
  const auto c = load_config(write("[voice]\ngather_timeout_seconds = 8\n[voice.speech.es]\nvoice = \"Polly.Lupe\"\n"
                                   "[voice.prompts.es]\n\"outage.report\" = \"Marque {key}\"\n"),
                             {{"HERALD_VOICE_GATHER_ROUNDS", "1"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->voice.gather_timeout_seconds, 8);
  EXPECT_EQ(c->voice.gather_rounds, 1);
  EXPECT_EQ(c->voice.speech.at("es").voice, "Polly.Lupe");
  EXPECT_EQ(c->voice.speech.at("es").language, "es-MX");  // the rest stays built in
  EXPECT_EQ(c->voice.texts.at("es").prompts.at("outage.report"), "Marque {key}");
  EXPECT_EQ(c->voice.texts.at("es").goodbye, "Adiós.");
  const auto unknown = load_config(write("[voice.texts.es]\nhello = \"x\"\n"), {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "voice.texts.es.hello");
  const auto range = load_config(write("[voice]\ngather_timeout_seconds = 0\n"), {});
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.error().field, "voice.gather_timeout_seconds");
}

TEST_F(ConfigFile, DrainDelayMustFitInTheShutdownGrace) {
  const auto ok = load_config(write("[server]\ndrain_delay_seconds = 2\nshutdown_grace_seconds = 10\n"), {});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->drain_delay, std::chrono::seconds(2));
  const auto bad = load_config(write("[server]\ndrain_delay_seconds = 10\nshutdown_grace_seconds = 10\n"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "server.drain_delay_seconds");
}

TEST_F(ConfigFile, BackgroundNiceAndServerTimingComeFromTheFileAndTheEnvironment) {
  const auto defaults = load_config(write(""), {});
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->background_nice, 10);
  EXPECT_EQ(defaults->database_background_nice, 10);
  EXPECT_FALSE(defaults->http.server_timing);
  const auto c = load_config(write("[server]\nbackground_nice = 5\n[http]\nserver_timing = true\n"
                                   "[database]\nbackground_nice = 3\n"),
                             {{"HERALD_SERVER_BACKGROUND_NICE", "0"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->background_nice, 0);
  EXPECT_EQ(c->database_background_nice, 3);
  EXPECT_TRUE(c->http.server_timing);
  const auto bad = load_config(write("[server]\nbackground_nice = 20\n"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "server.background_nice");
}

TEST_F(ConfigFile, TheIdleTransactionTimeoutComesFromTheFileAndTheEnvironmentAndZeroLeavesPostgresOwn) {
  const auto defaults = load_config(write(""), {});
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->database_idle_transaction_timeout, std::chrono::seconds(10));
  const auto file = load_config(write("[database]\nidle_transaction_timeout_seconds = 0\n"), {});
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->database_idle_transaction_timeout, std::chrono::seconds(0));
  const auto env = load_config(write("[database]\nidle_transaction_timeout_seconds = 0\n"),
                               {{"HERALD_DATABASE_IDLE_TRANSACTION_TIMEOUT_SECONDS", "30"}});
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->database_idle_transaction_timeout, std::chrono::seconds(30));
  const auto bad = load_config(write("[database]\nidle_transaction_timeout_seconds = -1\n"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "database.idle_transaction_timeout_seconds");
}

TEST_F(ConfigFile, OutageWorkersDefaultToTheCoresAndTheNoticePartsAreRead) {
  const auto defaults = load_config(write(""), {});
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  const auto cores = std::thread::hardware_concurrency();
  EXPECT_EQ(defaults->outages.workers, cores == 0 ? 2u : std::min<std::size_t>(cores, 8));
  EXPECT_EQ(defaults->outages.notice_parts, 8u);
  const auto c = load_config(write("[outages]\nworkers = 0\nnotice_parts = 3\n"),
                             {{"HERALD_OUTAGES_CHUNK_ACCOUNTS", "200"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->outages.workers, 0u);  // this instance does not fan out
  EXPECT_EQ(c->outages.notice_parts, 3u);
  EXPECT_EQ(c->outages.chunk_accounts, 200u);  // HERALD_OUTAGES_* apply too
  const auto bad = load_config(write("[outages]\nnotice_parts = 0\n"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "outages.notice_parts");
}

TEST_F(ConfigFile, EnvironmentDefinesAGateway) {
  const auto c = load_config(write(""), {{"HERALD_GATEWAYS_TWILIO_TYPE", "twilio"},
                                         {"HERALD_GATEWAYS_TWILIO_AUTH_TOKEN", "secret"},
                                         {"HERALD_CHANNELS_SMS", "twilio,log"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->gateways.count("twilio"));
  EXPECT_EQ(c->gateways.at("twilio").type, "twilio");
  EXPECT_EQ(c->gateways.at("twilio").settings.at("auth_token"), "secret");
  EXPECT_EQ(c->channels.at(Channel::sms), (std::vector<std::string>{"twilio", "log"}));
}

TEST_F(ConfigFile, KannelGatewayIsCalledBackOnThePublicUrlUnlessItsDlrUrlSaysOtherwise) {
  const auto c = load_config(write("[http]\npublic_base_url = \"https://herald.example.com/\"\n"
                                   "[gateways.kannel]\ntype = \"kannel\"\n"
                                   "[gateways.quiet]\ntype = \"kannel\"\ndlr_url = \"\"\n"),
                             {{"HERALD_GATEWAYS_KANNEL_WEBHOOK_TOKEN", "kannel-token-0123456789"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->gateways.at("kannel").settings.at("dlr_url"), "https://herald.example.com/v1/webhooks/kannel/dlr");
  EXPECT_EQ(c->gateways.at("kannel").settings.at("webhook_token"), "kannel-token-0123456789");
  EXPECT_EQ(c->gateways.at("quiet").settings.at("dlr_url"), "");  // no DLRs asked for
}

TEST_F(ConfigFile, VariablesOutsideTheConfigSectionsAreIgnored) {
  const auto c = load_config(write(""), {{"HERALD_CONFIG", "/elsewhere.toml"}, {"HERALD_TEST_PG_DIR", "/tmp/pg"}});
  EXPECT_TRUE(c.ok()) << c.error().message;
}

TEST_F(ConfigFile, AnUnknownVariableInAKnownSectionIsNamed) {
  const auto c = load_config(write(""), {{"HERALD_HTTP_PROT", "8080"}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "http.prot");
  EXPECT_NE(c.error().message.find("HERALD_HTTP_PROT"), std::string::npos) << c.error().message;
}

TEST_F(ConfigFile, AnUnknownKeyInTheFileIsNamed) {
  const auto c = load_config(write("[dispatch]\nbatch_sise = 10\n"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "dispatch.batch_sise");
}

TEST_F(ConfigFile, AnOutOfRangeNumberNamesItsKeyAndTheRange) {
  const auto c = load_config(write("[http]\nport = 70000\n"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "http.port");
  EXPECT_NE(c.error().message.find("65535"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("70000"), std::string::npos) << c.error().message;
}

TEST_F(ConfigFile, ABadValueFromTheEnvironmentSaysWhichVariable) {
  const auto c = load_config(write(""), {{"HERALD_DISPATCH_WORKERS", "many"}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "dispatch.workers");
  EXPECT_NE(c.error().message.find("HERALD_DISPATCH_WORKERS"), std::string::npos) << c.error().message;
}

TEST_F(ConfigFile, ATomlSyntaxErrorNamesFileLineAndColumn) {
  const auto c = load_config(write("[http]\nport = = 1\n"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::invalid);
  EXPECT_NE(c.error().message.find("heraldd.toml:2:"), std::string::npos) << c.error().message;
}

TEST_F(ConfigFile, AnUnknownChannelInDefaultPreferencesIsNamed) {
  const auto c = load_config(write("[rules.default_preferences]\nbilling = \"sms,pigeon\"\n"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "rules.default_preferences.billing");
  EXPECT_NE(c.error().message.find("pigeon"), std::string::npos) << c.error().message;
}

TEST_F(ConfigFile, DrainDelayMustEndBeforeTheShutdownGrace) {
  const auto c = load_config(write("[server]\nshutdown_grace_seconds = 10\ndrain_delay_seconds = 10\n"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().field, "server.drain_delay_seconds");
}

TEST_F(ConfigFile, PublicBaseUrlDefaultsToTheListenAddressAndLosesTrailingSlashes) {
  const auto defaulted = load_config(write("[http]\naddress = \"10.0.0.5\"\nport = 8443\n"), {});
  ASSERT_TRUE(defaulted.ok()) << defaulted.error().message;
  EXPECT_EQ(defaulted->public_urls.base, "http://10.0.0.5:8443");

  const auto given = load_config(write("[http]\npublic_base_url = \"https://herald.example.com//\"\n"), {});
  ASSERT_TRUE(given.ok()) << given.error().message;
  EXPECT_EQ(given->public_urls.base, "https://herald.example.com");
}

TEST_F(ConfigFile, AnEventTypeTableIsReadAndItsUnknownKeysNamed) {
  const auto ok = load_config(write("[rules.types.\"leak.detected\"]\nurgent = false\npriority = 5\n"), {});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_FALSE(ok->rules.types.at("leak.detected").urgent);
  EXPECT_EQ(ok->rules.types.at("leak.detected").priority, 5);

  const auto bad = load_config(write("[rules.types.\"leak.detected\"]\nurgnet = true\n"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "rules.types.leak.detected.urgnet");
}

TEST_F(ConfigFile, AnEventTypesLaneIsDerivedFromItsRuleUnlessConfigured) {
  const auto defaults = load_config(write(""), {});
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  const auto& none = defaults->intake.lanes;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(rules::lane_of(defaults->rules.types.at("bill.ready"), none), Lane::standard);
  EXPECT_EQ(rules::lane_of(defaults->rules.types.at("leak.detected"), none), Lane::urgent);     // urgent
  EXPECT_EQ(rules::lane_of(defaults->rules.types.at("notice.broadcast"), none), Lane::outage);  // topic outage

  const auto ok = load_config(write("[rules.types.\"notice.broadcast\"]\nlane = \"urgent\"\n"
                                    "[rules.types.\"leak.detected\"]\nlane = \"standard\"\n"), {});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(rules::lane_of(ok->rules.types.at("notice.broadcast"), ok->intake.lanes), Lane::urgent);
  EXPECT_EQ(rules::lane_of(ok->rules.types.at("leak.detected"), ok->intake.lanes), Lane::standard);

  // The verification lane is the codes' own.
  for (const char* lane : {"verification", "fast"}) {
    const auto bad = load_config(write(std::string("[rules.types.\"bill.ready\"]\nlane = \"") + lane + "\"\n"), {});
    ASSERT_FALSE(bad.ok()) << lane;
    EXPECT_EQ(bad.error().field, "rules.types.bill.ready.lane");
  }
}

TEST_F(ConfigFile, ConversationDeclarationsAreReadAndCheckedAgainstTheActions) {
  auto c = load_config(write("[rules.types.\"bill.ready\".conversation]\nttl_hours = 4\n"
                             "replies = { y = \"close\", \"1\" = \"choose\" }\n"),
                       {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  const auto& spec = c->rules.conversations.at("bill.ready");
  EXPECT_EQ(spec.ttl, Seconds(4 * 3600));
  EXPECT_EQ(spec.replies.at("y"), "close");
  const fs::path root(HERALD_SOURCE_DIR);
  c->templates_dir = (root / "config" / "templates").string();
  c->migrations_dir = (root / "migrations").string();
  EXPECT_TRUE(validate_config(*c).empty());

  c->rules.conversations["bill.ready"].replies["N"] = "no.such.action";
  c->rules.conversations["bill.ready"].replies["Stop"] = "close";
  std::vector<std::string> messages;
  for (const auto& p : validate_config(*c)) {
    EXPECT_EQ(p.field, "rules.types.bill.ready.conversation");
    messages.push_back(p.message);
  }
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_NE(messages[0].find("no.such.action"), std::string::npos) << messages[0];
  EXPECT_NE(messages[1].find("STOP is always handled as a keyword first"), std::string::npos) << messages[1];

  const auto bad = load_config(write("[rules.types.\"bill.ready\".conversation]\nttl_days = 4\n"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "rules.types.bill.ready.conversation.ttl_days");
}

TEST_F(ConfigFile, InboundKeywordsTextsAndServiceActionsAreRead) {
  const auto c = load_config(write("[inbound]\nchoice_ttl_minutes = 5\n"
                                   "[inbound.service_actions]\nBAL = \"cis.balance\"\n"
                                   "[inbound.keywords.fr]\nopt_out = [\"ARRET\", \"ARRETER\"]\n"
                                   "[inbound.keywords.fr.service]\nBAL = [\"SOLDE\"]\n"
                                   "[inbound.texts.en]\nhelp = \"{utility}: call us\"\n"),
                             {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->inbound.choice_ttl, Seconds(300));
  EXPECT_EQ(c->inbound.service_actions.at("BAL"), "cis.balance");
  EXPECT_EQ(c->inbound.service_actions.at("OUT"), "outage.report");
  EXPECT_EQ(c->inbound.keywords.languages.at("fr").opt_out, (std::vector<std::string>{"ARRET", "ARRETER"}));
  EXPECT_EQ(c->inbound.keywords.languages.at("fr").service.at("BAL"), (std::vector<std::string>{"SOLDE"}));
  EXPECT_EQ(c->inbound.keywords.languages.at("en").opt_out.front(), "STOP");  // built-in lists stay
  EXPECT_EQ(c->inbound.replies.languages.at("en").help, "{utility}: call us");
  EXPECT_EQ(c->inbound.utility_name, c->rules.utility_name);

  const auto bad = load_config(write("[inbound.service_actions]\nBALANCE = \"x\"\n"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "inbound.service_actions.BALANCE");
}

TEST(ShippedConfig, LoadsAndValidatesClean) {
  const fs::path root(HERALD_SOURCE_DIR);
  auto c = load_config((root / "config" / "heraldd.toml").string(), {});
  ASSERT_TRUE(c.ok()) << c.error().field << ": " << c.error().message;
  c->templates_dir = (root / "config" / "templates").string();
  c->migrations_dir = (root / "migrations").string();
  for (const auto& problem : validate_config(*c)) ADD_FAILURE() << problem.field << ": " << problem.message;
}

TEST(ValidateConfig, AChannelNamingAMissingGatewayIsAProblemNamingTheChannel) {
  auto c = load_config("", {{"HERALD_CHANNELS_EMAIL", "sendgird"}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  const fs::path root(HERALD_SOURCE_DIR);
  c->templates_dir = (root / "config" / "templates").string();
  c->migrations_dir = (root / "migrations").string();
  const auto problems = validate_config(*c);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "channels.email");
  EXPECT_NE(problems[0].message.find("sendgird"), std::string::npos) << problems[0].message;
}

TEST(ValidateConfig, MissingDirectoriesAreNamed) {
  auto c = load_config("", {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  c->templates_dir = "/nonexistent/templates";
  c->migrations_dir = "/nonexistent/migrations";
  std::vector<std::string> fields;
  for (const auto& p : validate_config(*c)) fields.push_back(p.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"rules.templates_dir", "server.migrations_dir"}));
}

}  // namespace
}  // namespace herald::app
