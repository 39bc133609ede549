// The daemon's configuration: loaded once from TOML at start (and on SIGHUP for the reloadable
// parts), validated completely, then shared read-only. Every error names the key, the value and
// why it is wrong; unknown keys are errors so a typo never silently falls back to a default.
// Secrets are never here: they come from the environment (see ARCHITECTURE.md section 5).
// Loading runs on the main thread at start-up; the resulting struct is immutable and may be read
// from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/core/symbol.hpp"

namespace tb::config {

// A parsed "scheme://host[:port][/path]" with the port made explicit.
struct Endpoint {
  std::string url;     // as written in the config, e.g. "wss://stream.binance.com:9443"
  std::string scheme;  // "https" or "wss"
  std::string host;    // "stream.binance.com"
  std::uint16_t port = 0;
  std::string path;    // "" or "/ws-api/v3"
};

struct ExchangeConfig {
  Endpoint rest{"https://api.binance.com", "https", "api.binance.com", 443, ""};
  Endpoint ws{"wss://stream.binance.com:9443", "wss", "stream.binance.com", 9443, ""};
  Endpoint ws_api{"wss://ws-api.binance.com:443/ws-api/v3", "wss", "ws-api.binance.com", 443, "/ws-api/v3"};
  std::string ca_file;              // extra PEM trust anchor; the system store is always used too
  std::int64_t recv_window_ms = 5000;  // Binance default; max 60000
};

struct MarketConfig {
  std::vector<Symbol> symbols{*Symbol::parse("BTCUSDT"), *Symbol::parse("ETHUSDT")};
  std::vector<std::string> streams{"bookTicker", "depth@100ms", "aggTrade", "kline_1m"};
  std::int64_t price_cache_ttl_ms = 500;
  std::int64_t price_cache_capacity = 1000;
  std::int64_t stale_after_ms = 3000;         // no message for this long => stream is stale
  std::int64_t depth_snapshot_limit = 5000;   // REST /depth limit used to (re)sync books
};

struct HttpConfig {
  std::string listen = "127.0.0.1:8080";
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::int64_t max_connections = 1024;
  std::int64_t header_limit_bytes = 8192;
  std::int64_t body_limit_bytes = 65536;
  std::int64_t read_timeout_ms = 5000;    // a request must arrive completely within this
  std::int64_t idle_timeout_ms = 30000;   // keep-alive connection with no request is closed
  // HTTP threads (each its own io_context). 1 leaves the second core of a small VPS to the
  // trading thread; 2 matches nginx's throughput on a box that serves many dashboards.
  std::int64_t threads = 1;
};

enum class TradingMode { Off, Paper, Live };
std::string_view to_string(TradingMode mode) noexcept;

struct TradingConfig {
  TradingMode mode = TradingMode::Paper;
  // Paper trading (and replay): the quote currency positions are valued in, the starting cash,
  // the simulated venue's latency (place/cancel ack and fills) and fee, and the instrument
  // granularity assumed until exchangeInfo is known (replay never has it).
  std::string quote_asset = "USDT";
  Money paper_initial_cash = Money::from_integer(10'000);
  std::int64_t paper_latency_ms = 5;
  // Live: on SIGTERM/SIGINT halt the loop and cancel our open orders (bounded wait) before
  // exiting: resting orders with no bot watching them are risk nobody manages.
  bool cancel_on_stop = true;
  std::int64_t paper_fee_bps = 10;  // Binance's base spot fee, 0.1%, charged in the quote asset
  Price paper_tick_size = Price::from_raw(1'000'000);  // 0.01
  Qty paper_step_size = Qty::from_raw(1'000);          // 0.00001
  Money paper_min_notional = Money::from_integer(5);
  // How the trading thread waits for events (net/event_loop.hpp): 0 sleeps in the kernel as soon
  // as it is idle (the default: leaves the core to the other threads); N > 0 keeps polling for N
  // us after each event first, so the rest of a burst skips the kernel's wake-up (tens of
  // microseconds on a VM); -1 never sleeps, one core at 100%.
  std::int64_t busy_poll_us = 0;
  std::int64_t cpu = -1;  // pin the trading thread to this CPU; -1 leaves it to the scheduler
};

// [strategy]: which strategy the trading loop runs and its parameters. An empty name runs no
// strategy (manual /control/order requests still go through the risk gate).
struct StrategyConfig {
  std::string name;             // "" | "market_maker" | "ema_trend"
  std::vector<Symbol> symbols;  // default (empty): market.symbols; must be a subset of them
  std::int64_t timer_ms = 100;  // period of the strategy timer and the dead-man check
  struct MarketMaker {          // [strategy.market_maker]
    Qty order_qty = Qty::from_raw(100'000);       // 0.001
    Qty max_position = Qty::from_raw(1'000'000);  // 0.01
    std::int64_t half_spread_bps = 5;
    std::int64_t skew_bps = 5;
    std::int64_t requote_bps = 2;
    std::int64_t retry_after_ms = 1000;
  } market_maker;
  struct EmaTrend {             // [strategy.ema_trend]
    std::int64_t fast_period = 12;
    std::int64_t slow_period = 26;
    Qty order_qty = Qty::from_raw(100'000);
    std::string interval = "1m";
    bool allow_short = false;
  } ema_trend;
};

enum class RiskAction { Reduce, Halt };

// [risk]: the pre-trade gate's limits (see tradingbot/risk/risk_gate.hpp for each rule).
// Zero disables a limit where the comment says so.
struct RiskConfig {
  Money max_order_notional = Money::from_integer(1'000);
  Qty max_order_qty;                 // per order, every symbol; 0 = only the notional limit
  Money max_position_notional = Money::from_integer(5'000);  // 0 = none
  Qty max_position_qty;              // |position| incl. open orders, every symbol; 0 = none
  std::int64_t max_open_orders_per_symbol = 10;
  std::int64_t price_band_bps = 500;
  std::int64_t order_rate_limit = 10;  // 0 = none
  std::int64_t order_rate_window_ms = 1000;
  std::int64_t cancel_rate_limit = 20;  // 0 = none
  std::int64_t cancel_rate_window_ms = 1000;
  Money daily_loss_limit = Money::from_integer(200);  // 0 = none
  RiskAction daily_loss_action = RiskAction::Reduce;
  std::int64_t max_drawdown_bps = 1000;  // 0 = none
  RiskAction drawdown_action = RiskAction::Halt;
  std::int64_t market_data_stale_ms = 5000;
  std::int64_t user_stream_stale_ms = 60000;
  std::int64_t strategy_reject_limit = 50;  // 0 = none
  std::int64_t strategy_reject_window_ms = 10000;
};

enum class LogTarget { Auto, Console, Journald };

struct LogConfig {
  std::string level = "info";       // trace|debug|info|warn|error|critical|off
  LogTarget target = LogTarget::Auto;  // auto: journald format when started by systemd
  std::string file;                 // optional extra file sink (rotated by logrotate + SIGHUP)
  std::int64_t queue_size = 2048;   // async queue; when full the oldest line is dropped and counted
};

// [store]: where orders, fills, positions and equity are persisted (store module).
struct StoreConfig {
  // libpq connection string, URI ("postgresql://user:pass@host:5432/db") or key=value form.
  // "" means: use the standard PG* environment when PGHOST, PGDATABASE or PGSERVICE is set,
  // else run without a database (journal only). Contains a secret when it has a password:
  // print it only through redact_postgres_url().
  std::string postgres_url;
  std::string journal_dir = "state/journal";  // local append-only journal (covers DB outages)
  std::int64_t batch_size = 1000;             // records per DB transaction / journal fsync
  std::int64_t queue_capacity = 8192;         // trading -> store ring slots (power of two), 256 B each
  std::int64_t flush_interval_ms = 50;        // longest an idle store thread sleeps between drains
};

struct Config {
  std::string source;  // file the config was read from (for messages)
  ExchangeConfig exchange;
  MarketConfig market;
  HttpConfig http;
  TradingConfig trading;
  StrategyConfig strategy;
  RiskConfig risk;
  LogConfig log;
  StoreConfig store;
};

// Parses and validates. The error is one line: "<source>: <key> = <value>: <reason>".
Result<Config> load_config_file(const std::string& path);
Result<Config> parse_config(std::string_view toml_text, std::string_view source_name);

// Splits "host:port" / "[v6]:port"; used for http.listen and by tests.
Result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text);
// Replaces the password in a libpq URI ("postgresql://u:secret@h/db") or key=value string
// ("password=secret") with "***", for log lines and error messages.
std::string redact_postgres_url(std::string_view url);
// Parses "scheme://host[:port][/path]" allowing only the given schemes.
Result<Endpoint> parse_endpoint(std::string_view url, std::initializer_list<std::string_view> schemes);

}  // namespace tb::config
