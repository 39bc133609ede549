#include "tradingbot/app/trading_service.hpp"

#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "tradingbot/app/live_trading.hpp"
#include "tradingbot/trading/paper_session.hpp"

namespace tb::app {
namespace asio = boost::asio;

namespace {

// Time taken depends only on the expected token's length, never on where a guess differs.
bool constant_time_equal(std::string_view given, std::string_view expected) noexcept {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char g = given.empty() ? '\0' : given[i % given.size()];
    diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(g) ^ static_cast<unsigned char>(expected[i])));
  }
  return diff == 0;
}

// A flat JSON object whose values are strings (the control bodies); nullopt when malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_flat_object(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  const auto ws = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
  };
  const auto str = [&](std::string& s) -> bool {
    if (i >= text.size() || text[i] != '"') return false;
    ++i;
    while (i < text.size() && text[i] != '"') {
      char c = text[i++];
      if (c == '\\') {
        if (i >= text.size()) return false;
        c = text[i++];
        if (c != '"' && c != '\\' && c != '/') return false;  // ids and decimals never need more
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return false;
      }
      s.push_back(c);
    }
    if (i >= text.size()) return false;
    ++i;
    return true;
  };
  ws();
  if (i >= text.size() || text[i] != '{') return std::nullopt;
  ++i;
  ws();
  if (i < text.size() && text[i] == '}') {
    ++i;
  } else {
    for (;;) {
      std::pair<std::string, std::string> kv;
      ws();
      if (!str(kv.first)) return std::nullopt;
      ws();
      if (i >= text.size() || text[i++] != ':') return std::nullopt;
      ws();
      if (!str(kv.second)) return std::nullopt;
      out.push_back(std::move(kv));
      ws();
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == '}') {
        ++i;
        break;
      }
      return std::nullopt;
    }
  }
  ws();
  if (i != text.size()) return std::nullopt;
  return out;
}

std::optional<std::string_view> field(const std::vector<std::pair<std::string, std::string>>& obj,
                                      std::string_view key) {
  for (const auto& [k, v] : obj) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

void error_response(http::Response& response, int status, std::string_view message) {
  response.set_error(status, message);
}

}  // namespace

struct TradingService::Impl {
  Impl(asio::io_context& ctx, std::string token) : context(ctx), timer(ctx), control_token(std::move(token)) {}

  // The running loop: the paper session's, or the live one once exchangeInfo built it.
  [[nodiscard]] trading::TradingLoop* loop() noexcept {
    if (paper) return &paper->loop();
    return live ? live->loop() : nullptr;
  }

  void arm() {
    timer.expires_after(period);
    timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped) return;
      const Nanos now = wall_clock_ns();
      if (paper) {
        paper->tick(now);
        paper->venue().poll(now);  // reports whose latency elapsed between ticks
      } else if (live) {
        live->tick(now);
      }
      arm();
    });
  }

  // HTTP thread: posts `action` to the trading thread, which runs it and completes `responder`
  // with the outcome; the HTTP thread does not wait (the route's deadline answers 504 if the
  // trading loop is stalled).
  void run_on_trading_thread(std::function<trading::ControlOutcome(trading::TradingLoop&, Nanos)> action,
                             http::Responder responder, std::string what, std::string who) {
    asio::post(context, [this, action = std::move(action), responder = std::move(responder), what = std::move(what),
                         who = std::move(who)]() mutable {
      http::Response response;
      trading::TradingLoop* running = loop();
      if (running == nullptr) {  // live, before exchangeInfo and the account let it start
        spdlog::warn("control: {} from {} refused: the live trading loop has not started", what, who);
        response.set_error(503, "the live trading loop has not started yet (see /status trading.live)");
        responder.complete(std::move(response));
        return;
      }
      try {
        const trading::ControlOutcome outcome = action(*running, wall_clock_ns());
        spdlog::info("control: {} from {} at {} ns: {} ({}{}{})", what, who, wall_clock_ns(),
                     outcome.ok ? "ok" : "refused", outcome.message, outcome.client_id.empty() ? "" : ", ",
                     outcome.client_id.view());
        response.status = outcome.ok ? 200 : 422;
        http::JsonWriter json(response.body);
        json.begin_object().member("ok", outcome.ok).member(outcome.ok ? "message" : "error", outcome.message);
        if (!outcome.client_id.empty()) json.member("client_order_id", outcome.client_id.view());
        json.end_object();
      } catch (const std::exception& e) {
        spdlog::error("control: {} from {} failed on the trading thread: {}", what, who, e.what());
        response.reset();
        response.set_error(500, "internal error");
      }
      responder.complete(std::move(response));
    });
  }

  asio::io_context& context;
  asio::steady_timer timer;
  std::string control_token;
  std::unique_ptr<trading::PaperSession> paper;  // trading.mode = "paper"
  std::unique_ptr<LiveTrading> live;              // trading.mode = "live"
  std::chrono::milliseconds period{100};
  bool stopped = false;
  std::atomic<std::uint64_t> control_requests{0};
  std::atomic<std::uint64_t> control_unauthorized{0};
};

