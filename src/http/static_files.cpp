// Static file lookup confined to the web root, and content types by extension.
#include "herald/http/static_files.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include <openssl/sha.h>

namespace herald::http {

namespace fs = std::filesystem;

std::optional<fs::path> resolve_static(const fs::path& root, std::string_view relative) {
  if (root.empty()) return std::nullopt;
  fs::path rel;
  std::string_view rest = relative;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    auto seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (seg.empty()) continue;
    // No parent references, no hidden files, nothing a filesystem could read as a separator.
    if (seg.front() == '.' || seg.find('\\') != std::string_view::npos || seg.find('\0') != std::string_view::npos)
      return std::nullopt;
    rel /= std::string(seg);
  }
  std::error_code ec;
  auto canonical_root = fs::weakly_canonical(root, ec);
  if (ec) return std::nullopt;
  auto candidate = canonical_root / rel;
  if (fs::is_directory(candidate, ec)) candidate /= "index.html";
  if (!fs::is_regular_file(candidate, ec)) return std::nullopt;
  // Symlinks may point anywhere: the resolved file must still be under the root.
  auto resolved = fs::weakly_canonical(candidate, ec);
  if (ec) return std::nullopt;
  auto [root_end, _] = std::mismatch(canonical_root.begin(), canonical_root.end(), resolved.begin(), resolved.end());
  if (root_end != canonical_root.end()) return std::nullopt;
  return resolved;
}

std::string content_type_for(const fs::path& file) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},   {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},     {".js", "application/javascript; charset=utf-8"},
      {".mjs", "application/javascript; charset=utf-8"},
      {".json", "application/json"},           {".svg", "image/svg+xml"},
      {".png", "image/png"},                   {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},                 {".gif", "image/gif"},
      {".ico", "image/x-icon"},                {".webp", "image/webp"},
      {".woff", "font/woff"},                  {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},   {".map", "application/json"},
  };
  auto ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

std::string entity_tag(std::string_view content) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(content.data()), content.size(), md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag = "\"";
  for (std::size_t i = 0; i < 16; ++i) {
    tag += kHex[md[i] >> 4];
    tag += kHex[md[i] & 15];
  }
  return tag + "\"";
}

bool none_match_hits(std::string_view if_none_match, std::string_view etag) {
  auto opaque = [](std::string_view t) { return t.substr(0, 2) == "W/" ? t.substr(2) : t; };
  const auto mine = opaque(etag);
  std::string_view rest = if_none_match;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*" || (!item.empty() && opaque(item) == mine)) return true;
  }
  return false;
}

std::string content_security_policy(std::string_view section) {
  // Everything from this server, nothing inline, no plugins, never framed by another site.
  // Pages set element styles from script (CSSOM), which style-src does not restrict.
  std::string style = "style-src 'self'";
  // The console shows an email's HTML in a sandboxed srcdoc frame (no scripts, opaque origin).
  // Such a frame inherits this policy, and emails carry their styles inline; the console's own
  // markup is rendered by the library, which escapes text, so it has no inline style to inject.
  // Images stay 'self' and data: only, so a previewed email cannot call a tracker.
  if (section == "admin") style += " 'unsafe-inline'";
  return "default-src 'self'; script-src 'self'; " + style +
         "; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
         "form-action 'self'; frame-ancestors 'none'";
}

}  // namespace herald::http
