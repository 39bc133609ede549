#include "tradingbot/sim/sim_config.hpp"

#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <toml++/toml.h>

#include "tradingbot/config/table_reader.hpp"

namespace tb::sim {
namespace {

using config::ConfigError;
using config::fail;
// Positive (zero rejected) or merely non-negative, for TableReader::decimal's allow_zero.
constexpr bool kPositive = false;
constexpr bool kNonNegative = true;

std::string check_asset(const std::string& asset) {
  if (asset.empty() || asset.size() > 20) return "must be 1-20 upper-case letters or digits";
  for (char c : asset) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return "must be 1-20 upper-case letters or digits";
  }
  return {};
}

SimSymbolConfig read_symbol(const toml::node& node, const std::string& name) {
  const auto* table = node.as_table();
  if (table == nullptr) fail(name, &node, "expected a table ([[sim.symbols]])");
  config::TableReader t(table, name);
  SimSymbolConfig s;
  std::string symbol_text;
  t.string("symbol", symbol_text, [](const std::string& v) -> std::string {
    auto symbol = Symbol::parse(v);
    if (!symbol) return "is not a valid symbol";
    if (symbol->view() != v) return "must be upper case, as Binance spells it";
    return {};
  });
  if (symbol_text.empty()) fail(t.full("symbol"), nullptr, "is required");
  s.symbol = *Symbol::parse(symbol_text);
  t.string("base_asset", s.base_asset, check_asset);
  t.string("quote_asset", s.quote_asset, check_asset);
  if (s.base_asset.empty() || s.quote_asset.empty()) fail(t.full("base_asset"), nullptr, "base_asset and quote_asset are required");
  if (s.base_asset + s.quote_asset != symbol_text) {
    fail(t.full("quote_asset"), nullptr, "base_asset + quote_asset must spell the symbol (" + symbol_text + ")");
  }
  t.decimal("tick_size", s.tick_size, kPositive);
  t.decimal("min_price", s.min_price, kNonNegative);
  t.decimal("max_price", s.max_price, kNonNegative);
  t.decimal("step_size", s.step_size, kPositive);
  t.decimal("min_qty", s.min_qty, kNonNegative);
  t.decimal("max_qty", s.max_qty, kNonNegative);
  t.decimal("min_notional", s.min_notional, kNonNegative);
  t.decimal("start_price", s.start_price, kPositive);
  t.decimal("typical_qty", s.typical_qty, kPositive);
  t.integer("volatility_bps", s.volatility_bps, 0, 10'000);
  t.integer("orders_per_s", s.orders_per_s, 0, 100'000);
  t.integer("max_agent_orders", s.max_agent_orders, 10, 1'000'000);
  t.finish();
  if (s.start_price.raw() % s.tick_size.raw() != 0) fail(t.full("start_price"), nullptr, "must be a multiple of tick_size");
  if (s.min_price.raw() % s.tick_size.raw() != 0) fail(t.full("min_price"), nullptr, "must be a multiple of tick_size");
  if (s.min_qty.raw() % s.step_size.raw() != 0) fail(t.full("min_qty"), nullptr, "must be a multiple of step_size");
  if (s.typical_qty < s.min_qty) fail(t.full("typical_qty"), nullptr, "must not be below min_qty");
  return s;
}

SimApiKeyConfig read_key(const toml::node& node, const std::string& name) {
  const auto* table = node.as_table();
  if (table == nullptr) fail(name, &node, "expected a table ([[sim.api_keys]])");
  config::TableReader t(table, name);
  SimApiKeyConfig k;
  t.string("api_key", k.api_key, [](const std::string& v) -> std::string {
    if (v.empty() || v.size() > 128) return "must be 1-128 characters";
    for (char c : v) {
      if (c <= ' ' || c > '~') return "must be printable ASCII without spaces";
    }
    return {};
  });
  if (k.api_key.empty()) fail(t.full("api_key"), nullptr, "is required");
  t.string("secret", k.secret);
  t.string("ed25519_public_key_file", k.public_key_file, [](const std::string& path) -> std::string {
    std::ifstream probe(path);
    return probe ? std::string() : "cannot be opened for reading";
  });
  if (k.secret.empty() == k.public_key_file.empty()) {
    fail(t.full("secret"), nullptr, "exactly one of secret (HMAC) and ed25519_public_key_file must be set");
  }
  k.kind = k.secret.empty() ? KeyKind::Ed25519 : KeyKind::Hmac;
  if (const toml::node* balances = t.take("balances")) {
    const auto* bt = balances->as_table();
    if (bt == nullptr) fail(t.full("balances"), balances, "expected a table such as { USDT = \"10000\" }");
    config::TableReader b(bt, t.full("balances"));
    for (const auto& [asset, value] : *bt) {
      const std::string asset_name(asset.str());
      if (std::string why = check_asset(asset_name); !why.empty()) fail(b.full(asset_name), &value, why);
      Money amount;
      b.decimal(asset_name, amount, kNonNegative);
      k.balances[asset_name] = amount;
    }
    b.finish();
  }
  t.finish();
  return k;
}

SimConfig build(const toml::table& root, std::string source) {
  SimConfig cfg;
  cfg.source = std::move(source);
  for (const auto& [key, node] : root) {
    if (key.str() != "sim") fail(key.str(), nullptr, "unknown section or key (a simulator config holds only [sim])");
  }
  const toml::node* sim_node = root.get("sim");
  if (sim_node == nullptr || sim_node->as_table() == nullptr) fail("sim", sim_node, "a [sim] table is required");
  config::TableReader t(sim_node->as_table(), "sim");
  std::string listen = "127.0.0.1:0";
  t.string("listen", listen, [&](const std::string& v) -> std::string {
    const auto colon = v.rfind(':');
    if (colon == std::string::npos || colon == 0) return "must be host:port (e.g. 127.0.0.1:9443; port 0 = ephemeral)";
    const std::string port = v.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stol(port) > 65535) {
      return "port must be 0-65535";
    }
    cfg.listen_host = v.substr(0, colon);
    cfg.listen_port = static_cast<std::uint16_t>(std::stol(port));
    return {};
  });
  t.string("port_file", cfg.port_file);
  t.string("cert_dir", cfg.cert_dir, [](const std::string& v) { return v.empty() ? std::string("must not be empty") : std::string(); });
  std::int64_t seed = 42;
  t.integer("seed", seed, 0, INT64_MAX);
  cfg.seed = static_cast<std::uint64_t>(seed);
  t.integer("agent_step_ms", cfg.agent_step_ms, 1, 10'000);
  t.integer("ping_interval_ms", cfg.ping_interval_ms, 10, 3'600'000);
  t.integer("pong_timeout_ms", cfg.pong_timeout_ms, 10, 3'600'000);
  t.integer("connection_lifetime_s", cfg.connection_lifetime_s, 1, 7 * 86'400);
  t.integer("shutdown_notice_ms", cfg.shutdown_notice_ms, 0, 3'600'000);
  t.integer("max_incoming_per_s", cfg.max_incoming_per_s, 1, 100'000);
  t.integer("max_streams", cfg.max_streams, 1, 100'000);
  t.integer("send_queue_limit", cfg.send_queue_limit, 16, 1'000'000);
  t.integer("weight_limit_1m", cfg.weight_limit_1m, 1, 10'000'000);
  t.integer("ban_after_429s", cfg.ban_after_429s, 1, 1'000'000);
  t.integer("ban_seconds", cfg.ban_seconds, 1, 86'400);
  t.integer("http_idle_timeout_ms", cfg.http_idle_timeout_ms, 100, 3'600'000);
  t.integer("maker_commission_bps", cfg.maker_commission_bps, 0, 1'000);
  t.integer("taker_commission_bps", cfg.taker_commission_bps, 0, 1'000);
  t.integer("clock_skew_ms", cfg.clock_skew_ms, -3'600'000, 3'600'000);
  t.integer("response_delay_ms", cfg.response_delay_ms, 0, 60'000);
  t.string("replay_file", cfg.replay_file, [](const std::string& path) -> std::string {
    if (path.empty()) return {};
    std::ifstream probe(path);
    return probe ? std::string() : "cannot be opened for reading";
  });
  t.integer("replay_speed_percent", cfg.replay_speed_percent, 1, 1'000'000);
  if (const toml::node* wait = t.take("replay_wait_for_client")) {
    const auto* flag = wait->as_boolean();
    if (flag == nullptr) fail("sim.replay_wait_for_client", wait, "expected true or false");
    cfg.replay_wait_for_client = flag->get();
  }
  if (const toml::node* symbols = t.take("symbols")) {
    const auto* array = symbols->as_array();
    if (array == nullptr || array->empty()) fail("sim.symbols", symbols, "expected one or more [[sim.symbols]] tables");
    std::size_t i = 0;
    for (const toml::node& element : *array) {
      auto s = read_symbol(element, "sim.symbols[" + std::to_string(i++) + "]");
      for (const auto& other : cfg.symbols) {
        if (other.symbol == s.symbol) fail("sim.symbols", nullptr, "symbol " + s.symbol.str() + " is listed twice");
      }
      cfg.symbols.push_back(std::move(s));
    }
  }
  if (const toml::node* keys = t.take("api_keys")) {
    const auto* array = keys->as_array();
    if (array == nullptr) fail("sim.api_keys", keys, "expected [[sim.api_keys]] tables");
    std::size_t i = 0;
    for (const toml::node& element : *array) {
      auto k = read_key(element, "sim.api_keys[" + std::to_string(i++) + "]");
      for (const auto& other : cfg.api_keys) {
        if (other.api_key == k.api_key) fail("sim.api_keys", nullptr, "api_key " + k.api_key + " is listed twice");
      }
      cfg.api_keys.push_back(std::move(k));
    }
  }
  t.finish();
  if (cfg.symbols.empty()) fail("sim.symbols", nullptr, "at least one [[sim.symbols]] table is required");
  if (cfg.shutdown_notice_ms >= cfg.connection_lifetime_s * 1000) {
    fail("sim.shutdown_notice_ms", nullptr, "must be shorter than connection_lifetime_s");
  }
  return cfg;
}

}  // namespace

Result<SimConfig> parse_sim_config(std::string_view toml_text, std::string source) {
  try {
    toml::table root = toml::parse(toml_text, source);
    return build(root, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << source << ":" << e.source().begin.line << ": " << e.description();
    return Error{out.str()};
  } catch (const ConfigError& e) {
    return Error{source + ": " + e.what()};
  }
}

Result<SimConfig> load_sim_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open the simulator config file"};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_sim_config(text.str(), path);
}

}  // namespace tb::sim