Result<std::unique_ptr<TradingService>> TradingService::create(const config::Config& config,
                                                              asio::io_context& trading_context,
                                                              std::string control_token,
                                                              std::shared_ptr<binance::RateLimitTracker> rest_limits) {
  auto impl = std::make_unique<Impl>(trading_context, std::move(control_token));
  if (config.trading.mode == config::TradingMode::Paper) {
    // A prefix unique per start second keeps client ids unique across restarts.
    auto session = trading::PaperSession::create(config, oms::make_run_prefix(wall_clock_ns()));
    if (!session) return session.error();
    impl->paper = std::move(session).value();
    impl->paper->loop().set_alert_handler([](std::string_view text) { spdlog::warn("trading: {}", text); });
    // Poll the venue at least as often as its latency so acks are not held back by the timer.
    std::int64_t ms = config.strategy.timer_ms;
    if (config.trading.paper_latency_ms > 0) ms = std::min(ms, config.trading.paper_latency_ms);
    impl->period = std::chrono::milliseconds(ms);
  } else if (config.trading.mode == config::TradingMode::Live) {
    auto live = LiveTrading::create(config, trading_context, oms::make_run_prefix(wall_clock_ns()), std::move(rest_limits));
    if (!live) return live.error();
    impl->live = std::move(live).value();
    impl->period = std::chrono::milliseconds(config.strategy.timer_ms);
  }
  return std::unique_ptr<TradingService>(new TradingService(std::move(impl)));
}

TradingService::TradingService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TradingService::~TradingService() = default;

bool TradingService::active() const noexcept { return impl_->paper != nullptr || impl_->live != nullptr; }
market::MarketEventSink* TradingService::market_sink() noexcept {
  if (impl_->paper) return impl_->paper.get();
  return impl_->live ? &impl_->live->sink() : nullptr;
}
trading::PaperSession* TradingService::paper_session() noexcept { return impl_->paper.get(); }
LiveTrading* TradingService::live_trading() noexcept { return impl_->live.get(); }

void TradingService::start() {
  if (impl_->paper) {
    spdlog::info("trading: paper venue, strategy '{}'", impl_->paper->loop().strategy_enabled() ? "on" : "none");
    impl_->paper->tick(wall_clock_ns());
  } else if (impl_->live) {
    spdlog::info("trading: live venue (Binance), starting the order path");
    impl_->live->start();
  } else {
    return;
  }
  impl_->arm();
}

void TradingService::stop() {
  impl_->stopped = true;
  impl_->timer.cancel();
  if (impl_->live) impl_->live->stop();
}

