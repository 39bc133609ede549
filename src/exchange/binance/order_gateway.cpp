// OrderGateway: see the header. Trading thread only.
#include "tradingbot/exchange/binance/order_gateway.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include <boost/asio/post.hpp>
#include <utility>

namespace tb::binance {

std::string_view to_string(GatewayState s) noexcept {
  switch (s) {
    case GatewayState::Stopped: return "stopped";
    case GatewayState::Starting: return "starting";
    case GatewayState::Reconciling: return "reconciling";
    case GatewayState::Armed: return "armed";
    case GatewayState::Failed: return "failed";
  }
  return "?";
}

std::string_view to_string(GatewayEventKind k) noexcept {
  switch (k) {
    case GatewayEventKind::Acked: return "acked";
    case GatewayEventKind::Filled: return "filled";
    case GatewayEventKind::Rejected: return "rejected";
    case GatewayEventKind::Canceled: return "canceled";
    case GatewayEventKind::CancelRejected: return "cancel_rejected";
    case GatewayEventKind::Unknown: return "unknown";
    case GatewayEventKind::Resolved: return "resolved";
  }
  return "?";
}

namespace {

oms::OrderStatus to_oms(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::New: return oms::OrderStatus::New;
    case OrderStatus::PendingNew: return oms::OrderStatus::PendingNew;
    case OrderStatus::PartiallyFilled: return oms::OrderStatus::PartiallyFilled;
    case OrderStatus::Filled: return oms::OrderStatus::Filled;
    case OrderStatus::Canceled: return oms::OrderStatus::Canceled;
    case OrderStatus::PendingCancel: return oms::OrderStatus::PendingCancel;
    case OrderStatus::Rejected: return oms::OrderStatus::Rejected;
    case OrderStatus::Expired: return oms::OrderStatus::Expired;
    case OrderStatus::ExpiredInMatch: return oms::OrderStatus::ExpiredInMatch;
    case OrderStatus::Unknown: return oms::OrderStatus::Unknown;
  }
  return oms::OrderStatus::Unknown;
}

tb::OrderType to_oms(OrderType t) noexcept {
  switch (t) {
    case OrderType::Market: return tb::OrderType::Market;
    case OrderType::LimitMaker: return tb::OrderType::LimitMaker;
    default: return tb::OrderType::Limit;  // the bot sends no stop orders
  }
}

tb::TimeInForce to_oms(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::Ioc: return tb::TimeInForce::Ioc;
    case TimeInForce::Fok: return tb::TimeInForce::Fok;
    default: return tb::TimeInForce::Gtc;
  }
}

oms::ExecType to_oms(ExecutionType x) noexcept {
  switch (x) {
    case ExecutionType::New: return oms::ExecType::New;
    case ExecutionType::Canceled: return oms::ExecType::Canceled;
    case ExecutionType::Replaced: return oms::ExecType::Replaced;
    case ExecutionType::Rejected: return oms::ExecType::Rejected;
    case ExecutionType::Trade: return oms::ExecType::Trade;
    case ExecutionType::Expired: return oms::ExecType::Expired;
    case ExecutionType::TradePrevention: return oms::ExecType::TradePrevention;
    case ExecutionType::Unknown: return oms::ExecType::New;
  }
  return oms::ExecType::New;
}

OrderType to_wire(tb::OrderType t) noexcept {
  switch (t) {
    case tb::OrderType::Market: return OrderType::Market;
    case tb::OrderType::LimitMaker: return OrderType::LimitMaker;
    case tb::OrderType::Limit: return OrderType::Limit;
  }
  return OrderType::Limit;
}

TimeInForce to_wire(tb::TimeInForce t) noexcept {
  switch (t) {
    case tb::TimeInForce::Ioc: return TimeInForce::Ioc;
    case tb::TimeInForce::Fok: return TimeInForce::Fok;
    case tb::TimeInForce::Gtc: return TimeInForce::Gtc;
  }
  return TimeInForce::Gtc;
}

