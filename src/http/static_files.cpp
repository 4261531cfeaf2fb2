// Static file lookup confined to the web root, and content types by extension.
#include "herald/http/static_files.hpp"

#include <algorithm>
#include <cctype>
#include <map>

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

}  // namespace herald::http
