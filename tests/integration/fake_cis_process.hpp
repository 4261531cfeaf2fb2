// The fake CIS and OMS (tests/fakes/fake_cis.py, fake_oms.py) run as processes by
// tests/fakes/serve.py, scripted and read over their /_control/* routes.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "herald/source_dir.hpp"
#include "http_test_client.hpp"

extern char** environ;

namespace herald::test {

// One of the fakes under tests/fakes run by serve.py as a child process: started with
// `serve.py <kind> --record FILE <args>`, its port read from its "PORT n" line, killed on destruction.
class FakeProcess {
 public:
  FakeProcess(const std::string& kind, const std::vector<std::string>& args) {
    namespace fs = std::filesystem;
    dir_ = fs::temp_directory_path() /
           ("herald-fake-" + kind + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter()));
    fs::create_directories(dir_);
    const auto out = dir_ / "out", err = dir_ / "err";
    std::vector<std::string> command = {"/usr/bin/python3", std::string(HERALD_SOURCE_DIR) + "/tests/fakes/serve.py",
                                        kind, "--record", (dir_ / "record.jsonl").string()};
    command.insert(command.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : command) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start the fake " + kind);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(out);
      std::string word;
      if (in >> word >> port_ && word == "PORT" && port_ > 0) return;
      port_ = 0;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        std::ifstream e(err);
        std::stringstream text;
        text << e.rdbuf();
        throw std::runtime_error("the fake " + kind + " exited: " + text.str());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("the fake " + kind + " did not start");
  }
  ~FakeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  FakeProcess(const FakeProcess&) = delete;
  FakeProcess& operator=(const FakeProcess&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  Json state() const {
    auto r = http_call(static_cast<std::uint16_t>(port_), "GET", "/_control/state");
    if (r.status != 200) throw std::runtime_error("fake state: " + std::to_string(r.status));
    return r.json();
  }
  void control(const std::string& what, const Json& body) const {
    auto r = http_call(static_cast<std::uint16_t>(port_), "POST", "/_control/" + what, {}, body);
    if (r.status != 200) throw std::runtime_error("fake control " + what + ": " + r.body);
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

class FakeCisProcess {
 public:
  static constexpr const char* kSecret = "test-cis-secret";

  // max_skew_seconds < 0: the fake does not compare X-Herald-Timestamp with its own clock (for
  // tests whose injected clock is far from now).
  explicit FakeCisProcess(double max_skew_seconds = 300)
      : process_("cis", {"--secret", kSecret, "--max-skew", std::to_string(max_skew_seconds)}) {}

  std::string actions_url() const { return process_.url("/actions"); }

  void set_account(const std::string& account_id, const Json& fields) {
    process_.control("accounts", {{account_id, fields}});
  }
  // mode: error (503 first), timeout (answers after `delay` s, does nothing), charge_then_timeout
  // (does the action, answers after `delay` s).
  void fail_next(int count, const std::string& mode, double delay = 3.0) {
    process_.control("fail_next", {{"count", count}, {"mode", mode}, {"delay", delay}});
  }
  void set_down(bool down) { process_.control("down", {{"down", down}}); }
  Json state() const { return process_.state(); }

 private:
  FakeProcess process_;
};

// The fake OMS (tests/fakes/fake_oms.py): verifies signatures, answers 503 while told to,
// stores each report once per idempotency key.
class FakeOmsProcess {
 public:
  static constexpr const char* kSecret = "test-oms-secret";

  explicit FakeOmsProcess(int fail_first = 0, double max_skew_seconds = -1)
      : process_("oms", {"--secret", kSecret, "--max-skew", std::to_string(max_skew_seconds), "--fail-first",
                         std::to_string(fail_first)}) {}

  std::string reports_url() const { return process_.url("/reports"); }
  void fail_next(int count) { process_.control("fail_next", {{"count", count}}); }
  void set_down(bool down) { process_.control("down", {{"down", down}}); }
  // requests, bad_signatures, reports (one per key), accepted (2xx answers per key)
  Json state() const { return process_.state(); }

 private:
  FakeProcess process_;
};

}  // namespace herald::test
