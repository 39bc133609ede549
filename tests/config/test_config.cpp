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
