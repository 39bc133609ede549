#include "tradingbot/config/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <toml++/toml.h>

#include "tradingbot/config/table_reader.hpp"

namespace tb::config {
namespace {

std::string check_url(std::string_view url, std::initializer_list<std::string_view> schemes, Endpoint& out) {
  auto parsed = parse_endpoint(url, schemes);
  if (!parsed) return parsed.error().message;
  out = std::move(parsed).value();
  return {};
}

// Stream kinds Binance serves per symbol (reference section 2), as written after "<symbol>@".
std::string check_stream(const std::string& stream) {
  static const std::set<std::string, std::less<>> kFixed = {
      "bookTicker", "trade", "aggTrade", "depth", "depth@100ms", "depth@1000ms",
      "depth5", "depth10", "depth20", "depth5@100ms", "depth10@100ms", "depth20@100ms",
      "miniTicker", "ticker", "ticker_1h", "ticker_4h", "ticker_1d", "avgPrice"};
  static const std::set<std::string, std::less<>> kKlineIntervals = {
      "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"};
  if (kFixed.count(stream) != 0) return {};
  constexpr std::string_view kKline = "kline_";
  if (stream.rfind(kKline, 0) == 0 && kKlineIntervals.count(stream.substr(kKline.size())) != 0) return {};
  return "is not a Binance spot stream (bookTicker, trade, aggTrade, depth[@100ms], depth5|10|20[@100ms], "
         "kline_<interval>, miniTicker, ticker, ticker_<1h|4h|1d>, avgPrice)";
}

// Accepts "", a libpq URI (postgresql:// or postgres://) or a key=value conninfo string.
std::string check_postgres_url(const std::string& url) {
  if (url.empty()) return {};
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return {};
  if (url.find('=') != std::string::npos) return {};
  return "must be a libpq URI (postgresql://user@host:5432/db) or key=value string (host=... dbname=...)";
}

Config build(const toml::table& root, std::string_view source_name) {
  Config cfg;
  cfg.source = std::string(source_name);
  static const std::set<std::string, std::less<>> kTableReaders = {"exchange", "market", "http", "trading",
                                                                    "strategy", "risk", "log", "store"};
  for (const auto& [key, node] : root) {
    if (kTableReaders.count(key.str()) == 0) fail(key.str(), nullptr, "unknown section or key");
  }

  {
    TableReader s(root, "exchange");
    std::string url;
    s.string("rest_url", url, [&](const std::string& v) { return check_url(v, {"https"}, cfg.exchange.rest); });
    s.string("ws_url", url, [&](const std::string& v) { return check_url(v, {"wss"}, cfg.exchange.ws); });
    s.string("ws_api_url", url, [&](const std::string& v) { return check_url(v, {"wss"}, cfg.exchange.ws_api); });
    // Only the path is read here; whether the file exists is a fact of the machine, checked by
    // the commands that connect (daemon, --check, record) and not by replay, which never does:
    // the demo's CA appears only once the simulator has run.
    s.string("ca_file", cfg.exchange.ca_file);
    s.integer("recv_window_ms", cfg.exchange.recv_window_ms, 1, 60000);
    s.finish();
  }
  {
    TableReader s(root, "market");
    std::vector<std::string> symbols;
    bool symbols_given = false;
    s.string_list("symbols", symbols, false, [&](const std::string& v) -> std::string {
      symbols_given = true;
      auto symbol = Symbol::parse(v);
      if (!symbol) return "is not a valid symbol (1-31 bytes, no spaces, '/', '@' or quotes)";
      if (symbol->view() != v) return "must be upper case, as Binance spells it (\"" + symbol->str() + "\")";
      return {};
    });
    if (symbols_given) {
      cfg.market.symbols.clear();
      for (const auto& text : symbols) cfg.market.symbols.push_back(*Symbol::parse(text));
    }
    s.string_list("streams", cfg.market.streams, false, check_stream);
    s.integer("price_cache_ttl_ms", cfg.market.price_cache_ttl_ms, 1, 60'000);
    s.integer("price_cache_capacity", cfg.market.price_cache_capacity, 1, 1'000'000);
    s.integer("stale_after_ms", cfg.market.stale_after_ms, 100, 600'000);
    s.integer("depth_snapshot_limit", cfg.market.depth_snapshot_limit, 5, 5000);
    s.finish();
    // Binance allows 1024 streams per connection; the stream manager opens more connections
    // beyond that, but a config this large is almost certainly a mistake.
    if (cfg.market.symbols.size() * cfg.market.streams.size() > 100'000) {
      fail("market.symbols", nullptr, "symbols x streams exceeds 100000 streams");
    }
  }
  {
    TableReader s(root, "http");
    s.string("listen", cfg.http.listen, [&](const std::string& v) -> std::string {
      auto parsed = parse_host_port(v);
      if (!parsed) return parsed.error().message;
      cfg.http.listen_host = parsed.value().first;
      cfg.http.listen_port = parsed.value().second;
      return {};
    });
    s.integer("max_connections", cfg.http.max_connections, 1, 100'000);
    s.integer("header_limit_bytes", cfg.http.header_limit_bytes, 1024, 1 << 20);
    s.integer("body_limit_bytes", cfg.http.body_limit_bytes, 0, 16 << 20);
    s.integer("read_timeout_ms", cfg.http.read_timeout_ms, 100, 600'000);
    s.integer("idle_timeout_ms", cfg.http.idle_timeout_ms, 100, 3'600'000);
    s.integer("threads", cfg.http.threads, 1, 16);
    s.finish();
  }
  {
    TableReader s(root, "trading");
    s.choice("mode", cfg.trading.mode,
             {{"off", TradingMode::Off}, {"paper", TradingMode::Paper}, {"live", TradingMode::Live}});
    s.string("quote_asset", cfg.trading.quote_asset, [](const std::string& v) -> std::string {
      auto asset = Symbol::parse(v);
      return asset && asset->view() == v && v.size() <= 12 ? std::string() : "must be an upper-case asset code such as USDT";
    });
    s.decimal("paper_initial_cash", cfg.trading.paper_initial_cash);
    s.integer("paper_latency_ms", cfg.trading.paper_latency_ms, 0, 10'000);
    s.boolean("cancel_on_stop", cfg.trading.cancel_on_stop);
    s.integer("paper_fee_bps", cfg.trading.paper_fee_bps, 0, 1'000);
    s.decimal("paper_tick_size", cfg.trading.paper_tick_size, false);
    s.decimal("paper_step_size", cfg.trading.paper_step_size, false);
    s.decimal("paper_min_notional", cfg.trading.paper_min_notional);
    s.integer("busy_poll_us", cfg.trading.busy_poll_us, -1, 1'000'000);
    s.integer("cpu", cfg.trading.cpu, -1, 1023);
    s.finish();
  }
  {
    TableReader s(root, "strategy");
    auto& st = cfg.strategy;
    s.string("name", st.name, [](const std::string& v) -> std::string {
      return v.empty() || v == "market_maker" || v == "ema_trend" ? std::string()
                                                                  : "must be one of: \"\" (none), market_maker, ema_trend";
    });
    std::vector<std::string> symbols;
    s.string_list("symbols", symbols, true, [&](const std::string& v) -> std::string {
      auto symbol = Symbol::parse(v);
      if (!symbol || symbol->view() != v) return "is not an upper-case symbol such as BTCUSDT";
      if (std::find(cfg.market.symbols.begin(), cfg.market.symbols.end(), *symbol) == cfg.market.symbols.end()) {
        return "is not in market.symbols (the strategy needs its market data)";
      }
      return {};
    });
    for (const auto& text : symbols) st.symbols.push_back(*Symbol::parse(text));
    if (st.symbols.empty()) st.symbols = cfg.market.symbols;
    s.integer("timer_ms", st.timer_ms, 1, 60'000);
    {
      TableReader mm = s.child("market_maker");
      mm.decimal("order_qty", st.market_maker.order_qty, false);
      mm.decimal("max_position", st.market_maker.max_position, false);
      mm.integer("half_spread_bps", st.market_maker.half_spread_bps, 1, 5'000);
      mm.integer("skew_bps", st.market_maker.skew_bps, 0, 5'000);
      mm.integer("requote_bps", st.market_maker.requote_bps, 0, 5'000);
      mm.integer("retry_after_ms", st.market_maker.retry_after_ms, 0, 3'600'000);
      mm.finish();
      if (st.market_maker.order_qty > st.market_maker.max_position) {
        fail("strategy.market_maker.order_qty = '" + st.market_maker.order_qty.to_string() + "'", nullptr,
             "must not exceed strategy.market_maker.max_position");
      }
    }
    {
      TableReader et = s.child("ema_trend");
      et.integer("fast_period", st.ema_trend.fast_period, 1, 10'000);
      et.integer("slow_period", st.ema_trend.slow_period, 2, 10'000);
      et.decimal("order_qty", st.ema_trend.order_qty, false);
      et.string("interval", st.ema_trend.interval, [](const std::string& v) {
        return check_stream("kline_" + v).empty() ? std::string() : "is not a Binance kline interval (1m, 5m, 1h, ...)";
      });
      et.boolean("allow_short", st.ema_trend.allow_short);
      et.finish();
      if (st.ema_trend.fast_period >= st.ema_trend.slow_period) {
        fail("strategy.ema_trend.fast_period = " + std::to_string(st.ema_trend.fast_period), nullptr,
             "must be smaller than strategy.ema_trend.slow_period");
      }
    }
    s.finish();
  }
  {
    TableReader s(root, "risk");
    auto& r = cfg.risk;
    s.decimal("max_order_notional", r.max_order_notional, false);
    s.decimal("max_order_qty", r.max_order_qty);
    s.decimal("max_position_notional", r.max_position_notional);
    s.decimal("max_position_qty", r.max_position_qty);
    s.integer("max_open_orders_per_symbol", r.max_open_orders_per_symbol, 1, 200);
    s.integer("price_band_bps", r.price_band_bps, 1, 10'000);
    s.integer("order_rate_limit", r.order_rate_limit, 0, 100'000);
    s.integer("order_rate_window_ms", r.order_rate_window_ms, 1, 86'400'000);
    s.integer("cancel_rate_limit", r.cancel_rate_limit, 0, 100'000);
    s.integer("cancel_rate_window_ms", r.cancel_rate_window_ms, 1, 86'400'000);
    s.decimal("daily_loss_limit", r.daily_loss_limit);
    s.choice("daily_loss_action", r.daily_loss_action, {{"reduce", RiskAction::Reduce}, {"halt", RiskAction::Halt}});
    s.integer("max_drawdown_bps", r.max_drawdown_bps, 0, 10'000);
    s.choice("drawdown_action", r.drawdown_action, {{"reduce", RiskAction::Reduce}, {"halt", RiskAction::Halt}});
    s.integer("market_data_stale_ms", r.market_data_stale_ms, 100, 3'600'000);
    s.integer("user_stream_stale_ms", r.user_stream_stale_ms, 1'000, 3'600'000);
    s.integer("strategy_reject_limit", r.strategy_reject_limit, 0, 1'000'000);
    s.integer("strategy_reject_window_ms", r.strategy_reject_window_ms, 1, 86'400'000);
    s.finish();
  }
  {
    TableReader s(root, "log");
    s.string("level", cfg.log.level, [](const std::string& v) -> std::string {
      static const std::set<std::string, std::less<>> kLevels = {"trace", "debug", "info", "warn",
                                                                  "error", "critical", "off"};
      return kLevels.count(v) != 0 ? std::string() : "must be one of: trace, debug, info, warn, error, critical, off";
    });
    s.choice("target", cfg.log.target,
             {{"auto", LogTarget::Auto}, {"console", LogTarget::Console}, {"journald", LogTarget::Journald}});
    s.string("file", cfg.log.file);
    s.integer("queue_size", cfg.log.queue_size, 64, 1 << 20);
    s.finish();
  }
  {
    TableReader s(root, "store");
    // Not through the string() check: its error would print the value, password included.
    s.string("postgres_url", cfg.store.postgres_url);
    if (std::string why = check_postgres_url(cfg.store.postgres_url); !why.empty()) {
      fail(s.full("postgres_url") + " = '" + redact_postgres_url(cfg.store.postgres_url) + "'", nullptr, why);
    }
    s.string("journal_dir", cfg.store.journal_dir, [](const std::string& v) -> std::string {
      return v.empty() ? "must not be empty" : std::string();
    });
    s.integer("batch_size", cfg.store.batch_size, 1, 100'000);
    s.integer("queue_capacity", cfg.store.queue_capacity, 16, 1 << 24);
    if ((cfg.store.queue_capacity & (cfg.store.queue_capacity - 1)) != 0) {
      fail(s.full("queue_capacity") + " = " + std::to_string(cfg.store.queue_capacity), nullptr,
           "must be a power of two");
    }
    s.integer("flush_interval_ms", cfg.store.flush_interval_ms, 1, 10'000);
    s.finish();
  }
  return cfg;
}

}  // namespace

std::string_view to_string(TradingMode mode) noexcept {
  switch (mode) {
    case TradingMode::Off: return "off";
    case TradingMode::Paper: return "paper";
    case TradingMode::Live: return "live";
  }
  return "?";
}

Result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error{"expected \"[ipv6]:port\""};
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return Error{"expected \"host:port\""};
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return Error{"IPv6 addresses need brackets: \"[::1]:8080\""};
  }
  if (host.empty()) return Error{"host is empty"};
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return Error{"port must be a number from 1 to 65535"};
  }
  return std::pair<std::string, std::uint16_t>{std::string(host), static_cast<std::uint16_t>(port)};
}

std::string redact_postgres_url(std::string_view url) {
  std::string out(url);
  if (out.find("://") != std::string::npos) {
    // URI (any scheme, so a mistyped one is redacted too): scheme://[user[:password]@]host... ; the userinfo ends at the last '@' before the path.
    const auto start = out.find("://") + 3;
    const auto path = out.find_first_of("/?", start);
    const auto at = out.rfind('@', path == std::string::npos ? std::string::npos : path);
    if (at != std::string::npos && at >= start) {
      const auto colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // key=value strings and URI query parameters: password=secret (quoted values may hold spaces).
  for (std::size_t pos = out.find("password="); pos != std::string::npos; pos = out.find("password=", pos + 1)) {
    if (pos > 0 && out[pos - 1] != ' ' && out[pos - 1] != '?' && out[pos - 1] != '&') continue;
    const auto value = pos + 9;
    std::size_t end = value;
    if (end < out.size() && out[end] == '\'') {
      ++end;
      while (end < out.size() && out[end] != '\'') end += out[end] == '\\' ? 2U : 1U;
      end = std::min(end + 1, out.size());
    } else {
      end = out.find_first_of(" &", value);
      if (end == std::string::npos) end = out.size();
    }
    out.replace(value, end - value, "***");
  }
  return out;
}

Result<Endpoint> parse_endpoint(std::string_view url, std::initializer_list<std::string_view> schemes) {
  Endpoint endpoint;
  endpoint.url = std::string(url);
  const auto sep = url.find("://");
  std::string allowed;
  for (auto s : schemes) allowed += (allowed.empty() ? "" : " or ") + std::string(s) + "://";
  if (sep == std::string_view::npos) return Error{"must start with " + allowed};
  endpoint.scheme = std::string(url.substr(0, sep));
  if (std::find(schemes.begin(), schemes.end(), endpoint.scheme) == schemes.end()) {
    return Error{"must start with " + allowed + " (TLS is required)"};
  }
  std::string_view rest = url.substr(sep + 3);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) endpoint.path = std::string(rest.substr(slash));
  if (endpoint.path == "/") endpoint.path.clear();
  if (rest.find_first_of("?#") != std::string_view::npos) return Error{"must not contain a query or fragment"};
  if (authority.find('@') != std::string_view::npos) return Error{"must not contain credentials"};
  const bool has_port = !authority.empty() && (authority.back() != ']') &&
                        authority.find(':', authority.front() == '[' ? authority.find(']') : 0) != std::string_view::npos;
  if (has_port) {
    auto host_port = parse_host_port(authority);
    if (!host_port) return Error{host_port.error().message};
    endpoint.host = host_port.value().first;
    endpoint.port = host_port.value().second;
  } else {
    endpoint.host = std::string(authority);
    if (endpoint.host.size() >= 2 && endpoint.host.front() == '[') {
      endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
    }
    endpoint.port = 443;  // https and wss both default to 443
  }
  if (endpoint.host.empty()) return Error{"host is empty"};
  return endpoint;
}

Result<Config> parse_config(std::string_view toml_text, std::string_view source_name) {
  try {
    const toml::table root = toml::parse(toml_text, source_name);
    return build(root, source_name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Error{std::string(source_name) + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
                 ": " + std::string(e.description())};
  } catch (const ConfigError& e) {
    return Error{std::string(source_name) + ": " + e.what()};
  }
}

Result<Config> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open config file"};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{path + ": read error"};
  return parse_config(text.str(), path);
}

}  // namespace tb::config
