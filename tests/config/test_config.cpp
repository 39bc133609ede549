#include <catch2/catch.hpp>

#include <string>

#include "tradingbot/config/config.hpp"

using tb::config::parse_config;

namespace {
// Returns the one-line error for a config text that must be rejected.
std::string rejection(const std::string& text) {
  auto result = parse_config(text, "test.toml");
  REQUIRE_FALSE(result.ok());
  return result.error().message;
}
}  // namespace

TEST_CASE("an empty config gives the documented defaults", "[config]") {
  auto result = parse_config("", "empty.toml");
  REQUIRE(result.ok());
  const auto& cfg = result.value();
  CHECK(cfg.exchange.rest.host == "api.binance.com");
  CHECK(cfg.exchange.rest.port == 443);
  CHECK(cfg.exchange.ws.port == 9443);
  CHECK(cfg.exchange.ws_api.path == "/ws-api/v3");
  REQUIRE(cfg.market.symbols.size() == 2);
  CHECK(cfg.market.symbols[0].view() == "BTCUSDT");
  CHECK(cfg.market.streams == std::vector<std::string>{"bookTicker", "depth@100ms", "aggTrade", "kline_1m"});
  CHECK(cfg.market.price_cache_ttl_ms == 500);
  CHECK(cfg.market.price_cache_capacity == 1000);
  CHECK(cfg.http.listen_host == "127.0.0.1");
  CHECK(cfg.http.listen_port == 8080);
  CHECK(cfg.http.threads == 1);
  CHECK(cfg.trading.mode == tb::config::TradingMode::Paper);
  CHECK(cfg.trading.busy_poll_us == 0);  // the trading thread sleeps between events unless asked
  CHECK(cfg.trading.cpu == -1);
}

TEST_CASE("the contract keys are read", "[config]") {
  auto result = parse_config(R"(
[exchange]
rest_url   = "https://127.0.0.1:18443"
ws_url     = "wss://127.0.0.1:19443"
ws_api_url = "wss://localhost:19443/ws-api/v3"
ca_file    = ""
[market]
symbols = ["BTCUSDT"]
streams = ["bookTicker", "depth@100ms", "trade", "kline_5m"]
price_cache_ttl_ms = 250
price_cache_capacity = 10
[http]
listen = "[::1]:9090"
[trading]
mode = "live"
)",
                             "full.toml");
  REQUIRE(result.ok());
  const auto& cfg = result.value();
  CHECK(cfg.exchange.rest.host == "127.0.0.1");
  CHECK(cfg.exchange.rest.port == 18443);
  CHECK(cfg.exchange.ws_api.host == "localhost");
  CHECK(cfg.exchange.ws_api.path == "/ws-api/v3");
  CHECK(cfg.market.symbols.size() == 1);
  CHECK(cfg.market.streams.size() == 4);
  CHECK(cfg.market.price_cache_ttl_ms == 250);
  CHECK(cfg.http.listen_host == "::1");
  CHECK(cfg.http.listen_port == 9090);
  CHECK(cfg.trading.mode == tb::config::TradingMode::Live);
}

TEST_CASE("every rejection names the key, the value and the reason", "[config]") {
  CHECK(rejection("[market]\nprice_cache_ttl_ms = -5\n") ==
        "test.toml: market.price_cache_ttl_ms = -5: must be between 1 and 60000");
  CHECK(rejection("[market]\nprice_cache_ttl_ms = \"500\"\n") ==
        "test.toml: market.price_cache_ttl_ms = '500': expected an integer");
  CHECK(rejection("[market]\nsymbols = []\n") == "test.toml: market.symbols = []: must not be empty");
  CHECK(rejection("[market]\nsymbols = [\"btcusdt\"]\n").find("must be upper case") != std::string::npos);
  CHECK(rejection("[market]\nsymbols = [\"BTCUSDT\", \"BTCUSDT\"]\n").find("listed twice") != std::string::npos);
  CHECK(rejection("[market]\nstreams = [\"depth@250ms\"]\n").find("market.streams") != std::string::npos);
  CHECK(rejection("[trading]\nmode = \"yolo\"\n") ==
        "test.toml: trading.mode = 'yolo': must be one of: off, paper, live");
  CHECK(rejection("[http]\nlisten = \"8080\"\n") == "test.toml: http.listen = '8080': expected \"host:port\"");
  CHECK(rejection("[http]\nlisten = \"127.0.0.1:70000\"\n").find("port must be a number") != std::string::npos);
  CHECK(rejection("[http]\nthreads = 0\n") == "test.toml: http.threads = 0: must be between 1 and 16");
  CHECK(parse_config("[http]\nthreads = 2\n", "two.toml").value().http.threads == 2);
  const auto spinning = parse_config("[trading]\nbusy_poll_us = -1\ncpu = 1\n", "spin.toml");
  REQUIRE(spinning.ok());
  CHECK(spinning.value().trading.busy_poll_us == -1);
  CHECK(spinning.value().trading.cpu == 1);
  CHECK(parse_config("[trading]\nbusy_poll_us = 200\n", "window.toml").value().trading.busy_poll_us == 200);
  CHECK(rejection("[trading]\ncpu = -2\n") == "test.toml: trading.cpu = -2: must be between -1 and 1023");
  CHECK(rejection("[trading]\nbusy_poll_us = -5\n") ==
        "test.toml: trading.busy_poll_us = -5: must be between -1 and 1000000");
  CHECK(rejection("[trading]\nbusy_poll_us = true\n").find("trading.busy_poll_us") != std::string::npos);
  CHECK(rejection("[exchange]\nrest_url = \"http://api.binance.com\"\n").find("TLS is required") !=
        std::string::npos);
}

