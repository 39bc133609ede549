#include "tradingbot/oms/order_manager.hpp"

#include <algorithm>
#include <stdexcept>

namespace tb::oms {

using risk::RejectReason;

namespace {

constexpr std::uint64_t kIdMask = (std::uint64_t{1} << 52) - 1;
constexpr std::int32_t kUnknownOrderCancel = -2011;
constexpr std::int32_t kNoSuchOrder = -2013;

int rank(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::PendingNew:
    case OrderStatus::Unknown: return 0;
    case OrderStatus::New: return 1;
    case OrderStatus::PartiallyFilled: return 2;
    case OrderStatus::PendingCancel: return 2;  // callers use before_cancel instead
    default: return 3;
  }
}

}  // namespace

std::string make_run_prefix(Nanos wall_start) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::uint64_t secs = static_cast<std::uint64_t>(wall_start < 0 ? 0 : wall_start / kNanosPerSecond);
  std::string digits;
  do {
    digits.insert(digits.begin(), kDigits[secs % 36]);
    secs /= 36;
  } while (secs != 0);
  return "tb" + digits;
}

std::string_view to_string(CancelResult r) noexcept {
  switch (r) {
    case CancelResult::Requested: return "requested";
    case CancelResult::NotFound: return "not_found";
    case CancelResult::NotCancelable: return "not_cancelable";
    case CancelResult::AlreadyPending: return "already_pending";
    case CancelResult::RateLimited: return "rate_limited";
  }
  return "?";
}

std::string_view to_string(ReportStatus s) noexcept {
  switch (s) {
    case ReportStatus::Applied: return "applied";
    case ReportStatus::Duplicate: return "duplicate";
    case ReportStatus::Stale: return "stale";
    case ReportStatus::IllegalTransition: return "illegal_transition";
    case ReportStatus::UnknownOrder: return "unknown_order";
    case ReportStatus::Invalid: return "invalid";
  }
  return "?";
}

std::string_view to_string(DiffKind k) noexcept {
  switch (k) {
    case DiffKind::FillRecovered: return "fill_recovered";
    case DiffKind::StatusCorrected: return "status_corrected";
    case DiffKind::ResolvedFilled: return "resolved_filled";
    case DiffKind::ResolvedCanceled: return "resolved_canceled";
    case DiffKind::ResolvedRejected: return "resolved_rejected";
    case DiffKind::StillUnknown: return "still_unknown";
    case DiffKind::Adopted: return "adopted";
    case DiffKind::ForeignFlagged: return "foreign_flagged";
    case DiffKind::QtyMismatch: return "qty_mismatch";
    case DiffKind::IllegalTransition: return "illegal_transition";
    case DiffKind::UnmatchedTrade: return "unmatched_trade";
  }
  return "?";
}

std::size_t ReconcileReport::count(DiffKind k) const noexcept {
  return static_cast<std::size_t>(std::count_if(diffs.begin(), diffs.end(), [k](const ReconcileDiff& d) { return d.kind == k; }));
}

OrderManager::OrderManager(const OmsConfig& config, risk::RiskGate& gate, PositionBook& book)
    : config_(config),
      gate_(gate),
      book_(book),
      by_client_id_(config.max_orders),
      by_exchange_id_(config.max_orders),
      trade_ids_(config.recent_trade_ids) {
  if (config.run_prefix.empty() || config.run_prefix.size() > 15 || !ClientOrderId::is_valid(config.run_prefix))
    throw std::invalid_argument("oms.run_prefix: 1..15 characters from [.A-Z:/a-z0-9_-]");
  if (config.max_orders == 0) throw std::invalid_argument("oms.max_orders: must be > 0");
  if (config.recent_trade_ids == 0) throw std::invalid_argument("oms.recent_trade_ids: must be > 0");
  if (config.not_found_grace < 0) throw std::invalid_argument("oms.not_found_grace_ms: must be >= 0");
  prefix_id_ = ClientOrderId::from(config.run_prefix);
  slots_ = ZeroedArray<Slot>(config.max_orders);
  free_.reserve(config.max_orders);
  for (std::uint32_t k = config.max_orders; k > 0; --k) free_.push_back(k - 1);
  retire_queue_.assign(config.max_orders, 0);
  trade_ring_ = ZeroedArray<std::uint64_t>(config.recent_trade_ids);
  symbols_.reserve(PositionBook::kMaxSymbols);
}

