// What the engine's loops are told: batch sizes, workers, leases, retry policy, gateway routes.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/rules/conversation.hpp"
#include "herald/rules/outage_notices.hpp"
#include "herald/rules/lanes.hpp"

namespace herald::engine {

struct IntakeConfig {
  std::size_t batch_size = 2000;
  // Threads turning events into messages; each claims its own batch (SKIP LOCKED), so one
  // renders while the others wait on Postgres. 0: this instance takes no events (a dispatch-
  // or API-only instance in a scaled-out deployment).
  std::size_t workers = 3;
  std::chrono::milliseconds poll_interval{1000};
  // Lanes configured per event type ([rules.types."X"] lane); the rest follow rules::lane_of.
  rules::LaneOverrides lanes;
};

struct DispatchConfig {
  std::size_t batch_size = 1000;
  std::size_t workers = 2;  // dispatch threads; each leases batch_size / workers at a time; 0: no dispatch
  std::chrono::seconds lease{30};
  std::chrono::milliseconds poll_interval{500};
  int max_attempts = 5;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{300000};
  int breaker_failures = 5;
  std::chrono::seconds breaker_open{30};
  std::string status_callback_url;  // public URL of POST /v1/webhooks/twilio/status
  std::string voice_url;            // public URL of POST /v1/webhooks/twilio/voice (a call's TwiML)
  // By event type: an SMS of a type listed here opens a conversation when the gateway accepts
  // it (the engine copies RulesConfig::conversations here).
  std::map<std::string, rules::ConversationSpec> conversations;
};

// The outage loop (engine/outages.hpp): when customers hear, and how the fan-out is cut up.
struct OutageConfig {
  rules::OutageNoticeConfig notices;
  // Accounts per fan-out transaction: each chunk's messages can be sent as soon as it commits.
  std::size_t chunk_accounts = 5000;
  // Threads writing notices: each takes a part of a notice no other holds, so a notice is
  // written by as many at once as it has parts (the app defaults to the number of cores).
  // 0: this instance does not fan out outages.
  std::size_t workers = 2;
  // A notice's accounts are cut into up to this many parts of at least chunk_accounts each.
  std::size_t notice_parts = 8;
  std::chrono::milliseconds poll_interval{1000};
};

// A gateway with its rate limit, in a channel's failover chain.
struct GatewaySlot {
  std::shared_ptr<gateways::Gateway> gateway;
  double rate_per_second = 50;
  double burst = 50;
};

struct EngineConfig {
  IntakeConfig intake;
  DispatchConfig dispatch;
  OutageConfig outages;
  std::map<Channel, std::vector<GatewaySlot>> routes;  // failover order per channel
  std::string instance_id;  // lease owner; unique per process
};

}  // namespace herald::engine
