// The twilio, kannel and smtp gateways over real connections to the local fakes in tests/fakes/
// (the Twilio Messages API, Kannel's smsbox sendsms and an SMTP server speaking the providers'
// wire formats), run as processes by tests/fakes/serve.py, which records every request they get.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "herald/domain/metrics.hpp"
#include "herald/gateways/encoding.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/source_dir.hpp"

extern char** environ;

namespace herald::gateways {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A python3 that can import aiosmtpd (the SMTP fake needs it): a pyenv shim may shadow the system one.
std::string find_python() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("HERALD_PYTHON")) candidates.emplace_back(env);
  candidates.emplace_back("/usr/bin/python3");
  candidates.emplace_back("python3");
  for (const auto& py : candidates) {
    if (std::system((py + " -c 'import aiosmtpd' >/dev/null 2>&1").c_str()) == 0) return py;
  }
  return {};
}

// tests/fakes/serve.py running one fake: it writes "PORT <n>" on its first stdout line once it
// listens; killed when destroyed.
class FakeProcess {
 public:
  FakeProcess(const std::string& python, const fs::path& dir, const std::string& name,
              const std::vector<std::string>& args) {
    stdout_path_ = dir / (name + ".out");
    const fs::path stderr_path = dir / (name + ".err");
    std::vector<std::string> command = {python, std::string(HERALD_SOURCE_DIR) + "/tests/fakes/serve.py"};
    command.insert(command.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : command) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawnp(&pid_, python.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    if (pid_ <= 0) throw std::runtime_error("cannot start " + python);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(stdout_path_);
      std::string word;
      if (in >> word >> port_ && word == "PORT" && port_ > 0) return;
      port_ = 0;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        std::ifstream err(stderr_path);
        std::stringstream text;
        text << err.rdbuf();
        throw std::runtime_error("fake " + name + " exited: " + text.str());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the port file
    }
    throw std::runtime_error("fake " + name + " did not report its port");
  }
  ~FakeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  FakeProcess(const FakeProcess&) = delete;
  FakeProcess& operator=(const FakeProcess&) = delete;
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  fs::path stdout_path_;
  int port_ = 0;
};

// A port nothing listens on: bound, read back, closed.
int closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::vector<Json> read_json_lines(const fs::path& path) {
  std::vector<Json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(Json::parse(line));
  }
  return out;
}

// One fake per test suite, in a temporary directory where it records what it got.
template <typename Derived>
class LocalFake : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    python_ = find_python();
    if (python_.empty()) return;
    char tmpl[] = "/tmp/herald-gw-test-XXXXXX";
    dir_ = new fs::path(mkdtemp(tmpl));
    try {
      fake_ = Derived::start(python_, *dir_);
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete fake_;
    fake_ = nullptr;
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_FALSE(python_.empty()) << "no python3 with aiosmtpd (scripts/install-deps --test installs it)";
    ASSERT_TRUE(fake_ != nullptr) << "the local fake did not start: " << start_error_;
  }
  static int port() { return fake_->port(); }
  static std::vector<Json> recorded() { return read_json_lines(*dir_ / "record.jsonl"); }
  static std::unique_ptr<Gateway> gateway(const GatewayConfig& c) {
    auto g = make_gateway(c);
    if (!g) throw std::runtime_error(g.error().field + ": " + g.error().message);
    return std::move(*g);
  }

  static inline std::string python_;
  static inline std::string start_error_;
  static inline fs::path* dir_ = nullptr;
  static inline FakeProcess* fake_ = nullptr;
};

constexpr const char* kAccountSid = "AC00000000000000000000000000000001";
constexpr const char* kAuthToken = "secret-token";

// tests/fakes/fake_twilio.py, with numbers scripted to refuse the way Twilio does.
class TwilioServer : public LocalFake<TwilioServer> {
 public:
  static FakeProcess* start(const std::string& python, const fs::path& dir) {
    return new FakeProcess(python, dir, "twilio",
                           {"twilio", "--record", (dir / "record.jsonl").string(), "--account-sid", kAccountSid,
                            "--auth-token", kAuthToken, "--reply", "+12175550429=too_many_requests:7", "--reply",
                            "+12175551610=opted_out", "--reply", "+12175550500=server_error", "--reply",
                            "+12175559999=slow:3"});
  }

