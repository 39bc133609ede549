// LiveTrading: see the header. Trading thread, except create() (main thread).
#include "tradingbot/app/live_trading.hpp"

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "tradingbot/exchange/binance/credentials.hpp"
#include "tradingbot/exchange/binance/rest_responses.hpp"
#include "tradingbot/exchange/binance/signer.hpp"
#include "tradingbot/net/tls_context.hpp"
#include "tradingbot/strategy/factory.hpp"
#include "tradingbot/trading/paper_session.hpp"

namespace tb::app {
namespace asio = boost::asio;

struct LiveTrading::Secrets {
  binance::SecretString api_key;
  binance::RequestSigner signer;
  net::TlsContextPtr tls;
};

namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}

// The exchange's filters for one symbol as the risk gate and the strategy use them, plus the
// bot's own per-symbol limits from [risk].
risk::SymbolRules to_risk_rules(const binance::SymbolRules& x, const config::RiskConfig& limits) {
  risk::SymbolRules r;
  r.symbol = x.symbol;
  if (x.price_filter) {
    r.tick_size = x.price_filter->tick_size;
    r.min_price = x.price_filter->min_price;
    r.max_price = x.price_filter->max_price;
  }
  if (x.lot_size) {
    r.step_size = x.lot_size->step_size;
    r.min_qty = x.lot_size->min_qty;
    r.max_qty = x.lot_size->max_qty;
  }
  if (x.market_lot_size) {
    r.market_step_size = x.market_lot_size->step_size;
    r.market_min_qty = x.market_lot_size->min_qty;
    r.market_max_qty = x.market_lot_size->max_qty;
  }
  const auto& notional = x.notional ? x.notional : x.min_notional;
  if (notional) {
    r.min_notional = notional->min_notional;
    r.max_notional = notional->max_notional;
    r.apply_min_to_market = notional->apply_min_to_market;
    r.apply_max_to_market = notional->apply_max_to_market;
  }
  r.max_order_qty = limits.max_order_qty;
  r.max_position_qty = limits.max_position_qty;
  return r;
}

}  // namespace

Result<std::unique_ptr<LiveTrading>> LiveTrading::create(const config::Config& config, asio::io_context& ioc,
                                                         std::string run_prefix,
                                                         std::shared_ptr<binance::RateLimitTracker> rest_limits) {
  auto secrets = load_secrets(config);
  if (!secrets) return secrets.error();
  if (config.strategy.symbols.empty()) return Error{"live trading: strategy.symbols is empty: nothing to trade"};
  try {
    return std::unique_ptr<LiveTrading>(new LiveTrading(config, ioc, std::move(run_prefix), std::move(secrets).value(),
                                                        std::move(rest_limits)));
  } catch (const std::invalid_argument& e) {
    return Error{std::string("live trading: ") + e.what()};
  }
}

// HMAC when BINANCE_API_SECRET is set, else the Ed25519 key file.
Result<std::unique_ptr<LiveTrading::Secrets>> LiveTrading::load_secrets(const config::Config& config) {
  auto tls = net::make_client_tls_context(net::TlsClientOptions{config.exchange.ca_file, true});
  if (!tls) return Error{"live trading: TLS: " + tls.error().message};
  if (env_set(binance::kEnvApiSecret)) {
    auto creds = binance::hmac_credentials_from_env();
    if (!creds) return creds.error();
    return std::make_unique<LiveTrading::Secrets>(LiveTrading::Secrets{
        std::move(creds.value().api_key),
        binance::RequestSigner(binance::HmacSha256Signer(creds.value().secret.reveal())), tls.value()});
  }
  auto creds = binance::ed25519_credentials_from_env();
  if (!creds) return creds.error();
  auto signer = binance::Ed25519Signer::from_pem(creds.value().private_key_pem.reveal());
  if (!signer) return Error{std::string(binance::kEnvEd25519KeyFile) + " = " + creds.value().key_file + ": " +
                            signer.error().message};
  return std::make_unique<LiveTrading::Secrets>(LiveTrading::Secrets{
      std::move(creds.value().api_key), binance::RequestSigner(std::move(signer).value()), tls.value()});
}

