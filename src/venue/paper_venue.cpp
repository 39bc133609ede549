#include "tradingbot/venue/paper_venue.hpp"

#include <algorithm>

namespace tb::venue {

using book::BookSide;
using oms::ExecType;
using oms::OrderStatus;

namespace {
// Binance codes the paper venue answers with.
constexpr std::int32_t kOrderWouldTrade = -2010;  // LIMIT_MAKER that would take liquidity
constexpr std::int32_t kUnknownOrder = -2011;     // cancel of an order that is not open
constexpr std::int32_t kTooManyOrders = -1015;
constexpr int kMaxPollRounds = 1'000;  // bounds a zero-latency ping-pong between loop and venue
}  // namespace

PaperVenue::PaperVenue(const PaperVenueConfig& config) : config_(config) {
  orders_.reserve(config.max_orders);
  actions_.reserve(std::size_t{config.max_orders} * 4);
  outbound_.reserve(std::size_t{config.max_orders} * 8);
  books_.reserve(64);
}

PaperVenue::SimOrder* PaperVenue::find(const oms::ClientOrderId& id) noexcept {
  for (SimOrder& o : orders_) {
    if (!o.done && o.id == id) return &o;
  }
  return nullptr;
}

const book::L2Book* PaperVenue::book_of(const Symbol& symbol) const noexcept {
  for (const BookRef& b : books_) {
    if (b.symbol == symbol) return b.book;
  }
  return nullptr;
}

std::size_t PaperVenue::resting_orders() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(orders_.begin(), orders_.end(), [](const SimOrder& o) { return o.resting && !o.done; }));
}

std::optional<Qty> PaperVenue::queue_ahead(const oms::ClientOrderId& id) const noexcept {
  for (const SimOrder& o : orders_) {
    if (!o.done && o.resting && o.id == id) return o.queue_ahead;
  }
  return std::nullopt;
}

void PaperVenue::place(const oms::Order& order, Nanos now) noexcept {
  if (orders_.size() >= config_.max_orders) {
    ++stats_.dropped;
    Outbound out;
    out.due = now + config_.latency;
    out.kind = OutboundKind::PlaceRejected;
    out.code = kTooManyOrders;
    out.report.client_order_id = order.client_id;
    out.report.symbol = order.symbol;
    outbound_.push_back(out);
    return;
  }
  SimOrder o;
  o.id = order.client_id;
  o.symbol = order.symbol;
  o.side = order.side;
  o.type = order.type;
  o.tif = order.tif;
  o.price = order.price;
  o.qty = order.qty;
  orders_.push_back(o);
  actions_.push_back(Action{now + config_.latency, ActionKind::Place, order.symbol, order.client_id});
}

void PaperVenue::cancel(const Symbol& symbol, const oms::ClientOrderId& id, Nanos now) noexcept {
  actions_.push_back(Action{now + config_.latency, ActionKind::Cancel, symbol, id});
}

void PaperVenue::cancel_all(const Symbol& symbol, Nanos now) noexcept {
  actions_.push_back(Action{now + config_.latency, ActionKind::CancelAll, symbol, {}});
}

Nanos PaperVenue::next_due() const noexcept {
  Nanos due = 0;
  if (actions_head_ < actions_.size()) due = actions_[actions_head_].due;
  if (outbound_head_ < outbound_.size()) {
    const Nanos d = outbound_[outbound_head_].due;
    due = due == 0 ? d : std::min(due, d);
  }
  return due;
}

void PaperVenue::poll(Nanos now) noexcept {
  if (polling_) return;  // a listener callback called back into us: the outer poll continues
  polling_ = true;
  if (listener_ != nullptr) listener_->on_user_stream_alive(now);
  for (int round = 0; round < kMaxPollRounds; ++round) {
    bool progressed = false;
    while (actions_head_ < actions_.size() && actions_[actions_head_].due <= now) {
      const Action a = actions_[actions_head_++];
      arrive(a, a.due);
      progressed = true;
    }
    remove_done();
    while (outbound_head_ < outbound_.size() && outbound_[outbound_head_].due <= now) {
      const Outbound out = outbound_[outbound_head_++];  // copy: the listener may push more
      emit(out);
      progressed = true;
    }
    if (!progressed) break;
  }
  // Reclaim consumed FIFO prefixes without releasing capacity.
  if (actions_head_ == actions_.size()) {
    actions_.clear();
    actions_head_ = 0;
  } else if (actions_head_ > actions_.size() / 2) {
    actions_.erase(actions_.begin(), actions_.begin() + static_cast<std::ptrdiff_t>(actions_head_));
    actions_head_ = 0;
  }
  if (outbound_head_ == outbound_.size()) {
    outbound_.clear();
    outbound_head_ = 0;
  } else if (outbound_head_ > outbound_.size() / 2) {
    outbound_.erase(outbound_.begin(), outbound_.begin() + static_cast<std::ptrdiff_t>(outbound_head_));
    outbound_head_ = 0;
  }
  polling_ = false;
}

