#include "tradingbot/book/matching_engine.hpp"

#include <algorithm>
#include <cstring>

namespace tb::book {

namespace {

std::size_t table_size_for(std::size_t expected) {
  std::size_t n = 16;
  while (n < expected * 2) n <<= 1;
  return n;
}

// Highest base quantity (a multiple of step) whose notional at `price` fits in `quote`.
std::int64_t affordable(std::int64_t quote, std::int64_t price, std::int64_t step) noexcept {
  const Int128 q = static_cast<Int128>(quote) * kFixedScale / price;
  std::int64_t qty = q > static_cast<Int128>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(q);
  if (step > 0) qty -= qty % step;
  return qty;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SlotIndex

void MatchingEngine::SlotIndex::reset(std::size_t expected) {
  slots_.assign(table_size_for(expected), IndexSlot{0, 0});
  mask_ = slots_.size() - 1;
  size_ = 0;
}

void MatchingEngine::SlotIndex::clear() noexcept {
  std::fill(slots_.begin(), slots_.end(), IndexSlot{0, 0});
  size_ = 0;
}

void MatchingEngine::SlotIndex::grow() {
  std::vector<IndexSlot> old;
  old.swap(slots_);
  slots_.assign(old.size() * 2, IndexSlot{0, 0});
  mask_ = slots_.size() - 1;
  for (const IndexSlot& s : old) {
    if (s.hash == 0) continue;
    std::size_t i = s.hash & mask_;
    while (slots_[i].hash != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

void MatchingEngine::SlotIndex::insert(std::uint64_t hash, std::uint32_t value) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  std::size_t i = hash & mask_;
  while (slots_[i].hash != 0) i = (i + 1) & mask_;
  slots_[i] = IndexSlot{hash, value};
  ++size_;
}

void MatchingEngine::SlotIndex::erase(std::uint64_t hash, std::uint32_t value) noexcept {
  std::size_t i = hash & mask_;
  for (;; i = (i + 1) & mask_) {
    if (slots_[i].hash == 0) return;  // not present
    if (slots_[i].hash == hash && slots_[i].value == value) break;
  }
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  std::size_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    if (slots_[j].hash == 0) break;
    const std::size_t home = slots_[j].hash & mask_;
    const bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i].hash = 0;
  --size_;
}

// Order ids are dense and increasing, so the id itself is the best hash: consecutive orders land
// in consecutive slots (cache-friendly inserts, no collisions until the ids wrap the table).
// A scrambling hash here cost a cache miss per resting order (40% of the Liquibook workload).
std::uint64_t MatchingEngine::hash_id(OrderId id) noexcept { return id == 0 ? 1 : id; }

std::uint64_t MatchingEngine::hash_client(AccountId account, std::string_view client) noexcept {
  std::uint64_t h = 0xCBF2'9CE4'8422'2325ull ^ (account * 0x9E37'79B9'7F4A'7C15ull);
  for (const char c : client) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100'0000'01B3ull;
  }
  h ^= h >> 32;
  h *= 0xD6E8'FEB8'6659'FD93ull;
  h ^= h >> 32;
  return h == 0 ? 1 : h;
}

// ---------------------------------------------------------------------------------------------
// Construction and pools

MatchingEngine::MatchingEngine(const InstrumentRules& rules, OrderListener& listener, EngineCapacity capacity)
    : rules_(rules), listener_(&listener) {
  const std::uint32_t orders = std::max<std::uint32_t>(capacity.orders, 16);
  const std::uint32_t levels = std::max<std::uint32_t>(capacity.levels, 16);
  orders_.resize(orders);
  free_orders_.reserve(orders);
  for (std::uint32_t i = orders; i-- > 0;) free_orders_.push_back(i);
  levels_.resize(levels);
  free_levels_.reserve(levels);
  for (std::uint32_t i = levels; i-- > 0;) free_levels_.push_back(i);
  sides_[0].reserve(levels);
  sides_[1].reserve(levels);
  by_id_.reset(orders);
  by_client_.reset(orders);
}

std::uint32_t MatchingEngine::alloc_order() {
  if (free_orders_.empty()) {
    const auto old = static_cast<std::uint32_t>(orders_.size());
    orders_.resize(static_cast<std::size_t>(old) * 2);
    free_orders_.reserve(orders_.size());
    for (std::uint32_t i = old * 2; i-- > old;) free_orders_.push_back(i);
  }
  const std::uint32_t slot = free_orders_.back();
  free_orders_.pop_back();
  return slot;
}

void MatchingEngine::free_order(std::uint32_t slot) noexcept {
  orders_[slot].id = 0;
  free_orders_.push_back(slot);  // capacity == orders_.size(): never allocates
}

std::uint32_t MatchingEngine::alloc_level() {
  if (free_levels_.empty()) {
    const auto old = static_cast<std::uint32_t>(levels_.size());
    levels_.resize(static_cast<std::size_t>(old) * 2);
    free_levels_.reserve(levels_.size());
    for (std::uint32_t i = old * 2; i-- > old;) free_levels_.push_back(i);
  }
  const std::uint32_t level = free_levels_.back();
  free_levels_.pop_back();
  return level;
}

void MatchingEngine::index_order(std::uint32_t slot) {
  const OrderSlot& o = orders_[slot];
  by_id_.insert(hash_id(o.id), slot);
  if (o.client_len != 0) by_client_.insert(hash_client(o.account, o.client_id()), slot);
  ++open_orders_;
}

void MatchingEngine::unindex_order(std::uint32_t slot) noexcept {
  const OrderSlot& o = orders_[slot];
  by_id_.erase(hash_id(o.id), slot);
  if (o.client_len != 0) by_client_.erase(hash_client(o.account, o.client_id()), slot);
  --open_orders_;
}

std::uint32_t MatchingEngine::lookup(AccountId account, OrderId id, std::string_view client) const noexcept {
  std::uint32_t slot = kNil;
  if (id != 0) {
    slot = by_id_.find(hash_id(id), [&](std::uint32_t v) { return orders_[v].id == id; });
    if (slot != kNil && orders_[slot].account != account) slot = kNil;
  } else if (!client.empty()) {
    slot = by_client_.find(hash_client(account, client), [&](std::uint32_t v) {
      return orders_[v].account == account && orders_[v].client_id() == client;
    });
  }
  return slot;
}

// ---------------------------------------------------------------------------------------------
// Levels

namespace {
// Position of the first ref whose key is greater than `key` (refs sorted ascending). Most
// activity is near the best price (the back), so scan a few from the back before bisecting.
template <class Refs>
std::size_t upper_position(const Refs& refs, std::int64_t key) noexcept {
  std::size_t pos = refs.size();
  const std::size_t scan_floor = pos > 16 ? pos - 16 : 0;
  while (pos > scan_floor && refs[pos - 1].key > key) --pos;
  if (pos == scan_floor && pos > 0 && refs[pos - 1].key > key) {
    pos = static_cast<std::size_t>(
        std::upper_bound(refs.begin(), refs.begin() + static_cast<std::ptrdiff_t>(scan_floor), key,
                         [](std::int64_t k, const auto& r) { return k < r.key; }) -
        refs.begin());
  }
  return pos;
}
}  // namespace

std::uint32_t MatchingEngine::level_for(Side side, std::int64_t price) {
  auto& refs = sides_[index(side)];
  const std::int64_t key = key_of(side, price);
  const std::size_t pos = upper_position(refs, key);
  if (pos > 0 && refs[pos - 1].key == key) return refs[pos - 1].level;
  const std::uint32_t level = alloc_level();
  levels_[level] = LevelSlot{price, 0, 0, kNil, kNil};
  refs.insert(refs.begin() + static_cast<std::ptrdiff_t>(pos), LevelRef{key, level});
  return level;
}

void MatchingEngine::drop_level(Side side, std::uint32_t level) noexcept {
  auto& refs = sides_[index(side)];
  const std::size_t pos = upper_position(refs, key_of(side, levels_[level].price));
  refs.erase(refs.begin() + static_cast<std::ptrdiff_t>(pos - 1));
  free_levels_.push_back(level);
}

void MatchingEngine::emit_level(Side side, std::int64_t price, std::int64_t qty, std::uint32_t count) noexcept {
  ++update_id_;
  listener_->on_level_changed(LevelChanged{side, Price::from_raw(price), Qty::from_raw(qty), count, update_id_});
}

void MatchingEngine::unlink(std::uint32_t slot) noexcept {
  OrderSlot& o = orders_[slot];
  LevelSlot& lv = levels_[o.level];
  if (o.prev != kNil) orders_[o.prev].next = o.next; else lv.head = o.next;
  if (o.next != kNil) orders_[o.next].prev = o.prev; else lv.tail = o.prev;
  lv.quantity -= o.open;
  --lv.count;
}

std::uint32_t MatchingEngine::link_back(std::uint32_t slot) {
  OrderSlot& o = orders_[slot];
  const std::uint32_t level = level_for(o.side, o.price);
  LevelSlot& lv = levels_[level];
  o.level = level;
  o.next = kNil;
  o.prev = lv.tail;
  if (lv.tail != kNil) orders_[lv.tail].next = slot; else lv.head = slot;
  lv.tail = slot;
  lv.quantity += o.open;
  ++lv.count;
  return level;
}

void MatchingEngine::rest(std::uint32_t slot, Nanos now) noexcept {
  orders_[slot].working_time = now;
  const LevelSlot& lv = levels_[link_back(slot)];
  emit_level(orders_[slot].side, lv.price, lv.quantity, lv.count);
}

void MatchingEngine::remove_open_order(std::uint32_t slot) noexcept {
  const Side side = orders_[slot].side;
  const std::uint32_t level = orders_[slot].level;
  unlink(slot);
  unindex_order(slot);
  free_order(slot);
  const LevelSlot lv = levels_[level];
  if (lv.count == 0) drop_level(side, level);
  emit_level(side, lv.price, lv.quantity, lv.count);
}

// ---------------------------------------------------------------------------------------------
// Validation

RejectReason MatchingEngine::validate_price(std::int64_t price, bool check_band) const noexcept {
  if (price <= 0) return RejectReason::InvalidPrice;
  if (rules_.min_price.raw() > 0 && price < rules_.min_price.raw()) return RejectReason::PriceBelowMin;
  if (rules_.max_price.raw() > 0 && price > rules_.max_price.raw()) return RejectReason::PriceAboveMax;
  if (rules_.tick_size.raw() > 0 && price % rules_.tick_size.raw() != 0) return RejectReason::PriceNotOnTick;
  const std::int64_t ref = reference_price_.raw();
  if (check_band && ref > 0) {
    const Int128 scaled = static_cast<Int128>(price) * kFixedScale;
    if (rules_.band_multiplier_up > 0 && scaled > static_cast<Int128>(ref) * rules_.band_multiplier_up) {
      return RejectReason::PriceOutOfBand;
    }
    if (rules_.band_multiplier_down > 0 && scaled < static_cast<Int128>(ref) * rules_.band_multiplier_down) {
      return RejectReason::PriceOutOfBand;
    }
  }
  return RejectReason::None;
}

// notional(price, qty) < min_notional without the 128-bit division notional() needs:
// floor(p*q / 1e8) < m  <=>  p*q < m*1e8 for non-negative values.
bool MatchingEngine::below_min_notional(std::int64_t price, std::int64_t qty) const noexcept {
  const std::int64_t min = rules_.min_notional.raw();
  if (min <= 0) return false;
  return static_cast<Int128>(price) * qty < static_cast<Int128>(min) * kFixedScale;
}

RejectReason MatchingEngine::validate_qty(std::int64_t qty) const noexcept {
  if (qty <= 0) return RejectReason::InvalidQuantity;
  if (rules_.min_qty.raw() > 0 && qty < rules_.min_qty.raw()) return RejectReason::QtyBelowMin;
  if (rules_.max_qty.raw() > 0 && qty > rules_.max_qty.raw()) return RejectReason::QtyAboveMax;
  if (rules_.step_size.raw() > 0 && qty % rules_.step_size.raw() != 0) return RejectReason::QtyNotOnStep;
  return RejectReason::None;
}

RejectReason MatchingEngine::validate(const NewOrder& order) const noexcept {
  if (!order.client_order_id.empty() && !valid_client_order_id(order.client_order_id)) {
    return RejectReason::InvalidClientOrderId;
  }
  const Money min_notional = rules_.min_notional;
  RejectReason reason = RejectReason::None;
  if (order.type == OrderType::Market) {
    const bool by_qty = order.quantity.raw() != 0;
    const bool by_quote = order.quote_qty.raw() != 0;
    if (by_qty == by_quote) return RejectReason::InvalidQuantity;
    if (by_quote) {
      if (order.quote_qty.raw() < 0) return RejectReason::InvalidQuantity;
      if (order.quote_qty < min_notional) return RejectReason::NotionalBelowMin;
    } else {
      if ((reason = validate_qty(order.quantity.raw())) != RejectReason::None) return reason;
      if (reference_price_.is_positive() && notional(reference_price_, order.quantity) < min_notional) {
        return RejectReason::NotionalBelowMin;
      }
    }
  } else {
    if ((reason = validate_price(order.price.raw(), true)) != RejectReason::None) return reason;
    if ((reason = validate_qty(order.quantity.raw())) != RejectReason::None) return reason;
    if (below_min_notional(order.price.raw(), order.quantity.raw())) return RejectReason::NotionalBelowMin;
  }
  if (!order.client_order_id.empty() && lookup(order.account, 0, order.client_order_id) != kNil) {
    return RejectReason::DuplicateClientOrderId;
  }
  if (order.type == OrderType::LimitMaker && would_take(order.side, order.price.raw())) {
    return RejectReason::WouldTake;
  }
  return RejectReason::None;
}

bool MatchingEngine::would_take(Side side, std::int64_t price) const noexcept {
  const auto& opp = sides_[index(opposite(side))];
  if (opp.empty()) return false;
  const std::int64_t best = levels_[opp.back().level].price;
  return side == Side::Buy ? best <= price : best >= price;
}

bool MatchingEngine::fok_fillable(const Taker& t) const noexcept {
  const auto& opp = sides_[index(opposite(t.side))];
  std::int64_t need = t.open;
  for (std::size_t i = opp.size(); i-- > 0;) {
    const LevelSlot& lv = levels_[opp[i].level];
    if (t.side == Side::Buy ? lv.price > t.limit : lv.price < t.limit) return false;
    if (t.stp == StpMode::None) {
      need -= lv.quantity;
      if (need <= 0) return true;
      continue;
    }
    for (std::uint32_t o = lv.head; o != kNil; o = orders_[o].next) {
      const OrderSlot& m = orders_[o];
      if (m.account == t.account) {
        if (t.stp == StpMode::ExpireMaker) continue;  // the maker would expire, not trade
        return false;                                 // the taker would expire first
      }
      need -= m.open;
      if (need <= 0) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Matching

void MatchingEngine::match(Taker& t, Nanos now) noexcept {
  const Side maker_side = opposite(t.side);
  auto& opp = sides_[index(maker_side)];
  const std::int64_t step = rules_.step_size.raw();
  while (!opp.empty() && (t.by_quote ? t.quote > 0 : t.open > 0)) {
    const std::uint32_t level = opp.back().level;
    const std::int64_t price = levels_[level].price;
    if (t.has_limit && (t.side == Side::Buy ? price > t.limit : price < t.limit)) break;
    bool stop = false;
    bool touched = false;
    std::uint32_t o = levels_[level].head;
    while (o != kNil) {
      OrderSlot& m = orders_[o];
      const std::uint32_t next = m.next;
      if (t.stp != StpMode::None && m.account == t.account) {
        if (t.stp == StpMode::ExpireTaker) {
          t.stp_expired = true;
          t.stp_reason = ExpireReason::SelfTradeTaker;
          t.prevented_by = m.id;
          stop = true;
          break;
        }
        const OrderId maker_id = m.id;
        listener_->on_expired(OrderExpired{m.id, m.account, m.client_id(), m.side, Price::from_raw(m.price),
                                           Qty::from_raw(m.open), Money{}, Qty::from_raw(m.filled),
                                           ExpireReason::SelfTradeMaker, t.id, now});
        unlink(o);
        unindex_order(o);
        free_order(o);
        touched = true;
        if (t.stp == StpMode::ExpireBoth) {
          t.stp_expired = true;
          t.stp_reason = ExpireReason::SelfTradeTaker;
          t.prevented_by = maker_id;
          stop = true;
          break;
        }
        o = next;
        continue;
      }
      std::int64_t qty = 0;
      if (t.by_quote) {
        qty = std::min(affordable(t.quote, price, step), m.open);
        if (qty <= 0) {
          stop = true;
          break;
        }
      } else {
        qty = std::min(t.open, m.open);
      }
      const Money quote = notional(Price::from_raw(price), Qty::from_raw(qty));
      m.open -= qty;
      m.filled += qty;
      m.filled_quote += quote.raw();
      levels_[level].quantity -= qty;
      touched = true;
      t.filled += qty;
      t.filled_quote += quote.raw();
      if (t.by_quote) t.quote -= quote.raw(); else t.open -= qty;
      listener_->on_trade(Trade{next_trade_id_++, m.id, t.id, m.account, t.account, m.client_id(), t.client,
                                t.side, Price::from_raw(price), Qty::from_raw(qty), quote, Qty::from_raw(m.open),
                                Qty::from_raw(t.by_quote ? 0 : t.open), now});
      if (m.open == 0) {
        unlink(o);
        unindex_order(o);
        free_order(o);
      }
      if (t.by_quote ? t.quote == 0 : t.open == 0) break;
      o = next;
    }
    const LevelSlot lv = levels_[level];
    if (touched) emit_level(maker_side, price, lv.quantity, lv.count);
    if (lv.count != 0) break;  // the taker is done (filled, out of quote or expired)
    opp.pop_back();
    free_levels_.push_back(level);
    if (stop) break;
  }
}

void MatchingEngine::reject(RequestKind kind, OrderId id, AccountId account, std::string_view client,
                            RejectReason reason, Nanos now) noexcept {
  listener_->on_rejected(OrderRejected{kind, id, account, client, reason, now});
}

SubmitResult MatchingEngine::submit(const NewOrder& order, Nanos now) noexcept {
  if (busy_) {
    reject(RequestKind::New, 0, order.account, order.client_order_id, RejectReason::ReentrantCall, now);
    return SubmitResult{0, OrderStatus::Rejected, RejectReason::ReentrantCall, {}};
  }
  const RejectReason reason = validate(order);
  if (reason != RejectReason::None) {
    reject(RequestKind::New, 0, order.account, order.client_order_id, reason, now);
    return SubmitResult{0, OrderStatus::Rejected, reason, {}};
  }
  busy_ = true;
  const OrderId id = next_order_id_++;
  listener_->on_accepted(OrderAccepted{id, order.account, order.client_order_id, order.side, order.type,
                                       order.time_in_force, order.price, order.quantity, order.quote_qty, now});
  const bool is_market = order.type == OrderType::Market;
  Taker t{};
  t.id = id;
  t.account = order.account;
  t.client = order.client_order_id;
  t.side = order.side;
  t.stp = order.stp;
  t.has_limit = !is_market;
  t.by_quote = is_market && order.quote_qty.raw() != 0;
  t.limit = order.price.raw();
  t.open = order.quantity.raw();
  t.quote = order.quote_qty.raw();

  SubmitResult result{id, OrderStatus::New, RejectReason::None, {}};
  auto expire = [&](ExpireReason why) {
    listener_->on_expired(OrderExpired{id, order.account, order.client_order_id, order.side, order.price,
                                       Qty::from_raw(t.by_quote ? 0 : t.open), Money::from_raw(t.by_quote ? t.quote : 0),
                                       Qty::from_raw(t.filled), why, t.prevented_by, now});
    result.status = expired_in_match(why) ? OrderStatus::ExpiredInMatch : OrderStatus::Expired;
  };
  const bool fok = order.type == OrderType::Limit && order.time_in_force == TimeInForce::Fok;
  if (fok && !fok_fillable(t)) {
    expire(ExpireReason::FillOrKill);
  } else {
    if (order.type != OrderType::LimitMaker) match(t, now);
    const bool done = t.by_quote ? t.quote == 0 : t.open == 0;
    if (t.stp_expired) {
      expire(t.stp_reason);
    } else if (done) {
      result.status = OrderStatus::Filled;
    } else if (is_market) {
      expire(ExpireReason::NoLiquidity);
    } else if (order.type == OrderType::Limit && order.time_in_force != TimeInForce::Gtc) {
      expire(order.time_in_force == TimeInForce::Ioc ? ExpireReason::ImmediateOrCancel : ExpireReason::FillOrKill);
    } else {
      const std::uint32_t slot = alloc_order();
      OrderSlot& o = orders_[slot];
      o.id = id;
      o.account = order.account;
      o.price = order.price.raw();
      o.open = t.open;
      o.filled = t.filled;
      o.filled_quote = t.filled_quote;
      o.side = order.side;
      o.type = order.type;
      o.tif = TimeInForce::Gtc;
      o.stp = order.stp;
      o.client_len = static_cast<std::uint8_t>(order.client_order_id.size());
      if (o.client_len != 0) std::memcpy(o.client, order.client_order_id.data(), o.client_len);
      index_order(slot);
      rest(slot, now);
      result.status = t.filled > 0 ? OrderStatus::PartiallyFilled : OrderStatus::New;
    }
  }
  result.filled = Qty::from_raw(t.filled);
  busy_ = false;
  return result;
}

RejectReason MatchingEngine::cancel(AccountId account, OrderId order_id, Nanos now) noexcept {
  if (busy_) {
    reject(RequestKind::Cancel, order_id, account, {}, RejectReason::ReentrantCall, now);
    return RejectReason::ReentrantCall;
  }
  const std::uint32_t slot = lookup(account, order_id, {});
  if (slot == kNil || order_id == 0) {
    reject(RequestKind::Cancel, order_id, account, {}, RejectReason::UnknownOrder, now);
    return RejectReason::UnknownOrder;
  }
  busy_ = true;
  const OrderSlot& o = orders_[slot];
  listener_->on_cancelled(OrderCancelled{o.id, o.account, o.client_id(), o.side, Price::from_raw(o.price),
                                         Qty::from_raw(o.open), Qty::from_raw(o.filled), now});
  remove_open_order(slot);
  busy_ = false;
  return RejectReason::None;
}

RejectReason MatchingEngine::cancel_by_client_id(AccountId account, std::string_view client_order_id,
                                                 Nanos now) noexcept {
  if (busy_) {
    reject(RequestKind::Cancel, 0, account, client_order_id, RejectReason::ReentrantCall, now);
    return RejectReason::ReentrantCall;
  }
  const std::uint32_t slot = lookup(account, 0, client_order_id);
  if (slot == kNil) {
    reject(RequestKind::Cancel, 0, account, client_order_id, RejectReason::UnknownOrder, now);
    return RejectReason::UnknownOrder;
  }
  return cancel(account, orders_[slot].id, now);
}

RejectReason MatchingEngine::replace(const ReplaceOrder& req, Nanos now) noexcept {
  const auto fail = [&](RejectReason reason) {
    reject(RequestKind::Replace, req.order_id, req.account, req.client_order_id, reason, now);
    return reason;
  };
  if (busy_) return fail(RejectReason::ReentrantCall);
  const std::uint32_t slot = lookup(req.account, req.order_id, req.client_order_id);
  if (slot == kNil) return fail(RejectReason::UnknownOrder);
  OrderSlot& o = orders_[slot];
  const std::int64_t price = req.new_price.raw();
  const std::int64_t qty = req.new_quantity.raw();
  const bool same_price = price == o.price;
  const bool keep_priority = same_price && qty <= o.open;
  const bool new_client = !req.new_client_order_id.empty() && req.new_client_order_id != o.client_id();
  if (new_client) {
    if (!valid_client_order_id(req.new_client_order_id)) return fail(RejectReason::InvalidClientOrderId);
    if (lookup(req.account, 0, req.new_client_order_id) != kNil) return fail(RejectReason::DuplicateClientOrderId);
  }
  if (keep_priority) {
    if (qty <= 0) return fail(RejectReason::InvalidQuantity);
    if (rules_.step_size.raw() > 0 && qty % rules_.step_size.raw() != 0) return fail(RejectReason::QtyNotOnStep);
  } else {
    RejectReason reason = validate_price(price, !same_price);
    if (reason == RejectReason::None) reason = validate_qty(qty);
    if (reason == RejectReason::None && below_min_notional(price, qty)) {
      reason = RejectReason::NotionalBelowMin;
    }
    if (reason == RejectReason::None && o.type == OrderType::LimitMaker && would_take(o.side, price)) {
      reason = RejectReason::WouldTake;
    }
    if (reason != RejectReason::None) return fail(reason);
  }

  busy_ = true;
  if (new_client) {
    if (o.client_len != 0) by_client_.erase(hash_client(o.account, o.client_id()), slot);
    o.client_len = static_cast<std::uint8_t>(req.new_client_order_id.size());
    std::memcpy(o.client, req.new_client_order_id.data(), o.client_len);
    by_client_.insert(hash_client(o.account, o.client_id()), slot);
  }
  const std::int64_t old_price = o.price;
  const std::int64_t old_open = o.open;
  listener_->on_replaced(OrderReplaced{o.id, o.account, o.client_id(), o.side, Price::from_raw(old_price),
                                       req.new_price, Qty::from_raw(old_open), req.new_quantity, keep_priority,
                                       now});
  if (keep_priority) {
    if (qty != old_open) {
      LevelSlot& lv = levels_[o.level];
      lv.quantity -= old_open - qty;
      o.open = qty;
      emit_level(o.side, lv.price, lv.quantity, lv.count);
    }
    busy_ = false;
    return RejectReason::None;
  }
  // Loses priority: leave the old level, then enter again like a new GTC limit order.
  {
    const std::uint32_t level = o.level;
    unlink(slot);
    const LevelSlot lv = levels_[level];
    if (lv.count == 0) drop_level(o.side, level);
    emit_level(o.side, lv.price, lv.quantity, lv.count);
  }
  o.price = price;
  o.open = qty;
  if (!same_price && would_take(o.side, price)) {
    Taker t{};
    t.id = o.id;
    t.account = o.account;
    t.client = o.client_id();
    t.side = o.side;
    t.stp = o.stp;
    t.has_limit = true;
    t.limit = price;
    t.open = qty;
    match(t, now);  // only touches the other side: `o` stays where it is
    o.open = t.open;
    o.filled += t.filled;
    o.filled_quote += t.filled_quote;
    if (t.stp_expired || t.open == 0) {
      if (t.stp_expired) {
        listener_->on_expired(OrderExpired{o.id, o.account, o.client_id(), o.side, Price::from_raw(price),
                                           Qty::from_raw(o.open), Money{}, Qty::from_raw(o.filled), t.stp_reason,
                                           t.prevented_by, now});
      }
      unindex_order(slot);
      free_order(slot);
      busy_ = false;
      return RejectReason::None;
    }
  }
  rest(slot, now);
  busy_ = false;
  return RejectReason::None;
}

// ---------------------------------------------------------------------------------------------
// Reads

std::optional<AggregatedLevel> MatchingEngine::best(Side side) const noexcept {
  const auto& refs = sides_[index(side)];
  if (refs.empty()) return std::nullopt;
  const LevelSlot& lv = levels_[refs.back().level];
  return AggregatedLevel{Price::from_raw(lv.price), Qty::from_raw(lv.quantity), lv.count};
}

std::size_t MatchingEngine::depth(Side side, std::span<AggregatedLevel> out) const noexcept {
  const auto& refs = sides_[index(side)];
  const std::size_t n = std::min(out.size(), refs.size());
  for (std::size_t k = 0; k < n; ++k) {
    const LevelSlot& lv = levels_[refs[refs.size() - 1 - k].level];
    out[k] = AggregatedLevel{Price::from_raw(lv.price), Qty::from_raw(lv.quantity), lv.count};
  }
  return n;
}

OrderInfo MatchingEngine::info(std::uint32_t slot) const noexcept {
  const OrderSlot& o = orders_[slot];
  return OrderInfo{o.id,
                   o.account,
                   o.side,
                   o.type,
                   o.tif,
                   o.stp,
                   Price::from_raw(o.price),
                   Qty::from_raw(o.open + o.filled),
                   Qty::from_raw(o.open),
                   Qty::from_raw(o.filled),
                   Money::from_raw(o.filled_quote),
                   o.working_time,
                   o.client_id()};
}

std::optional<OrderInfo> MatchingEngine::find_order(OrderId order_id) const noexcept {
  if (order_id == 0) return std::nullopt;
  const std::uint32_t slot = by_id_.find(hash_id(order_id), [&](std::uint32_t v) { return orders_[v].id == order_id; });
  if (slot == kNil) return std::nullopt;
  return info(slot);
}

std::optional<OrderInfo> MatchingEngine::find_order(AccountId account, std::string_view client_order_id) const noexcept {
  const std::uint32_t slot = lookup(account, 0, client_order_id);
  if (slot == kNil) return std::nullopt;
  return info(slot);
}

void MatchingEngine::clear_book() noexcept {
  free_orders_.clear();
  for (auto i = static_cast<std::uint32_t>(orders_.size()); i-- > 0;) free_orders_.push_back(i);
  free_levels_.clear();
  for (auto i = static_cast<std::uint32_t>(levels_.size()); i-- > 0;) free_levels_.push_back(i);
  sides_[0].clear();
  sides_[1].clear();
  by_id_.clear();
  by_client_.clear();
  open_orders_ = 0;
}

}  // namespace tb::book
