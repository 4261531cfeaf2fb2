// CurlMulti: performs a batch of HTTP/SMTP transfers concurrently on one libcurl multi handle
// whose connections stay alive between batches.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "herald/gateways/transfer.hpp"

namespace herald::gateways {

class CurlMulti {
 public:
  struct Options {
    int max_concurrent = 64;                     // transfers in flight at once
    std::chrono::milliseconds timeout{10'000};   // whole transfer, per transfer
    std::chrono::milliseconds connect_timeout{5'000};
    std::string ca_file;                         // empty: the system's CA store
    std::size_t max_body_bytes = 1 << 20;        // response bodies are cut here
  };

  explicit CurlMulti(Options options);
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  // Runs every request, at most max_concurrent at a time, and returns one response per
  // request in the same order. Transfer failures (refused, timeout, TLS) are responses with
  // curl_code set; only a broken multi handle throws. Calls are serialized.
  std::vector<TransferResponse> perform(const std::vector<TransferRequest>& requests);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// libcurl's global state, initialised once per process (thread-safe).
void ensure_curl_global_init();

}  // namespace herald::gateways