void TradingService::fill_status(TradingStatus& out) const {
  out.control_requests = impl_->control_requests.load(std::memory_order_relaxed);
  out.control_unauthorized = impl_->control_unauthorized.load(std::memory_order_relaxed);
  if (impl_->paper) {
    out.active = true;
    out.venue = "paper";
    impl_->paper->loop().snapshot(wall_clock_ns(), out.loop);
    out.venue_orders = impl_->paper->venue().stats().orders;
    out.venue_fills = impl_->paper->venue().stats().fills;
    return;
  }
  if (!impl_->live) return;
  out.live_mode = true;
  impl_->live->fill_status(out.live);
  const trading::TradingLoop* loop = impl_->live->loop();
  if (loop == nullptr) return;
  out.active = true;
  out.venue = "live";
  loop->snapshot(wall_clock_ns(), out.loop);
  out.venue_orders = impl_->live->venue().stats().places;
  out.venue_fills = impl_->live->venue().stats().fills;
}

void TradingService::add_control_endpoints(http::Router& router) {
  Impl* impl = impl_.get();
  // Wraps every control action: token check, who/what/when log line, the trading-thread hop.
  const auto guarded = [impl](std::string what,
                              std::function<std::optional<std::function<trading::ControlOutcome(trading::TradingLoop&, Nanos)>>(
                                  const http::Request&, http::Response&)>
                                  prepare) {
    return [impl, what = std::move(what), prepare = std::move(prepare)](const http::Request& request,
                                                                       http::Responder responder) {
      impl->control_requests.fetch_add(1, std::memory_order_relaxed);
      std::string who = std::string(request.header("X-Real-IP").value_or(request.remote_address()));
      const auto auth = request.header("Authorization").value_or("");
      constexpr std::string_view kBearer = "Bearer ";
      const bool authorized = !impl->control_token.empty() && auth.substr(0, kBearer.size()) == kBearer &&
                              constant_time_equal(auth.substr(kBearer.size()), impl->control_token);
      http::Response response;  // refusals are answered at once, from the HTTP thread
      if (!authorized) {
        impl->control_unauthorized.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("control: {} from {} refused: {}", what, who,
                     impl->control_token.empty() ? "control disabled (TRADINGBOT_CONTROL_TOKEN unset)"
                                                 : "missing or wrong bearer token");
        (void)response.add_header("WWW-Authenticate", "Bearer");
        error_response(response, 401,
                       impl->control_token.empty() ? "control disabled: TRADINGBOT_CONTROL_TOKEN is not set"
                                                   : "unauthorized");
        responder.complete(std::move(response));
        return;
      }
      if (!impl->paper && !impl->live) {
        error_response(response, 409, "no trading loop runs (trading.mode is off)");
        responder.complete(std::move(response));
        return;
      }
      auto action = prepare(request, response);
      if (!action) {  // prepare wrote a 400
        responder.complete(std::move(response));
        return;
      }
      impl->run_on_trading_thread(std::move(*action), std::move(responder), what, std::move(who));
    };
  };
  using Action = std::function<trading::ControlOutcome(trading::TradingLoop&, Nanos)>;
  using Prepared = std::optional<Action>;

  router.post_deferred("/control/halt", guarded("halt", [](const http::Request&, http::Response&) -> Prepared {
                return Action([](trading::TradingLoop& loop, Nanos now) { return loop.halt(now); });
              }),
              kControlTimeout);
  router.post_deferred("/control/resume", guarded("resume", [](const http::Request&, http::Response&) -> Prepared {
                return Action([](trading::TradingLoop& loop, Nanos now) { return loop.resume(now); });
              }),
              kControlTimeout);
  router.post_deferred("/control/cancel-all", guarded("cancel-all", [](const http::Request&, http::Response&) -> Prepared {
                return Action([](trading::TradingLoop& loop, Nanos now) { return loop.cancel_all(now); });
              }),
              kControlTimeout);
  router.post_deferred("/control/flatten", guarded("flatten", [](const http::Request&, http::Response&) -> Prepared {
                return Action([](trading::TradingLoop& loop, Nanos now) { return loop.flatten(now); });
              }),
              kControlTimeout);
  router.post_deferred("/control/order", guarded("order", [](const http::Request& request, http::Response& response) -> Prepared {
                const auto body = parse_flat_object(request.body());
                if (!body) {
                  error_response(response, 400, "body must be a JSON object of strings");
                  return std::nullopt;
                }
                OrderIntent in;
                const auto symbol = field(*body, "symbol");
                const auto side = field(*body, "side");
                const auto type = field(*body, "type");
                const auto price = field(*body, "price");
                const auto qty = field(*body, "quantity");
                const auto tif = field(*body, "timeInForce");
                std::optional<Symbol> sym = symbol ? Symbol::parse(*symbol) : std::nullopt;
                std::optional<Side> sd = side ? parse_side(*side) : std::nullopt;
                std::optional<OrderType> ty = type ? parse_order_type(*type) : std::optional<OrderType>(OrderType::Limit);
                std::optional<TimeInForce> tf = tif ? parse_time_in_force(*tif) : std::optional<TimeInForce>(TimeInForce::Gtc);
                std::optional<Qty> q = qty ? Qty::parse(*qty) : std::nullopt;
                std::optional<Price> p = price ? Price::parse(*price) : std::optional<Price>(Price{});
                const char* bad = !sym ? "symbol" : !sd ? "side (BUY or SELL)" : !ty ? "type (LIMIT, MARKET, LIMIT_MAKER)"
                                : !tf ? "timeInForce (GTC, IOC, FOK)" : !q ? "quantity (decimal string)"
                                : !p ? "price (decimal string)" : (*ty != OrderType::Market && !price) ? "price (required for LIMIT)"
                                : nullptr;
                if (bad != nullptr) {
                  error_response(response, 400, std::string("missing or invalid ") + bad);
                  return std::nullopt;
                }
                in.symbol = *sym;
                in.side = *sd;
                in.type = *ty;
                in.tif = *tf;
                in.price = *p;
                in.qty = *q;
                return Action([in](trading::TradingLoop& loop, Nanos now) { return loop.manual_order(in, now); });
              }),
              kControlTimeout);
  router.post_deferred("/control/cancel", guarded("cancel", [](const http::Request& request, http::Response& response) -> Prepared {
                const auto body = parse_flat_object(request.body());
                const auto symbol = body ? field(*body, "symbol") : std::nullopt;
                const auto id = body ? field(*body, "client_order_id") : std::nullopt;
                const auto sym = symbol ? Symbol::parse(*symbol) : std::nullopt;
                const auto cid = id ? oms::ClientOrderId::parse(*id) : std::nullopt;
                if (!sym || !cid) {
                  error_response(response, 400, "body must be {\"symbol\":..,\"client_order_id\":..}");
                  return std::nullopt;
                }
                return Action([s = *sym, c = *cid](trading::TradingLoop& loop, Nanos now) {
                  return loop.manual_cancel(s, c, now);
                });
              }),
              kControlTimeout);
}

