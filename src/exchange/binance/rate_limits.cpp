#include "tradingbot/exchange/binance/rate_limits.hpp"

#include <charconv>
#include <cmath>

namespace tb::binance {

std::optional<RateLimitType> parse_rate_limit_type(std::string_view text) noexcept {
  if (text == "REQUEST_WEIGHT") return RateLimitType::RequestWeight;
  if (text == "ORDERS") return RateLimitType::Orders;
  if (text == "RAW_REQUESTS") return RateLimitType::RawRequests;
  return std::nullopt;
}

std::optional<IntervalUnit> parse_interval_unit(std::string_view text) noexcept {
  if (text == "SECOND") return IntervalUnit::Second;
  if (text == "MINUTE") return IntervalUnit::Minute;
  if (text == "HOUR") return IntervalUnit::Hour;
  if (text == "DAY") return IntervalUnit::Day;
  return std::nullopt;
}

std::string_view to_string(RateLimitType type) noexcept {
  switch (type) {
    case RateLimitType::RequestWeight: return "REQUEST_WEIGHT";
    case RateLimitType::Orders: return "ORDERS";
    case RateLimitType::RawRequests: return "RAW_REQUESTS";
  }
  return "UNKNOWN";
}

std::string_view to_string(RateDecision decision) noexcept {
  switch (decision) {
    case RateDecision::Ok: return "ok";
    case RateDecision::WeightExhausted: return "request weight budget used up for this window";
    case RateDecision::OrdersExhausted: return "order count budget used up for this window";
    case RateDecision::RawExhausted: return "raw request budget used up for this window";
    case RateDecision::Throttled429: return "waiting out a 429 Retry-After";
    case RateDecision::Banned418: return "IP banned (418) until Retry-After";
  }
  return "unknown";
}

Nanos interval_length(IntervalUnit unit, std::int32_t num) noexcept {
  Nanos base = kNanosPerSecond;
  switch (unit) {
    case IntervalUnit::Second: base = kNanosPerSecond; break;
    case IntervalUnit::Minute: base = 60 * kNanosPerSecond; break;
    case IntervalUnit::Hour: base = 3600 * kNanosPerSecond; break;
    case IntervalUnit::Day: base = 86400 * kNanosPerSecond; break;
  }
  return base * (num > 0 ? num : 1);
}

std::int32_t endpoint_weight(Endpoint endpoint, std::int32_t n) noexcept {
  switch (endpoint) {
    case Endpoint::Ping:
    case Endpoint::Time: return 1;
    case Endpoint::ExchangeInfo: return 20;
    case Endpoint::Depth:
      if (n <= 100) return 5;
      if (n <= 500) return 25;
      if (n <= 1000) return 50;
      return 250;
    case Endpoint::Trades: return 25;
    case Endpoint::AggTrades: return 4;
    case Endpoint::Klines:
    case Endpoint::AvgPrice: return 2;
    case Endpoint::TickerPrice:
    case Endpoint::TickerBookTicker: return n == 1 ? 2 : 4;
    case Endpoint::Ticker24hr:
      if (n <= 0 || n > 100) return 80;
      if (n <= 20) return 2;
      return 40;
    case Endpoint::OrderNew: return 1;
    case Endpoint::OrderTest: return n == 1 ? 20 : 1;
    case Endpoint::OrderCancel:
    case Endpoint::OpenOrdersCancel: return 1;
    case Endpoint::OrderQuery: return 4;
    case Endpoint::OpenOrders: return n == 1 ? 6 : 80;
    case Endpoint::AllOrders:
    case Endpoint::Account: return 20;
    case Endpoint::MyTrades: return n == 1 ? 5 : 20;
    case Endpoint::RateLimitOrder: return 40;
    case Endpoint::WsApiConnect: return 2;
  }
  return 1;
}

RateLimitTracker::RateLimitTracker(double utilization) noexcept
    : utilization_(utilization > 0.0 && utilization <= 1.0 ? utilization : 0.9) {
  const RateLimit defaults[] = {
      {RateLimitType::RequestWeight, IntervalUnit::Minute, 1, 6000},
      {RateLimitType::Orders, IntervalUnit::Second, 10, 50},
      {RateLimitType::Orders, IntervalUnit::Day, 1, 160000},
      {RateLimitType::RawRequests, IntervalUnit::Minute, 5, 300000},
  };
  set_limits(defaults, std::size(defaults));
}

RateLimitTracker::Slot* RateLimitTracker::find(RateLimitType type, IntervalUnit unit, std::int32_t num) noexcept {
  for (std::size_t i = 0; i < count_; ++i) {
    const RateLimit& l = slots_[i].limit;
    if (l.type == type && l.unit == unit && l.interval_num == num) return &slots_[i];
  }
  return nullptr;
}

RateLimitTracker::Slot* RateLimitTracker::find_or_add(RateLimitType type, IntervalUnit unit,
                                                      std::int32_t num) noexcept {
  if (Slot* s = find(type, unit, num)) return s;
  if (count_ == kMaxLimits) return nullptr;
  Slot& s = slots_[count_++];
  s = Slot{};
  s.limit = RateLimit{type, unit, num, 0};
  return &s;
}

void RateLimitTracker::set_limits(const RateLimit* limits, std::size_t n) noexcept {
  std::array<Slot, kMaxLimits> next{};
  std::size_t next_count = 0;
  for (std::size_t i = 0; i < n && next_count < kMaxLimits; ++i) {
    Slot s;
    s.limit = limits[i];
    if (const Slot* old = find(limits[i].type, limits[i].unit, limits[i].interval_num)) {
      s.window_index = old->window_index;
      s.count = old->count;
    }
    next[next_count++] = s;
  }
  slots_ = next;
  count_ = next_count;
}

std::int64_t RateLimitTracker::count_at(const Slot& s, Nanos now) const noexcept {
  const Nanos len = interval_length(s.limit.unit, s.limit.interval_num);
  return now / len == s.window_index ? s.count : 0;
}

void RateLimitTracker::raise(Slot& s, std::int64_t count, Nanos now) noexcept {
  const std::int64_t index = now / interval_length(s.limit.unit, s.limit.interval_num);
  if (index > s.window_index) {
    s.window_index = index;
    s.count = count;
  } else if (index == s.window_index && count > s.count) {
    s.count = count;
  }  // a header from an older window (late response) says nothing about this one
}

void RateLimitTracker::add(Slot& s, std::int64_t amount, Nanos now) noexcept {
  const std::int64_t index = now / interval_length(s.limit.unit, s.limit.interval_num);
  if (index != s.window_index) {
    s.window_index = index;
    s.count = 0;
  }
  s.count += amount;
}

std::int64_t RateLimitTracker::used(std::size_t i, Nanos now) const noexcept {
  return i < count_ ? count_at(slots_[i], now) : 0;
}

std::int64_t RateLimitTracker::used_weight_1m(Nanos now) const noexcept {
  for (std::size_t i = 0; i < count_; ++i) {
    const RateLimit& l = slots_[i].limit;
    if (l.type == RateLimitType::RequestWeight && l.unit == IntervalUnit::Minute && l.interval_num == 1) {
      return count_at(slots_[i], now);
    }
  }
  return -1;
}

namespace {
std::int64_t amount_for(RateLimitType type, std::int32_t weight, std::int32_t orders) noexcept {
  switch (type) {
    case RateLimitType::RequestWeight: return weight;
    case RateLimitType::Orders: return orders;
    case RateLimitType::RawRequests: return 1;
  }
  return 0;
}
RateDecision exhausted(RateLimitType type) noexcept {
  switch (type) {
    case RateLimitType::RequestWeight: return RateDecision::WeightExhausted;
    case RateLimitType::Orders: return RateDecision::OrdersExhausted;
    case RateLimitType::RawRequests: return RateDecision::RawExhausted;
  }
  return RateDecision::WeightExhausted;
}
}  // namespace

RateDecision RateLimitTracker::can_send(std::int32_t weight, Nanos now, std::int32_t orders) const noexcept {
  if (now < banned_until_) return RateDecision::Banned418;
  if (now < blocked_until_) return RateDecision::Throttled429;
  for (std::size_t i = 0; i < count_; ++i) {
    const Slot& s = slots_[i];
    const std::int64_t amount = amount_for(s.limit.type, weight, orders);
    if (s.limit.limit <= 0 || amount <= 0) continue;
    const auto budget = static_cast<std::int64_t>(std::floor(static_cast<double>(s.limit.limit) * utilization_));
    if (count_at(s, now) + amount > (budget > 0 ? budget : 1)) return exhausted(s.limit.type);
  }
  return RateDecision::Ok;
}

Nanos RateLimitTracker::delay_until(std::int32_t weight, Nanos now, std::int32_t orders) const noexcept {
  Nanos until = now;
  if (banned_until_ > until) until = banned_until_;
  if (blocked_until_ > until) until = blocked_until_;
  for (std::size_t i = 0; i < count_; ++i) {
    const Slot& s = slots_[i];
    const std::int64_t amount = amount_for(s.limit.type, weight, orders);
    if (s.limit.limit <= 0 || amount <= 0) continue;
    const auto budget = static_cast<std::int64_t>(std::floor(static_cast<double>(s.limit.limit) * utilization_));
    const Nanos len = interval_length(s.limit.unit, s.limit.interval_num);
    // Evaluate at `until`: a block may already outlast this window.
    if (count_at(s, until) + amount > (budget > 0 ? budget : 1)) {
      const Nanos next_window = (until / len + 1) * len;
      if (next_window > until) until = next_window;
    }
  }
  return until;
}

void RateLimitTracker::on_sent(std::int32_t weight, Nanos now, std::int32_t orders) noexcept {
  for (std::size_t i = 0; i < count_; ++i) {
    const std::int64_t amount = amount_for(slots_[i].limit.type, weight, orders);
    if (amount > 0) add(slots_[i], amount, now);
  }
}

namespace {
bool iequals_prefix(std::string_view text, std::string_view prefix) noexcept {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != prefix[i]) return false;
  }
  return true;
}
}  // namespace