TEST_CASE("unknown keys and sections are errors, not silent defaults", "[config]") {
  CHECK(rejection("[market]\nprice_cache_tll_ms = 500\n") == "test.toml: market.price_cache_tll_ms: unknown key");
  CHECK(rejection("[markets]\nsymbols = [\"BTCUSDT\"]\n") == "test.toml: markets: unknown section or key");
  CHECK(rejection("api_secret = \"x\"\n") == "test.toml: api_secret: unknown section or key");
}

TEST_CASE("TOML syntax errors carry line and column", "[config]") {
  const auto message = rejection("[market]\nsymbols = [\"BTCUSDT\"\n");
  CHECK(message.rfind("test.toml:", 0) == 0);
  CHECK(message.find(":2:") != std::string::npos);
}

TEST_CASE("a missing file is reported by path", "[config]") {
  auto result = tb::config::load_config_file("/nonexistent/tradingbot.toml");
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message == "/nonexistent/tradingbot.toml: cannot open config file");
}

TEST_CASE("the shipped example and demo configs are valid", "[config]") {
  for (const char* path : {"config/tradingbot.example.toml", "config/demo.toml"}) {
    INFO(path);
    auto result = tb::config::load_config_file(path);
    INFO((result.ok() ? std::string() : result.error().message));
    CHECK(result.ok());
  }
}

TEST_CASE("[store] has documented defaults and reads every key", "[config][store]") {
  auto defaults = parse_config("", "empty.toml");
  REQUIRE(defaults.ok());
  const auto& d = defaults.value().store;
  CHECK(d.postgres_url.empty());
  CHECK(d.journal_dir == "state/journal");
  CHECK(d.batch_size == 1000);
  CHECK(d.queue_capacity == 8192);
  CHECK(d.flush_interval_ms == 50);

  auto result = parse_config(R"(
[store]
postgres_url = "postgresql://bot@127.0.0.1:5432/tradingbot"
journal_dir = "/var/lib/tradingbot/journal"
batch_size = 500
queue_capacity = 1024
flush_interval_ms = 20
)",
                             "store.toml");
  REQUIRE(result.ok());
  const auto& s = result.value().store;
  CHECK(s.postgres_url == "postgresql://bot@127.0.0.1:5432/tradingbot");
  CHECK(s.journal_dir == "/var/lib/tradingbot/journal");
  CHECK(s.batch_size == 500);
  CHECK(s.queue_capacity == 1024);
  CHECK(s.flush_interval_ms == 20);
  CHECK(parse_config("[store]\npostgres_url = \"host=/tmp dbname=x\"\n", "kv.toml").ok());
}

TEST_CASE("[store] rejections name the key and never print the password", "[config][store]") {
  CHECK(rejection("[store]\nqueue_capacity = 1000\n") == "test.toml: store.queue_capacity = 1000: must be a power of two");
  CHECK(rejection("[store]\nbatch_size = 0\n") == "test.toml: store.batch_size = 0: must be between 1 and 100000");
  CHECK(rejection("[store]\njournal_dir = \"\"\n").find("store.journal_dir") != std::string::npos);
  CHECK(rejection("[store]\nflush_ms = 5\n") == "test.toml: store.flush_ms: unknown key");
  const auto message = rejection("[store]\npostgres_url = \"mysql://u:hunter2@h/db\"\n");
  CHECK(message.find("hunter2") == std::string::npos);
  CHECK(message.find("store.postgres_url = 'mysql://u:***@h/db'") != std::string::npos);
  CHECK(message.find("must be a libpq URI") != std::string::npos);
  const auto kv = rejection("[store]\npostgres_url = \"hostonly password\"\n");
  CHECK(kv.find("store.postgres_url") != std::string::npos);
}

