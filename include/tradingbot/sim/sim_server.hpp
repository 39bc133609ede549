// SimServer: the Binance-compatible exchange simulator's network side. One TLS port on loopback
// serves REST (https://host:P/api/v3/...), market streams (wss://host:P/stream?streams=a/b and
// /ws/<stream>) and the admin endpoint for fault switches (POST /sim/admin/<action>).
//
// Threading: everything (the SimMarket, every session, every timer, the fault switches) lives on
// the one io_context thread that runs the server; no locks. start() and stop() must be called on
// that thread (or before it runs). Sessions follow Beast's examples: do_x/on_x pairs, one
// outstanding write per socket behind a bounded queue (a WebSocket whose queue overflows is cut:
// a slow consumer loses its connection rather than growing memory), deadlines on every phase.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "tradingbot/core/result.hpp"
#include "tradingbot/net/tls_context.hpp"
#include "tradingbot/sim/sim_config.hpp"
#include "tradingbot/sim/sim_market.hpp"

namespace tb::sim {

// Fault switches (README "tradingbot sim"): set from config at start and from the admin endpoint.
struct FaultSwitches {
  std::int64_t silent_until_ms = 0;       // monotonic ms: no stream frame, ping or REST answer before
  std::int64_t http_error_status = 0;     // 429, 418 or 5xx for the next requests
  std::int64_t http_error_remaining = 0;  // ... this many requests
  std::int64_t http_error_until_ms = 0;   // ... or until this monotonic ms
  std::int64_t retry_after_s = 1;
  std::int64_t clock_skew_ms = 0;         // added to the server clock (time, timestamps checks, E)
  std::int64_t response_delay_ms = 0;     // REST answers delayed by this much
};

struct SimServerStats {
  std::uint64_t http_requests = 0;
  std::uint64_t ws_sessions_opened = 0;
  std::uint64_t ws_sessions_open = 0;
  std::uint64_t ws_slow_consumer_cuts = 0;
  std::uint64_t ws_rate_limit_cuts = 0;
  std::uint64_t ws_pong_timeouts = 0;
  std::uint64_t ws_lifetime_cuts = 0;
  std::uint64_t frames_sent = 0;
};

class SimServer {
 public:
  SimServer(boost::asio::io_context& ioc, SimConfig config, net::TlsContextPtr tls);
  ~SimServer();
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Binds and listens, starts the agents and the stream timers. Returns the bound port.
  [[nodiscard]] Result<std::uint16_t> start();
  // Stops accepting, closes every session, cancels the timers.
  void stop();

  [[nodiscard]] std::uint16_t port() const noexcept;
  [[nodiscard]] SimMarket& market() noexcept;
  [[nodiscard]] FaultSwitches& faults() noexcept;
  [[nodiscard]] const SimServerStats& stats() const noexcept;
  // Server clock in ms since the epoch (wall clock + clock skew fault).
  [[nodiscard]] std::int64_t now_ms() const noexcept;
  // Fault actions (also reachable over POST /sim/admin/...).
  void drop_connections(bool streams_only);
  // Sends serverShutdown to every stream and WS API connection, then closes them after
  // config.shutdown_notice_ms.
  void announce_shutdown();
  // Stops (or resumes) the synthetic flow: the book then holds still (tests, admin "pause").
  void pause_agents(bool paused) noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Creates (or reuses) the private CA and the server certificate for localhost/127.0.0.1 in
// `cert_dir` and returns the server TLS context; `ca_file` receives the CA's path.
[[nodiscard]] Result<net::TlsContextPtr> make_sim_tls(const std::string& cert_dir, std::string& ca_file);

}  // namespace tb::sim