oms::ClientOrderId oms_id(std::string_view text) noexcept { return oms::ClientOrderId::from(text); }
Symbol asset_of(std::string_view text) noexcept { return Symbol::parse(text).value_or(Symbol{}); }

}  // namespace

oms::ExecutionReport to_oms_report(const ExecutionReport& x) noexcept {
  oms::ExecutionReport r;
  r.symbol = x.symbol;
  r.client_order_id = oms_id(x.client_order_id.view());
  r.orig_client_order_id = oms_id(x.orig_client_order_id.view());
  r.order_id = x.order_id;
  r.side = x.side;
  r.type = to_oms(x.type);
  r.tif = to_oms(x.time_in_force);
  r.price = x.price;
  r.qty = x.quantity;
  r.exec_type = to_oms(x.execution_type);
  r.status = to_oms(x.status);
  r.last_qty = x.last_qty;
  r.last_price = x.last_price;
  r.cum_qty = x.cumulative_qty;
  r.cum_quote = x.cumulative_quote_qty;
  r.commission_raw = x.commission.raw();
  r.commission_asset = asset_of(x.commission_asset.view());
  r.trade_id = x.trade_id;
  r.maker = x.maker;
  r.event_time = x.event_time * kNanosPerMilli;
  r.transact_time = x.transaction_time * kNanosPerMilli;
  return r;
}

oms::ExchangeOrder to_oms_order(const OrderResponse& o) noexcept {
  oms::ExchangeOrder e;
  e.symbol = o.symbol;
  e.client_order_id = oms_id(o.orig_client_order_id.empty() ? o.client_order_id.view() : o.orig_client_order_id.view());
  e.order_id = o.order_id;
  e.side = o.side;
  e.type = to_oms(o.type);
  e.tif = to_oms(o.time_in_force);
  e.price = o.price;
  e.qty = o.orig_qty;
  e.executed_qty = o.executed_qty;
  e.cum_quote = o.cummulative_quote_qty;
  e.status = to_oms(o.status);
  e.update_time = (o.update_time != 0 ? o.update_time : o.transact_time) * kNanosPerMilli;
  return e;
}

oms::ExecutionReport response_to_report(const OrderResponse& o) noexcept {
  oms::ExecutionReport r;
  r.symbol = o.symbol;
  // A cancel response's clientOrderId is the cancel's own id; the order is origClientOrderId.
  r.client_order_id = oms_id(o.orig_client_order_id.empty() ? o.client_order_id.view() : o.orig_client_order_id.view());
  r.order_id = o.order_id;
  r.side = o.side;
  r.type = to_oms(o.type);
  r.tif = to_oms(o.time_in_force);
  r.price = o.price;
  r.qty = o.orig_qty;
  r.status = o.kind == OrderResponseType::Ack ? oms::OrderStatus::New : to_oms(o.status);
  r.exec_type = r.status == oms::OrderStatus::Canceled ? oms::ExecType::Canceled
                : r.status == oms::OrderStatus::Expired  ? oms::ExecType::Expired
                                                         : oms::ExecType::New;
  r.cum_qty = o.executed_qty;
  r.cum_quote = o.cummulative_quote_qty;
  r.transact_time = o.transact_time * kNanosPerMilli;
  r.event_time = r.transact_time;
  return r;
}

std::shared_ptr<OrderGateway> OrderGateway::create(boost::asio::io_context& ioc, net::TlsContextPtr tls,
                                                   std::shared_ptr<RestClient> rest, WsApiOptions ws_options,
                                                   RequestSigner& signer, std::string_view api_key,
                                                   oms::OrderManager& om, GatewayListener& listener,
                                                   OrderGatewayOptions options) {
  std::shared_ptr<OrderGateway> g(new OrderGateway(ioc, rest, signer, api_key, om, listener, std::move(options)));
  g->ws_ = WsApiSession::create(ioc, std::move(tls), std::move(ws_options), signer, api_key, rest->clock(),
                                rest->shared_rate_limits(), *g);
  return g;
}

