// Conversations as the rules see them: what a message type declares it expects in reply, and
// matching a reply against what an open conversation expects. Pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/types.hpp"

namespace herald::rules {

// Declared per event type (config [rules.types."<type>".conversation]): an SMS of that type
// that the gateway accepts opens a conversation with these replies, open for ttl.
// replies: reply as the customer types it ("Y", "1") -> action name ("payment.authorize",
// "close"). Keys are stored normalised (normalize_reply).
struct ConversationSpec {
  std::map<std::string, std::string> replies;
  Seconds ttl{Seconds(72 * 3600)};
};

// Checks a declaration: at least one reply, each key non-empty once normalised and not a word
// that STOP/START/HELP handling would take first (it could never be answered), no two keys
// equal once normalised, each action a known name (when `known_actions` is not empty), ttl
// between a minute and 30 days. Problems are returned as text, each naming the reply.
std::vector<std::string> check_conversation_spec(const ConversationSpec& spec,
                                                 const std::vector<std::string>& known_actions);

// The spec as stored on a conversation: {"Y": "payment.authorize", "N": "close"}.
Json expected_json(const std::map<std::string, std::string>& replies);

struct ReplyMatch {
  std::string reply;   // the expected key that matched ("Y")
  std::string action;  // what it runs
};

// An expected reply that matches any text the other expected replies do not (an action's
// follow-up asking for free input, e.g. REG's account number and ZIP).
inline constexpr std::string_view kAnyReply = "*";

// `text` against a conversation's expected replies ({"Y": "action", ...}): equal once both are
// normalised (case, surrounding whitespace, trailing punctuation, inner spaces/hyphens).
// "YES"/"SI" answer a conversation that expects "Y" and "NO" one that expects "N", when it
// does not list them itself; failing those, kAnyReply when listed. nullopt when nothing matches.
std::optional<ReplyMatch> match_reply(const Json& expected, std::string_view text);

// True when the conversation lists a reply that `text` would match (see match_reply).
inline bool expects(const Json& expected, std::string_view text) { return match_reply(expected, text).has_value(); }

}  // namespace herald::rules
