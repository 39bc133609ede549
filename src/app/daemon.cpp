#include "tradingbot/app/daemon.hpp"

#include <csignal>
#include <cstdlib>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "tradingbot/app/logging.hpp"
#include "tradingbot/app/market_data_service.hpp"
#include "tradingbot/app/status.hpp"
#include "tradingbot/app/status_endpoints.hpp"
#include "tradingbot/app/store_service.hpp"
#include "tradingbot/app/systemd_notifier.hpp"
#include "tradingbot/app/trading_persistence.hpp"
#include "tradingbot/app/live_trading.hpp"
#include "tradingbot/app/trading_service.hpp"
#include "tradingbot/app/version.hpp"
#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/published.hpp"
#include "tradingbot/exchange/binance/market_pipeline.hpp"
#include "tradingbot/exchange/binance/market_streams.hpp"
#include "tradingbot/exchange/binance/rate_limits.hpp"
#include "tradingbot/http/server.hpp"
#include "tradingbot/net/event_loop.hpp"

namespace tb::app {
namespace asio = boost::asio;

namespace {
// The trading loop's own beat: liveness stamp, watchdog ping, status publication.
constexpr auto kHeartbeatPeriod = std::chrono::milliseconds(100);
constexpr int kBeatsPerStatusPublish = 2;  // /status is at most 200 ms old
}  // namespace

struct Daemon::Impl {
  Impl(config::Config cfg, std::string path)
      : config(std::move(cfg)), config_path(std::move(path)), signals(trading, SIGINT, SIGTERM, SIGHUP),
        heartbeat_timer(trading) {}

  // Returns false (after logging why) when the daemon cannot start.
  bool start() {
    spdlog::info("tradingbot {} starting: mode={} config={} http={}", version_string(),
                 config::to_string(config.trading.mode), config_path, config.http.listen);
    started_wall_ns = wall_clock_ns();
    // Persistence first: recovered positions/open orders must be there before trading arms.
    auto opened_store = StoreService::open(config, config_path, trading);
    if (!opened_store) {
      spdlog::critical("{}", opened_store.error().message);
      return false;
    }
    store = std::move(opened_store).value();

    http::Router router;
    add_status_endpoints(router, StatusSources{&published, &heartbeat, [this] { return http_server->stats(); }});
    // Trading loop (paper venue in trading.mode = paper) and its control endpoints.
    const char* control_token = std::getenv("TRADINGBOT_CONTROL_TOKEN");
    auto service = TradingService::create(config, trading, control_token != nullptr ? control_token : "", rest_limits);
    if (!service) {
      spdlog::critical("trading: {}", service.error().message);
      return false;
    }
    trading_service = std::move(service).value();
    // Every order change, fill, position, closed kline and equity sample goes to the store; the
    // recovered positions and open orders go into the loop before its first event arms it.
    if (trading_service->paper_session() != nullptr) {
      recorder = attach_store_to_paper_session(*trading_service->paper_session(), *store, wall_clock_ns());
    } else if (LiveTrading* live = trading_service->live_trading()) {
      // Live: the loop is built once exchangeInfo is in (trading thread); the store's state goes
      // in right then, before the gateway sends or reconciles anything.
      live->set_restore_hook([this](trading::TradingLoop& loop, binance::OrderGateway& gateway) {
        recorder = attach_store_to_live_loop(loop, gateway, *store, wall_clock_ns());
      });
    }
    trading_service->add_control_endpoints(router);
    // Market data runs in every trading mode (off included): /book, /price and /ready need it. The
    // trading loop sees the same events as the books, synchronously on this thread. Nothing flows
    // before trading.run(), so the sink is in place before the first frame.
    market_data = std::make_unique<MarketDataService>(trading, config);
    market_data->pipeline().set_sink(trading_service->market_sink());
    if (auto started = market_data->start([this](binance::MarketStreamOptions& o) { o.rate_limits = rest_limits; });
        !started) {
      spdlog::critical("market data: {}", started.error().message);
      return false;
    }
    add_market_data_endpoints(router, &published, market_data.get());
    // The first snapshot is built once every service exists, so /ready can never see a daemon
    // without its market data and answer 200.
    publish_status();
    http_server = std::make_unique<http::Server>(config.http, std::move(router));
    if (auto started = http_server->start(); !started) {
      spdlog::critical("{}", started.error().message);
      return false;
    }
    spdlog::info("http: listening on {}:{}", config.http.listen_host, http_server->port());
    // Pinned last: every other thread (HTTP, store, logger) already runs, and a pin would be
    // inherited by threads created after it.
    if (config.trading.cpu >= 0) {
      if (auto pinned = net::pin_current_thread(static_cast<int>(config.trading.cpu)); !pinned) {
        spdlog::critical("trading.cpu: {}", pinned.error().message);
        return false;
      }
    }
    const std::int64_t spin_us = config.trading.busy_poll_us;
    spdlog::info("trading thread: {}{}",
                 spin_us < 0    ? std::string("busy-polls (one core at 100%)")
                 : spin_us == 0 ? std::string("sleeps between events")
                                : fmt::format("polls for {} us after each event, then sleeps", spin_us),
                 config.trading.cpu >= 0 ? fmt::format(", pinned to cpu {}", config.trading.cpu) : std::string());
    wait_for_signal();
    trading_service->start();
    beat();
    notifier.ready();
    notifier.status("running");
    spdlog::info("tradingbot ready");
    return true;
  }