OrderGateway::OrderGateway(boost::asio::io_context& ioc, std::shared_ptr<RestClient> rest, RequestSigner& signer,
                           std::string_view api_key, oms::OrderManager& om, GatewayListener& listener,
                           OrderGatewayOptions options)
    : ioc_(ioc),
      rest_(std::move(rest)),
      signer_(signer),
      api_key_(api_key),
      om_(om),
      listener_(listener),
      options_(std::move(options)),
      query_timer_(ioc) {}

OrderGateway::~OrderGateway() = default;

void OrderGateway::set_state(GatewayState state) {
  if (state == state_) return;
  spdlog::info("binance gateway: {} -> {}", to_string(state_), to_string(state));
  state_ = state;
  listener_.on_gateway_state(state);
}

void OrderGateway::start() {
  set_state(GatewayState::Starting);
  gap_since_ = now();
  auto after_rest = [self = shared_from_this()](RestReadiness r) {
    if (self->state_ == GatewayState::Stopped) return;
    if (r != RestReadiness::Ready) {
      spdlog::error("binance gateway: REST not ready ({}): trading stays disarmed", to_string(r));
      self->set_state(GatewayState::Failed);
      return;
    }
    if (self->options_.prefer_ws_api) {
      self->ws_->start();  // reconcile() runs once the WS API is subscribed
    } else {
      self->reconcile();
    }
  };
  // The owner may have started REST already (the daemon needs exchangeInfo before it can build
  // the trading loop): then go straight on, without a second time sync and exchangeInfo load.
  if (rest_->readiness() == RestReadiness::Ready) {
    boost::asio::post(ioc_, [after_rest] { after_rest(RestReadiness::Ready); });
  } else {
    rest_->start(std::move(after_rest));
  }
}

void OrderGateway::stop() {
  query_timer_.cancel();
  ws_->stop();
  rest_->stop();
  set_state(GatewayState::Stopped);
}

bool OrderGateway::to_new_order(const oms::Order& order, NewOrder& out) const noexcept {
  const ExchangeInfo* info = rest_->exchange_info();
  const SymbolRules* rules = info != nullptr ? info->find(order.symbol) : nullptr;
  if (rules == nullptr) return false;
  out = NewOrder{};
  out.symbol = order.symbol;
  out.side = order.side;
  out.type = to_wire(order.type);
  out.time_in_force = order.type == tb::OrderType::Limit ? to_wire(order.tif) : TimeInForce::None;
  out.quantity = order.qty;
  if (order.type != tb::OrderType::Market) out.price = order.price;
  out.client_order_id = ClientOrderId::from(order.client_id.view()).value_or(ClientOrderId{});
  // RESULT: the ack carries the status; fills come from execution reports (or queries).
  out.set_response_type = true;
  out.response_type = OrderResponseType::Result;
  out.price_digits = rules->price_digits();
  out.qty_digits = rules->qty_digits();
  return !out.client_order_id.empty();
}

bool OrderGateway::send(const oms::Order& order) {
  NewOrder wire;
  const oms::ClientOrderId id = order.client_id;
  if (!to_new_order(order, wire)) {
    spdlog::error("binance gateway: {} not sendable (symbol {} not in exchangeInfo)", id.view(), order.symbol.view());
    ++counters_.not_sent;
    om_.on_place_rejected(id, 0, now());
    emit(GatewayEventKind::Rejected, id);
    return false;
  }
  if (options_.prefer_ws_api && ws_->ready()) {
    if (ws_->place(wire) != 0) {
      ++counters_.sent_ws;
      return true;
    }
  }
  ++counters_.sent_rest;
  rest_->call(rest_new_order(wire), [self = shared_from_this(), id](RestResult& r) {
    if (r.outcome == RestOutcome::NotSent) {
      ++self->counters_.not_sent;
      self->on_place_result(id, false, false, 0, nullptr);
      return;
    }
    if (r.ok() && parse_order(self->parser_, r.body, self->response_) == ParseStatus::Ok) {
      self->on_place_result(id, true, false, 0, &self->response_);
      return;
    }
    const bool unknown = r.outcome == RestOutcome::Unknown || r.outcome == RestOutcome::Failed || r.ok();
    self->on_place_result(id, false, unknown, r.error.code, nullptr);
  });
  return true;
}