LiveTrading::LiveTrading(const config::Config& config, asio::io_context& ioc, std::string run_prefix,
                         std::unique_ptr<Secrets> secrets,
                         std::shared_ptr<binance::RateLimitTracker> rest_limits)
    : config_(config),
      ioc_(ioc),
      run_prefix_(std::move(run_prefix)),
      secrets_(std::move(secrets)),
      driver_(config.strategy.timer_ms * kNanosPerMilli, trading::LoopDriver::Start::AfterReconciliation),
      alive_(std::make_shared<bool>(true)) {
  binance::RestClientOptions ro;
  ro.host = config_.exchange.rest.host;
  ro.port = config_.exchange.rest.port;
  ro.recv_window_ms = config_.exchange.recv_window_ms;
  ro.rate_limits = std::move(rest_limits);
  rest_ = binance::RestClient::create(ioc_, secrets_->tls, ro, &secrets_->signer, secrets_->api_key.reveal());
}

LiveTrading::~LiveTrading() { *alive_ = false; }

void LiveTrading::start() {
  stopped_ = false;
  start_rest();
}

void LiveTrading::stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;  // no retry or start-up step runs any more
  if (config_.trading.cancel_on_stop && loop_ && gateway_ && gateway_->armed() &&
      loop_->order_manager().live_orders() > 0) {
    // HALTED refuses every new order (the strategy cannot requote on the cancel reports) and
    // cancels each open one; the io_context keeps running while the cancels are in flight.
    spdlog::warn("live trading: stopping: halting and canceling {} open order(s) (at most {} ms)",
                 loop_->order_manager().live_orders(), kCancelOnStopWait / kNanosPerMilli);
    (void)loop_->halt(wall_clock_ns());
    wait_for_cancels(wall_clock_ns() + kCancelOnStopWait);
    return;
  }
  shut_down();
}

void LiveTrading::wait_for_cancels(Nanos deadline) {
  const std::size_t left = loop_->order_manager().live_orders();
  if (left == 0 || wall_clock_ns() >= deadline) {
    if (left > 0) spdlog::error("live trading: {} order(s) still open on the exchange after the stop wait", left);
    else spdlog::info("live trading: every open order canceled");
    shut_down();
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds(20));
  timer->async_wait([this, timer, deadline](const boost::system::error_code&) {
    venue_.poll(wall_clock_ns());
    wait_for_cancels(deadline);
  });
}

void LiveTrading::shut_down() {
  if (gateway_) {
    gateway_->stop();  // stops the WS API and REST too
  } else {
    rest_->stop();
  }
}

void LiveTrading::retry_later(std::string why) {
  problem_ = std::move(why);
  spdlog::error("live trading: {}; retrying in {} s", problem_, kLiveRetry / kNanosPerSecond);
  auto timer = std::make_shared<asio::steady_timer>(ioc_, std::chrono::nanoseconds(kLiveRetry));
  timer->async_wait([this, timer, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || stopped_) return;
    start_rest();
  });
}

void LiveTrading::start_rest() {
  ++start_attempts_;
  if (rest_->readiness() == binance::RestReadiness::Ready) {
    load_account();
    return;
  }
  rest_->start([this, alive = alive_](binance::RestReadiness r) {
    if (!*alive || stopped_) return;
    if (r != binance::RestReadiness::Ready) {
      retry_later("REST not ready (" + std::string(binance::to_string(r)) + ")");
      return;
    }
    load_account();
  });
}

void LiveTrading::load_account() {
  rest_->call(binance::rest_account(), [this, alive = alive_](binance::RestResult& r) {
    if (!*alive || stopped_) return;
    binance::JsonParser parser;
    binance::AccountInfo account;
    if (!r.ok() || binance::parse_account(parser, r.body, account) != binance::ParseStatus::Ok) {
      retry_later("GET /api/v3/account failed (" + std::string(binance::to_string(r.outcome)) +
                  (r.error.code != 0 ? ", " + std::to_string(r.error.code) + " " + r.error.msg : std::string()) + ")");
      return;
    }
    if (!account.can_trade) {
      retry_later("the API key's account may not trade (canTrade = false)");
      return;
    }
    Money cash;
    for (const auto& b : account.balances) {
      if (b.asset.view() == config_.trading.quote_asset) cash = Money::from_raw((b.free + b.locked).raw());
    }
    if (loop_) {  // a retry after the loop was built (gateway failed): keep the loop and its state
      problem_.clear();
      gateway_->start();
      return;
    }
    build_loop(cash);
  });
}

void LiveTrading::give_up(std::string why) {
  problem_ = std::move(why);
  spdlog::error("live trading: {}: trading stays off", problem_);
}

