// libcurl multi transport: a batch of HTTP/SMTP transfers in flight at once over kept-alive
// connections, with reusable easy handles.
#include "herald/gateways/curl_multi.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <string>

namespace herald::gateways {
namespace {

constexpr std::size_t kMaxReplyLines = 200;

struct Transfer {
  CURL* easy = nullptr;
  bool is_http = true;
  const std::string* upload = nullptr;  // SMTP message
  std::size_t upload_offset = 0;
  curl_slist* headers = nullptr;
  curl_slist* recipients = nullptr;
  TransferResponse* response = nullptr;
  std::size_t max_body = 0;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  ~Transfer() {
    curl_slist_free_all(headers);
    curl_slist_free_all(recipients);
  }
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  std::string_view line = trim(std::string_view(data, n));
  if (t->is_http) {
    if (line.substr(0, 5) == "HTTP/") {
      t->response->headers.clear();  // a new response (after 100-continue or similar)
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
      t->response->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                        std::string(trim(line.substr(colon + 1))));
    }
  } else if (!line.empty() && t->response->reply_lines.size() < kMaxReplyLines) {
    // For SMTP libcurl passes the server's replies to the header callback.
    t->response->reply_lines.emplace_back(line);
  }
  return n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  auto& body = t->response->body;
  if (body.size() < t->max_body) body.append(data, std::min(n, t->max_body - body.size()));
  return n;
}

std::size_t on_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t room = size * count;
  const std::size_t left = t->upload->size() - t->upload_offset;
  const std::size_t n = std::min(room, left);
  std::copy_n(t->upload->data() + t->upload_offset, n, buffer);
  t->upload_offset += n;
  return n;
}

std::string error_code_for(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "resolve";
    case CURLE_COULDNT_CONNECT: return "connect";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_USE_SSL_FAILED: return "tls";
    case CURLE_LOGIN_DENIED: return "auth";
    default: return "network";
  }
}

void check(CURLcode code, const char* what) {
  if (code != CURLE_OK) {
    throw std::runtime_error(std::string("libcurl option ") + what + ": " + curl_easy_strerror(code));
  }
}

}  // namespace

void ensure_curl_global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

struct CurlMulti::Impl {
  Options options;
  CURLM* multi = nullptr;
  std::vector<CURL*> idle;  // reset easy handles ready for reuse
  std::mutex mu;

  CURL* take_easy() {
    if (!idle.empty()) {
      CURL* easy = idle.back();
      idle.pop_back();
      return easy;
    }
    CURL* easy = curl_easy_init();
    if (easy == nullptr) throw std::runtime_error("curl_easy_init failed");
    return easy;
  }

  void give_back(CURL* easy) {
    curl_easy_reset(easy);
    idle.push_back(easy);
  }

  void set_common(Transfer& t, const std::string& url) {
    CURL* e = t.easy;
    check(curl_easy_setopt(e, CURLOPT_URL, url.c_str()), "URL");
    check(curl_easy_setopt(e, CURLOPT_PRIVATE, &t), "PRIVATE");
    check(curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L), "NOSIGNAL");
    check(curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count())), "TIMEOUT_MS");
    check(curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count())),
          "CONNECTTIMEOUT_MS");
    check(curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L), "TCP_KEEPALIVE");
    check(curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error_buffer), "ERRORBUFFER");
    check(curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header), "HEADERFUNCTION");
    check(curl_easy_setopt(e, CURLOPT_HEADERDATA, &t), "HEADERDATA");
    check(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body), "WRITEFUNCTION");
    check(curl_easy_setopt(e, CURLOPT_WRITEDATA, &t), "WRITEDATA");
    if (!options.ca_file.empty()) {
      check(curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_file.c_str()), "CAINFO");
    }
  }

  void set_http(Transfer& t, const HttpRequest& r) {
    set_common(t, r.url);
    CURL* e = t.easy;
    check(curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"), "PROTOCOLS_STR");
    for (const auto& [name, value] : r.headers) {
      t.headers = curl_slist_append(t.headers, (name + ": " + value).c_str());
    }
    // No 100-continue round trip: the bodies are small.
    t.headers = curl_slist_append(t.headers, "Expect:");
    if (t.headers == nullptr) throw std::runtime_error("curl_slist_append failed");
    check(curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers), "HTTPHEADER");
    if (r.method == "GET") {
      check(curl_easy_setopt(e, CURLOPT_HTTPGET, 1L), "HTTPGET");
    } else {
      check(curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size())),
            "POSTFIELDSIZE_LARGE");
      check(curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data()), "POSTFIELDS");
      if (r.method != "POST") check(curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str()), "CUSTOMREQUEST");
    }
  }

  void set_smtp(Transfer& t, const SmtpRequest& r) {
    set_common(t, r.url);
    CURL* e = t.easy;
    t.is_http = false;
    check(curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps"), "PROTOCOLS_STR");
    if (!r.username.empty()) {
      check(curl_easy_setopt(e, CURLOPT_USERNAME, r.username.c_str()), "USERNAME");
      check(curl_easy_setopt(e, CURLOPT_PASSWORD, r.password.c_str()), "PASSWORD");
    }
    long use_ssl = CURLUSESSL_TRY;
    if (r.starttls == StartTls::required) use_ssl = CURLUSESSL_ALL;
    if (r.starttls == StartTls::none) use_ssl = CURLUSESSL_NONE;
    check(curl_easy_setopt(e, CURLOPT_USE_SSL, use_ssl), "USE_SSL");
    check(curl_easy_setopt(e, CURLOPT_MAIL_FROM, ("<" + r.mail_from + ">").c_str()), "MAIL_FROM");
    for (const auto& rcpt : r.recipients) {
      t.recipients = curl_slist_append(t.recipients, ("<" + rcpt + ">").c_str());
    }
    if (t.recipients == nullptr) throw std::runtime_error("SMTP request without recipients");
    check(curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t.recipients), "MAIL_RCPT");
    t.upload = &r.message;
    check(curl_easy_setopt(e, CURLOPT_UPLOAD, 1L), "UPLOAD");
    check(curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload), "READFUNCTION");
    check(curl_easy_setopt(e, CURLOPT_READDATA, &t), "READDATA");
    check(curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.message.size())),
          "INFILESIZE_LARGE");
  }

  void finish(Transfer& t, CURLcode code) {
    TransferResponse& r = *t.response;
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    r.status = status;
    curl_off_t total_us = 0;
    curl_easy_getinfo(t.easy, CURLINFO_TOTAL_TIME_T, &total_us);
    r.duration_ms = static_cast<double>(total_us) / 1000.0;
    r.curl_code = static_cast<int>(code);
    if (code != CURLE_OK) {
      r.error_code = error_code_for(code);
      r.error = t.error_buffer[0] != '\0' ? std::string(t.error_buffer) : curl_easy_strerror(code);
    }
  }
};