void OrderGateway::on_place_result(const oms::ClientOrderId& id, bool ok, bool unknown, std::int32_t code,
                                   const OrderResponse* r) {
  if (ok && r != nullptr) {
    // The user stream's NEW may have come first: then this answer changes nothing to report.
    if (changed(apply_report(response_to_report(*r)))) emit(GatewayEventKind::Acked, id);
    return;
  }
  if (unknown) {
    ++counters_.unknown;
    om_.on_place_unknown(id, now());
    emit(GatewayEventKind::Unknown, id);
    schedule_queries(options_.unknown_query_delay);
    return;
  }
  om_.on_place_rejected(id, code, now());
  emit(GatewayEventKind::Rejected, id, code);
}

bool OrderGateway::cancel(const oms::ClientOrderId& id) {
  if (om_.request_cancel(id, now()) != oms::CancelResult::Requested) return false;
  const oms::Order* o = om_.find(id);
  if (o == nullptr) return false;
  send_cancel(*o);
  return true;
}

bool OrderGateway::send_requested_cancel(const oms::ClientOrderId& id) {
  const oms::Order* o = om_.find(id);
  if (o == nullptr || o->status != oms::OrderStatus::PendingCancel) return false;
  send_cancel(*o);
  return true;
}

std::size_t OrderGateway::send_requested_cancels(const Symbol& symbol) {
  cancel_scratch_.clear();  // ids first: sending must not run inside the manager's iteration
  om_.for_each_live([&](const oms::Order& o) {
    if (o.status == oms::OrderStatus::PendingCancel && (symbol.empty() || o.symbol == symbol)) {
      cancel_scratch_.push_back(o.client_id);
    }
  });
  std::size_t sent = 0;
  for (const auto& id : cancel_scratch_) sent += send_requested_cancel(id) ? 1U : 0U;
  return sent;
}

bool OrderGateway::replace(const oms::ClientOrderId& id, const OrderIntent& intent) {
  if (!cancel(id)) return false;
  replaces_.push_back({id, intent});
  return true;
}

void OrderGateway::send_cancel(const oms::Order& order) {
  OrderRef ref;
  ref.symbol = order.symbol;
  ref.order_id = order.exchange_id;
  ref.orig_client_order_id = ClientOrderId::from(order.client_id.view()).value_or(ClientOrderId{});
  if (options_.prefer_ws_api && ws_->ready() && ws_->cancel(ref) != 0) {
    ++counters_.sent_ws;
    return;
  }
  ++counters_.sent_rest;
  const oms::ClientOrderId id = order.client_id;
  rest_->call(rest_cancel_order(ref), [self = shared_from_this(), id](RestResult& r) {
    if (r.ok() && parse_order(self->parser_, r.body, self->response_) == ParseStatus::Ok) {
      self->on_cancel_result(id, true, false, 0, &self->response_);
    } else if (r.outcome == RestOutcome::Rejected || r.outcome == RestOutcome::NotSent) {
      self->on_cancel_result(id, false, false, r.error.code, nullptr);
    } else {
      self->on_cancel_result(id, false, true, r.error.code, nullptr);
    }
  });
}

void OrderGateway::on_cancel_result(const oms::ClientOrderId& id, bool ok, bool unknown, std::int32_t code,
                                    const OrderResponse* r) {
  if (ok && r != nullptr) {
    if (changed(apply_report(response_to_report(*r)))) emit(GatewayEventKind::Canceled, id);
    return;
  }
  if (unknown) {
    om_.on_cancel_unknown(id, now());
    schedule_queries(options_.unknown_query_delay);
    return;
  }
  om_.on_cancel_rejected(id, code, now());
  emit(GatewayEventKind::CancelRejected, id, code);
  if (code == error_code::kCancelRejected || code == error_code::kNoSuchOrder) schedule_queries(0);
  // A replace whose cancel failed is dropped: the old order may have filled.
  std::erase_if(replaces_, [&](const PendingReplace& p) { return p.old_id == id; });
}