void LiveTrading::build_loop(Money cash) {
  const binance::ExchangeInfo* info = rest_->exchange_info();
  trading::TradingSetup setup;
  setup.risk = trading::risk_params_from(config_.risk);
  if (auto err = setup.risk.validate()) {
    return give_up("risk: " + err->message);
  }
  setup.oms.run_prefix = run_prefix_;
  setup.quote_asset = Symbol::parse(config_.trading.quote_asset).value_or(Symbol{});
  setup.initial_cash = cash;
  for (const Symbol& s : config_.strategy.symbols) {
    const binance::SymbolRules* rules = info != nullptr ? info->find(s) : nullptr;
    if (rules == nullptr || !rules->trading()) {
      return give_up("strategy symbol " + s.str() +
                 (rules == nullptr ? " is not in exchangeInfo" : " is not TRADING (" + std::string(binance::to_string(rules->status)) + ")"));
    }
    setup.symbols.push_back(to_risk_rules(*rules, config_.risk));
  }
  std::unique_ptr<strategy::Strategy> strat;
  if (!config_.strategy.name.empty()) {
    auto made = strategy::make_strategy(trading::strategy_spec_from(config_.strategy));
    if (!made) {
      return give_up(made.error().message);
    }
    strat = std::move(made).value();
  }
  try {
    loop_ = std::make_unique<trading::TradingLoop>(setup, venue_, nullptr, std::move(strat));
  } catch (const std::invalid_argument& e) {
    return give_up(e.what());
  }
  loop_->set_alert_handler([](std::string_view text) { spdlog::warn("trading: {}", text); });

  binance::WsApiOptions wo;
  wo.connection.ws.host = config_.exchange.ws_api.host;
  wo.connection.ws.port = config_.exchange.ws_api.port;
  wo.connection.ws.target = config_.exchange.ws_api.path.empty() ? "/ws-api/v3" : config_.exchange.ws_api.path;
  wo.recv_window_ms = config_.exchange.recv_window_ms;
  binance::OrderGatewayOptions go;
  go.symbols = config_.strategy.symbols;
  gateway_ = binance::OrderGateway::create(ioc_, secrets_->tls, rest_, wo, secrets_->signer, secrets_->api_key.reveal(),
                                           loop_->order_manager(), venue_, go);
  venue_.attach(gateway_);
  if (restore_) restore_(*loop_, *gateway_);
  driver_.attach(loop_.get());
  problem_.clear();
  spdlog::info("live trading: {} symbol(s), strategy '{}', {} {} in the account; connecting the WS API",
               setup.symbols.size(), config_.strategy.name.empty() ? "none" : config_.strategy.name.c_str(),
               cash.to_string(), config_.trading.quote_asset);
  gateway_->start();
}

void LiveTrading::tick(Nanos now) {
  driver_.tick(now);
  venue_.poll(now);
  if (gateway_ && gateway_->state() == binance::GatewayState::Failed && problem_.empty() && !stopped_) {
    retry_later("order gateway failed to start");
  }
}

void LiveTrading::fill_status(LiveStatus& out) const {
  out.problem = problem_;
  out.start_attempts = start_attempts_;
  const binance::RestStatus rs = rest_->status();
  out.rest = binance::to_string(rs.readiness);
  out.clock = binance::to_string(rs.clock_status);
  out.clock_offset_us = rs.clock_offset / 1000;
  out.clock_rtt_us = rs.clock_rtt / 1000;
  out.used_weight_1m = rs.used_weight_1m;
  out.weight_limit_1m = rs.weight_limit_1m;
  out.order_count_10s = rs.order_count_10s;
  out.order_limit_10s = rs.order_limit_10s;
  out.banned = rs.banned;
  out.bans = rs.bans;
  out.http_429 = rs.http_429;
  if (!gateway_) return;
  const binance::GatewayStatus g = gateway_->status();
  out.gateway = binance::to_string(g.state);
  out.ws_api = binance::to_string(g.ws_api.state);
  out.sent_ws = g.sent_ws;
  out.sent_rest = g.sent_rest;
  out.not_sent = g.not_sent;
  out.unknown = g.unknown;
  out.queries = g.queries;
  out.reconciles = g.reconciles;
  out.reconcile_failures = g.reconcile_failures;
  out.user_data_gaps = g.gaps;
  out.user_events = g.ws_api.user_events;
}

}  // namespace tb::app
