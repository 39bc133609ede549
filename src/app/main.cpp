// tradingbot's command line (ARCHITECTURE.md section 4). Main thread only.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "tradingbot/app/daemon.hpp"
#include "tradingbot/app/logging.hpp"
#include "tradingbot/app/record.hpp"
#include "tradingbot/app/sim_command.hpp"
#include "tradingbot/app/version.hpp"
#include "tradingbot/config/config.hpp"
#include "tradingbot/exchange/binance/credentials.hpp"
#include "tradingbot/exchange/binance/replay.hpp"
#include "tradingbot/store/migrations.hpp"
#include "tradingbot/store/store.hpp"
#include "tradingbot/trading/paper_session.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitBadConfig = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 3;

// Things the config cannot say but a connecting command needs: files the config names must be
// readable on this machine, and secrets live only in the environment.
std::optional<std::string> environment_problem(const tb::config::Config& cfg) {
  if (!cfg.exchange.ca_file.empty() && !std::ifstream(cfg.exchange.ca_file)) {
    return cfg.source + ": exchange.ca_file = '" + cfg.exchange.ca_file + "': cannot be opened for reading";
  }
  if (cfg.trading.mode != tb::config::TradingMode::Live) return std::nullopt;
  const auto set = [](const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0';
  };
  if (!set("BINANCE_API_KEY")) {
    return cfg.source + ": trading.mode = 'live': BINANCE_API_KEY is not set in the environment";
  }
  if (!set("BINANCE_API_SECRET") && !set("BINANCE_ED25519_KEY_FILE")) {
    return cfg.source +
           ": trading.mode = 'live': neither BINANCE_API_SECRET nor BINANCE_ED25519_KEY_FILE is set in the environment";
  }
  for (const char* name : {"BINANCE_API_KEY", "BINANCE_API_SECRET"}) {
    if (!set(name)) continue;
    if (std::string problem = tb::binance::credential_problem(name, std::getenv(name)); !problem.empty()) {
      return cfg.source + ": trading.mode = 'live': " + problem;
    }
  }
  return std::nullopt;
}

// Loads and fully validates a config; prints the one-line reason and returns nullopt on failure.
std::optional<tb::config::Config> load_or_report(const std::string& path) {
  auto loaded = tb::config::load_config_file(path);
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
    return std::nullopt;
  }
  if (auto problem = environment_problem(loaded.value())) {
    std::fprintf(stderr, "%s\n", problem->c_str());
    return std::nullopt;
  }
  return std::move(loaded).value();
}

// `tradingbot replay`: the live pipeline over capture files; prints a one-line result and
// writes the section 7 summary JSON when asked.
int run_replay_command(const std::string& config_path, const std::string& symbol_text,
                       const std::string& summary_path, const std::vector<std::string>& captures) {
  auto cfg = tb::config::load_config_file(config_path);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return kExitBadConfig;
  }
  std::optional<tb::Symbol> only_symbol;
  if (!symbol_text.empty()) {
    only_symbol = tb::Symbol::parse(symbol_text);
    if (!only_symbol) {
      std::fprintf(stderr, "tradingbot replay: --symbol '%s' is not a valid symbol\n", symbol_text.c_str());
      return kExitUsage;
    }
  }
  // With a [strategy], the strategy trades on the paper venue over the capture (fixed client-id
  // prefix: the same capture and config give the same summary).
  std::unique_ptr<tb::trading::PaperSession> paper;
  tb::binance::ReplayHooks hooks;
  if (!cfg.value().strategy.name.empty()) {
    auto session = tb::trading::PaperSession::create(cfg.value(), "tbREPLAY");
    if (!session) {
      std::fprintf(stderr, "%s: %s\n", config_path.c_str(), session.error().message.c_str());
      return kExitBadConfig;
    }
    paper = std::move(session).value();
    hooks.sink = paper.get();
    hooks.paper_summary = [&paper] {
      return tb::binance::PaperSummary{paper->venue().stats().orders, paper->venue().stats().fills,
                                       paper->loop().positions().realized_pnl()};
    };
  }
  auto summary = tb::binance::run_replay(cfg.value(), captures, only_symbol, hooks);
  if (!summary) {
    std::fprintf(stderr, "tradingbot replay: %s\n", summary.error().message.c_str());
    return kExitRuntime;
  }
  const std::string json = tb::binance::to_json(summary.value());
  if (!summary_path.empty()) {
    std::FILE* out = std::fopen(summary_path.c_str(), "w");
    if (out == nullptr || std::fwrite(json.data(), 1, json.size(), out) != json.size() || std::fclose(out) != 0) {
      std::fprintf(stderr, "tradingbot replay: cannot write summary to %s\n", summary_path.c_str());
      return kExitRuntime;
    }
  }
  const auto& result = summary.value();
  std::printf("replayed %llu messages in %.3f s (%.0f msg/s; pipeline alone %.0f msg/s), %zu symbols\n",
              static_cast<unsigned long long>(result.messages), result.elapsed_s, result.msgs_per_s,
              result.pipeline_msgs_per_s, result.symbols.size());
  for (const auto& symbol : result.symbols) {
    std::printf("  %s: synced=%s last_update_id=%llu gaps=%llu resyncs=%llu crossed=%llu "
                "book_ticker_checks=%llu mismatches=%llu\n",
                symbol.symbol.str().c_str(), symbol.synced ? "true" : "false",
                static_cast<unsigned long long>(symbol.last_update_id), static_cast<unsigned long long>(symbol.gaps),
                static_cast<unsigned long long>(symbol.resyncs), static_cast<unsigned long long>(symbol.crossed),
                static_cast<unsigned long long>(symbol.book_ticker_checks),
                static_cast<unsigned long long>(symbol.book_ticker_mismatches));
  }
  return kExitOk;
}

