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
  CHECK(cfg.trading.mode == tb::config::TradingMode::Paper);
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
  CHECK(rejection("[exchange]\nrest_url = \"http://api.binance.com\"\n").find("TLS is required") !=
        std::string::npos);
  CHECK(rejection("[exchange]\nca_file = \"/nonexistent/ca.pem\"\n").find("cannot be opened") != std::string::npos);
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
