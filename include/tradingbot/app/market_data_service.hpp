// MarketDataService: the daemon's live market data, wired in daemon.cpp with a few lines. It
// owns the MarketDataPipeline (decoder -> depth sync -> books -> price cache) and the
// binance::MarketStreamManager (WebSocket connections, REST snapshots, bookTicker polling
// breaker) on the trading thread, and turns their state into DaemonStatus::market plus the
// per-symbol SymbolStatus rows and /ready reasons at each status publication.
// HTTP side (add_market_data_endpoints): /book/{SYMBOL} and /price/{SYMBOL} are answered on the
// HTTP thread from the published status only. A /price miss or stale quote posts a REST refresh
// to the trading thread (thread-safe asio::post) and answers from what is published: the stale
// quote with "stale":true, or 503 with Retry-After on a miss. The HTTP server answers every
// request synchronously on its own thread, so it cannot wait for the trading thread's REST call;
// the next request (at most the TTL later) sees the refreshed quote with "source":"rest".
// Threading: construct, start, stop, reload and fill_status on the trading thread.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "tradingbot/app/status.hpp"
#include "tradingbot/config/config.hpp"
#include "tradingbot/core/published.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/http/json_writer.hpp"
#include "tradingbot/http/prometheus_writer.hpp"
#include "tradingbot/http/router.hpp"

namespace tb::binance {
class MarketDataPipeline;
class MarketStreamManager;
struct MarketStreamOptions;
}  // namespace tb::binance

namespace tb::app {

class MarketDataService {
 public:
  MarketDataService(boost::asio::io_context& trading, const config::Config& config);
  ~MarketDataService();
  MarketDataService(const MarketDataService&) = delete;
  MarketDataService& operator=(const MarketDataService&) = delete;

  // Builds the TLS context (system store + exchange.ca_file) and connects. Error: why not.
  Result<bool> start();
  // Same, with options adjusted by the caller (tests shorten timeouts; record adds observers).
  Result<bool> start(const std::function<void(binance::MarketStreamOptions&)>& adjust);
  void stop();
  // SIGHUP: market.symbols / market.streams changes are applied at runtime (SUBSCRIBE/UNSUBSCRIBE).
  void reload(const config::Config& next);
  // Fills status.market, status.symbols and status.not_ready_reasons.
  void fill_status(DaemonStatus& status) const;
  // Trading thread: ask for a REST refresh of a symbol's price.
  bool request_price_refresh(const Symbol& symbol);

  [[nodiscard]] binance::MarketDataPipeline& pipeline() noexcept { return *pipeline_; }
  [[nodiscard]] binance::MarketStreamManager* streams() noexcept { return streams_.get(); }
  [[nodiscard]] boost::asio::io_context& trading() noexcept { return trading_; }

 private:
  boost::asio::io_context& trading_;
  config::Config config_;
  std::unique_ptr<binance::MarketDataPipeline> pipeline_;
  std::unique_ptr<binance::MarketStreamManager> streams_;
};

// Registers GET /book/{SYMBOL}?depth=N and GET /price/{SYMBOL}. `service` is used only through
// asio::post onto its trading io_context (price refresh); it must outlive the HTTP server.
void add_market_data_endpoints(http::Router& router, const Published<DaemonStatus>* status,
                               MarketDataService* service);
// The "market_data" member of /status and the market-data families of /metrics.
void write_market_data_json(http::JsonWriter& json, const MarketDataStatus& market);
void write_market_data_metrics(http::PrometheusWriter& metrics, const MarketDataStatus& market);

}  // namespace tb::app