void OrderGateway::send_query(const oms::ClientOrderId& id) {
  const oms::Order* o = om_.find(id);
  if (o == nullptr) return;
  OrderRef ref;
  ref.symbol = o->symbol;
  ref.orig_client_order_id = ClientOrderId::from(id.view()).value_or(ClientOrderId{});
  ++counters_.queries;
  if (options_.prefer_ws_api && ws_->ready() && ws_->query(ref) != 0) return;
  rest_->call(rest_query_order(ref), [self = shared_from_this(), id](RestResult& r) {
    const bool ok = r.ok() && parse_order(self->parser_, r.body, self->response_) == ParseStatus::Ok;
    self->on_query_result(id, ok, r.error.code, ok ? &self->response_ : nullptr);
  });
}

void OrderGateway::on_query_result(const oms::ClientOrderId& id, bool ok, std::int32_t code, const OrderResponse* r) {
  if (ok && r != nullptr) {
    om_.on_order_query(id, to_oms_order(*r), now());
  } else if (code == error_code::kNoSuchOrder) {
    om_.on_order_query(id, std::nullopt, now());
  } else {
    return;  // transport trouble: the next sweep asks again
  }
  emit(GatewayEventKind::Resolved, id);
}

void OrderGateway::schedule_queries(Nanos delay) {
  if (query_armed_ || state_ == GatewayState::Stopped) return;
  query_armed_ = true;
  query_timer_.expires_after(std::chrono::nanoseconds(delay));
  query_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->query_armed_ = false;
    if (ec || self->state_ == GatewayState::Stopped) return;
    std::vector<oms::ClientOrderId> ids;  // cold path (unknown outcomes are rare)
    self->om_.for_each_needing_query([&](const oms::Order& o) {
      if (o.needs_query) ids.push_back(o.client_id);
    });
    for (const auto& id : ids) self->send_query(id);
    if (!ids.empty()) self->schedule_queries(self->options_.query_interval);
  });
}

oms::ReportResult OrderGateway::apply_report(const oms::ExecutionReport& report) {
  const oms::ReportResult res = om_.on_execution_report(report, now());
  if (report.trade_id >= 0) note_trade(report.symbol, report.trade_id);
  // Replaces waiting for their cancel: go on once the old order is terminal.
  if (!replaces_.empty()) {
    for (std::size_t i = 0; i < replaces_.size();) {
      const oms::Order* old = om_.find(replaces_[i].old_id);
      if (old != nullptr && old->live()) {
        ++i;
        continue;
      }
      const OrderIntent intent = replaces_[i].intent;
      replaces_.erase(replaces_.begin() + static_cast<std::ptrdiff_t>(i));
      const oms::SubmitResult sub = om_.submit(intent, now());
      if (sub.accepted()) send(*sub.order);
    }
  }
  return res;
}

void OrderGateway::emit(GatewayEventKind kind, const oms::ClientOrderId& id, std::int32_t code) {
  GatewayEvent e;
  e.kind = kind;
  e.client_id = id;
  e.order = om_.find(id);
  e.error_code = code;
  listener_.on_gateway_event(e);
}

// ---- WS API ----

void OrderGateway::on_ws_api_completion(const WsApiCompletion& c) {
  const oms::ClientOrderId id = oms_id(c.client_order_id.view());
  const bool ok = c.outcome == WsApiOutcome::Ok && c.response != nullptr;
  const bool unknown = c.outcome == WsApiOutcome::Unknown;
  const std::int32_t code = c.response != nullptr && c.response->has_error ? c.response->error.code : 0;
  const OrderResponse* order = ok ? &c.response->order : nullptr;
  if (code != 0) rest_->on_exchange_error(code, "ws-api", c.response->error.msg);
  switch (c.method) {
    case WsApiMethod::OrderPlace: on_place_result(id, ok, unknown, code, order); break;
    case WsApiMethod::OrderCancel: on_cancel_result(id, ok, unknown, code, order); break;
    case WsApiMethod::OrderStatus: on_query_result(id, ok, code, order); break;
    default: break;
  }
}

