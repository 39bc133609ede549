// SimConfig: the exchange simulator's configuration (`tradingbot sim --config FILE`), read from
// the [sim] table of a TOML file and its [[sim.symbols]] / [[sim.api_keys]] arrays. The reader is
// table-driven like the daemon's: every key has a type and a range, unknown keys are errors, and
// an error names the key, the value and the reason. Loaded once at start-up (any one thread);
// afterwards the struct is immutable and read by the simulator's io_context thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/core/symbol.hpp"

namespace tb::sim {

// One simulated instrument: its exchangeInfo filters and the synthetic flow that trades it.
struct SimSymbolConfig {
  Symbol symbol;
  std::string base_asset;
  std::string quote_asset;
  Price tick_size = Price::from_raw(1'000'000);  // 0.01
  Price min_price = Price::from_raw(1'000'000);
  Price max_price = Price::from_integer(1'000'000);
  Qty step_size = Qty::from_raw(1'000);  // 0.00001
  Qty min_qty = Qty::from_raw(1'000);
  Qty max_qty = Qty::from_integer(9'000);
  Money min_notional = Money::from_integer(5);
  Price start_price = Price::from_integer(60'000);
  std::int64_t volatility_bps = 3;    // fair-value standard deviation per sqrt(second), basis points (3 ~ 9 %/day)
  std::int64_t orders_per_s = 40;     // agent arrivals per second (limits, takers, cancels)
  std::int64_t max_agent_orders = 400;  // resting agent orders kept at most (cancel beyond)
  Qty typical_qty = Qty::from_raw(5'000'000);  // 0.05: agents draw sizes around this
};

enum class KeyKind : std::uint8_t { Hmac, Ed25519 };

// A simulated account: its API key, how it signs, and its starting balances.
struct SimApiKeyConfig {
  std::string api_key;
  KeyKind kind = KeyKind::Hmac;
  std::string secret;             // HMAC secret (kind == Hmac)
  std::string public_key_file;    // Ed25519 public key PEM (kind == Ed25519)
  std::map<std::string, Money> balances;  // asset -> starting free balance
};

struct SimConfig {
  std::string source;  // file path, for messages
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;  // 0 = ephemeral
  std::string port_file;          // "" = none; the bound port is written here (decimal + newline)
  std::string cert_dir = "var/sim-pki";  // private CA + server cert, created on first run
  std::uint64_t seed = 42;
  std::int64_t agent_step_ms = 50;       // synthetic flow advances in steps of this length
  std::int64_t ping_interval_ms = 20'000;
  std::int64_t pong_timeout_ms = 60'000;
  std::int64_t connection_lifetime_s = 86'400;  // Binance's 24 h cut
  std::int64_t shutdown_notice_ms = 1'000;      // serverShutdown this long before a cut
  std::int64_t max_incoming_per_s = 5;
  std::int64_t max_streams = 1024;
  std::int64_t send_queue_limit = 4096;  // frames queued per WebSocket before it is cut (slow consumer)
  std::int64_t weight_limit_1m = 6000;   // REQUEST_WEIGHT per IP per minute
  std::int64_t ban_after_429s = 3;       // requests answered 429 within a window before 418
  std::int64_t ban_seconds = 120;        // 418 Retry-After
  std::int64_t http_idle_timeout_ms = 30'000;
  std::int64_t maker_commission_bps = 10;  // 0.1 %
  std::int64_t taker_commission_bps = 10;
  std::int64_t clock_skew_ms = 0;          // fault: server clock offset
  std::int64_t response_delay_ms = 0;      // fault: every REST answer this late
  // Capture replay source (instead of agents): ARCHITECTURE.md section 7 capture files.
  std::string replay_file;                // "" = synthetic agents
  std::int64_t replay_speed_percent = 100;  // 100 = recorded pace, 1000 = ten times faster
  bool replay_wait_for_client = false;    // start when the first stream connection opens
  std::vector<SimSymbolConfig> symbols;
  std::vector<SimApiKeyConfig> api_keys;
};

// Parses TOML text; `source` names the text in error messages.
[[nodiscard]] Result<SimConfig> parse_sim_config(std::string_view toml_text, std::string source);
[[nodiscard]] Result<SimConfig> load_sim_config_file(const std::string& path);

}  // namespace tb::sim