  void wait_for_signal() {
    signals.async_wait([this](const boost::system::error_code& ec, int signal_number) {
      if (ec) return;  // cancelled at shutdown
      on_signal(signal_number);
    });
  }

  void on_signal(int signal_number) {
    if (signal_number == SIGHUP) {
      reload();
      wait_for_signal();
      return;
    }
    spdlog::info("received {}, stopping", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    stop_reason = signal_number == SIGTERM ? "SIGTERM" : "SIGINT";
    stop();
  }

  // SIGHUP: reopen log files (logrotate) and re-read the config. Only what can change safely
  // while running is applied; the rest is reported as needing a restart.
  void reload() {
    notifier.reloading();
    reopen_log_files();
    spdlog::info("SIGHUP: log files reopened, reloading {}", config_path);
    auto loaded = config::load_config_file(config_path);
    if (!loaded) {
      spdlog::error("config reload rejected, keeping the running config: {}", loaded.error().message);
      notifier.ready();
      return;
    }
    const config::Config& next = loaded.value();
    if (next.log.level != config.log.level) {
      set_log_level(next.log.level);
      spdlog::info("log.level: {} -> {}", config.log.level, next.log.level);
      config.log.level = next.log.level;
    }
    if (next.http.listen != config.http.listen || next.trading.mode != config.trading.mode ||
        next.exchange.rest.url != config.exchange.rest.url || next.exchange.ws.url != config.exchange.ws.url ||
        next.exchange.ws_api.url != config.exchange.ws_api.url || next.log.file != config.log.file ||
        next.trading.busy_poll_us != config.trading.busy_poll_us || next.trading.cpu != config.trading.cpu) {
      spdlog::warn("config reload: changes to exchange.*, http.listen, trading.mode, trading.busy_poll_us, "
                   "trading.cpu or log.file take effect only after a restart");
    }
    if (market_data) market_data->reload(next);
    ++config_reloads;
    notifier.ready();
  }

  void stop() {
    if (stopping) return;
    stopping = true;
    notifier.stopping();
    notifier.status("stopping");
    heartbeat_timer.cancel();
    signals.cancel();
    if (store) store->cancel_timers();
    if (trading_service) trading_service->stop();
    // Stop serving before the state it reads goes away; joins the HTTP thread.
    if (http_server) http_server->stop();
    if (market_data) market_data->stop();
  }

  void beat() {
    const Nanos now = monotonic_ns();
    heartbeat.last_beat_mono_ns.store(now, std::memory_order_release);
    ++loop_iterations;
    if (loop_iterations % kBeatsPerStatusPublish == 0) publish_status();
    if (notifier.watchdog_interval().count() > 0 &&
        now - last_watchdog_ns >= std::chrono::duration_cast<std::chrono::nanoseconds>(notifier.watchdog_interval()).count()) {
      notifier.watchdog();
      last_watchdog_ns = now;
    }
    heartbeat_timer.expires_after(kHeartbeatPeriod);
    heartbeat_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) beat();
    });
  }

  void publish_status() {
    auto status = std::make_shared<DaemonStatus>();
    status->version = version_string();
    status->mode = config.trading.mode;
    status->started_wall_ns = started_wall_ns;
    status->published_mono_ns = monotonic_ns();
    status->loop_iterations = loop_iterations;
    status->busy_poll_us = config.trading.busy_poll_us;
    status->cpu = config.trading.cpu;
    status->halted = halted;
    status->config_reloads = config_reloads;
    if (store) status->store = store->status();
    if (recorder) status->store.recorder = recorder->status();
    if (market_data) market_data->fill_status(*status);
    if (trading_service) trading_service->fill_status(status->trading);
    if (status->trading.live_mode) {
      const LiveStatus& live = status->trading.live;
      if (live.gateway != "armed") {
        status->not_ready_reasons.push_back("live: order gateway " + live.gateway +
                                            (live.problem.empty() ? std::string() : ": " + live.problem));
      }
      if (live.banned) status->not_ready_reasons.emplace_back("live: REST banned by Binance (418)");
    }
    status->halted = status->halted || (status->trading.active && status->trading.loop.mode == risk::GateMode::Halted);
    published.publish(std::move(status));
  }

  config::Config config;
  const std::string config_path;
  asio::io_context trading{1};
  asio::signal_set signals;
  asio::steady_timer heartbeat_timer;
  SystemdNotifier notifier;
  Published<DaemonStatus> published;
  LoopHeartbeat heartbeat;
  // Members are destroyed in reverse order of declaration, so each one outlives everything that
  // reaches into it: the HTTP server (control and /price post into the services) goes first, then
  // market data (feeds the trading loop), the trading loop (reports to the recorder), the
  // recorder (enqueues into the store), and the store last.
  // Binance's REST weight and 429/418 bans are per IP: market data and the order path share one
  // budget, so a ban seen by either stops both (trading thread).
  std::shared_ptr<binance::RateLimitTracker> rest_limits = std::make_shared<binance::RateLimitTracker>();
  std::unique_ptr<StoreService> store;              // persistence; its own store thread
  std::unique_ptr<StoreRecorder> recorder;          // trading thread: loop events -> store records
  std::unique_ptr<TradingService> trading_service;  // trading thread; control handlers post to it
  std::unique_ptr<MarketDataService> market_data;   // trading thread; feeds trading_service
  std::unique_ptr<http::Server> http_server;        // its own thread; reads `published` and `heartbeat`
  std::string stop_reason = "stopped";
  Nanos started_wall_ns = 0;
  Nanos last_watchdog_ns = 0;
  std::uint64_t loop_iterations = 0;
  std::uint64_t config_reloads = 0;
  bool halted = false;
  bool stopping = false;
};

Daemon::Daemon(config::Config config, std::string config_path)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(config_path))) {}

Daemon::~Daemon() = default;

int Daemon::run() {
  if (!impl_->start()) return 3;
  net::run_event_loop(impl_->trading, net::WaitPolicy::from_micros(impl_->config.trading.busy_poll_us));
  // The trading loop has made its last enqueue: journal everything, give the DB a grace.
  if (impl_->store) impl_->store->stop(impl_->stop_reason);
  spdlog::info("tradingbot stopped");
  return 0;
}

}  // namespace tb::app