void OrderGateway::on_user_event(const UserDataEvent& event) {
  if (event.type != UserEventType::ExecutionReport) return;  // balances: the position book is fed by fills
  const oms::ExecutionReport r = to_oms_report(event.execution);
  if (!changed(apply_report(r))) return;  // a duplicate, or an answer that already told us
  const oms::ClientOrderId& id =
      r.exec_type == oms::ExecType::Canceled && !r.orig_client_order_id.empty() ? r.orig_client_order_id : r.client_order_id;
  GatewayEvent e;
  e.client_id = id;
  e.order = om_.find(id);
  switch (r.exec_type) {
    case oms::ExecType::Trade:
      e.kind = GatewayEventKind::Filled;
      e.last_qty = r.last_qty;
      e.last_price = r.last_price;
      e.trade_id = r.trade_id;
      e.maker = r.maker;
      break;
    case oms::ExecType::New: e.kind = GatewayEventKind::Acked; break;
    case oms::ExecType::Rejected: e.kind = GatewayEventKind::Rejected; break;
    default: e.kind = GatewayEventKind::Canceled; break;
  }
  listener_.on_gateway_event(e);
}

void OrderGateway::on_ws_api_state(WsApiState state, bool gap) {
  if (state == WsApiState::Ready) {
    const bool first = !ws_was_ready_;
    ws_was_ready_ = true;
    if (gap) ++counters_.gaps;
    if (first || gap) reconcile();
    return;
  }
  if (state == WsApiState::Connecting && ws_was_ready_) {
    // User data interrupted: the strategy must wait for the next reconciliation.
    om_.mark_unreconciled();
    gap_since_ = now();
    if (state_ == GatewayState::Armed) set_state(GatewayState::Reconciling);
  }
}

// ---- reconciliation (cold path) ----

