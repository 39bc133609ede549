#include "tradingbot/app/trading_persistence.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "tradingbot/app/store_service.hpp"
#include "tradingbot/exchange/binance/order_gateway.hpp"
#include "tradingbot/trading/paper_session.hpp"
#include "tradingbot/venue/paper_venue.hpp"

namespace tb::app {

namespace {

store::OrderStatus to_store(oms::OrderStatus s) noexcept {
  switch (s) {
    case oms::OrderStatus::PendingNew: return store::OrderStatus::PendingNew;
    case oms::OrderStatus::New: return store::OrderStatus::New;
    case oms::OrderStatus::PartiallyFilled: return store::OrderStatus::PartiallyFilled;
    case oms::OrderStatus::Filled: return store::OrderStatus::Filled;
    case oms::OrderStatus::PendingCancel: return store::OrderStatus::PendingCancel;
    case oms::OrderStatus::Canceled: return store::OrderStatus::Canceled;
    case oms::OrderStatus::Rejected: return store::OrderStatus::Rejected;
    case oms::OrderStatus::Expired: return store::OrderStatus::Expired;
    case oms::OrderStatus::ExpiredInMatch: return store::OrderStatus::ExpiredInMatch;
    case oms::OrderStatus::Unknown: return store::OrderStatus::PendingNew;  // + kUnknownOutcomeReason
  }
  return store::OrderStatus::PendingNew;
}

std::optional<oms::OrderStatus> from_store(store::OrderStatus s, std::string_view reason) noexcept {
  switch (s) {
    case store::OrderStatus::PendingNew:
      return reason == kUnknownOutcomeReason ? oms::OrderStatus::Unknown : oms::OrderStatus::PendingNew;
    case store::OrderStatus::New: return oms::OrderStatus::New;
    case store::OrderStatus::PartiallyFilled: return oms::OrderStatus::PartiallyFilled;
    case store::OrderStatus::Filled: return oms::OrderStatus::Filled;
    case store::OrderStatus::PendingCancel: return oms::OrderStatus::PendingCancel;
    case store::OrderStatus::Canceled: return oms::OrderStatus::Canceled;
    case store::OrderStatus::Rejected: return oms::OrderStatus::Rejected;
    case store::OrderStatus::Expired: return oms::OrderStatus::Expired;
    case store::OrderStatus::ExpiredInMatch: return oms::OrderStatus::ExpiredInMatch;
  }
  return std::nullopt;
}

store::OrderType to_store(OrderType t) noexcept {
  switch (t) {
    case OrderType::Limit: return store::OrderType::Limit;
    case OrderType::Market: return store::OrderType::Market;
    case OrderType::LimitMaker: return store::OrderType::LimitMaker;
  }
  return store::OrderType::Limit;
}

std::optional<OrderType> from_store(store::OrderType t) noexcept {
  switch (t) {
    case store::OrderType::Limit: return OrderType::Limit;
    case store::OrderType::Market: return OrderType::Market;
    case store::OrderType::LimitMaker: return OrderType::LimitMaker;
    default: return std::nullopt;  // stop orders: the bot never places them
  }
}

store::TimeInForce to_store(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::Gtc: return store::TimeInForce::Gtc;
    case TimeInForce::Ioc: return store::TimeInForce::Ioc;
    case TimeInForce::Fok: return store::TimeInForce::Fok;
  }
  return store::TimeInForce::Gtc;
}

TimeInForce from_store(store::TimeInForce t) noexcept {
  switch (t) {
    case store::TimeInForce::Ioc: return TimeInForce::Ioc;
    case store::TimeInForce::Fok: return TimeInForce::Fok;
    default: return TimeInForce::Gtc;
  }
}

// oms ids are 1..36 characters of Binance's alphabet and the store's field holds 36: no cut.
store::ClientOrderId to_store(const oms::ClientOrderId& id) noexcept { return store::ClientOrderId(id.view()); }

}  // namespace