// libpq/libpqxx messages span lines; the CLI prints one line per problem.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// The database schema as --check reports it. Returns the line (empty without a database) to print on stdout, or (in
// `problem`) the one line naming store.postgres_url when the daemon could not use the
// database (its driver module does not load, or the schema is newer than this binary). An unreachable database is not a config error:
// the daemon starts anyway and journals locally.
std::string check_schema(const tb::config::Config& cfg, std::string& problem) {
  const auto options = tb::store::StoreOptions::from_config(cfg.store);
  if (!options.conninfo) return {};  // journal only: nothing to report
  const std::string where = options.describe_database();
  // Unlike an unreachable database, a driver that does not load stops the daemon at start.
  if (const std::string driver = tb::store::database_driver_problem(); !driver.empty()) {
    problem = cfg.source + ": store.postgres_url = '" + where + "': " + one_line(driver);
    return {};
  }
  auto state = tb::store::inspect_schema(*options.conninfo);
  if (!state) {
    return "store: database " + where + " unreachable (" + one_line(state.error().message) +
           "); the daemon would journal locally until it answers";
  }
  if (state.value().newer_than_binary()) {
    problem = cfg.source + ": store.postgres_url = '" + where + "': database " + state.value().describe() +
              ": upgrade tradingbot";
    return {};
  }
  return "store: database " + where + ": " + state.value().describe() +
         (state.value().up_to_date() ? "" : " (applied at daemon start or by `tradingbot migrate`)");
}

// `tradingbot migrate`: applies every pending schema migration to the configured database and
// prints the schema state before and after.
int run_migrate_command(const std::string& config_path) {
  auto cfg = tb::config::load_config_file(config_path);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return kExitBadConfig;
  }
  const auto options = tb::store::StoreOptions::from_config(cfg.value().store);
  if (!options.conninfo) {
    std::fprintf(stderr,
                 "%s: store.postgres_url is empty and PGHOST/PGDATABASE/PGSERVICE are not set: no database to "
                 "migrate\n",
                 config_path.c_str());
    return kExitBadConfig;
  }
  const std::string where = options.describe_database();
  auto before = tb::store::inspect_schema(*options.conninfo);
  if (!before) {
    std::fprintf(stderr, "tradingbot migrate: database %s: %s\n", where.c_str(),
                 one_line(before.error().message).c_str());
    return kExitRuntime;
  }
  if (before.value().newer_than_binary()) {
    std::fprintf(stderr, "tradingbot migrate: database %s: %s: upgrade tradingbot\n",
                 where.c_str(), before.value().describe().c_str());
    return kExitRuntime;
  }
  auto after = tb::store::migrate_schema(*options.conninfo);
  if (!after) {
    std::fprintf(stderr, "tradingbot migrate: database %s: %s\n", where.c_str(),
                 one_line(after.error().message).c_str());
    return kExitRuntime;
  }
  std::printf("database %s: %s (was version %d, applied %d migration(s))\n", where.c_str(),
              after.value().describe().c_str(), before.value().current,
              after.value().current - before.value().current);
  return kExitOk;
}