void write_live_status(http::JsonWriter& json, const LiveStatus& l) {
  json.key("live").begin_object();
  json.member("gateway", l.gateway);
  json.member("problem", l.problem);
  json.member("ws_api", l.ws_api);
  json.member("rest", l.rest);
  json.member("clock", l.clock);
  json.member("clock_offset_us", l.clock_offset_us);
  json.member("clock_rtt_us", l.clock_rtt_us);
  json.member("used_weight_1m", l.used_weight_1m);
  json.member("weight_limit_1m", l.weight_limit_1m);
  json.member("order_count_10s", l.order_count_10s);
  json.member("order_limit_10s", l.order_limit_10s);
  json.member("banned", l.banned);
  json.member("bans", l.bans);
  json.member("http_429", l.http_429);
  json.member("start_attempts", l.start_attempts);
  json.member("sent_ws_api", l.sent_ws);
  json.member("sent_rest", l.sent_rest);
  json.member("not_sent", l.not_sent);
  json.member("unknown_outcomes", l.unknown);
  json.member("order_queries", l.queries);
  json.member("reconciles", l.reconciles);
  json.member("reconcile_failures", l.reconcile_failures);
  json.member("user_data_gaps", l.user_data_gaps);
  json.member("user_events", l.user_events);
  json.end_object();
}