CurlMulti::CurlMulti(Options options) : impl_(std::make_unique<Impl>()) {
  ensure_curl_global_init();
  impl_->options = std::move(options);
  impl_->options.max_concurrent = std::max(1, impl_->options.max_concurrent);
  impl_->multi = curl_multi_init();
  if (impl_->multi == nullptr) throw std::runtime_error("curl_multi_init failed");
  const long max = impl_->options.max_concurrent;
  curl_multi_setopt(impl_->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max);
  curl_multi_setopt(impl_->multi, CURLMOPT_MAXCONNECTS, max);
}

CurlMulti::~CurlMulti() {
  for (CURL* easy : impl_->idle) curl_easy_cleanup(easy);
  curl_multi_cleanup(impl_->multi);
}

std::vector<TransferResponse> CurlMulti::perform(const std::vector<TransferRequest>& requests) {
  std::lock_guard lock(impl_->mu);
  Impl& im = *impl_;
  std::vector<TransferResponse> responses(requests.size());
  std::vector<std::unique_ptr<Transfer>> transfers(requests.size());
  std::size_t next = 0;
  std::size_t active = 0;

  // Leaves the multi handle empty whatever happens, so the next batch starts clean.
  auto release = [&](Transfer& t) {
    curl_multi_remove_handle(im.multi, t.easy);
    im.give_back(t.easy);
    t.easy = nullptr;
  };
  auto start_more = [&] {
    while (next < requests.size() && active < static_cast<std::size_t>(im.options.max_concurrent)) {
      auto t = std::make_unique<Transfer>();
      t->response = &responses[next];
      t->max_body = im.options.max_body_bytes;
      t->easy = im.take_easy();
      Transfer& ref = *t;
      transfers[next] = std::move(t);
      try {
        if (const auto* http = std::get_if<HttpRequest>(&requests[next])) {
          im.set_http(ref, *http);
        } else {
          im.set_smtp(ref, std::get<SmtpRequest>(requests[next]));
        }
      } catch (...) {
        im.give_back(ref.easy);
        ref.easy = nullptr;
        throw;
      }
      if (curl_multi_add_handle(im.multi, ref.easy) != CURLM_OK) {
        im.give_back(ref.easy);
        ref.easy = nullptr;
        throw std::runtime_error("curl_multi_add_handle failed");
      }
      ++active;
      ++next;
    }
  };

  try {
    start_more();
    while (active > 0) {
      int running = 0;
      CURLMcode mc = curl_multi_perform(im.multi, &running);
      if (mc != CURLM_OK) throw std::runtime_error(std::string("curl_multi_perform: ") + curl_multi_strerror(mc));
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(im.multi, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        char* priv = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        auto* t = reinterpret_cast<Transfer*>(priv);
        im.finish(*t, msg->data.result);
        release(*t);
        --active;
      }
      start_more();
      if (active > 0) {
        mc = curl_multi_poll(im.multi, nullptr, 0, 1000, nullptr);
        if (mc != CURLM_OK) throw std::runtime_error(std::string("curl_multi_poll: ") + curl_multi_strerror(mc));
      }
    }
  } catch (...) {
    for (auto& t : transfers) {
      if (t && t->easy != nullptr) release(*t);
    }
    throw;
  }
  return responses;
}

}  // namespace herald::gateways