store::OrderRecord to_order_record(const oms::Order& o, Nanos now, std::string_view reason) {
  store::OrderRecord r;
  r.client_order_id = to_store(o.client_id);
  r.exchange_order_id = o.exchange_id > 0 ? o.exchange_id : 0;
  r.symbol = o.symbol;
  r.side = o.side;
  r.type = to_store(o.type);
  r.tif = o.type == OrderType::Limit ? to_store(o.tif) : store::TimeInForce::None;
  r.status = to_store(o.status);
  r.price = o.price;
  r.qty = o.qty;
  r.filled_qty = o.filled;
  r.cum_quote = o.filled_quote;
  if (!reason.empty()) {
    r.reason = reason;
  } else if (o.status == oms::OrderStatus::Unknown) {
    r.reason = kUnknownOutcomeReason;
  } else if (o.status == oms::OrderStatus::Rejected && o.reject_code != 0) {
    // "code -2010": built without allocation.
    char text[24];
    char* end = text + sizeof(text);
    char* p = end;
    std::int64_t v = o.reject_code < 0 ? -static_cast<std::int64_t>(o.reject_code) : o.reject_code;
    do {
      *--p = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    if (o.reject_code < 0) *--p = '-';
    constexpr std::string_view kPrefix = "code ";
    p -= kPrefix.size();
    std::copy(kPrefix.begin(), kPrefix.end(), p);
    r.reason = std::string_view(p, static_cast<std::size_t>(end - p));
  }
  r.event_time_ns = now;
  return r;
}

store::FillRecord to_fill_record(const oms::Order& o, const oms::Fill& f) {
  store::FillRecord r;
  r.trade_id = f.trade_id;
  r.symbol = f.symbol;
  r.client_order_id = to_store(o.client_id);
  r.exchange_order_id = o.exchange_id > 0 ? o.exchange_id : 0;
  r.side = f.side;
  r.is_maker = f.maker;
  r.price = f.price;
  r.qty = f.qty;
  r.quote_qty = notional(f.price, f.qty);
  r.commission = Qty::from_raw(f.commission_raw);
  r.commission_asset = f.commission_asset.view();
  r.trade_time_ns = f.time;
  return r;
}

store::PositionRecord to_position_record(const oms::SymbolPosition& p, Nanos now) {
  store::PositionRecord r;
  r.symbol = p.symbol;
  r.qty = p.position;
  r.avg_entry_price = p.avg_entry();
  r.realized_pnl = p.realized_pnl;
  r.update_time_ns = now;
  return r;
}

store::KlineRecord to_kline_record(const market::Kline& k) {
  store::KlineRecord r;
  r.symbol = k.symbol;
  r.interval = k.interval.view();
  r.open_time_ns = k.open_time_ms * kNanosPerMilli;
  r.close_time_ns = k.close_time_ms * kNanosPerMilli;
  r.open = k.open;
  r.high = k.high;
  r.low = k.low;
  r.close = k.close;
  r.volume = k.base_volume;
  r.quote_volume = k.quote_volume;
  r.trades = k.trade_count;
  return r;
}

std::optional<oms::RestoredOrder> to_restored_order(const store::OrderRecord& r) {
  const auto status = from_store(r.status, r.reason.view());
  const auto type = from_store(r.type);
  const auto id = oms::ClientOrderId::parse(r.client_order_id.view());
  if (!status || !oms::is_live(*status) || !type || !id) return std::nullopt;
  oms::RestoredOrder o;
  o.client_id = *id;
  o.exchange_id = r.exchange_order_id > 0 ? r.exchange_order_id : -1;
  o.symbol = r.symbol;
  o.side = r.side;
  o.type = *type;
  o.tif = from_store(r.tif);
  o.price = r.price;
  o.qty = r.qty;
  o.status = *status;
  o.filled = r.filled_qty;
  o.filled_quote = r.cum_quote;
  o.updated = r.event_time_ns;
  return o;
}

// ---------------------------------------------------------------------------------------------

void StoreRecorder::enqueue(const store::StoreRecord& record) noexcept {
  const auto kind = static_cast<std::size_t>(store::kind_of(record));
  switch (producer_.enqueue(record)) {
    case store::StoreProducer::EnqueueResult::Queued: ++status_.queued[kind]; break;
    case store::StoreProducer::EnqueueResult::Overflowed: ++status_.overflowed[kind]; break;
    case store::StoreProducer::EnqueueResult::Dropped: ++status_.dropped[kind]; break;
  }
}

void StoreRecorder::on_order_changed(const oms::Order& order, Nanos now) noexcept {
  enqueue(to_order_record(order, now, reason_));
}

void StoreRecorder::on_fill_applied(const oms::Order& order, const oms::Fill& fill, Nanos now) noexcept {
  const store::FillRecord f = to_fill_record(order, fill);
  if (f.commission_asset.view().size() != fill.commission_asset.view().size()) ++status_.truncated;
  enqueue(f);
  // Position and balance after the fill (the book already reflects it).
  if (const oms::SymbolPosition* p = book_.find(fill.symbol); p != nullptr) enqueue(to_position_record(*p, now));
  if (options_.record_quote_balance) {
    store::BalanceRecord b;
    b.asset = book_.quote().view();
    b.free = Qty::from_raw(book_.cash().raw());
    b.update_time_ns = now;
    enqueue(b);
  }
}

void StoreRecorder::on_closed_kline(const market::Kline& kline, Nanos /*now*/) noexcept {
  const store::KlineRecord k = to_kline_record(kline);
  if (k.interval.view().size() != kline.interval.view().size()) ++status_.truncated;
  enqueue(k);
}

void StoreRecorder::on_equity_sample(const trading::EquitySample& sample, const oms::PositionBook& book) noexcept {
  if (equity_seen_ && sample.time - last_equity_ < options_.equity_min_interval) {
    ++status_.equity_skipped;
    return;
  }
  equity_seen_ = true;
  last_equity_ = sample.time;
  store::EquitySample e;
  e.quote_asset = book.quote().view();
  e.equity = sample.equity;
  e.realized_pnl = book.realized_pnl();
  e.unrealized_pnl = book.unrealized_pnl();
  e.sample_time_ns = sample.time;
  enqueue(e);
}

// ---------------------------------------------------------------------------------------------
// Restart recovery

std::string RestoreSummary::describe() const {
  std::string out = std::to_string(positions) + " position(s), " + std::to_string(open_orders) + " open order(s)";
  if (paper_canceled > 0) out += " (" + std::to_string(paper_canceled) + " canceled: " + std::string(kPaperRestartReason) + ")";
  if (cash_restored) out += ", quote cash";
  if (skipped > 0) out += ", " + std::to_string(skipped) + " skipped";
  return out;
}

std::int64_t paper_id_floor(const store::RecoveredState& state, Nanos wall_now) noexcept {
  std::int64_t floor = wall_now > 0 ? (wall_now / kNanosPerSecond) << 24 : 1;
  for (const store::LastFill& f : state.last_fills) floor = std::max(floor, f.trade_id + 1);
  for (const store::OrderRecord& o : state.open_orders) floor = std::max(floor, o.exchange_order_id + 1);
  return floor;
}

RestoreSummary restore_trading_state(trading::TradingLoop& loop, const store::RecoveredState& state,
                                     venue::PaperVenue* paper, StoreRecorder* recorder, Nanos now) {
  RestoreSummary sum;
  oms::OrderManager& om = loop.order_manager();
  oms::PositionBook& book = om.book();

  for (const store::PositionRecord& p : state.positions) {
    if (book.restore_position(p.symbol, p.qty, p.avg_entry_price, p.realized_pnl)) {
      ++sum.positions;
    } else {
      ++sum.skipped;
      sum.problems.push_back("position " + p.symbol.str() + " " + p.qty.to_string() +
                             ": symbol not traded by this configuration, not restored");
    }
  }
  if (paper != nullptr) {
    // The paper account's quote balance, fees included (the last BalanceRecord of the quote).
    for (const store::BalanceRecord& b : state.balances) {
      if (b.asset.view() == book.quote().view()) {
        book.restore_cash(Money::from_raw(b.free.raw()));
        sum.cash_restored = true;
      }
    }
  }

  std::vector<oms::RestoredOrder> restored;
  for (const store::OrderRecord& r : state.open_orders) {
    const auto order = to_restored_order(r);
    if (!order || !om.restore_order(*order, now)) {
      ++sum.skipped;
      sum.problems.push_back("open order " + std::string(r.client_order_id.view()) + " (" + r.symbol.str() + " " +
                             std::string(store::to_string(r.status)) + "): cannot be restored (symbol not traded, "
                             "unsupported type or order pool full); reconcile it by hand");
      continue;
    }
    restored.push_back(*order);
  }
  sum.open_orders = restored.size();

  if (paper != nullptr) {
    // Nothing of the previous run rests on a fresh paper venue: each restored order is closed by
    // a CANCELED report "from the venue", through the order manager, so it is recorded.
    if (recorder != nullptr) recorder->set_reason(kPaperRestartReason);
    for (const oms::RestoredOrder& o : restored) {
      oms::ExecutionReport r;
      r.symbol = o.symbol;
      r.client_order_id = o.client_id;
      r.order_id = o.exchange_id;
      r.side = o.side;
      r.type = o.type;
      r.tif = o.tif;
      r.price = o.price;
      r.qty = o.qty;
      r.exec_type = oms::ExecType::Canceled;
      r.status = oms::OrderStatus::Canceled;
      r.cum_qty = o.filled;
      r.cum_quote = o.filled_quote;
      r.event_time = now;
      r.transact_time = now;
      loop.on_execution_report(r, now);
      const oms::Order* after = om.find(o.client_id);
      if (after != nullptr && after->status == oms::OrderStatus::Canceled) ++sum.paper_canceled;
    }
    if (recorder != nullptr) recorder->set_reason({});
    const std::int64_t floor = paper_id_floor(state, now);
    paper->raise_id_floors(floor, floor);
  } else {
    for (const store::LastFill& f : state.last_fills) {
      store::LastFill from = f;
      from.trade_id = f.trade_id + 1;
      sum.trades_from.push_back(from);
    }
  }
  if (recorder != nullptr) recorder->note_restored(sum.positions, sum.open_orders, sum.paper_canceled);
  return sum;
}

std::unique_ptr<StoreRecorder> attach_store_to_paper_session(trading::PaperSession& session, StoreService& store,
                                                             Nanos now) {
  auto recorder = std::make_unique<StoreRecorder>(store.producer(), session.loop().positions(), StoreRecorderOptions{});
  session.loop().set_observer(recorder.get());
  const store::RecoveredState state = store.take_recovered();
  const RestoreSummary sum = restore_trading_state(session.loop(), state, &session.venue(), recorder.get(), now);
  for (const std::string& problem : sum.problems) spdlog::warn("restore: {}", problem);
  if (sum.paper_canceled > 0) {
    spdlog::warn("restore: {} open paper order(s) of the previous run canceled: {} (their fills stay in the "
                 "positions)",
                 sum.paper_canceled, kPaperRestartReason);
  }
  spdlog::info("restore: from {}: {}; paper ids continue at {}", store::to_string(state.source), sum.describe(),
               session.venue().next_trade_id());
  return recorder;
}

std::unique_ptr<StoreRecorder> attach_store_to_live_loop(trading::TradingLoop& loop, binance::OrderGateway& gateway,
                                                         StoreService& store, Nanos now) {
  StoreRecorderOptions options;
  options.record_quote_balance = false;  // the account's balances are the exchange's, not the book's cash
  auto recorder = std::make_unique<StoreRecorder>(store.producer(), loop.positions(), options);
  loop.set_observer(recorder.get());
  const store::RecoveredState state = store.take_recovered();
  const RestoreSummary sum = restore_trading_state(loop, state, nullptr, recorder.get(), now);
  for (const std::string& problem : sum.problems) spdlog::warn("restore: {}", problem);
  for (const store::LastFill& from : sum.trades_from) gateway.set_trade_id_floor(from.symbol, from.trade_id);
  spdlog::info("restore: from {}: {}; the live venue reconciles them with the exchange before the strategy arms",
               store::to_string(state.source), sum.describe());
  return recorder;
}

// ---------------------------------------------------------------------------------------------
// Status

void write_store_recorder_status(http::JsonWriter& json, const StoreRecorderStatus& s) {
  json.key("recorder").begin_object();
  json.member("active", s.active);
  json.key("records").begin_object();
  for (std::size_t k = 0; k < store::kRecordKinds; ++k) {
    json.key(store::to_string(static_cast<store::RecordKind>(k))).begin_object();
    json.member("queued", s.queued[k]);
    json.member("overflowed", s.overflowed[k]);
    json.member("dropped", s.dropped[k]);
    json.end_object();
  }
  json.end_object();
  json.member("equity_skipped", s.equity_skipped);
  json.member("truncated", s.truncated);
  json.member("restored_positions", s.restored_positions);
  json.member("restored_orders", s.restored_orders);
  json.member("paper_canceled", s.paper_canceled);
  json.end_object();
}

void write_store_recorder_metrics(http::PrometheusWriter& m, const StoreRecorderStatus& s) {
  m.family("store_recorded_total",
           "Records the trading loop handed to the store, by kind and outcome (queued: into the ring; overflowed: "
           "ring full, parked and still stored; dropped: ring full, kline/equity sample not stored)",
           http::MetricType::Counter);
  for (std::size_t k = 0; k < store::kRecordKinds; ++k) {
    const std::string_view kind = store::to_string(static_cast<store::RecordKind>(k));
    m.sample({{"kind", kind}, {"outcome", "queued"}}, s.queued[k]);
    m.sample({{"kind", kind}, {"outcome", "overflowed"}}, s.overflowed[k]);
    m.sample({{"kind", kind}, {"outcome", "dropped"}}, s.dropped[k]);
  }
  m.counter("store_equity_skipped_total", "Equity samples not stored because of the bounded equity rate",
            s.equity_skipped);
  m.gauge("store_restored_positions", "Positions restored from the store at start", s.restored_positions);
  m.gauge("store_restored_orders", "Open orders restored from the store at start", s.restored_orders);
  m.gauge("store_paper_canceled_orders", "Restored open paper orders canceled because the paper venue restarted",
          s.paper_canceled);
}

}  // namespace tb::app