void PaperVenue::emit(const Outbound& out) noexcept {
  if (listener_ == nullptr) return;
  switch (out.kind) {
    case OutboundKind::Report: listener_->on_execution_report(out.report, out.due); break;
    case OutboundKind::PlaceRejected:
      listener_->on_place_rejected(out.report.client_order_id, out.code, out.due);
      break;
    case OutboundKind::CancelRejected:
      listener_->on_cancel_rejected(out.report.client_order_id, out.code, out.due);
      break;
  }
}

void PaperVenue::arrive(const Action& a, Nanos now) noexcept {
  switch (a.kind) {
    case ActionKind::Place:
      if (SimOrder* o = find(a.id); o != nullptr && !o->resting) arrive_place(*o, now);
      break;
    case ActionKind::Cancel: arrive_cancel(a.id, now); break;
    case ActionKind::CancelAll:
      for (SimOrder& o : orders_) {
        if (o.done || !o.resting || o.symbol != a.symbol) continue;
        report(o, ExecType::Canceled, OrderStatus::Canceled, now);
        o.done = true;
        ++stats_.cancels;
      }
      break;
  }
}

void PaperVenue::arrive_place(SimOrder& o, Nanos now) noexcept {
  ++stats_.orders;
  o.order_id = next_order_id_++;
  const book::L2Book* book = book_of(o.symbol);
  const BookSide opposite = o.side == Side::Buy ? BookSide::Ask : BookSide::Bid;
  const bool market = o.type == OrderType::Market;
  const auto within = [&](Price level) {
    return market || (o.side == Side::Buy ? level <= o.price : level >= o.price);
  };
  std::size_t n = 0;
  if (book != nullptr) n = book->top(opposite, levels_);
  const bool marketable = n > 0 && within(levels_[0].price);

  if (o.type == OrderType::LimitMaker && marketable) {
    ++stats_.rejects;
    Outbound out;
    out.due = now + config_.latency;
    out.kind = OutboundKind::PlaceRejected;
    out.code = kOrderWouldTrade;
    out.report.client_order_id = o.id;
    out.report.symbol = o.symbol;
    outbound_.push_back(out);
    o.done = true;
    return;
  }
  report(o, ExecType::New, OrderStatus::New, now);

  const bool immediate = market || (o.type == OrderType::Limit && o.tif != TimeInForce::Gtc);
  if (o.type == OrderType::Limit && o.tif == TimeInForce::Fok) {
    Qty available;
    for (std::size_t i = 0; i < n && within(levels_[i].price); ++i) available += levels_[i].qty;
    if (available < o.qty) n = 0;  // nothing trades; the order expires below
  }
  for (std::size_t i = 0; i < n && o.filled < o.qty && within(levels_[i].price); ++i) {
    fill(o, levels_[i].price, min(o.qty - o.filled, levels_[i].qty), false, now);
  }
  if (o.filled == o.qty) {
    o.done = true;
    return;
  }
  if (immediate) {
    report(o, ExecType::Expired, OrderStatus::Expired, now);
    ++stats_.expired;
    o.done = true;
    return;
  }
  o.resting = true;
  o.queue_ahead = book != nullptr ? book->qty_at(o.side == Side::Buy ? BookSide::Bid : BookSide::Ask, o.price) : Qty{};
}

void PaperVenue::arrive_cancel(const oms::ClientOrderId& id, Nanos now) noexcept {
  SimOrder* o = find(id);
  if (o == nullptr || !o->resting) {
    Outbound out;
    out.due = now + config_.latency;
    out.kind = OutboundKind::CancelRejected;
    out.code = kUnknownOrder;
    out.report.client_order_id = id;
    outbound_.push_back(out);
    return;
  }
  report(*o, ExecType::Canceled, OrderStatus::Canceled, now);
  o->done = true;
  ++stats_.cancels;
}

