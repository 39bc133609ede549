// TradingService: the daemon's trading loop. In trading.mode = "paper" it runs the configured
// strategy through the risk gate and order manager on the PaperVenue, fed by the same market
// events as the books (attach market_sink() to the MarketDataPipeline: pipeline.set_sink()).
// In "live" the same loop trades on Binance through LiveTrading (app/live_trading.hpp): the loop
// exists once REST, exchangeInfo and the account check passed, and may place orders once the
// order gateway reconciled with the exchange. "off": inactive.
//
// Threads: created, started and stopped on the main thread before/after the trading io_context
// runs; market_sink(), the timer and fill_status() run on the trading thread. The control
// endpoints are deferred routes (tb::http::Responder): their handlers run on the HTTP thread,
// check the bearer token and the body (refusals are answered at once), then post the action
// with its Responder to the trading thread and return without waiting. The trading thread runs
// the action and completes the Responder with the outcome (e.g. a manual order's client_order_id
// or its risk rejection). A stalled trading loop costs only that request: after kControlTimeout
// the server answers 504, while /health and every other client keep being served.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "tradingbot/app/status.hpp"
#include "tradingbot/config/config.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/http/json_writer.hpp"
#include "tradingbot/http/prometheus_writer.hpp"
#include "tradingbot/http/router.hpp"
#include "tradingbot/market/event_sink.hpp"

namespace boost::asio {
class io_context;
}

namespace tb::trading {
class PaperSession;
}

namespace tb::binance {
class RateLimitTracker;
}

namespace tb::app {

class LiveTrading;

inline constexpr auto kControlTimeout = std::chrono::seconds(2);

class TradingService {
 public:
  // `control_token` is TRADINGBOT_CONTROL_TOKEN ("" disables control: every request gets 401).
  // `rest_limits`: the process's per-IP Binance REST budget, shared with market data (live mode
  // uses it; null gives the order path a tracker of its own).
  static Result<std::unique_ptr<TradingService>> create(const config::Config& config,
                                                        boost::asio::io_context& trading_context,
                                                        std::string control_token,
                                                        std::shared_ptr<binance::RateLimitTracker> rest_limits = {});
  ~TradingService();
  TradingService(const TradingService&) = delete;
  TradingService& operator=(const TradingService&) = delete;

  [[nodiscard]] bool active() const noexcept;
  // The sink the market-data pipeline feeds (nullptr when inactive). Trading thread.
  [[nodiscard]] market::MarketEventSink* market_sink() noexcept;
  void start();  // arms the loop timer on the trading context
  void stop();   // cancels the timer (open paper orders die with the process)
  // Trading thread: copies the loop's state into the published status.
  void fill_status(TradingStatus& out) const;
  // Main thread, before the HTTP server starts: POST /control/{halt,resume,cancel-all,order,cancel}.
  void add_control_endpoints(http::Router& router);

  [[nodiscard]] trading::PaperSession* paper_session() noexcept;  // paper mode, else null
  [[nodiscard]] LiveTrading* live_trading() noexcept;             // live mode, else null

 private:
  struct Impl;
  explicit TradingService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Renders the "trading" member of /status and the trading families of /metrics.
void write_trading_status(http::JsonWriter& json, const TradingStatus& status);
void write_trading_metrics(http::PrometheusWriter& metrics, const TradingStatus& status);

}  // namespace tb::app
