// heraldd's configuration: a TOML file with every key overridable by HERALD_<SECTION>_<KEY>.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "herald/domain/deployment.hpp"
#include "herald/domain/error.hpp"
#include "herald/engine/cis.hpp"
#include "herald/engine/service_actions.hpp"
#include "herald/engine/config.hpp"
#include "herald/engine/inbound.hpp"
#include "herald/engine/report_forwarder.hpp"
#include "herald/engine/text_indexer.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/gateways/twilio_voice.hpp"
#include "herald/http/server.hpp"
#include "herald/rules/decide.hpp"

namespace herald::app {

struct Config {
  std::string source;  // the file read, or "(built-in defaults)"
  std::string database_url = "postgresql://postgres@127.0.0.1:5432/herald";
  std::size_t database_pool_size = 8;
  // Nice value of the Postgres backends serving background work, where heraldd may renice
  // them (same host, Postgres's user or CAP_SYS_NICE); 0: never.
  int database_background_nice = 10;
  // Postgres ends a transaction of heraldd's left idle this long (the process frozen between
  // two statements), freeing its locks; 0: Postgres's own idle_in_transaction_session_timeout.
  std::chrono::seconds database_idle_transaction_timeout{10};
  http::ServerConfig http;
  PublicUrls public_urls;    // http.public_base_url; defaults to http://<address>:<port>
  TokenSecret token_secret;  // auth.token_secret; empty: generated once and kept in the database
  rules::RulesConfig rules;
  std::string templates_dir = "config/templates";
  std::string migrations_dir = "migrations";
  engine::IntakeConfig intake;
  engine::DispatchConfig dispatch;
  engine::OutageConfig outages;  // [outages]: when customers hear about an outage, fan-out chunks
  std::map<std::string, gateways::GatewayConfig> gateways;  // by name
  std::map<Channel, std::vector<std::string>> channels;     // gateway names in failover order
  engine::InboundSettings inbound;  // [inbound]: keywords, reply texts, service keywords' actions
  std::chrono::seconds shutdown_grace{20};
  // On SIGTERM /readyz answers 503 this long, listener still open, before it closes.
  std::chrono::seconds drain_delay{5};
  std::string log_level = "info";
  // Nice value of the threads doing background work (engine loops, the text indexer); the
  // HTTP threads stay at 0. 0: all alike.
  int background_nice = 10;
  // [cis]: where actions (balance, payment, registration lookup) go; no actions_url: none.
  engine::CisConfig cis;
  // [services]: the service keywords' reply texts per language and how long their questions wait.
  engine::ServiceActionsConfig services;
  // [voice]: how calls speak each language, their prompts and texts, how long they wait for keys.
  gateways::VoiceSettings voice = gateways::default_voice_settings();
  // [oms]: where outage reports are forwarded; no reports_url: they wait in the outbox.
  engine::OmsConfig oms;
  // [search]: the text indexer that feeds the message log's text search.
  engine::TextIndexerConfig search;
};

using Environment = std::map<std::string, std::string>;
Environment process_environment();

// Reads `path` (empty: HERALD_CONFIG, else config/heraldd.toml when it exists, else built-in
// defaults), then applies HERALD_* variables from `env`. Every error names the key, e.g.
// "http.port", "gateways.twilio.auth_token", or "HERALD_HTTP_PROT" for an unknown variable.
Result<Config> load_config(const std::string& path, const Environment& env);

// Everything check-config verifies beyond parsing: gateways can be built from their
// settings, every channel's gateways exist, templates compile and use only the data fields
// their event types declare. Returns problems, each naming its key.
std::vector<ApiError> validate_config(const Config& config);

}  // namespace herald::app