void OrderGateway::reconcile() {
  if (reconciling_) {
    reconcile_again_ = true;
    return;
  }
  reconciling_ = true;
  if (state_ != GatewayState::Starting) set_state(GatewayState::Reconciling);
  struct Run {
    std::size_t next = 0;
    bool trades_phase = false;
    std::int64_t page_from = 0;  // fromId of the next myTrades page of symbols[next]; 0: first page
    Nanos as_of = 0;
    std::vector<oms::ExchangeOrder> open;
    std::vector<oms::ExchangeTrade> trades;
  };
  auto run = std::make_shared<Run>();
  run->as_of = now();
  const std::int64_t since_ms = (gap_since_ - options_.trades_lookback) / kNanosPerMilli;
  auto self = shared_from_this();
  auto step = std::make_shared<std::function<void()>>();
  auto fail = [self](std::string_view what) {
    ++self->counters_.reconcile_failures;
    self->reconciling_ = false;
    spdlog::error("binance gateway: reconciliation failed ({}); retrying", what);
    auto timer = std::make_shared<boost::asio::steady_timer>(self->ioc_, std::chrono::nanoseconds(self->options_.query_interval));
    timer->async_wait([self, timer](const boost::system::error_code& ec) {
      if (!ec && self->state_ != GatewayState::Stopped) self->reconcile();
    });
  };
  // The step holds itself only weakly; the pending REST callback holds it strongly.
  *step = [self, run, wstep = std::weak_ptr<std::function<void()>>(step), fail, since_ms]() {
    auto strong = wstep.lock();
    if (!strong || self->state_ == GatewayState::Stopped) return;
    const auto& symbols = self->options_.symbols;
    if (run->next >= symbols.size() && !run->trades_phase) {
      run->trades_phase = true;
      run->next = 0;
    }
    if (run->trades_phase && run->next >= symbols.size()) {
      const oms::ReconcileInput input{run->open, run->trades, run->as_of};
      const oms::ReconcileReport report = self->om_.reconcile(input, self->now());
      for (const auto& t : run->trades) self->note_trade(t.symbol, t.trade_id);
      ++self->counters_.reconciles;
      spdlog::info("binance gateway: reconciled {} open orders, {} trades: {} differences, ready={}", run->open.size(),
                   run->trades.size(), report.diffs.size(), report.ready);
      self->reconciling_ = false;
      if (self->reconcile_again_) {
        self->reconcile_again_ = false;
        self->reconcile();
        return;
      }
      if (report.ready && self->rest_->readiness() == RestReadiness::Ready) {
        self->set_state(GatewayState::Armed);
      } else {
        self->set_state(GatewayState::Reconciling);
        self->schedule_queries(self->options_.unknown_query_delay);
        auto timer = std::make_shared<boost::asio::steady_timer>(self->ioc_, std::chrono::nanoseconds(self->options_.query_interval));
        timer->async_wait([self, timer](const boost::system::error_code& ec) {
          if (!ec && self->state_ == GatewayState::Reconciling) self->reconcile();
        });
      }
      return;
    }
    const Symbol sym = symbols[run->next];
    if (!run->trades_phase) {
      ++run->next;
      self->rest_->call(rest_open_orders(sym.view()), [self, run, step = strong, fail](RestResult& r) {
        std::vector<OrderResponse> orders;
        if (!r.ok() || parse_orders(self->parser_, r.body, orders) != ParseStatus::Ok) {
          return fail("openOrders");
        }
        for (const auto& o : orders) run->open.push_back(to_oms_order(o));
        (*step)();
      });
    } else {
      const std::int64_t from_id = run->page_from > 0 ? run->page_from : self->trade_cursor(sym).next;
      RestCall call = from_id > 0 ? rest_my_trades_from(sym.view(), from_id) : rest_my_trades_since(sym.view(), since_ms);
      self->rest_->call(std::move(call), [self, run, step = strong, fail, sym, from_id](RestResult& r) {
        if (!r.ok() || parse_my_trades(self->parser_, r.body, self->trades_) != ParseStatus::Ok) {
          return fail("myTrades");
        }
        // A full page may have more behind it: ask again from the id after its last trade.
        if (static_cast<std::int64_t>(self->trades_.size()) >= kMyTradesMaxLimit) {
          const std::int64_t after = self->trades_.back().trade_id + 1;
          if (after <= from_id) return fail("myTrades page does not advance");
          run->page_from = after;
        } else {
          run->page_from = 0;
          ++run->next;
        }
        const std::int64_t floor = self->trade_cursor(sym).floor;
        for (const auto& t : self->trades_) {
          if (t.trade_id < floor) continue;  // already in the restored position
          oms::ExchangeTrade e;
          e.symbol = t.symbol;
          e.trade_id = t.trade_id;
          e.order_id = t.order_id;
          e.side = t.is_buyer ? Side::Buy : Side::Sell;
          e.price = t.price;
          e.qty = t.qty;
          e.commission_raw = t.commission.raw();
          e.commission_asset = asset_of(t.commission_asset.view());
          e.maker = t.is_maker;
          e.time = t.time * kNanosPerMilli;
          run->trades.push_back(e);
        }
        (*step)();
      });
    }
  };
  (*step)();
}

void OrderGateway::set_trade_id_floor(const Symbol& symbol, std::int64_t first_new_trade_id) {
  TradeCursor& cursor = trade_cursor(symbol);
  cursor.floor = first_new_trade_id;
  cursor.next = std::max(cursor.next, first_new_trade_id);
}

OrderGateway::TradeCursor& OrderGateway::trade_cursor(const Symbol& symbol) {
  for (auto& cursor : trade_cursors_) {
    if (cursor.symbol == symbol) return cursor;
  }
  return trade_cursors_.emplace_back(TradeCursor{symbol, 0, 0});
}

void OrderGateway::note_trade(const Symbol& symbol, std::int64_t trade_id) {
  TradeCursor& cursor = trade_cursor(symbol);
  cursor.next = std::max(cursor.next, trade_id + 1);
}

GatewayStatus OrderGateway::status() const {
  GatewayStatus s = counters_;
  s.state = state_;
  s.ws_api = ws_->status();
  s.rest = rest_->status();
  return s;
}

}  // namespace tb::binance
