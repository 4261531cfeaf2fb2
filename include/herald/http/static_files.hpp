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

// A strong entity tag for a file's bytes ("\"<32 hex digits>\""): it changes exactly when the
// content does, so it holds across restarts and instances serving the same files.
std::string entity_tag(std::string_view content);
// Whether an If-None-Match header value ("*", or a list of tags, weak ones included) names etag:
// then the client's copy is current and the answer is 304 (RFC 9110 weak comparison).
bool none_match_hits(std::string_view if_none_match, std::string_view etag);
// The Content-Security-Policy of the pages under a section ("portal", "admin", "vendor").
std::string content_security_policy(std::string_view section);

}  // namespace herald::http