bool OrderManager::add_symbol(const Symbol& symbol) {
  if (symbol_index(symbol) >= 0) return true;
  if (symbols_.size() >= PositionBook::kMaxSymbols) return false;
  symbols_.push_back(SymbolExposure{symbol, Qty{}, Qty{}, 0});
  return true;
}

int OrderManager::symbol_index(const Symbol& s) const noexcept {
  for (std::size_t k = 0; k < symbols_.size(); ++k)
    if (symbols_[k].symbol == s) return static_cast<int>(k);
  return -1;
}

std::uint64_t OrderManager::exchange_key(int sym, std::int64_t id) const noexcept {
  const std::uint64_t s = sym < 0 ? 0xFFFu : static_cast<std::uint64_t>(sym);
  return (s << 52) | (static_cast<std::uint64_t>(id) & kIdMask);
}

std::uint32_t OrderManager::slot_of(const ClientOrderId& id) const noexcept {
  if (id.empty()) return FlatIndex::kNotFound;
  const std::uint32_t slot = by_client_id_.find(id.hash());
  if (slot == FlatIndex::kNotFound || !(slots_[slot].order.client_id == id)) return FlatIndex::kNotFound;
  return slot;
}

std::uint32_t OrderManager::slot_of_exchange(const Symbol& s, std::int64_t order_id) const noexcept {
  if (order_id < 0) return FlatIndex::kNotFound;
  const std::uint32_t slot = by_exchange_id_.find(exchange_key(symbol_index(s), order_id));
  if (slot == FlatIndex::kNotFound || slots_[slot].order.exchange_id != order_id ||
      !(slots_[slot].order.symbol == s))
    return FlatIndex::kNotFound;
  return slot;
}

const Order* OrderManager::find(const ClientOrderId& id) const noexcept {
  const std::uint32_t slot = slot_of(id);
  return slot == FlatIndex::kNotFound ? nullptr : &slots_[slot].order;
}

const Order* OrderManager::find_by_exchange_id(const Symbol& symbol, std::int64_t order_id) const noexcept {
  const std::uint32_t slot = slot_of_exchange(symbol, order_id);
  return slot == FlatIndex::kNotFound ? nullptr : &slots_[slot].order;
}

risk::Exposure OrderManager::exposure(const Symbol& symbol) const noexcept {
  risk::Exposure ex;
  ex.position = book_.position(symbol);
  const int k = symbol_index(symbol);
  if (k >= 0) {
    const SymbolExposure& se = symbols_[static_cast<std::size_t>(k)];
    ex.open_buy_qty = se.open_buy;
    ex.open_sell_qty = se.open_sell;
    ex.open_orders = se.open_orders;
  }
  return ex;
}

OrderManager::Contribution OrderManager::contribution(const Order& o) const noexcept {
  Contribution c;
  c.live = o.live();
  const Qty rem = o.remaining();
  c.remaining = rem.is_negative() ? Qty{} : rem;
  return c;
}

OrderManager::Slot& OrderManager::slot_for(const Order& o) noexcept {
  // Every Order handed out lives inside slots_; recover its Slot from the byte offset.
  const auto offset = static_cast<std::size_t>(reinterpret_cast<const char*>(&o) - reinterpret_cast<const char*>(slots_.data()));
  return slots_[offset / sizeof(Slot)];
}