 protected:
  static std::vector<Json> twilio_requests_to(const std::string& to) {
    std::vector<Json> out;
    for (auto& r : recorded()) {
      if (r["form"]["To"] == to) out.push_back(r);
    }
    return out;
  }
  static GatewayConfig twilio_config(std::string name, int port) {
    GatewayConfig c;
    c.name = std::move(name);
    c.type = "twilio";
    c.channel = Channel::sms;
    c.settings = {{"account_sid", kAccountSid},
                  {"auth_token", kAuthToken},
                  {"from", "+12175550100"},
                  {"base_url", "http://127.0.0.1:" + std::to_string(port)},
                  {"timeout_ms", "2000"}};
    return c;
  }
};

// tests/fakes/smtp_sink.py with AUTH (herald / secret) and two refused recipients.
class SmtpServer : public LocalFake<SmtpServer> {
 public:
  static FakeProcess* start(const std::string& python, const fs::path& dir) {
    return new FakeProcess(python, dir, "smtp",
                           {"smtp", "--record", (dir / "record.jsonl").string(), "--login", "herald:secret",
                            "--refuse", "nobody@example.com=550 5.1.1 mailbox unavailable", "--refuse",
                            "busy@example.com=451 4.3.0 try again later"});
  }

 protected:
  static std::vector<Json> mails() { return recorded(); }
  static GatewayConfig smtp_config(std::string name, int port) {
    GatewayConfig c;
    c.name = std::move(name);
    c.type = "smtp";
    c.channel = Channel::email;
    c.settings = {{"url", "smtp://127.0.0.1:" + std::to_string(port)},
                  {"from", "billing@power.example.com"},
                  {"from_name", "City Power"},
                  {"timeout_ms", "5000"}};
    return c;
  }
};

OutboundMessage sms(std::int64_t id, std::string to, std::string body) {
  OutboundMessage m;
  m.id = id;
  m.channel = Channel::sms;
  m.to = std::move(to);
  m.body = std::move(body);
  m.status_callback_url = "https://herald.example.com/v1/webhooks/twilio/status";
  m.idempotency_key = "herald-" + std::to_string(id);
  return m;
}

OutboundMessage email(std::int64_t id, std::string to) {
  OutboundMessage m;
  m.id = id;
  m.channel = Channel::email;
  m.to = std::move(to);
  m.subject = "Your bill is ready";
  m.body = "Hello Ada,\nyour bill of $42.10 is due on 1 February.\n";
  m.html = "<p>Hello Ada,</p><p>your bill of <b>$42.10</b> is due on 1 February.</p>";
  m.unsubscribe_url = "https://herald.example.com/v1/unsubscribe/tok-" + std::to_string(id);
  m.idempotency_key = "herald-" + std::to_string(id);
  return m;
}

TEST_F(TwilioServer, BatchOfFiftyArrivesWithFormFieldsAndBasicAuth) {
  auto g = gateway(twilio_config("twilio-fifty", port()));
  std::vector<OutboundMessage> batch;
  for (int i = 0; i < 50; ++i) {
    batch.push_back(sms(100 + i, "+1217555" + std::to_string(1000 + i), "Bill #" + std::to_string(i) + ": $42 + tax ✓"));
  }
  auto results = g->send_batch(batch);
  ASSERT_EQ(results.size(), 50u);

  std::map<std::string, Json> by_to;
  for (auto& r : recorded()) by_to[r["form"]["To"]] = r;
  for (int i = 0; i < 50; ++i) {
    const auto& m = batch[i];
    ASSERT_EQ(by_to.count(m.to), 1u) << m.to;
    const Json& req = by_to[m.to];
    // The fake records only what reached /2010-04-01/Accounts/{kAccountSid}/Messages.json.
    EXPECT_EQ(req["headers"]["authorization"], "Basic " + base64_encode(std::string(kAccountSid) + ":" + kAuthToken));
    EXPECT_EQ(req["headers"]["content-type"], "application/x-www-form-urlencoded");
    EXPECT_EQ(req["headers"]["idempotency-key"], m.idempotency_key);
    EXPECT_EQ(req["form"]["From"], "+12175550100");
    EXPECT_EQ(req["form"]["Body"], m.body);
    EXPECT_EQ(req["form"]["StatusCallback"], m.status_callback_url);
    // Results come back in the batch's order, each with the SID the server gave that message.
    EXPECT_EQ(results[i].outcome, SendOutcome::sent) << results[i].detail;
    EXPECT_EQ(results[i].provider_id, req["sid"]);
    EXPECT_EQ(results[i].http_status, 201);
  }
}