void write_trading_status(http::JsonWriter& json, const TradingStatus& t) {
  json.key("trading").begin_object();
  json.member("active", t.active);
  if (t.live_mode) write_live_status(json, t.live);
  if (t.active) {
    const trading::TradingSnapshot& s = t.loop;
    json.member("venue", t.venue);
    json.member("strategy", s.strategy);
    json.member("strategy_enabled", s.strategy_enabled);
    if (!s.strategy_fault.empty()) json.member("strategy_fault", s.strategy_fault);
    json.member("risk_mode", risk::to_string(s.mode));
    json.member("halt_causes", static_cast<std::uint64_t>(s.halt_causes));
    json.key("orders").begin_object();
    json.member("live", s.live_orders);
    json.member("sent", s.counters.orders_sent);
    json.member("manual", s.counters.manual_orders);
    json.member("cancels_sent", s.counters.cancels_sent);
    json.member("fills", s.counters.fills);
    json.member("venue_orders", t.venue_orders);
    json.member("venue_fills", t.venue_fills);
    json.member("venue_rejects", s.counters.venue_rejects);
    json.member("intents", s.counters.intents);
    json.member("intents_rejected", s.counters.intents_rejected);
    json.member("cancel_all_sweeps", s.counters.cancel_all);
    json.member("dead_man_trips", s.counters.dead_man_trips);
    json.member("strategy_faults", s.counters.strategy_faults);
    json.end_object();
    json.key("risk_rejects").begin_object();
    for (std::size_t i = 1; i < risk::kRejectReasonCount; ++i) {
      json.member(risk::to_string(static_cast<risk::RejectReason>(i)), s.rejects[i]);
    }
    json.end_object();
    const auto& p = s.portfolio;
    json.key("pnl").begin_object();
    json.member("quote", p.quote.view());
    json.member("cash", p.cash.to_string());
    json.member("equity", p.equity.to_string());
    json.member("realized", p.realized_pnl.to_string());
    json.member("unrealized", p.unrealized_pnl.to_string());
    json.member("fees", (p.fees_quote + p.fees_base_value + p.fees_other_value).to_string());
    json.member("peak_equity", p.peak_equity.to_string());
    json.member("drawdown", p.drawdown.to_string());
    json.member("day_pnl", p.day_pnl.to_string());
    json.member("equity_samples", s.equity_samples);
    json.end_object();
    json.key("positions").begin_object();
    for (const auto& pos : p.positions) {
      json.key(pos.symbol.view()).begin_object();
      json.member("position", pos.position.to_string());
      json.member("avg_entry", pos.avg_entry().to_string());
      json.member("mid", pos.mid.to_string());
      json.member("realized", pos.realized_pnl.to_string());
      json.member("unrealized", pos.unrealized_pnl().to_string());
      json.member("fees", (pos.fees_quote + pos.fees_base_value).to_string());
      json.member("trades", pos.trades);
      json.end_object();
    }
    json.end_object();
  }
  json.key("control").begin_object();
  json.member("requests", t.control_requests);
  json.member("unauthorized", t.control_unauthorized);
  json.end_object();
  json.end_object();
}

