// Serving the web pages (portal, admin) from a directory, safely.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace herald::http {

// The file under root for a decoded relative path ("portal/app.js"); a directory means its
// index.html. nullopt for anything outside root (.., symlinks out), hidden files, or missing.
std::optional<std::filesystem::path> resolve_static(const std::filesystem::path& root, std::string_view relative);
// Content type from the extension ("text/html; charset=utf-8", "application/javascript", ...).
std::string content_type_for(const std::filesystem::path& file);

}  // namespace herald::http