void OrderManager::update_exposure(const Order& o, const Contribution& before) noexcept {
  const Contribution after = contribution(o);
  if (before.live) --live_count_;
  if (after.live) ++live_count_;
  const int k = slot_for(o).sym;
  if (k < 0) return;
  SymbolExposure& se = symbols_[static_cast<std::size_t>(k)];
  Qty& side_qty = o.side == Side::Buy ? se.open_buy : se.open_sell;
  if (before.live) {
    side_qty -= before.remaining;
    --se.open_orders;
  }
  if (after.live) {
    side_qty += after.remaining;
    ++se.open_orders;
  }
}

void OrderManager::make_client_id(std::uint64_t seq, ClientOrderId& out) const noexcept {
  out = ClientOrderId::numbered(prefix_id_, seq);
}

void OrderManager::retire(std::uint32_t slot) noexcept {
  Slot& s = slots_[slot];
  by_client_id_.erase(s.id_hash);
  if (s.order.exchange_id >= 0) by_exchange_id_.erase(exchange_key(s.sym, s.order.exchange_id));
  s.used = false;
  free_.push_back(slot);
  ++counters_.retired;
}

std::uint32_t OrderManager::allocate_slot() noexcept {
  if (free_.empty()) {
    if (retire_size_ == 0) return FlatIndex::kNotFound;
    const std::uint32_t oldest = retire_queue_[retire_head_];
    retire_head_ = (retire_head_ + 1) % retire_queue_.size();
    --retire_size_;
    retire(oldest);
  }
  const std::uint32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

Order& OrderManager::create(const Symbol& symbol, Side side, OrderType type, TimeInForce tif, Price price, Qty qty,
                            const ClientOrderId& id, std::uint32_t slot, Nanos now) noexcept {
  Slot& s = slots_[slot];
  s.used = true;
  s.id_hash = id.hash();
  s.sym = symbol_index(symbol);
  s.order = Order{};
  Order& o = s.order;
  o.client_id = id;
  o.seq = next_seq_++;
  o.symbol = symbol;
  o.side = side;
  o.type = type;
  o.tif = tif;
  o.price = price;
  o.qty = qty;
  o.status = OrderStatus::PendingNew;
  o.created = now;
  o.updated = now;
  by_client_id_.insert(s.id_hash, slot);
  update_exposure(o, Contribution{});
  return o;
}

void OrderManager::learn_exchange_id(std::uint32_t slot, std::int64_t order_id) noexcept {
  Slot& s = slots_[slot];
  Order& o = s.order;
  if (order_id < 0 || o.exchange_id == order_id) return;
  if (o.exchange_id >= 0) by_exchange_id_.erase(exchange_key(s.sym, o.exchange_id));
  o.exchange_id = order_id;
  by_exchange_id_.insert(exchange_key(s.sym, order_id), slot);
}

bool OrderManager::transition(Order& o, OrderStatus to, Nanos now) noexcept {
  if (o.status == to) return true;
  if (!is_legal_transition(o.status, to)) {
    ++counters_.illegal_transitions;
    ++illegal_[static_cast<std::size_t>(o.status)][static_cast<std::size_t>(to)];
    illegal_log_[illegal_log_count_ % kIllegalLog] = IllegalTransitionRecord{o.client_id, o.status, to, now};
    ++illegal_log_count_;
    return false;
  }
  const Contribution before = contribution(o);
  if (to == OrderStatus::PendingCancel) o.before_cancel = o.status;
  if (o.status == OrderStatus::Unknown && to != OrderStatus::PendingCancel) {
    ++counters_.unknown_resolved;
    o.needs_query = false;
  }
  if (to == OrderStatus::Unknown) {
    if (o.unknown_since == 0) o.unknown_since = now;
    o.needs_query = true;
    if (o.status == OrderStatus::PendingNew) ++counters_.unknown_outcomes;
  }
  o.status = to;
  o.updated = now;
  update_exposure(o, before);
  if (is_terminal(to)) {
    const auto k = static_cast<std::uint32_t>(&slot_for(o) - slots_.data());
    retire_queue_[(retire_head_ + retire_size_) % retire_queue_.size()] = k;
    ++retire_size_;
  }
  notify_order(o, now);
  return true;
}

OrderManager::StatusChange OrderManager::apply_exchange_status(Order& o, OrderStatus to, Qty cum, Nanos now) noexcept {
  if (to == OrderStatus::PendingNew || to == OrderStatus::PendingCancel || to == OrderStatus::Unknown) {
    // Not states the exchange reports about a placed order; nothing to apply.
    return StatusChange::None;
  }
  const bool live_target = to == OrderStatus::New || to == OrderStatus::PartiallyFilled;
  if (o.status == OrderStatus::PendingCancel && live_target) {
    // The cancel is still in flight: remember the newer underlying status only.
    if (rank(to) > rank(o.before_cancel)) {
      o.before_cancel = to;
      return StatusChange::Changed;
    }
    return rank(to) == rank(o.before_cancel) ? StatusChange::None : StatusChange::Stale;
  }
  if (o.status == to) return StatusChange::None;
  const OrderStatus effective = o.status == OrderStatus::PendingCancel ? o.before_cancel : o.status;
  const bool older_by_qty = cum < o.exchange_cum_qty && rank(to) < rank(effective);
  const bool behind_live = live_target && o.live() && rank(to) < rank(o.status);
  if (older_by_qty || behind_live) {
    ++counters_.stale_reports;
    return StatusChange::Stale;
  }
  return transition(o, to, now) ? StatusChange::Changed : StatusChange::Illegal;
}

bool OrderManager::apply_fill(Order& o, std::int64_t trade_id, Price price, Qty qty, std::int64_t commission_raw,
                              const Asset& commission_asset, bool maker, Nanos time, bool& duplicate) noexcept {
  duplicate = false;
  const std::uint64_t key = exchange_key(slot_for(o).sym, trade_id);
  if (trade_ids_.contains(key)) {
    duplicate = true;
    ++counters_.duplicate_fills;
    return false;
  }
  if (trade_ids_.size() >= trade_ids_.max_entries()) trade_ids_.erase(trade_ring_[trade_head_]);
  trade_ids_.insert(key, 0);
  trade_ring_[trade_head_] = key;
  trade_head_ = (trade_head_ + 1) % trade_ring_.size();

  const Contribution before = contribution(o);
  o.filled += qty;
  o.filled_quote += notional(price, qty);
  ++o.fill_count;
  if (o.filled > o.qty) ++counters_.overfills;
  update_exposure(o, before);
  ++counters_.fills;

  Fill f;
  f.symbol = o.symbol;
  f.side = o.side;
  f.price = price;
  f.qty = qty;
  f.commission_raw = commission_raw;
  f.commission_asset = commission_asset;
  f.trade_id = trade_id;
  f.maker = maker;
  f.time = time;
  if (book_.on_fill(f) != FillStatus::Applied) ++counters_.position_errors;
  if (observer_ != nullptr) observer_->on_fill_applied(o, f, time);
  return true;
}

ReportResult OrderManager::on_execution_report(const ExecutionReport& r, Nanos now) noexcept {
  ++counters_.reports;
  ReportResult result;
  std::uint32_t slot = FlatIndex::kNotFound;
  if (r.exec_type == ExecType::Canceled && !r.orig_client_order_id.empty()) slot = slot_of(r.orig_client_order_id);
  if (slot == FlatIndex::kNotFound) slot = slot_of(r.client_order_id);
  if (slot == FlatIndex::kNotFound) slot = slot_of_exchange(r.symbol, r.order_id);
  if (slot == FlatIndex::kNotFound) {
    ++counters_.unknown_order_reports;
    result.status = ReportStatus::UnknownOrder;
    return result;
  }
  Order& o = slots_[slot].order;
  result.order = &o;
  learn_exchange_id(slot, r.order_id);
  const std::uint64_t notified_before = order_notifications_;

  if (r.exec_type == ExecType::Trade) {
    if (r.trade_id < 0 || !r.last_qty.is_positive() || !r.last_price.is_positive()) {
      ++counters_.invalid_reports;
      result.status = ReportStatus::Invalid;
      return result;
    }
    result.fill_applied = apply_fill(o, r.trade_id, r.last_price, r.last_qty, r.commission_raw, r.commission_asset,
                                     r.maker, r.transact_time != 0 ? r.transact_time : now, result.duplicate_fill);
  }
  const bool latest = r.cum_qty >= o.exchange_cum_qty;
  if (r.cum_qty > o.exchange_cum_qty) o.exchange_cum_qty = r.cum_qty;

  const StatusChange sc = apply_exchange_status(o, r.status, r.cum_qty, now);

  // Cumulative consistency: z must equal the fills applied here once the report is the latest.
  if (r.cum_qty > o.filled || (latest && o.filled > r.cum_qty && sc != StatusChange::Stale)) {
    ++counters_.qty_mismatches;
    result.qty_mismatch = true;
  }
  if (result.fill_applied) {
    book_.update_equity(now);
    gate_.on_equity(now, book_.equity());
    // The fill grew the cumulative quantity but the status stayed (PARTIALLY_FILLED again, or a
    // newer status remembered under PENDING_CANCEL): still one observable change of the order.
    if (order_notifications_ == notified_before) notify_order(o, now);
  }

  switch (sc) {
    case StatusChange::Illegal: result.status = ReportStatus::IllegalTransition; break;
    case StatusChange::Stale: result.status = result.fill_applied ? ReportStatus::Applied : ReportStatus::Stale; break;
    case StatusChange::Changed: result.status = ReportStatus::Applied; break;
    case StatusChange::None:
      result.status = result.fill_applied ? ReportStatus::Applied : ReportStatus::Duplicate;
      if (!result.fill_applied) ++counters_.duplicate_reports;
      break;
  }
  return result;
}

SubmitResult OrderManager::submit(const OrderIntent& intent, Nanos now) noexcept {
  SubmitResult res;
  if (!ready_) {
    res.reason = RejectReason::NotReady;
    gate_.count_reject(res.reason, now);
    return res;
  }
  if (symbol_index(intent.symbol) < 0) {
    res.reason = RejectReason::UnknownSymbol;
    gate_.count_reject(res.reason, now);
    return res;
  }
  if (free_.empty() && retire_size_ == 0) {
    res.reason = RejectReason::PoolFull;
    gate_.count_reject(res.reason, now);
    return res;
  }
  res.reason = gate_.check_order(intent, exposure(intent.symbol), now);
  if (res.reason != RejectReason::Accepted) return res;
  const std::uint32_t slot = allocate_slot();
  ClientOrderId id;
  make_client_id(next_seq_, id);
  const Price price = intent.type == OrderType::Market ? Price{} : intent.price;
  const TimeInForce tif = intent.type == OrderType::Limit ? intent.tif : TimeInForce::Gtc;
  res.order = &create(intent.symbol, intent.side, intent.type, tif, price, intent.qty, id, slot, now);
  ++counters_.submitted;
  notify_order(*res.order, now);
  return res;
}

CancelResult OrderManager::request_cancel(const ClientOrderId& id, Nanos now) noexcept {
  const std::uint32_t slot = slot_of(id);
  if (slot == FlatIndex::kNotFound) return CancelResult::NotFound;
  Order& o = slots_[slot].order;
  if (o.status == OrderStatus::PendingCancel) return CancelResult::AlreadyPending;
  if (!o.live()) return CancelResult::NotCancelable;
  if (gate_.check_cancel(now) != RejectReason::Accepted) return CancelResult::RateLimited;
  transition(o, OrderStatus::PendingCancel, now);
  ++counters_.cancels_requested;
  return CancelResult::Requested;
}

std::size_t OrderManager::request_cancel_all(const Symbol& symbol, Nanos now) noexcept {
  std::size_t n = 0;
  for (Slot& s : slots_) {
    if (!s.used || !s.order.live() || s.order.status == OrderStatus::PendingCancel) continue;
    if (!symbol.empty() && !(s.order.symbol == symbol)) continue;
    if (transition(s.order, OrderStatus::PendingCancel, now)) ++n;
  }
  counters_.cancels_requested += n;
  return n;
}

bool OrderManager::on_place_rejected(const ClientOrderId& id, std::int32_t error_code, Nanos now) noexcept {
  const std::uint32_t slot = slot_of(id);
  if (slot == FlatIndex::kNotFound) return false;
  Order& o = slots_[slot].order;
  // Also legal from PENDING_CANCEL: a cancel-all may have marked the order before the answer came.
  if (!transition(o, OrderStatus::Rejected, now)) return false;
  o.reject_code = error_code;
  return true;
}

bool OrderManager::on_place_unknown(const ClientOrderId& id, Nanos now) noexcept {
  const std::uint32_t slot = slot_of(id);
  if (slot == FlatIndex::kNotFound) return false;
  Order& o = slots_[slot].order;
  if (o.status == OrderStatus::PendingCancel && o.before_cancel == OrderStatus::PendingNew) {
    o.before_cancel = OrderStatus::Unknown;
    o.unknown_since = now;
    o.needs_query = true;
    ++counters_.unknown_outcomes;
    return true;
  }
  return transition(o, OrderStatus::Unknown, now);
}

bool OrderManager::on_cancel_rejected(const ClientOrderId& id, std::int32_t error_code, Nanos now) noexcept {
  const std::uint32_t slot = slot_of(id);
  if (slot == FlatIndex::kNotFound) return false;
  Order& o = slots_[slot].order;
  if (o.status != OrderStatus::PendingCancel) return false;
  ++counters_.cancels_rejected;
  if (!transition(o, o.before_cancel, now)) return false;
  if (error_code == kUnknownOrderCancel || error_code == kNoSuchOrder) o.needs_query = true;
  return true;
}

bool OrderManager::on_cancel_unknown(const ClientOrderId& id, Nanos /*now*/) noexcept {
  const std::uint32_t slot = slot_of(id);
  if (slot == FlatIndex::kNotFound) return false;
  Order& o = slots_[slot].order;
  if (o.status != OrderStatus::PendingCancel) return false;
  o.needs_query = true;
  return true;
}

std::optional<OrderStatus> OrderManager::on_order_query(const ClientOrderId& id, const std::optional<ExchangeOrder>& found,
                                                        Nanos now) noexcept {
  const std::uint32_t slot = slot_of(id);
  if (slot == FlatIndex::kNotFound) return std::nullopt;
  Order& o = slots_[slot].order;
  if (found) {
    learn_exchange_id(slot, found->order_id);
    if (found->executed_qty > o.exchange_cum_qty) o.exchange_cum_qty = found->executed_qty;
    const bool live_target = found->status == OrderStatus::New || found->status == OrderStatus::PartiallyFilled;
    if (o.status == OrderStatus::PendingCancel && live_target) {
      // The cancel did not happen (yet): the order is back in the strategy's hands.
      transition(o, found->status, now);
    } else {
      (void)apply_exchange_status(o, found->status, found->executed_qty, now);
    }
    if (o.status != OrderStatus::Unknown) o.needs_query = false;
    return o.status;
  }
  // -2013: the exchange does not know the order.
  const bool never_acked = o.status == OrderStatus::PendingNew || o.status == OrderStatus::Unknown ||
                           (o.status == OrderStatus::PendingCancel &&
                            (o.before_cancel == OrderStatus::PendingNew || o.before_cancel == OrderStatus::Unknown));
  if (never_acked) {
    const Nanos since = o.unknown_since != 0 ? o.unknown_since : o.created;
    if (now - since >= config_.not_found_grace && o.filled.is_zero()) {
      o.reject_code = kNoSuchOrder;
      transition(o, o.status == OrderStatus::PendingCancel ? OrderStatus::Canceled : OrderStatus::Rejected, now);
      o.needs_query = false;
    }
  }
  return o.status;
}

ReconcileReport OrderManager::reconcile(const ReconcileInput& in, Nanos now) {
  ReconcileReport rep;
  std::vector<char> on_exchange(slots_.size(), 0);
  auto diff = [&rep](DiffKind k, const Order* o, OrderStatus from, OrderStatus to, std::int64_t order_id = -1,
                     std::int64_t trade_id = -1, ClientOrderId cid = {}) {
    ReconcileDiff d;
    d.kind = k;
    d.client_id = o ? o->client_id : cid;
    d.order_id = o ? o->exchange_id : order_id;
    d.trade_id = trade_id;
    d.from = from;
    d.to = to;
    rep.diffs.push_back(d);
  };

  // 1. Open orders: learn ids, correct statuses, adopt or flag foreign ones.
  for (const ExchangeOrder& eo : in.open_orders) {
    std::uint32_t slot = slot_of(eo.client_order_id);
    if (slot == FlatIndex::kNotFound) slot = slot_of_exchange(eo.symbol, eo.order_id);
    if (slot == FlatIndex::kNotFound) {
      const bool can_adopt = config_.adopt_foreign_orders && !eo.client_order_id.empty() &&
                             symbol_index(eo.symbol) >= 0 && (!free_.empty() || retire_size_ > 0);
      if (!can_adopt) {
        diff(DiffKind::ForeignFlagged, nullptr, eo.status, eo.status, eo.order_id, -1, eo.client_order_id);
        continue;
      }
      slot = allocate_slot();
      Order& o = create(eo.symbol, eo.side, eo.type, eo.tif, eo.price, eo.qty, eo.client_order_id, slot, now);
      o.adopted = true;
      notify_order(o, now);
      learn_exchange_id(slot, eo.order_id);
      transition(o, eo.status, now);
      diff(DiffKind::Adopted, &o, OrderStatus::PendingNew, o.status);
    }
    on_exchange[slot] = 1;
    Order& o = slots_[slot].order;
    learn_exchange_id(slot, eo.order_id);
    if (eo.executed_qty > o.exchange_cum_qty) o.exchange_cum_qty = eo.executed_qty;
    const OrderStatus from = o.status;
    if (o.status == OrderStatus::Unknown || o.status == OrderStatus::PendingNew || o.status != eo.status) {
      const StatusChange sc = apply_exchange_status(o, eo.status, eo.executed_qty, now);
      if (sc == StatusChange::Changed) diff(DiffKind::StatusCorrected, &o, from, o.status);
      if (sc == StatusChange::Illegal) diff(DiffKind::IllegalTransition, &o, from, eo.status);
    }
  }

  // 2. Trades: fills the stream missed (duplicates are recognised by trade id).
  for (const ExchangeTrade& t : in.recent_trades) {
    const std::uint32_t slot = slot_of_exchange(t.symbol, t.order_id);
    if (slot == FlatIndex::kNotFound) {
      diff(DiffKind::UnmatchedTrade, nullptr, OrderStatus::Filled, OrderStatus::Filled, t.order_id, t.trade_id);
      continue;
    }
    Order& o = slots_[slot].order;
    bool dup = false;
    if (apply_fill(o, t.trade_id, t.price, t.qty, t.commission_raw, t.commission_asset, t.maker, t.time, dup)) {
      diff(DiffKind::FillRecovered, &o, o.status, o.status, -1, t.trade_id);
      notify_order(o, now);
    }
  }

  // 3. Live local orders the exchange no longer lists (created before the snapshot was asked for).
  const Nanos as_of = in.as_of != 0 ? in.as_of : now;
  for (std::uint32_t k = 0; k < slots_.size(); ++k) {
    Slot& s = slots_[k];
    if (!s.used || !s.order.live() || on_exchange[k] || s.order.created > as_of) continue;
    Order& o = s.order;
    const OrderStatus from = o.status;
    const OrderStatus underlying = o.status == OrderStatus::PendingCancel ? o.before_cancel : o.status;
    const bool never_acked = underlying == OrderStatus::PendingNew || underlying == OrderStatus::Unknown;
    if (o.filled >= o.qty) {
      if (transition(o, OrderStatus::Filled, now)) diff(DiffKind::ResolvedFilled, &o, from, o.status);
      continue;
    }
    if (!never_acked || o.filled.is_positive() || o.exchange_id >= 0) {
      // It existed on the exchange and is gone: canceled or expired while we were not looking.
      if (transition(o, OrderStatus::Canceled, now)) diff(DiffKind::ResolvedCanceled, &o, from, o.status);
      continue;
    }
    const Nanos since = o.unknown_since != 0 ? o.unknown_since : o.created;
    if (now - since >= config_.not_found_grace) {
      const OrderStatus to = o.status == OrderStatus::PendingCancel ? OrderStatus::Canceled : OrderStatus::Rejected;
      if (transition(o, to, now)) diff(DiffKind::ResolvedRejected, &o, from, o.status);
    } else {
      diff(DiffKind::StillUnknown, &o, from, from);
    }
  }

  // 4. Cumulative quantities the exchange reported beyond the fills known here.
  for (const Slot& s : slots_)
    if (s.used && s.order.missing_fills()) diff(DiffKind::QtyMismatch, &s.order, s.order.status, s.order.status);

  book_.update_equity(now);
  gate_.on_equity(now, book_.equity());
  refresh_ready();
  rep.ready = ready_;
  return rep;
}

bool OrderManager::restore_order(const RestoredOrder& r, Nanos now) {
  if (!is_live(r.status) || r.client_id.empty() || slot_of(r.client_id) != FlatIndex::kNotFound) return false;
  if (symbol_index(r.symbol) < 0 || (free_.empty() && retire_size_ == 0)) return false;
  const std::uint32_t slot = allocate_slot();
  const Nanos when = r.updated != 0 ? r.updated : now;
  Order& o = create(r.symbol, r.side, r.type, r.tif, r.price, r.qty, r.client_id, slot, when);
  const Contribution before = contribution(o);
  o.status = r.status;
  if (r.status == OrderStatus::PendingCancel) o.before_cancel = r.filled.is_positive() ? OrderStatus::PartiallyFilled
                                                                                       : OrderStatus::New;
  o.filled = r.filled;
  o.filled_quote = r.filled_quote;
  o.exchange_cum_qty = r.filled;
  if (r.status == OrderStatus::Unknown) o.unknown_since = when;
  o.needs_query = true;
  update_exposure(o, before);
  learn_exchange_id(slot, r.exchange_id);
  ready_ = false;  // nothing trades until reconcile() has asked the exchange about it
  return true;
}

void OrderManager::refresh_ready() noexcept {
  bool unknown = false;
  for (const Slot& s : slots_)
    if (s.used && (s.order.status == OrderStatus::Unknown ||
                   (s.order.status == OrderStatus::PendingCancel && s.order.before_cancel == OrderStatus::Unknown)))
      unknown = true;
  ready_ = !unknown;
}

void OrderManager::on_mid(const Symbol& symbol, Price mid, Nanos now) noexcept {
  book_.mark(symbol, mid);
  gate_.on_mid(symbol, mid, now);
  book_.update_equity(now);
  gate_.on_equity(now, book_.equity());
}

std::vector<IllegalTransitionRecord> OrderManager::recent_illegal_transitions() const {
  std::vector<IllegalTransitionRecord> out;
  const std::size_t n = std::min(illegal_log_count_, kIllegalLog);
  for (std::size_t k = 0; k < n; ++k) out.push_back(illegal_log_[(illegal_log_count_ - n + k) % kIllegalLog]);
  return out;
}

}  // namespace tb::oms
