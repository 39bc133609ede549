// LiveTrading: trading.mode = "live". The configured strategy trades on Binance through the same
// TradingLoop as paper trading, on a venue::LiveVenue over binance::OrderGateway (WS API orders,
// REST fallback and reconciliation), fed by the same market events (attach sink()).
//
// Start-up, all on the trading thread, nothing armed until every step worked:
//   1. REST start: server-time sync (trading refuses a clock it cannot trust) and exchangeInfo;
//   2. GET /api/v3/account: the key must be allowed to trade; the quote asset's balance (free +
//      locked) becomes the position book's cash, so equity limits see the real account;
//   3. the loop is built with each strategy symbol's exchange filters (a symbol missing from
//      exchangeInfo or not TRADING is a start-up error: logged, trading stays off);
//   4. the restore hook (the store's positions and open orders, and per symbol the first trade id
//      not yet in them) runs before anything is sent;
//   5. the gateway connects the WS API, subscribes user data and reconciles openOrders + myTrades;
//      once armed the order manager accepts the strategy's orders.
// A failing step is retried every `kLiveRetry` (REST down, ban, clock) and shown in /status and
// /ready; market data keeps flowing meanwhile, the strategy just cannot place anything.
//
// Secrets: the API key and HMAC secret or Ed25519 key come from the environment only
// (binance/credentials.hpp), are held here for the process's life and never logged.
// Threads: create() on the main thread; everything else on the trading thread, except that the
// object is destroyed on the main thread after the trading io_context stopped.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "tradingbot/app/status.hpp"
#include "tradingbot/config/config.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/exchange/binance/order_gateway.hpp"
#include "tradingbot/trading/loop_driver.hpp"
#include "tradingbot/venue/live_venue.hpp"

namespace boost::asio {
class io_context;
}

namespace tb::app {

inline constexpr Nanos kLiveRetry = 10 * kNanosPerSecond;
inline constexpr Nanos kCancelOnStopWait = 3 * kNanosPerSecond;  // trading.cancel_on_stop

class LiveTrading {
 public:
  // Runs once the loop exists and before the gateway starts: restores the store's state into the
  // loop and sets the gateway's trade-id floors (see trading_persistence.hpp).
  using RestoreHook = std::function<void(trading::TradingLoop& loop, binance::OrderGateway& gateway)>;

  // Loads the credentials and builds the REST client on `rest_limits` (the per-IP budget shared
  // with market data; null: its own). Errors name what is missing.
  static Result<std::unique_ptr<LiveTrading>> create(const config::Config& config, boost::asio::io_context& ioc,
                                                     std::string run_prefix,
                                                     std::shared_ptr<binance::RateLimitTracker> rest_limits = {});
  ~LiveTrading();
  LiveTrading(const LiveTrading&) = delete;
  LiveTrading& operator=(const LiveTrading&) = delete;

  void set_restore_hook(RestoreHook hook) { restore_ = std::move(hook); }
  void start();
  // With trading.cancel_on_stop: halts the loop and cancels our open orders first (the
  // io_context must keep running up to kCancelOnStopWait), then stops the gateway.
  void stop();
  // The loop's timer and the venue's poll (user-stream liveness, held events).
  void tick(Nanos now);

  [[nodiscard]] market::MarketEventSink& sink() noexcept { return driver_; }
  // Null until start-up reached step 3.
  [[nodiscard]] trading::TradingLoop* loop() noexcept { return loop_.get(); }
  [[nodiscard]] const trading::TradingLoop* loop() const noexcept { return loop_.get(); }
  [[nodiscard]] venue::LiveVenue& venue() noexcept { return venue_; }
  void fill_status(LiveStatus& out) const;

 private:
  struct Secrets;
  static Result<std::unique_ptr<Secrets>> load_secrets(const config::Config& config);
  LiveTrading(const config::Config& config, boost::asio::io_context& ioc, std::string run_prefix,
              std::unique_ptr<Secrets> secrets, std::shared_ptr<binance::RateLimitTracker> rest_limits);
  void start_rest();
  void load_account();
  void build_loop(Money cash);
  void retry_later(std::string why);
  // A start-up error a retry cannot fix (configuration or exchange rules): logged, kept in /status.
  void give_up(std::string why);
  void wait_for_cancels(Nanos deadline);
  void shut_down();

  const config::Config config_;
  boost::asio::io_context& ioc_;
  std::string run_prefix_;
  std::unique_ptr<Secrets> secrets_;
  std::shared_ptr<binance::RestClient> rest_;
  std::shared_ptr<binance::OrderGateway> gateway_;
  venue::LiveVenue venue_;
  std::unique_ptr<trading::TradingLoop> loop_;  // after venue_: the loop detaches from it first
  trading::LoopDriver driver_;
  RestoreHook restore_;
  std::string problem_;  // why trading is not armed yet ("" once it is, or while starting)
  std::uint64_t start_attempts_ = 0;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_;  // timers check it: no callback runs after stop()
};

}  // namespace tb::app
