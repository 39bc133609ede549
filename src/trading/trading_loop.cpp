#include "tradingbot/trading/trading_loop.hpp"

#include <stdexcept>
#include <string>

#include "tradingbot/venue/paper_venue.hpp"

namespace tb::trading {

using oms::OrderStatus;
using risk::RejectReason;
using strategy::OrderEvent;

TradingLoop::TradingLoop(const TradingSetup& setup, venue::Venue& venue, venue::PaperVenue* paper,
                         std::unique_ptr<strategy::Strategy> strategy)
    : gate_(setup.risk),
      book_(setup.quote_asset, setup.initial_cash),
      oms_(setup.oms, gate_, book_),
      venue_(venue),
      paper_(paper),
      strategy_(std::move(strategy)),
      tag_by_seq_(std::size_t{setup.oms.max_orders} + kMaxTags),
      equity_period_(setup.equity_sample_period),
      equity_capacity_(setup.equity_samples) {
  if (setup.symbols.empty()) throw std::invalid_argument("trading: no symbols to trade");
  if (equity_period_ <= 0 || equity_capacity_ == 0) throw std::invalid_argument("trading: bad equity sampling");
  symbols_.reserve(setup.symbols.size());
  for (const risk::SymbolRules& rules : setup.symbols) {
    const std::string_view name = rules.symbol.view();
    const std::string_view quote = setup.quote_asset.view();
    if (name.size() <= quote.size() || name.substr(name.size() - quote.size()) != quote) {
      throw std::invalid_argument("trading: symbol " + std::string(name) + " is not quoted in " + std::string(quote));
    }
    const auto base = Symbol::parse(name.substr(0, name.size() - quote.size()));
    if (!base || !gate_.set_symbol_rules(rules) || !book_.add_symbol(rules.symbol, *base, setup.quote_asset) ||
        !oms_.add_symbol(rules.symbol)) {
      throw std::invalid_argument("trading: cannot register symbol " + std::string(name));
    }
    SymbolSlot s;
    s.symbol = rules.symbol;
    s.instrument = strategy::Instrument{rules.symbol, rules.tick_size, rules.step_size, rules.min_notional};
    symbols_.push_back(s);
  }
  pending_.reserve(4 * strategy::IntentBuffer::kCapacity);
  equity_ring_.reserve(equity_capacity_);
  venue_.set_listener(this);
}

TradingLoop::~TradingLoop() { venue_.set_listener(nullptr); }

void TradingLoop::alert(std::string_view text) {
  if (alert_) alert_(text);
}

TradingLoop::SymbolSlot* TradingLoop::slot(const Symbol& symbol) noexcept {
  for (SymbolSlot& s : symbols_) {
    if (s.symbol == symbol) return &s;
  }
  return nullptr;
}
const TradingLoop::SymbolSlot* TradingLoop::slot(const Symbol& symbol) const noexcept {
  for (const SymbolSlot& s : symbols_) {
    if (s.symbol == symbol) return &s;
  }
  return nullptr;
}

const strategy::Instrument* TradingLoop::instrument(const Symbol& symbol) const noexcept {
  const SymbolSlot* s = slot(symbol);
  return s != nullptr ? &s->instrument : nullptr;
}

const book::L2Book* TradingLoop::book(const Symbol& symbol) const noexcept {
  const SymbolSlot* s = slot(symbol);
  return s != nullptr ? s->book : nullptr;
}

void TradingLoop::start_without_reconciliation(Nanos now) {
  (void)oms_.reconcile(oms::ReconcileInput{}, now);
  gate_.on_user_stream(now);
  last_now_ = now;
}

// ---------------------------------------------------------------------------------------------
// Strategy plumbing

template <class Fn>
bool TradingLoop::call_strategy(Nanos now, Fn&& fn) noexcept {
  strategy::Context ctx{now, *this, intents_};
  try {
    fn(*strategy_, ctx);
  } catch (const std::exception& e) {
    strategy_fault(std::string("threw: ") + e.what(), now);
    return false;
  } catch (...) {
    strategy_fault("threw a non-standard exception", now);
    return false;
  }
  if (intents_.overflowed()) {
    strategy_fault("flooded its intent buffer (more than " + std::to_string(strategy::IntentBuffer::kCapacity) +
                       " intents from one callback)",
                   now);
    return false;
  }
  return true;
}

template <class Fn>
void TradingLoop::run_strategy(Nanos now, Fn&& fn) noexcept {
  last_now_ = now;
  if (!strategy_enabled() || processing_) return;
  intents_.clear();
  if (!call_strategy(now, fn)) return;
  deliver(now);
}

void TradingLoop::deliver(Nanos now) noexcept {
  if (processing_) return;  // the outer deliver() picks up what was queued
  processing_ = true;
  int round = 0;
  for (; round < kMaxIntentRounds; ++round) {
    if (pending_.empty() && intents_.empty()) break;
    if (strategy_enabled()) {
      for (std::size_t i = 0; i < pending_.size(); ++i) {
        const PendingUpdate p = pending_[i];
        const bool ok = p.is_fill
                            ? call_strategy(now, [&](strategy::Strategy& s, strategy::Context& c) { s.on_fill(p.fill, c); })
                            : call_strategy(now, [&](strategy::Strategy& s, strategy::Context& c) {
                                s.on_order_update(p.update, c);
                              });
        if (!ok) break;
      }
    }
    pending_.clear();
    if (!strategy_enabled()) {
      intents_.clear();
      break;
    }
    for (std::size_t i = 0; i < intents_.size(); ++i) execute(intents_[i], now);
    intents_.clear();
    check_gate_edges(now);
  }
  if (round == kMaxIntentRounds && (!pending_.empty() || !intents_.empty())) {
    pending_.clear();
    intents_.clear();
    processing_ = false;
    strategy_fault("order updates and intents did not settle within " + std::to_string(kMaxIntentRounds) + " rounds",
                   now);
    return;
  }
  processing_ = false;
}

void TradingLoop::strategy_fault(std::string_view why, Nanos now) noexcept {
  if (!strategy_enabled_) return;
  ++counters_.strategy_faults;
  strategy_enabled_ = false;
  try {
    strategy_fault_ = std::string(why);
    alert("strategy " + std::string(strategy_ ? strategy_->name() : "") + " disabled: " + strategy_fault_ +
          "; kill switch tripped");
  } catch (...) {  // out of memory while building a message: the halt below matters more
  }
  gate_.halt(risk::HaltCause::StrategyFault, now);
  check_gate_edges(now);
}

void TradingLoop::check_gate_edges(Nanos now) noexcept {
  if (gate_.has_cause(risk::HaltCause::StrategyFault) && strategy_enabled()) {
    strategy_fault("its intents were rejected more than risk.strategy_reject_limit times", now);
    return;
  }
  if (gate_.mode() == risk::GateMode::Halted) {
    if (!halted_swept_) {
      halted_swept_ = true;
      try {
        alert("trading halted (causes " + std::to_string(gate_.halt_causes()) + "): canceling every order");
      } catch (...) {
      }
      sweep_cancel_all(now);
    }
  } else {
    halted_swept_ = false;
  }
}

void TradingLoop::sweep_cancel_all(Nanos now) noexcept {
  ++counters_.cancel_all;
  for (const SymbolSlot& s : symbols_) {
    if (oms_.request_cancel_all(s.symbol, now) > 0) venue_.cancel_all(s.symbol, now);
  }
}

void TradingLoop::execute(const strategy::Intent& intent, Nanos now) noexcept {
  ++counters_.intents;
  if (intent.tag >= kMaxTags) {
    ++counters_.strategy_misuse;
    return;
  }
  switch (intent.kind) {
    case strategy::IntentKind::Place:
      if (tags_[intent.tag].live) {
        ++counters_.strategy_misuse;  // one live order per tag: the strategy should replace
        return;
      }
      (void)place_for_tag(intent.tag, intent.order, now);
      return;
    case strategy::IntentKind::Cancel: cancel_tag(intent.tag, now); return;
    case strategy::IntentKind::Replace: {
      TagSlot& t = tags_[intent.tag];
      if (t.live) {
        const oms::Order* old = oms_.find(t.id);
        if (old != nullptr && old->live()) {
          const oms::CancelResult cr = oms_.request_cancel(t.id, now);
          if (cr == oms::CancelResult::Requested) {
            venue_.cancel(old->symbol, t.id, now);
            ++counters_.cancels_sent;
          } else if (cr != oms::CancelResult::AlreadyPending) {
            // The old order could not be canceled (rate limit): keep it on the tag, say so.
            ++counters_.intents_rejected;
            PendingUpdate p;
            p.update.tag = intent.tag;
            p.update.event = OrderEvent::Working;
            p.update.symbol = old->symbol;
            p.update.side = old->side;
            p.update.price = old->price;
            p.update.qty = old->qty;
            p.update.filled = old->filled;
            p.update.reason = oms::to_string(cr);
            pending_.push_back(p);
            return;
          }
          // From now on the old order's fills still reach the strategy, its final state does not.
          (void)tag_by_seq_.erase(old->seq);
          (void)tag_by_seq_.insert(old->seq, intent.tag | kSupersededBit);
        }
        t = TagSlot{};
      }
      (void)place_for_tag(intent.tag, intent.order, now);
      return;
    }
  }
}

bool TradingLoop::place_for_tag(strategy::OrderTag tag, const OrderIntent& order, Nanos now) noexcept {
  const oms::SubmitResult r = oms_.submit(order, now);
  if (!r.accepted()) {
    ++counters_.intents_rejected;
    PendingUpdate p;
    p.update.tag = tag;
    p.update.event = OrderEvent::Rejected;
    p.update.symbol = order.symbol;
    p.update.side = order.side;
    p.update.price = order.price;
    p.update.qty = order.qty;
    p.update.reason = risk::to_string(r.reason);
    pending_.push_back(p);
    return false;
  }
  tags_[tag] = TagSlot{r.order->client_id, true};
  (void)tag_by_seq_.insert(r.order->seq, tag);
  ++counters_.orders_sent;
  venue_.place(*r.order, now);
  return true;
}

void TradingLoop::cancel_tag(strategy::OrderTag tag, Nanos now) noexcept {
  TagSlot& t = tags_[tag];
  if (!t.live) {
    ++counters_.strategy_misuse;
    return;
  }
  const oms::Order* o = oms_.find(t.id);
  if (o == nullptr) {  // retired long ago: tell the strategy it is gone
    PendingUpdate p;
    p.update.tag = tag;
    p.update.event = OrderEvent::Done;
    pending_.push_back(p);
    t = TagSlot{};
    return;
  }
  const oms::CancelResult cr = oms_.request_cancel(t.id, now);
  if (cr == oms::CancelResult::Requested) {
    venue_.cancel(o->symbol, t.id, now);
    ++counters_.cancels_sent;
  } else if (cr == oms::CancelResult::RateLimited) {
    ++counters_.intents_rejected;
    PendingUpdate p = order_update(tag, *o, OrderEvent::Working);  // the strategy may ask again later
    p.update.reason = oms::to_string(cr);
    pending_.push_back(p);
  }
}

TradingLoop::PendingUpdate TradingLoop::order_update(strategy::OrderTag tag, const oms::Order& o,
                                                     OrderEvent event) noexcept {
  PendingUpdate p;
  p.update.tag = tag;
  p.update.event = event;
  p.update.symbol = o.symbol;
  p.update.side = o.side;
  p.update.price = o.price;
  p.update.qty = o.qty;
  p.update.filled = o.filled;
  return p;
}

void TradingLoop::after_order_event(const oms::Order* order, const FillNote* fill, bool acked, Nanos now) noexcept {
  if (order == nullptr) return;
  const std::uint32_t found = tag_by_seq_.find(order->seq);
  if (found == oms::FlatIndex::kNotFound) {  // a manual or adopted order: nothing to tell
    check_gate_edges(now);
    return;
  }
  const strategy::OrderTag tag = found & ~kSupersededBit;
  const bool superseded = (found & kSupersededBit) != 0;
  if (fill != nullptr) {
    PendingUpdate p;
    p.is_fill = true;
    p.fill = strategy::StrategyFill{tag, order->symbol, order->side, fill->price, fill->qty, fill->maker};
    pending_.push_back(p);
  }
  const bool terminal = oms::is_terminal(order->status);
  if (!superseded) {
    PendingUpdate p = order_update(tag, *order, OrderEvent::Working);
    if (terminal) {
      p.update.event = order->status == OrderStatus::Rejected ? OrderEvent::Rejected : OrderEvent::Done;
      if (order->status == OrderStatus::Rejected) p.update.reason = "venue";
      if (tags_[tag].live && tags_[tag].id == order->client_id) tags_[tag] = TagSlot{};
      pending_.push_back(p);
    } else if (acked) {
      pending_.push_back(p);
    }
  }
  if (terminal) (void)tag_by_seq_.erase(order->seq);
  deliver(now);
  check_gate_edges(now);
}

// The cancel was refused but the order still works: the strategy may cancel again.
void TradingLoop::after_cancel_refused(const oms::Order* o, Nanos now) noexcept {
  if (o == nullptr) return;
  const std::uint32_t found = tag_by_seq_.find(o->seq);
  if (found == oms::FlatIndex::kNotFound || (found & kSupersededBit) != 0 || !o->live()) return;
  PendingUpdate p = order_update(found, *o, OrderEvent::Working);
  p.update.reason = "cancel rejected";
  pending_.push_back(p);
  deliver(now);
}

// ---------------------------------------------------------------------------------------------
// Venue reports

void TradingLoop::on_execution_report(const oms::ExecutionReport& report, Nanos now) {
  const oms::ReportResult r = oms_.on_execution_report(report, now);
  if (r.fill_applied) ++counters_.fills;
  const FillNote fill{report.last_price, report.last_qty, report.maker};
  after_order_event(r.order, r.fill_applied ? &fill : nullptr, report.exec_type == oms::ExecType::New, now);
}

void TradingLoop::on_place_rejected(const oms::ClientOrderId& id, std::int32_t error_code, Nanos now) {
  ++counters_.venue_rejects;
  if (oms_.on_place_rejected(id, error_code, now)) after_order_event(oms_.find(id), nullptr, false, now);
}

void TradingLoop::on_place_unknown(const oms::ClientOrderId& id, Nanos now) { (void)oms_.on_place_unknown(id, now); }

void TradingLoop::on_cancel_rejected(const oms::ClientOrderId& id, std::int32_t error_code, Nanos now) {
  if (!oms_.on_cancel_rejected(id, error_code, now)) return;
  after_cancel_refused(oms_.find(id), now);
}

void TradingLoop::on_cancel_unknown(const oms::ClientOrderId& id, Nanos now) { (void)oms_.on_cancel_unknown(id, now); }

void TradingLoop::on_user_stream_alive(Nanos now) { gate_.on_user_stream(now); }

void TradingLoop::on_user_stream_lost(Nanos /*now*/) { oms_.mark_unreconciled(); }

void TradingLoop::on_order_applied(const venue::AppliedChange& change, Nanos now) {
  using Kind = venue::AppliedChange::Kind;
  const oms::Order* order = oms_.find(change.client_id);
  switch (change.kind) {
    case Kind::Filled: {
      ++counters_.fills;
      const FillNote fill{change.last_price, change.last_qty, change.maker};
      after_order_event(order, &fill, false, now);
      return;
    }
    case Kind::Rejected: ++counters_.venue_rejects; [[fallthrough]];
    case Kind::Canceled:
    case Kind::Resolved: after_order_event(order, nullptr, false, now); return;
    case Kind::Acked: after_order_event(order, nullptr, true, now); return;
    case Kind::CancelRejected: after_cancel_refused(order, now); return;
    case Kind::Unknown: return;  // nothing changed that the strategy could act on
  }
}

// ---------------------------------------------------------------------------------------------
// Market events

void TradingLoop::on_mid(const Symbol& symbol, Price mid, Nanos now) noexcept {
  oms_.on_mid(symbol, mid, now);
  check_gate_edges(now);
}

void TradingLoop::on_book_ticker(const market::BookTicker& t, Nanos now) {
  ++counters_.market_events;
  if (slot(t.symbol) != nullptr && t.bid_price.is_positive() && t.ask_price > t.bid_price) {
    on_mid(t.symbol, strategy::mid_of(t.bid_price, t.ask_price), now);
  } else {
    gate_.on_market_heartbeat(now);
  }
  run_strategy(now, [&](strategy::Strategy& s, strategy::Context& c) { s.on_top_of_book(t, c); });
  venue_.poll(now);
}

void TradingLoop::on_book_update(const Symbol& symbol, const book::L2Book& b, Nanos now) {
  ++counters_.market_events;
  SymbolSlot* s = slot(symbol);
  if (s == nullptr) {
    gate_.on_market_heartbeat(now);
    return;
  }
  s->book = &b;
  if (paper_ != nullptr) paper_->on_book_update(symbol, b, now);
  const auto bid = b.best_bid();
  const auto ask = b.best_ask();
  if (bid && ask && ask->price > bid->price) {
    on_mid(symbol, strategy::mid_of(bid->price, ask->price), now);
  } else {
    gate_.on_market_heartbeat(now);
  }
  venue_.poll(now);
  run_strategy(now, [&](strategy::Strategy& st, strategy::Context& c) { st.on_book(symbol, b, c); });
  venue_.poll(now);
}

void TradingLoop::on_book_reset(const Symbol& symbol) {
  SymbolSlot* s = slot(symbol);
  if (s == nullptr) return;
  s->book = nullptr;
  if (paper_ != nullptr) paper_->on_book_reset(symbol);
  run_strategy(last_now_, [&](strategy::Strategy& st, strategy::Context& c) { st.on_book_reset(symbol, c); });
}

void TradingLoop::on_trade(const market::Trade& t, Nanos now) {
  ++counters_.market_events;
  gate_.on_market_heartbeat(now);
  if (paper_ != nullptr && slot(t.symbol) != nullptr) {
    paper_->on_trade(t.symbol, t.price, t.qty, t.buyer_is_maker, false, now);
    venue_.poll(now);
  }
  run_strategy(now, [&](strategy::Strategy& s, strategy::Context& c) { s.on_trade(t, c); });
  venue_.poll(now);
}

void TradingLoop::on_agg_trade(const market::AggTrade& t, Nanos now) {
  ++counters_.market_events;
  gate_.on_market_heartbeat(now);
  if (paper_ != nullptr && slot(t.symbol) != nullptr) {
    paper_->on_trade(t.symbol, t.price, t.qty, t.buyer_is_maker, true, now);
    venue_.poll(now);
  }
  run_strategy(now, [&](strategy::Strategy& s, strategy::Context& c) { s.on_agg_trade(t, c); });
  venue_.poll(now);
}

void TradingLoop::on_kline(const market::Kline& k, Nanos now) {
  ++counters_.market_events;
  gate_.on_market_heartbeat(now);
  if (k.closed && observer_ != nullptr) observer_->on_closed_kline(k, now);
  if (k.closed) run_strategy(now, [&](strategy::Strategy& s, strategy::Context& c) { s.on_kline(k, c); });
  venue_.poll(now);
}

void TradingLoop::on_partial_depth(const market::PartialDepth& /*depth*/, Nanos now) {
  ++counters_.market_events;
  gate_.on_market_heartbeat(now);
}

// ---------------------------------------------------------------------------------------------
// Timer

void TradingLoop::sample_equity(Nanos now) noexcept {
  if (now < next_equity_sample_) return;
  next_equity_sample_ = now + equity_period_;
  const EquitySample sample{now, book_.equity()};
  if (equity_ring_.size() < equity_capacity_) {
    equity_ring_.push_back(sample);
  } else {
    equity_ring_[equity_head_] = sample;
    equity_head_ = (equity_head_ + 1) % equity_capacity_;
  }
  ++equity_count_;
  if (observer_ != nullptr) observer_->on_equity_sample(sample, book_);
}

void TradingLoop::on_timer(Nanos now) {
  last_now_ = now;
  venue_.poll(now);
  if (gate_.poll(now) == risk::DeadManSignal::CancelAll) {
    ++counters_.dead_man_trips;
    alert(gate_.market_data_stale(now) ? "dead-man: market data stale, canceling every order"
                                       : "dead-man: user stream stale, canceling every order");
    sweep_cancel_all(now);
  }
  check_gate_edges(now);
  if (flatten_pending_) (void)send_flatten_orders(now);
  run_strategy(now, [&](strategy::Strategy& s, strategy::Context& c) { s.on_timer(c); });
  sample_equity(now);
  venue_.poll(now);
}

// ---------------------------------------------------------------------------------------------
// Control

ControlOutcome TradingLoop::halt(Nanos now) {
  gate_.halt(risk::HaltCause::Manual, now);
  check_gate_edges(now);
  venue_.poll(now);
  return {true, "halted: new orders refused, open orders canceled", {}};
}

ControlOutcome TradingLoop::resume(Nanos now) {
  const bool faulted = strategy_ != nullptr && !strategy_enabled_;
  gate_.resume(now);
  halted_swept_ = false;
  return {true, faulted ? "resumed; the strategy stays disabled after its fault until restart" : "resumed", {}};
}

ControlOutcome TradingLoop::cancel_all(Nanos now) {
  sweep_cancel_all(now);
  venue_.poll(now);
  return {true, "cancel-all sent", {}};
}

std::string TradingLoop::send_flatten_orders(Nanos now) {
  std::string failures;
  bool waiting = false;
  for (const SymbolSlot& s : symbols_) {
    const Qty pos = book_.position(s.symbol);
    const Qty size = strategy::floor_qty(pos.is_negative() ? -pos : pos, s.instrument.step_size);
    if (!size.is_positive()) continue;
    if (oms_.exposure(s.symbol).open_orders > 0) {
      waiting = true;  // cancels still in flight: their quantity would count against REDUCING
      continue;
    }
    OrderIntent in;
    in.symbol = s.symbol;
    in.side = pos.is_positive() ? Side::Sell : Side::Buy;
    in.type = OrderType::Market;
    in.qty = size;
    const oms::SubmitResult r = oms_.submit(in, now);
    if (!r.accepted()) {
      failures += std::string(failures.empty() ? "" : ", ") + s.symbol.str() + ": " + std::string(risk::to_string(r.reason));
      continue;
    }
    ++counters_.orders_sent;
    venue_.place(*r.order, now);
  }
  flatten_pending_ = waiting && failures.empty();
  return failures;
}

ControlOutcome TradingLoop::flatten(Nanos now) {
  sweep_cancel_all(now);
  venue_.poll(now);  // zero-latency venues confirm the cancels right here
  const std::string failures = send_flatten_orders(now);
  venue_.poll(now);
  if (!failures.empty()) return {false, "flatten refused for " + failures, {}};
  return {true, flatten_pending_ ? "flatten: canceling open orders first, then closing positions" : "flatten sent", {}};
}

ControlOutcome TradingLoop::manual_order(const OrderIntent& intent, Nanos now) {
  if (slot(intent.symbol) == nullptr) return {false, "symbol " + intent.symbol.str() + " is not traded", {}};
  const oms::SubmitResult r = oms_.submit(intent, now);
  if (!r.accepted()) return {false, std::string(risk::to_string(r.reason)), {}};
  ++counters_.manual_orders;
  ++counters_.orders_sent;
  ControlOutcome out{true, "accepted", r.order->client_id};
  venue_.place(*r.order, now);
  venue_.poll(now);
  return out;
}

ControlOutcome TradingLoop::manual_cancel(const Symbol& symbol, const oms::ClientOrderId& id, Nanos now) {
  const oms::Order* o = oms_.find(id);
  if (o == nullptr || o->symbol != symbol) return {false, "unknown order", {}};
  const oms::CancelResult cr = oms_.request_cancel(id, now);
  if (cr != oms::CancelResult::Requested) return {false, std::string(oms::to_string(cr)), id};
  ++counters_.cancels_sent;
  venue_.cancel(symbol, id, now);
  venue_.poll(now);
  return {true, "cancel sent", id};
}

// ---------------------------------------------------------------------------------------------

void TradingLoop::snapshot(Nanos now, TradingSnapshot& out) const {
  out.strategy = strategy_ != nullptr ? std::string(strategy_->name()) : std::string();
  out.strategy_enabled = strategy_enabled();
  out.strategy_fault = strategy_fault_;
  out.mode = gate_.mode();
  out.halt_causes = gate_.halt_causes();
  out.live_orders = oms_.live_orders();
  out.counters = counters_;
  out.oms = oms_.counters();
  for (std::size_t i = 0; i < risk::kRejectReasonCount; ++i) out.rejects[i] = gate_.rejects(static_cast<RejectReason>(i));
  out.risk_accepted = gate_.accepted();
  book_.snapshot(now, out.portfolio);
  out.equity_samples = equity_count_;
}

}  // namespace tb::trading