TEST_CASE("redact_postgres_url hides passwords in every libpq spelling", "[config][store]") {
  using tb::config::redact_postgres_url;
  CHECK(redact_postgres_url("postgresql://bot:hunter2@db.example:5432/tb") == "postgresql://bot:***@db.example:5432/tb");
  CHECK(redact_postgres_url("postgres://bot:p@ss@db/tb") == "postgres://bot:***@db/tb");
  CHECK(redact_postgres_url("postgresql://bot@db/tb") == "postgresql://bot@db/tb");
  CHECK(redact_postgres_url("postgresql://db/tb?user=bot&password=hunter2&sslmode=require") ==
        "postgresql://db/tb?user=bot&password=***&sslmode=require");
  CHECK(redact_postgres_url("host=db user=bot password=hunter2 dbname=tb") == "host=db user=bot password=*** dbname=tb");
  CHECK(redact_postgres_url("host=db password='a b\\'c' dbname=tb") == "host=db password=*** dbname=tb");
  CHECK(redact_postgres_url("") == "");
}

TEST_CASE("[strategy] and [risk] are read exactly and validated", "[config][strategy][risk]") {
  auto result = tb::config::parse_config(R"(
[market]
symbols = ["BTCUSDT", "ETHUSDT"]
[strategy]
name = "market_maker"
symbols = ["ETHUSDT"]
[strategy.market_maker]
order_qty = "0.0123"
max_position = "0.5"
half_spread_bps = 7
[strategy.ema_trend]
interval = "5m"
allow_short = true
[risk]
max_order_notional = "250.5"
max_position_qty = "0.2"
daily_loss_action = "halt"
market_data_stale_ms = 2500
)", "test.toml");
  REQUIRE(result.ok());
  const auto& cfg = result.value();
  CHECK(cfg.strategy.name == "market_maker");
  REQUIRE(cfg.strategy.symbols.size() == 1);
  CHECK(cfg.strategy.symbols[0].view() == "ETHUSDT");
  CHECK(cfg.strategy.market_maker.order_qty.raw() == 1'230'000);
  CHECK(cfg.strategy.market_maker.half_spread_bps == 7);
  CHECK(cfg.strategy.ema_trend.interval == "5m");
  CHECK(cfg.strategy.ema_trend.allow_short);
  CHECK(cfg.risk.max_order_notional.raw() == 25'050'000'000);
  CHECK(cfg.risk.max_position_qty.raw() == 20'000'000);
  CHECK(cfg.risk.daily_loss_action == tb::config::RiskAction::Halt);
  CHECK(cfg.risk.market_data_stale_ms == 2500);

  // Defaults: no strategy, every market symbol.
  auto defaults = tb::config::parse_config("", "test.toml");
  REQUIRE(defaults.ok());
  CHECK(defaults.value().strategy.name.empty());
  CHECK(defaults.value().strategy.symbols.size() == 2);
}

TEST_CASE("[strategy] and [risk] rejections name the key and the reason", "[config][strategy][risk]") {
  CHECK(rejection("[strategy]\nname = \"yolo\"\n").find("strategy.name = 'yolo': must be one of") != std::string::npos);
  CHECK(rejection("[strategy]\nsymbols = [\"XRPUSDT\"]\n").find("is not in market.symbols") != std::string::npos);
  CHECK(rejection("[strategy.market_maker]\norder_qty = \"1e-3\"\n")
            .find("strategy.market_maker.order_qty = '1e-3': is not a decimal") != std::string::npos);
  CHECK(rejection("[strategy.market_maker]\norder_qty = \"0.1\"\nmax_position = \"0.01\"\n")
            .find("must not exceed strategy.market_maker.max_position") != std::string::npos);
  CHECK(rejection("[strategy.market_maker]\nhalf_spread = 5\n") ==
        "test.toml: strategy.market_maker.half_spread: unknown key");
  CHECK(rejection("[strategy.ema_trend]\nfast_period = 30\n").find("must be smaller than") != std::string::npos);
  CHECK(rejection("[strategy.ema_trend]\ninterval = \"7m\"\n").find("kline interval") != std::string::npos);
  CHECK(rejection("[risk]\nmax_order_notional = \"0\"\n") ==
        "test.toml: risk.max_order_notional = '0': must be positive");
  CHECK(rejection("[risk]\nmax_position_qty = \"-1\"\n").find("must not be negative") != std::string::npos);
  CHECK(rejection("[risk]\nprice_band_bps = 0\n") == "test.toml: risk.price_band_bps = 0: must be between 1 and 10000");
  CHECK(rejection("[risk]\ndrawdown_action = \"panic\"\n").find("must be one of: reduce, halt") != std::string::npos);
  CHECK(rejection("[risk]\nmax_loss = \"1\"\n") == "test.toml: risk.max_loss: unknown key");
  CHECK(rejection("[trading]\npaper_tick_size = \"0\"\n").find("must be positive") != std::string::npos);
}