void PaperVenue::fill(SimOrder& o, Price price, Qty qty, bool maker, Nanos now) noexcept {
  if (!qty.is_positive()) return;
  o.filled += qty;
  o.filled_quote += notional(price, qty);
  ++stats_.fills;
  (maker ? stats_.maker_qty : stats_.taker_qty) += qty;
  oms::ExecutionReport r;
  r.symbol = o.symbol;
  r.client_order_id = o.id;
  r.order_id = o.order_id;
  r.side = o.side;
  r.type = o.type;
  r.tif = o.tif;
  r.price = o.price;
  r.qty = o.qty;
  r.exec_type = ExecType::Trade;
  r.status = o.filled == o.qty ? OrderStatus::Filled : OrderStatus::PartiallyFilled;
  r.last_qty = qty;
  r.last_price = price;
  r.cum_qty = o.filled;
  r.cum_quote = o.filled_quote;
  r.commission_raw = static_cast<std::int64_t>(static_cast<Int128>(notional(price, qty).raw()) * config_.fee_bps / 10'000);
  r.commission_asset = config_.fee_asset;
  r.trade_id = next_trade_id_++;
  r.maker = maker;
  r.event_time = now;
  r.transact_time = now;
  Outbound out;
  out.due = now + config_.latency;
  out.report = r;
  outbound_.push_back(out);
  if (o.filled == o.qty) o.done = true;
}

void PaperVenue::report(const SimOrder& o, ExecType exec, OrderStatus status, Nanos now) noexcept {
  Outbound out;
  out.due = now + config_.latency;
  oms::ExecutionReport& r = out.report;
  r.symbol = o.symbol;
  r.client_order_id = o.id;
  if (exec == ExecType::Canceled) r.orig_client_order_id = o.id;
  r.order_id = o.order_id;
  r.side = o.side;
  r.type = o.type;
  r.tif = o.tif;
  r.price = o.price;
  r.qty = o.qty;
  r.exec_type = exec;
  r.status = status;
  r.cum_qty = o.filled;
  r.cum_quote = o.filled_quote;
  r.event_time = now;
  r.transact_time = now;
  outbound_.push_back(out);
}

void PaperVenue::remove_done() noexcept {
  orders_.erase(std::remove_if(orders_.begin(), orders_.end(), [](const SimOrder& o) { return o.done; }),
                orders_.end());
}

void PaperVenue::on_book_update(const Symbol& symbol, const book::L2Book& book, Nanos now) noexcept {
  BookRef* ref = nullptr;
  for (BookRef& b : books_) {
    if (b.symbol == symbol) ref = &b;
  }
  if (ref == nullptr) {
    books_.push_back(BookRef{symbol, &book, false});
  } else {
    ref->book = &book;
  }
  const auto best_bid = book.best_bid();
  const auto best_ask = book.best_ask();
  for (SimOrder& o : orders_) {
    if (o.done || !o.resting || o.symbol != symbol) continue;
    const bool crossed = o.side == Side::Buy ? (best_ask && best_ask->price <= o.price)
                                             : (best_bid && best_bid->price >= o.price);
    if (crossed) {
      fill(o, o.price, o.qty - o.filled, true, now);
      continue;
    }
    const Qty displayed = book.qty_at(o.side == Side::Buy ? BookSide::Bid : BookSide::Ask, o.price);
    o.queue_ahead = min(o.queue_ahead, displayed);
  }
  remove_done();
}

void PaperVenue::on_book_reset(const Symbol& symbol) noexcept {
  for (BookRef& b : books_) {
    if (b.symbol == symbol) b.book = nullptr;
  }
}

void PaperVenue::on_trade(const Symbol& symbol, Price price, Qty qty, bool buyer_is_maker, bool aggregated,
                          Nanos now) noexcept {
  BookRef* ref = nullptr;
  for (BookRef& b : books_) {
    if (b.symbol == symbol) ref = &b;
  }
  if (ref == nullptr) {
    books_.push_back(BookRef{symbol, nullptr, aggregated});
  } else if (aggregated) {
    ref->agg_trades_seen = true;
  } else if (ref->agg_trades_seen) {
    return;  // the same volume arrives (or arrived) as an aggTrade
  }
  // A trade whose resting side was the buyer went through bids: it can fill our buys; the other
  // way round our sells.
  const Side hit = buyer_is_maker ? Side::Buy : Side::Sell;
  Qty available = qty;
  // Orders priced better than the trade were ahead of the whole level: they fill first.
  for (SimOrder& o : orders_) {
    if (!available.is_positive()) break;
    if (o.done || !o.resting || o.symbol != symbol || o.side != hit) continue;
    const bool better = hit == Side::Buy ? o.price > price : o.price < price;
    if (!better) continue;
    const Qty q = min(available, o.qty - o.filled);
    fill(o, o.price, q, true, now);
    available -= q;
  }
  // At the trade's price: the displayed queue ahead of us goes first.
  for (SimOrder& o : orders_) {
    if (!available.is_positive()) break;
    if (o.done || !o.resting || o.symbol != symbol || o.side != hit || o.price != price) continue;
    const Qty ahead = min(available, o.queue_ahead);
    o.queue_ahead -= ahead;
    available -= ahead;
    const Qty q = min(available, o.qty - o.filled);
    fill(o, o.price, q, true, now);
    available -= q;
  }
  remove_done();
}

}  // namespace tb::venue
