// heraldd: parses the command line, loads the configuration and runs one subcommand.
#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "herald/app/commands.hpp"

namespace {

const char* const kUsage = R"(usage: heraldd COMMAND [options]

commands:
  serve                                   run the daemon (HTTP API, intake, dispatch)
  migrate                                 apply pending database migrations
  create-api-key --role cis|admin --name N print a new API key (shown once, stored hashed)
  check-config                            validate the configuration; names the bad key
  customer-token --customer ID [--ttl S]  print a signed customer (portal) token
  seed-demo                               load the demo customers (idempotent)
  import-customers FILE [--chunk N] [--jobs J]
                                          load customers from JSON lines (FILE "-": stdin),
                                          N lines per transaction (default 10000), J
                                          transactions at once (default: the number of cores)

options (any command):
  --config FILE   TOML configuration (default: $HERALD_CONFIG, else config/heraldd.toml if present)

Every key can be overridden by HERALD_<SECTION>_<KEY>, e.g. HERALD_DATABASE_URL,
HERALD_HTTP_ADDRESS, HERALD_HTTP_PORT.
)";

struct Args {
  std::string command;
  std::string config, role, name, customer;
  long ttl = 3600;
  long chunk = 10000;
  long jobs = 0;  // 0: one per core
  std::vector<std::string> operands;  // after the command: import-customers' FILE
  std::string error;
};

Args parse_args(int argc, char** argv) {
  Args a;
  std::vector<std::string> v(argv + 1, argv + argc);
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto value = [&](std::string& out) {
      if (i + 1 >= v.size()) a.error = v[i] + " needs a value";
      else out = v[++i];
    };
    if (v[i] == "--config") value(a.config);
    else if (v[i] == "--role") value(a.role);
    else if (v[i] == "--name") value(a.name);
    else if (v[i] == "--customer") value(a.customer);
    else if (v[i] == "--ttl") {
      std::string t;
      value(t);
      try {
        a.ttl = std::stol(t);
      } catch (const std::exception&) {
        a.error = "--ttl must be a number of seconds";
      }
    } else if (v[i] == "--chunk") {
      std::string n;
      value(n);
      try {
        a.chunk = std::stol(n);
      } catch (const std::exception&) {
        a.chunk = 0;
      }
      if (a.chunk < 1 || a.chunk > 1000000) a.error = "--chunk must be a number of lines from 1 to 1000000";
    } else if (v[i] == "--jobs") {
      std::string n;
      value(n);
      try {
        a.jobs = std::stol(n);
      } catch (const std::exception&) {
        a.jobs = 0;
      }
      if (a.jobs < 1 || a.jobs > 64) a.error = "--jobs must be a number of connections from 1 to 64";
    } else if (v[i] == "-h" || v[i] == "--help") a.command = "help";
    else if (a.command.empty() && v[i].rfind("-", 0) != 0) a.command = v[i];
    else if (!a.command.empty() && (v[i] == "-" || v[i].rfind("-", 0) != 0)) a.operands.push_back(v[i]);
    else a.error = "unknown argument '" + v[i] + "'";
  }
  if (a.error.empty() && !a.operands.empty() && a.command != "import-customers")
    a.error = "unknown argument '" + a.operands[0] + "'";
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("heraldd"));
  const auto args = parse_args(argc, argv);
  if (args.command.empty() || args.command == "help") {
    std::cout << kUsage;
    return args.command.empty() ? 2 : 0;
  }
  if (!args.error.empty()) {
    std::cerr << "heraldd: " << args.error << "\n" << kUsage;
    return 2;
  }
  const auto loaded = herald::app::load_config(args.config, herald::app::process_environment());
  if (args.command == "check-config") return herald::app::run_check_config(loaded);
  if (!loaded) {
    std::cerr << "heraldd: bad configuration: " << loaded.error().message << "\n";
    return 2;
  }
  const auto& config = *loaded;
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  try {
    if (args.command == "serve") return herald::app::run_serve(config);
    if (args.command == "migrate") return herald::app::run_migrate(config);
    if (args.command == "seed-demo") return herald::app::run_seed_demo(config);
    if (args.command == "create-api-key") {
      if (args.role != "cis" && args.role != "admin") {
        std::cerr << "heraldd: --role must be cis or admin\n";
        return 2;
      }
      if (args.name.empty()) {
        std::cerr << "heraldd: --name is required\n";
        return 2;
      }
      return herald::app::run_create_api_key(config, args.role, args.name);
    }
    if (args.command == "import-customers") {
      if (args.operands.size() != 1) {
        std::cerr << "heraldd: import-customers needs one FILE (\"-\" for standard input)\n";
        return 2;
      }
      const auto jobs = args.jobs > 0 ? static_cast<std::size_t>(args.jobs)
                                      : std::max<std::size_t>(std::thread::hardware_concurrency(), 1);
      return herald::app::run_import_customers(config, args.operands[0], static_cast<std::size_t>(args.chunk), jobs);
    }
    if (args.command == "customer-token") {
      if (args.customer.empty()) {
        std::cerr << "heraldd: --customer is required\n";
        return 2;
      }
      return herald::app::run_customer_token(config, args.customer, args.ttl);
    }
  } catch (const std::exception& e) {
    std::cerr << "heraldd: " << args.command << " failed: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "heraldd: unknown command '" << args.command << "'\n" << kUsage;
  return 2;
}