// `tradingbot record`: the daemon's market-data connections, every frame into a capture file.
int run_record_command(const std::string& config_path, const std::string& out_path, double duration_s) {
  auto cfg = load_or_report(config_path);
  if (!cfg) return kExitBadConfig;
  if (duration_s < 0) {
    std::fprintf(stderr, "tradingbot record: --duration must be >= 0 seconds\n");
    return kExitUsage;
  }
  try {
    tb::app::setup_logging(cfg->log);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitBadConfig;
  }
  tb::app::RecordResult result;
  const auto duration = static_cast<tb::Nanos>(duration_s * 1e9);
  const int rc = tb::app::run_record(*cfg, out_path, duration, &result);
  tb::app::shutdown_logging();
  if (rc == kExitOk) {
    std::printf("recorded %llu frames and %llu snapshots into %s\n", static_cast<unsigned long long>(result.frames),
                static_cast<unsigned long long>(result.snapshots), out_path.c_str());
  }
  return rc;
}

int run_daemon(const std::string& config_path) {
  auto cfg = load_or_report(config_path);
  if (!cfg) return kExitBadConfig;
  try {
    tb::app::setup_logging(cfg->log);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitBadConfig;
  }
  int rc = kExitRuntime;
  try {
    tb::app::Daemon daemon(std::move(*cfg), config_path);
    rc = daemon.run();
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
  }
  tb::app::shutdown_logging();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tradingbot: a native Binance spot trading daemon.\n"
               "Runs in the foreground with --config FILE (systemd's way); API keys come only from the "
               "environment (BINANCE_API_KEY, BINANCE_API_SECRET or BINANCE_ED25519_KEY_FILE)."};
  app.set_version_flag("--version", tb::app::version_string());
  std::string config_path;
  bool check_only = false;
  app.add_option("--config", config_path, "TOML configuration file");
  app.add_flag("--check", check_only, "Validate the configuration and exit (0 = valid)");

  std::string replay_config;
  std::string replay_symbol;
  std::string replay_summary;
  std::vector<std::string> replay_captures;
  auto* replay = app.add_subcommand("replay", "Run the full pipeline over capture files as fast as possible");
  replay->add_option("--config", replay_config, "TOML configuration file")->required();
  replay->add_option("--symbol", replay_symbol, "Only this symbol");
  replay->add_option("--summary", replay_summary, "Write the replay summary JSON here");
  replay->add_option("captures", replay_captures, "Capture files (plain or .gz), in order")->required();

  std::string record_config;
  std::string record_out;
  auto* record = app.add_subcommand("record", "Connect like the daemon and write every frame to a capture");
  record->add_option("--config", record_config, "TOML configuration file")->required();
  record->add_option("--out", record_out, "Capture file to write (.gz compresses)")->required();
  double record_duration_s = 0;
  record->add_option("--duration", record_duration_s, "Stop after this many seconds (default: until SIGINT/SIGTERM)");

  std::string sim_config;
  auto* sim = app.add_subcommand("sim", "Run the Binance-compatible exchange simulator");
  sim->add_option("--config", sim_config, "TOML configuration file")->required();

  std::string migrate_config;
  auto* migrate = app.add_subcommand("migrate", "Apply pending database schema migrations and report the schema state");
  migrate->add_option("--config", migrate_config, "TOML configuration file")->required();

  app.require_subcommand(0, 1);
  CLI11_PARSE(app, argc, argv);

  if (migrate->parsed()) return run_migrate_command(migrate_config);
  if (replay->parsed()) return run_replay_command(replay_config, replay_symbol, replay_summary, replay_captures);
  if (record->parsed()) return run_record_command(record_config, record_out, record_duration_s);
  if (sim->parsed()) return tb::app::run_sim_command(sim_config);

  if (config_path.empty()) {
    std::fprintf(stderr, "tradingbot: --config FILE is required (see --help)\n");
    return kExitUsage;
  }
  if (check_only) {
    auto cfg = load_or_report(config_path);
    if (!cfg) return kExitBadConfig;
    std::string problem;
    const std::string schema = check_schema(*cfg, problem);
    if (!problem.empty()) {
      std::fprintf(stderr, "%s\n", problem.c_str());
      return kExitBadConfig;
    }
    std::printf("%s: configuration is valid (mode=%s, %zu symbols)\n", config_path.c_str(),
                std::string(tb::config::to_string(cfg->trading.mode)).c_str(), cfg->market.symbols.size());
    if (!schema.empty()) std::printf("%s\n", schema.c_str());
    return kExitOk;
  }
  return run_daemon(config_path);
}