TEST_F(TwilioServer, RefusalsBecomeTheCodecsOutcomesWithOneAttemptEach) {
  auto g = gateway(twilio_config("twilio-mixed", port()));
  auto& retries = metrics::Registry::global().counter("herald_gateway_results_total", "",
                                                      {{"gateway", "twilio-mixed"}, {"outcome", "retry"}});
  auto results = g->send_batch({sms(1, "+12175550429", "a"), sms(2, "+12175551610", "b"),
                                sms(3, "+12175550500", "c"), sms(4, "+12175550201", "d")});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, SendOutcome::retry);
  ASSERT_TRUE(results[0].retry_after.has_value());
  EXPECT_EQ(results[0].retry_after->count(), 7);
  EXPECT_EQ(results[1].outcome, SendOutcome::opted_out);
  EXPECT_EQ(results[1].error_code, "21610");
  EXPECT_EQ(results[2].outcome, SendOutcome::retry);
  EXPECT_EQ(results[2].http_status, 500);
  EXPECT_EQ(results[3].outcome, SendOutcome::sent);
  EXPECT_EQ(twilio_requests_to("+12175550429").size(), 1u);  // no retry inside send_batch
  EXPECT_EQ(retries.value(), 2);
}

TEST_F(TwilioServer, KeepsConnectionsAliveAcrossBatches) {
  GatewayConfig c = twilio_config("twilio-reuse", port());
  c.settings["max_concurrent"] = "4";
  auto g = gateway(c);
  std::vector<OutboundMessage> batch;
  for (int i = 0; i < 20; ++i) batch.push_back(sms(500 + i, "+1312555" + std::to_string(2000 + i), "reuse"));
  for (int round = 0; round < 2; ++round) {
    for (auto& r : g->send_batch(batch)) EXPECT_EQ(r.outcome, SendOutcome::sent);
  }
  std::set<int> connections;
  int requests = 0;
  for (auto& r : recorded()) {
    if (r["form"]["Body"] == "reuse") {
      connections.insert(r["connection"].get<int>());
      ++requests;
    }
  }
  EXPECT_EQ(requests, 40);
  EXPECT_LE(connections.size(), 4u);
}

TEST_F(TwilioServer, TimeoutAndRefusedConnectionAreRetries) {
  GatewayConfig c = twilio_config("twilio-slow", port());
  c.settings["timeout_ms"] = "400";
  auto slow = gateway(c);
  const auto start = std::chrono::steady_clock::now();
  auto results = slow->send_batch({sms(1, "+12175559999", "slow"), sms(2, "+12175550202", "fast")});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(results[0].outcome, SendOutcome::retry);
  EXPECT_EQ(results[0].error_code, "timeout");
  EXPECT_EQ(results[1].outcome, SendOutcome::sent);

  auto refused = gateway(twilio_config("twilio-refused", closed_port()));
  auto r = refused->send_batch({sms(3, "+12175550203", "x")});
  EXPECT_EQ(r[0].outcome, SendOutcome::retry);
  EXPECT_EQ(r[0].error_code, "connect");
  EXPECT_FALSE(r[0].detail.empty());
}

