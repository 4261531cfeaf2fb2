// The message log as stored: filtered keyset pages of summaries, and one message in full.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// Empty strings / nullopt mean "no filter". from/to bound created_at (from inclusive, to
// exclusive); they rely on ids following created_at to within ten minutes, as the writers
// stamp them (see messages.cpp). q searches subject and body, case-insensitively and literally.
struct MessageFilter {
  std::string customer_id, account_id, address, type, q;
  std::optional<Channel> channel;
  std::optional<Topic> topic;
  std::optional<MessageStatus> status;
  std::optional<TimePoint> from, to;
  std::int64_t before_id = 0;  // where the page starts: only ids below this; 0 from the newest
  int limit = 50;              // clamped to 1..500
};

// One row of the log as listed: the narrow columns and the body's first 80 characters.
struct MessageSummary {
  std::int64_t id = 0;
  TimePoint created_at{};
  std::string customer_id, account_id;
  Channel channel = Channel::sms;
  std::string address;  // as stored, unmasked
  std::string type;
  Topic topic = Topic::other;
  MessageStatus status = MessageStatus::queued;
  std::optional<std::string> suppression_reason, gateway;
  std::string body_preview;
  std::string event_id;
  int attempts = 0;
  std::optional<TimePoint> not_before, sent_at;
};

struct MessagePage {
  std::vector<MessageSummary> items;
  std::optional<std::int64_t> next_before_id;  // where the next page starts; absent on the last page
};

// Newest first, keyset pagination on id, stable under inserts. Filters combine with AND.
MessagePage list_messages(Database& db, const MessageFilter& filter);

struct MessageAttempt {
  int attempt = 0;
  std::string gateway;
  TimePoint started_at{};
  int duration_ms = 0;
  std::string outcome;  // sent | retry | failed | failover
  std::optional<int> http_status;
  std::optional<std::string> error_code;
  std::string detail;
  std::optional<std::string> provider_id;
};

struct DeliveryReceipt {
  std::string status;  // the status the provider reported, as recorded
  std::optional<std::string> error_code;
  TimePoint received_at{};
  Json raw;  // the provider's payload
  std::string gateway;
};

// One message with everything known about it. decision is stored without what the columns
// already say (see rules::decide).
struct MessageDetail {
  std::int64_t id = 0;
  std::optional<std::int64_t> event_seq;
  std::string event_id, customer_id, account_id;
  std::optional<std::int64_t> contact_id;
  Channel channel = Channel::sms;
  std::string address;  // as stored, unmasked
  std::string type;
  Topic topic = Topic::other;
  std::string language;
  int priority = 0;
  bool urgent = false;
  std::string subject, body, html;
  int segments = 0;
  std::string encoding;
  MessageStatus status = MessageStatus::queued;
  std::optional<std::string> suppression_reason;
  Json decision;
  std::optional<TimePoint> not_before, expires_at;
  std::optional<TimePoint> due_at;  // from the dispatch queue, while the message is still to go out
  int attempt_count = 0;
  std::optional<std::string> gateway, provider_id, last_error;
  TimePoint created_at{}, updated_at{};
  std::optional<TimePoint> sent_at, delivered_at;
  std::vector<MessageAttempt> attempts;   // in the order they were made
  std::vector<DeliveryReceipt> receipts;  // in the order they arrived
};

// nullopt when there is no such message.
std::optional<MessageDetail> get_message_detail(Database& db, std::int64_t id);

}  // namespace herald::store