bool RateLimitTracker::on_header(std::string_view name, std::string_view value, Nanos now) noexcept {
  RateLimitType type;
  std::string_view suffix;
  if (iequals_prefix(name, "X-MBX-USED-WEIGHT-")) {
    type = RateLimitType::RequestWeight;
    suffix = name.substr(18);
  } else if (iequals_prefix(name, "X-MBX-ORDER-COUNT-")) {
    type = RateLimitType::Orders;
    suffix = name.substr(18);
  } else {
    return false;
  }
  if (suffix.size() < 2) return false;
  std::int32_t num = 0;
  const auto [ptr, ec] = std::from_chars(suffix.data(), suffix.data() + suffix.size() - 1, num);
  if (ec != std::errc{} || ptr != suffix.data() + suffix.size() - 1 || num <= 0) return false;
  IntervalUnit unit;
  switch (suffix.back()) {
    case 'S': case 's': unit = IntervalUnit::Second; break;
    case 'M': case 'm': unit = IntervalUnit::Minute; break;
    case 'H': case 'h': unit = IntervalUnit::Hour; break;
    case 'D': case 'd': unit = IntervalUnit::Day; break;
    default: return false;
  }
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  std::int64_t count = 0;
  const auto [vptr, vec] = std::from_chars(value.data(), value.data() + value.size(), count);
  if (vec != std::errc{} || vptr != value.data() + value.size() || count < 0) return false;
  if (Slot* s = find_or_add(type, unit, num)) raise(*s, count, now);
  return true;
}