TEST_F(SmtpServer, EmailArrivesWithBothPartsAndOneClickUnsubscribe) {
  auto g = gateway(smtp_config("smtp-main", port()));
  auto results = g->send_batch({email(71, "ada@example.com"), email(72, "nobody@example.com"),
                                email(73, "busy@example.com"), email(74, "bob@example.com")});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, SendOutcome::sent) << results[0].error_code << " " << results[0].detail;
  EXPECT_EQ(results[0].provider_id, "<herald-71@power.example.com>");
  EXPECT_EQ(results[1].outcome, SendOutcome::failed);
  EXPECT_EQ(results[1].error_code, "smtp_550");
  EXPECT_THAT(results[1].detail, HasSubstr("mailbox unavailable"));
  EXPECT_EQ(results[2].outcome, SendOutcome::retry);
  EXPECT_EQ(results[2].error_code, "smtp_451");
  EXPECT_EQ(results[3].outcome, SendOutcome::sent);

  Json ada;
  for (auto& m : mails()) {
    if (m["rcpt_tos"] == Json::array({"ada@example.com"})) ada = m;
  }
  ASSERT_FALSE(ada.is_null()) << "ada's mail did not arrive";
  EXPECT_EQ(ada["mail_from"], "billing@power.example.com");
  const std::string content = ada["content"];
  EXPECT_THAT(content, HasSubstr("List-Unsubscribe: <https://herald.example.com/v1/unsubscribe/tok-71>\r\n"));
  EXPECT_THAT(content, HasSubstr("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
  EXPECT_THAT(content, HasSubstr("Content-Type: multipart/alternative;"));
  EXPECT_THAT(content, HasSubstr("Content-Type: text/plain; charset=UTF-8"));
  EXPECT_THAT(content, HasSubstr("Content-Type: text/html; charset=UTF-8"));
  EXPECT_THAT(content, HasSubstr("your bill of <b>$42.10</b>"));
  EXPECT_THAT(content, HasSubstr("Message-ID: <herald-71@power.example.com>"));
  EXPECT_LT(content.find("text/plain"), content.find("text/html"));
}

TEST_F(SmtpServer, AuthenticatesAndTreatsRejectedCredentialsAsRetry) {
  GatewayConfig c = smtp_config("smtp-auth", port());
  c.settings["username"] = "herald";
  c.settings["password"] = "secret";
  auto g = gateway(c);
  auto ok = g->send_batch({email(81, "carol@example.com")});
  EXPECT_EQ(ok[0].outcome, SendOutcome::sent) << ok[0].error_code << " " << ok[0].detail;
  bool authenticated = false;
  for (auto& m : mails()) {
    if (m["rcpt_tos"] == Json::array({"carol@example.com"})) authenticated = m["authenticated"];
  }
  EXPECT_TRUE(authenticated);

  c.name = "smtp-badauth";
  c.settings["password"] = "wrong";
  auto bad = gateway(c)->send_batch({email(82, "dave@example.com")});
  EXPECT_EQ(bad[0].outcome, SendOutcome::retry);
  EXPECT_EQ(bad[0].error_code, "smtp_535");
}

TEST_F(SmtpServer, RequiredStartTlsAndRefusedConnectionAreRetries) {
  GatewayConfig c = smtp_config("smtp-tls", port());
  c.settings["starttls"] = "required";
  auto tls = gateway(c)->send_batch({email(91, "erin@example.com")});
  EXPECT_EQ(tls[0].outcome, SendOutcome::retry);
  EXPECT_EQ(tls[0].error_code, "tls");

  auto refused = gateway(smtp_config("smtp-refused", closed_port()))->send_batch({email(92, "erin@example.com")});
  EXPECT_EQ(refused[0].outcome, SendOutcome::retry);
  EXPECT_EQ(refused[0].error_code, "connect");
}

TEST_F(SmtpServer, BatchRunsConcurrentlyAndEveryMessageArrivesOnce) {
  GatewayConfig c = smtp_config("smtp-many", port());
  c.settings["max_concurrent"] = "4";
  auto g = gateway(c);
  std::vector<OutboundMessage> batch;
  for (int i = 0; i < 30; ++i) batch.push_back(email(1000 + i, "user" + std::to_string(i) + "@example.com"));
  for (auto& r : g->send_batch(batch)) EXPECT_EQ(r.outcome, SendOutcome::sent) << r.error_code << " " << r.detail;
  std::map<std::string, int> arrived;
  for (auto& m : mails()) {
    for (auto& rcpt : m["rcpt_tos"]) ++arrived[rcpt.get<std::string>()];
  }
  for (int i = 0; i < 30; ++i) EXPECT_EQ(arrived["user" + std::to_string(i) + "@example.com"], 1) << i;
}

constexpr const char* kKannelPassword = "kannel-p@ss word";

// tests/fakes/fake_kannel.py as smsbox's sendsms, with numbers scripted to refuse as smsbox does.
class KannelServer : public LocalFake<KannelServer> {
 public:
  static FakeProcess* start(const std::string& python, const fs::path& dir) {
    return new FakeProcess(python, dir, "kannel",
                           {"kannel", "--record", (dir / "record.jsonl").string(), "--password", kKannelPassword,
                            "--reply", "+12175550403=not_routable", "--reply", "+12175550503=temporal_failure"});
  }

 protected:
  static std::vector<Json> kannel_requests_to(const std::string& to) {
    std::vector<Json> out;
    for (auto& r : recorded()) {
      if (r["params"]["to"] == to) out.push_back(r);
    }
    return out;
  }
  static GatewayConfig kannel_config(std::string name, int port) {
    GatewayConfig c;
    c.name = std::move(name);
    c.type = "kannel";
    c.channel = Channel::sms;
    c.settings = {{"url", "http://127.0.0.1:" + std::to_string(port) + "/cgi-bin/sendsms"},
                  {"username", "herald"},
                  {"password", kKannelPassword},
                  {"from", "12345"},
                  {"webhook_token", "kannel-token-0123456789"},
                  {"dlr_url", "https://herald.example.com/v1/webhooks/kannel/dlr"},
                  {"timeout_ms", "2000"}};
    return c;
  }
  static OutboundMessage text(std::int64_t id, std::string to, std::string body) {
    OutboundMessage m;
    m.id = id;
    m.channel = Channel::sms;
    m.to = std::move(to);
    m.body = std::move(body);
    m.idempotency_key = "herald-" + std::to_string(id);
    return m;
  }
};

TEST_F(KannelServer, AcceptedSendIsOneGetWhoseQuerySmsboxReadsBackExactly) {
  const std::string body = "¿Pagó? $5 + fees & 10% — ✓";
  auto results = gateway(kannel_config("kannel-ok", port()))->send_batch({text(501, "+12175550101", body)});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, SendOutcome::sent) << results[0].error_code << " " << results[0].detail;
  EXPECT_EQ(results[0].http_status, 202);
  EXPECT_EQ(results[0].provider_id, "kannel-501");
  auto got = kannel_requests_to("+12175550101");
  ASSERT_EQ(got.size(), 1u);
  const Json& q = got[0]["params"];
  EXPECT_EQ(q["text"], body);
  EXPECT_EQ(q["password"], kKannelPassword);
  EXPECT_EQ(q["coding"], "2");
  EXPECT_EQ(q["charset"], "UTF-8");
  EXPECT_EQ(q["dlr-mask"], "31");
  EXPECT_EQ(q["dlr-url"],
            "https://herald.example.com/v1/webhooks/kannel/dlr?token=kannel-token-0123456789&id=501&status=%d&reply=%A");
}