void write_trading_metrics(http::PrometheusWriter& m, const TradingStatus& t) {
  m.family("control_requests_total", "Control endpoint requests", http::MetricType::Counter).sample(t.control_requests);
  m.family("control_unauthorized_total", "Control requests refused for a missing or wrong token",
           http::MetricType::Counter)
      .sample(t.control_unauthorized);
  if (t.live_mode) {
    const LiveStatus& l = t.live;
    m.family("live_armed", "1 while the live order gateway is armed (reconciled, WS API up)", http::MetricType::Gauge)
        .sample(l.gateway == "armed" ? 1 : 0);
    m.family("live_rest_banned", "1 while Binance bans our REST traffic (418)", http::MetricType::Gauge)
        .sample(l.banned ? 1 : 0);
    m.family("live_rest_used_weight_1m", "Order path REST weight used in the current minute", http::MetricType::Gauge)
        .sample(l.used_weight_1m);
    m.family("live_clock_offset_us", "Server time minus local time", http::MetricType::Gauge).sample(l.clock_offset_us);
    m.family("live_orders_sent_total", "Order requests sent, by path", http::MetricType::Counter);
    m.sample({{"path", "ws_api"}}, l.sent_ws);
    m.sample({{"path", "rest"}}, l.sent_rest);
    m.family("live_unknown_outcomes_total", "Order requests whose outcome was unknown (resolved by query)",
             http::MetricType::Counter)
        .sample(l.unknown);
    m.family("live_reconciles_total", "Reconciliations with the exchange (start and after user-data gaps)",
             http::MetricType::Counter)
        .sample(l.reconciles);
    m.family("live_user_data_gaps_total", "User data stream interruptions", http::MetricType::Counter)
        .sample(l.user_data_gaps);
  }
  if (!t.active) return;
  const trading::TradingSnapshot& s = t.loop;
  m.family("risk_mode", "Risk gate mode: 0 active, 1 reducing, 2 halted", http::MetricType::Gauge)
      .sample(static_cast<std::uint64_t>(s.mode));
  m.family("strategy_enabled", "1 while the strategy runs", http::MetricType::Gauge).sample(s.strategy_enabled ? 1 : 0);
  m.family("strategy_faults_total", "Strategies disabled for throwing or misbehaving", http::MetricType::Counter)
      .sample(s.counters.strategy_faults);
  m.family("orders_live", "Live orders", http::MetricType::Gauge).sample(s.live_orders);
  m.family("orders_sent_total", "Orders sent to the venue", http::MetricType::Counter).sample(s.counters.orders_sent);
  m.family("cancels_sent_total", "Cancels sent to the venue", http::MetricType::Counter).sample(s.counters.cancels_sent);
  m.family("fills_total", "Fills applied", http::MetricType::Counter).sample(s.counters.fills);
  m.family("dead_man_trips_total", "Dead-man cancel-all sweeps", http::MetricType::Counter)
      .sample(s.counters.dead_man_trips);
  m.family("risk_accepted_total", "Orders the risk gate accepted", http::MetricType::Counter).sample(s.risk_accepted);
  m.family("risk_rejects_total", "Orders refused, by reason", http::MetricType::Counter);
  for (std::size_t i = 1; i < risk::kRejectReasonCount; ++i) {
    m.sample({{"reason", risk::to_string(static_cast<risk::RejectReason>(i))}}, s.rejects[i]);
  }
  const auto& p = s.portfolio;
  const auto money = [&m](std::string_view name, std::string_view help, Money v) {
    m.family(name, help, http::MetricType::Gauge).sample_raw({}, v.to_string());
  };
  money("equity", "Account equity in the quote asset (cash + positions at the mid)", p.equity);
  money("realized_pnl", "Realized PnL, gross of fees", p.realized_pnl);
  money("unrealized_pnl", "Unrealized PnL marked to the mid", p.unrealized_pnl);
  money("fees", "Fees paid, valued in the quote asset", p.fees_quote + p.fees_base_value + p.fees_other_value);
  money("drawdown", "Drawdown from peak equity", p.drawdown);
  m.family("position", "Signed position per symbol, base units", http::MetricType::Gauge);
  for (const auto& pos : p.positions) {
    const http::Label label[] = {{"symbol", pos.symbol.view()}};
    m.sample_raw(label, pos.position.to_string());
  }
  m.family("symbol_realized_pnl", "Realized PnL per symbol", http::MetricType::Gauge);
  for (const auto& pos : p.positions) {
    const http::Label label[] = {{"symbol", pos.symbol.view()}};
    m.sample_raw(label, pos.realized_pnl.to_string());
  }
}

}  // namespace tb::app
