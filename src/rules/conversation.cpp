// Conversation declarations and reply matching.
#include "herald/rules/conversation.hpp"

#include <algorithm>
#include <set>

#include "herald/rules/keywords.hpp"

namespace herald::rules {

namespace {

// Short answers that mean the same as a one-letter reply a message asked for.
const std::map<std::string, std::string>& synonyms() {
  static const std::map<std::string, std::string> kSynonyms = {{"YES", "Y"}, {"SI", "Y"}, {"NO", "N"}};
  return kSynonyms;
}

}  // namespace

std::vector<std::string> check_conversation_spec(const ConversationSpec& spec,
                                                 const std::vector<std::string>& known_actions) {
  std::vector<std::string> problems;
  if (spec.replies.empty()) problems.push_back("replies: at least one reply is needed");
  if (spec.ttl < Seconds(60) || spec.ttl > Seconds(30 * 24 * 3600))
    problems.push_back("ttl: must be between one minute and 30 days");
  const auto keywords = default_keyword_config();
  std::set<std::string> seen;
  for (const auto& [reply, action] : spec.replies) {
    const auto key = normalize_reply(reply);
    if (key.empty()) {
      problems.push_back("replies: a reply is empty");
      continue;
    }
    if (!seen.insert(compact_reply(key)).second) problems.push_back("replies." + reply + ": listed twice");
    const auto c = classify(key, keywords);
    if (c.intent == Intent::opt_out || c.intent == Intent::opt_in || c.intent == Intent::help)
      problems.push_back("replies." + reply + ": " + c.keyword + " is always handled as a keyword first");
    if (action.empty()) problems.push_back("replies." + reply + ": no action");
    else if (!known_actions.empty() && std::find(known_actions.begin(), known_actions.end(), action) == known_actions.end())
      problems.push_back("replies." + reply + ": unknown action '" + action + "'");
  }
  return problems;
}

Json expected_json(const std::map<std::string, std::string>& replies) {
  Json out = Json::object();
  for (const auto& [reply, action] : replies) out[normalize_reply(reply)] = action;
  return out;
}

std::optional<ReplyMatch> match_reply(const Json& expected, std::string_view text) {
  if (!expected.is_object()) return std::nullopt;
  const auto compact = compact_reply(text);
  if (compact.empty()) return std::nullopt;
  auto find = [&](const std::string& wanted) -> std::optional<ReplyMatch> {
    for (const auto& [key, action] : expected.items()) {
      if (compact_reply(key) == wanted && action.is_string()) return ReplyMatch{key, action.get<std::string>()};
    }
    return std::nullopt;
  };
  if (auto m = find(compact)) return m;
  if (auto it = synonyms().find(compact); it != synonyms().end())
    if (auto m = find(it->second)) return m;
  // kAnyReply takes whatever else comes (a free answer such as an account number and ZIP).
  if (auto it = expected.find(std::string(kAnyReply)); it != expected.end() && it->is_string())
    return ReplyMatch{std::string(kAnyReply), it->get<std::string>()};
  return std::nullopt;
}

}  // namespace herald::rules