TEST_F(KannelServer, NotRoutableFailsTemporalFailureAndWrongPasswordRetry) {
  auto g = gateway(kannel_config("kannel-refusals", port()));
  auto results = g->send_batch({text(601, "+12175550403", "a"), text(602, "+12175550503", "b")});
  EXPECT_EQ(results[0].outcome, SendOutcome::failed);
  EXPECT_EQ(results[0].error_code, "kannel_not_routable");
  EXPECT_EQ(results[1].outcome, SendOutcome::retry);
  EXPECT_EQ(results[1].http_status, 503);

  GatewayConfig c = kannel_config("kannel-bad-password", port());
  c.settings["password"] = "wrong";
  auto denied = gateway(c)->send_batch({text(603, "+12175550104", "c")});
  EXPECT_EQ(denied[0].outcome, SendOutcome::retry);
  EXPECT_EQ(denied[0].error_code, "kannel_authorization_failed");

  auto refused = gateway(kannel_config("kannel-refused", closed_port()))->send_batch({text(604, "+12175550105", "d")});
  EXPECT_EQ(refused[0].outcome, SendOutcome::retry);
  EXPECT_EQ(refused[0].error_code, "connect");
}

TEST_F(KannelServer, BatchRunsConcurrentlyAndEveryMessageArrivesOnce) {
  GatewayConfig c = kannel_config("kannel-many", port());
  c.settings["max_concurrent"] = "4";
  std::vector<OutboundMessage> batch;
  for (int i = 0; i < 30; ++i) batch.push_back(text(2000 + i, "+1217555" + std::to_string(2000 + i), "bill"));
  for (auto& r : gateway(c)->send_batch(batch)) EXPECT_EQ(r.outcome, SendOutcome::sent) << r.error_code << " " << r.detail;
  for (int i = 0; i < 30; ++i) EXPECT_EQ(kannel_requests_to("+1217555" + std::to_string(2000 + i)).size(), 1u) << i;
}

}  // namespace
}  // namespace herald::gateways