void RateLimitTracker::on_http_status(int status, std::optional<std::int64_t> retry_after_s, Nanos now) noexcept {
  if (status == 429) {
    const Nanos minute = 60 * kNanosPerSecond;
    const Nanos until = retry_after_s && *retry_after_s >= 0 ? now + *retry_after_s * kNanosPerSecond
                                                             : (now / minute + 1) * minute;
    if (until > blocked_until_) blocked_until_ = until;
  } else if (status == 418) {
    const Nanos until = retry_after_s && *retry_after_s >= 0 ? now + *retry_after_s * kNanosPerSecond
                                                             : now + 5 * 60 * kNanosPerSecond;
    if (until > banned_until_) banned_until_ = until;
  }
}

void RateLimitTracker::on_ws_api_status(int status, std::optional<std::int64_t> retry_after_epoch_ms,
                                        Nanos now) noexcept {
  if (status != 429 && status != 418) return;
  if (!retry_after_epoch_ms) {
    on_http_status(status, std::nullopt, now);
    return;
  }
  const Nanos until = *retry_after_epoch_ms * kNanosPerMilli;
  Nanos& target = status == 418 ? banned_until_ : blocked_until_;
  if (until > target) target = until;
}

void RateLimitTracker::on_usage(const RateLimitUsage* usage, std::size_t n, Nanos now) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const RateLimit& l = usage[i].limit;
    Slot* s = find_or_add(l.type, l.unit, l.interval_num);
    if (s == nullptr) continue;
    if (l.limit > 0) s->limit.limit = l.limit;
    raise(*s, usage[i].count, now);
  }
}

}  // namespace tb::binance
