#include "tradingbot/sim/sim_market.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace tb::sim {

// ---------------------------------------------------------------------------------------------
// Formatting helpers

void append_int(std::string& out, std::int64_t value) {
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

void append_decimal_string(std::string& out, std::int64_t raw) {
  char buffer[kMaxFixedChars];
  const std::size_t n = format_fixed(raw, kFixedDecimals, buffer);
  out.push_back('"');
  out.append(buffer, n);
  out.push_back('"');
}

namespace {

void append_string(std::string& out, std::string_view text) {
  // Only symbol names and fixed identifiers go through here: no characters need escaping.
  out.push_back('"');
  out.append(text);
  out.push_back('"');
}

void append_levels(std::string& out, const std::vector<std::pair<std::int64_t, std::int64_t>>& levels) {
  out.push_back('[');
  bool first = true;
  for (const auto& [price, qty] : levels) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('[');
    append_decimal_string(out, price);
    out.push_back(',');
    append_decimal_string(out, qty);
    out.push_back(']');
  }
  out.push_back(']');
}

void append_levels(std::string& out, std::span<const book::AggregatedLevel> levels) {
  out.push_back('[');
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (i != 0) out.push_back(',');
    out.push_back('[');
    append_decimal_string(out, levels[i].price.raw());
    out.push_back(',');
    append_decimal_string(out, levels[i].quantity.raw());
    out.push_back(']');
  }
  out.push_back(']');
}

constexpr std::array<KlineInterval, kKlineIntervals> kAllIntervals = {KlineInterval::S1, KlineInterval::M1};
constexpr std::size_t kKlineHistory = 1000;

}  // namespace

std::string_view kline_interval_name(KlineInterval interval) noexcept {
  return interval == KlineInterval::S1 ? "1s" : "1m";
}
std::int64_t kline_interval_ms(KlineInterval interval) noexcept {
  return interval == KlineInterval::S1 ? 1000 : 60'000;
}
std::optional<KlineInterval> parse_kline_interval(std::string_view text) noexcept {
  if (text == "1s") return KlineInterval::S1;
  if (text == "1m") return KlineInterval::M1;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// SimRng

namespace {
std::uint64_t splitmix(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
}  // namespace

SimRng::SimRng(std::uint64_t seed) noexcept {
  for (auto& s : s_) s = splitmix(seed);
}
std::uint64_t SimRng::next() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}
double SimRng::uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
double SimRng::normal() noexcept {
  const double u1 = 1.0 - uniform();  // (0, 1]
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}
std::uint64_t SimRng::below(std::uint64_t n) noexcept { return next() % n; }
std::uint32_t SimRng::poisson(double mean) noexcept {
  if (mean <= 0.0) return 0;
  if (mean > 30.0) {  // normal approximation keeps the loop bounded for busy symbols
    const double v = std::round(mean + std::sqrt(mean) * normal());
    return v < 0.0 ? 0u : static_cast<std::uint32_t>(v);
  }
  const double limit = std::exp(-mean);
  std::uint32_t k = 0;
  double p = uniform();
  while (p > limit) {
    ++k;
    p *= uniform();
  }
  return k;
}

// ---------------------------------------------------------------------------------------------
// SimSymbol: one instrument's engine, flow, accumulators and klines.

class SimSymbol final : public book::OrderListener {
 public:
  struct Change {
    Side side;
    std::int64_t price;
    std::int64_t qty;
  };
  struct PendingTrade {
    book::TradeId id;
    book::OrderId taker_order;
    Price price;
    Qty qty;
    Money quote;
    bool buyer_maker;
    Nanos time_ns;
  };
  struct Top {
    std::int64_t bid = 0, bid_qty = 0, ask = 0, ask_qty = 0;
    bool operator==(const Top&) const = default;
  };

  SimSymbol(SimMarket& market, std::size_t index, const SimSymbolConfig& cfg, std::uint64_t seed)
      : market_(market),
        index_(index),
        cfg_(cfg),
        engine_(rules_of(cfg), *this),
        rng_(seed),
        fair_(static_cast<double>(cfg.start_price.raw())),
        lower_(cfg.symbol.lower()) {
    stream_trade_ = lower_ + "@trade";
    stream_agg_ = lower_ + "@aggTrade";
    stream_book_ticker_ = lower_ + "@bookTicker";
    stream_depth_[0] = lower_ + "@depth@100ms";
    stream_depth_[1] = lower_ + "@depth";
    for (std::size_t i = 0; i < 3; ++i) {
      static constexpr std::array<std::string_view, 3> kLevels = {"5", "10", "20"};
      stream_partial_[0][i] = lower_ + "@depth" + std::string(kLevels[i]) + "@100ms";
      stream_partial_[1][i] = lower_ + "@depth" + std::string(kLevels[i]);
    }
    for (KlineInterval interval : kAllIntervals) {
      stream_kline_[static_cast<std::size_t>(interval)] = lower_ + "@kline_" + std::string(kline_interval_name(interval));
    }
    last_price_ = cfg.start_price;
    // Seed the book with passive orders only so the first snapshot is already two-sided.
    const std::int64_t seed_orders = std::min<std::int64_t>(cfg.max_agent_orders / 2, 60);
    for (std::int64_t i = 0; i < seed_orders; ++i) place_passive(0);
    after_request(0, /*publish=*/false);
    for (auto& d : diffs_) d.clear();
    for (auto& f : diff_first_) f = 0;
  }

  static book::InstrumentRules rules_of(const SimSymbolConfig& cfg) {
    book::InstrumentRules r;
    r.symbol = cfg.symbol;
    r.tick_size = cfg.tick_size;
    r.min_price = cfg.min_price;
    r.max_price = cfg.max_price;
    r.step_size = cfg.step_size;
    r.min_qty = cfg.min_qty;
    r.max_qty = cfg.max_qty;
    r.min_notional = cfg.min_notional;
    return r;
  }

  // --- agents ---------------------------------------------------------------------------------
  void step(std::int64_t now_ms, std::int64_t step_ms) {
    const double dt = static_cast<double>(step_ms) / 1000.0;
    const double sigma = static_cast<double>(cfg_.volatility_bps) / 10'000.0 * std::sqrt(dt);
    fair_ *= std::exp(sigma * rng_.normal());
    const double lo = static_cast<double>(std::max<std::int64_t>(cfg_.min_price.raw(), cfg_.tick_size.raw()) * 20);
    const double hi = cfg_.max_price.is_zero() ? 1e17 : static_cast<double>(cfg_.max_price.raw()) / 2.0;
    fair_ = std::clamp(fair_, lo, hi);
    const std::uint32_t arrivals = rng_.poisson(static_cast<double>(cfg_.orders_per_s) * dt);
    const Nanos now_ns = now_ms * 1'000'000;
    for (std::uint32_t i = 0; i < arrivals; ++i) {
      const double u = rng_.uniform();
      if (u < 0.30 && !agent_orders_.empty()) {
        const std::size_t pick = rng_.below(agent_orders_.size());
        std::swap(agent_orders_[pick], agent_orders_.back());
        const book::OrderId id = agent_orders_.back();
        agent_orders_.pop_back();
        (void)engine_.cancel(kAgentAccount, id, now_ns);
      } else if (u < 0.45) {
        take(now_ns);
      } else {
        place_passive(now_ns);
      }
    }
    while (static_cast<std::int64_t>(agent_orders_.size()) > cfg_.max_agent_orders) {
      const book::OrderId id = agent_orders_.front();
      agent_orders_.pop_front();
      (void)engine_.cancel(kAgentAccount, id, now_ns);
    }
    after_request(now_ms, true);
  }

  Qty random_qty(Price price) {
    const double scale = 0.2 + 1.6 * rng_.uniform();
    std::int64_t raw = static_cast<std::int64_t>(static_cast<double>(cfg_.typical_qty.raw()) * scale);
    raw = std::max(floor_to_step(raw, cfg_.step_size.raw()), std::max(cfg_.min_qty.raw(), cfg_.step_size.raw()));
    // Lift tiny orders over minNotional so the engine accepts them.
    while (notional(price, Qty::from_raw(raw)) < cfg_.min_notional) raw += cfg_.step_size.raw();
    return Qty::from_raw(raw);
  }

  void place_passive(Nanos now_ns) {
    const std::int64_t tick = cfg_.tick_size.raw();
    const bool buy = (rng_.next() & 1u) != 0;
    const auto offset = static_cast<std::int64_t>(1.0 + std::floor(-std::log(1.0 - rng_.uniform()) * 6.0));
    const auto fair = static_cast<std::int64_t>(fair_);
    std::int64_t price = buy ? floor_to_step(fair, tick) - (offset - 1) * tick
                             : ceil_to_step(fair, tick) + (offset - 1) * tick;
    if (buy && price == fair) price -= tick;  // keep the fair tick itself free
    price = std::max(price, std::max(cfg_.min_price.raw(), tick));
    if (!cfg_.max_price.is_zero()) price = std::min(price, cfg_.max_price.raw());
    book::NewOrder order;
    order.account = kAgentAccount;
    order.side = buy ? Side::Buy : Side::Sell;
    order.type = book::OrderType::Limit;
    order.time_in_force = book::TimeInForce::Gtc;
    order.price = Price::from_raw(price);
    order.quantity = random_qty(order.price);
    const auto result = engine_.submit(order, now_ns);
    if (result.order_id != 0 && (result.status == book::OrderStatus::New || result.status == book::OrderStatus::PartiallyFilled)) {
      agent_orders_.push_back(result.order_id);
    }
  }

  void take(Nanos now_ns) {
    const bool buy = (rng_.next() & 1u) != 0;
    const auto opposite = engine_.best(buy ? Side::Sell : Side::Buy);
    if (!opposite) return;
    const std::int64_t tick = cfg_.tick_size.raw();
    book::NewOrder order;
    order.account = kAgentAccount;
    order.side = buy ? Side::Buy : Side::Sell;
    order.type = book::OrderType::Limit;
    order.time_in_force = book::TimeInForce::Ioc;
    order.price = Price::from_raw(opposite->price.raw() + (buy ? 2 * tick : -2 * tick));
    if (order.price.raw() <= 0) return;
    order.quantity = random_qty(order.price);
    (void)engine_.submit(order, now_ns);
  }

  // --- listener ---------------------------------------------------------------------------------
  void on_level_changed(const book::LevelChanged& e) override {
    for (std::size_t s = 0; s < 2; ++s) {
      if (diffs_[s].empty()) diff_first_[s] = e.update_id;
      diffs_[s].push_back(Change{e.side, e.price.raw(), e.quantity.raw()});
    }
  }
  void on_trade(const book::Trade& t) override {
    trades_.push_back(PendingTrade{t.trade_id, t.taker_order_id, t.price, t.quantity, t.quote_qty,
                                   t.taker_side == Side::Sell, t.time});
    last_price_ = t.price;
    if ((t.maker_account != kAgentAccount || t.taker_account != kAgentAccount) && market_.observer_ != nullptr) {
      market_.observer_->on_user_event(index_, &t, nullptr, nullptr, nullptr);
    }
  }
  void on_expired(const book::OrderExpired& e) override {
    if (e.account != kAgentAccount && market_.observer_ != nullptr) {
      market_.observer_->on_user_event(index_, nullptr, &e, nullptr, nullptr);
    }
  }
  void on_cancelled(const book::OrderCancelled& e) override {
    if (e.account != kAgentAccount && market_.observer_ != nullptr) {
      market_.observer_->on_user_event(index_, nullptr, nullptr, &e, nullptr);
    }
  }
  void on_accepted(const book::OrderAccepted& e) override {
    if (e.account != kAgentAccount && market_.observer_ != nullptr) {
      market_.observer_->on_user_event(index_, nullptr, nullptr, nullptr, &e);
    }
  }

  // --- publishing -------------------------------------------------------------------------------
  // Sends trade/aggTrade for the trades of the last request(s), updates klines and sends a
  // bookTicker when the top of the book changed.
  void after_request(std::int64_t now_ms, bool publish) {
    std::string& out = market_.scratch_;
    std::size_t i = 0;
    while (i < trades_.size()) {
      // Binance aggregates fills of one taker order at one price into one aggTrade.
      std::size_t j = i + 1;
      while (j < trades_.size() && trades_[j].taker_order == trades_[i].taker_order && trades_[j].price == trades_[i].price) ++j;
      Qty agg_qty;
      for (std::size_t k = i; k < j; ++k) {
        const PendingTrade& t = trades_[k];
        agg_qty += t.qty;
        add_to_klines(t, now_ms);
        if (publish) {
          out.clear();
          out += R"({"e":"trade","E":)";
          append_int(out, now_ms);
          out += R"(,"s":)";
          append_string(out, cfg_.symbol.view());
          out += R"(,"t":)";
          append_int(out, static_cast<std::int64_t>(t.id));
          out += R"(,"p":)";
          append_decimal_string(out, t.price.raw());
          out += R"(,"q":)";
          append_decimal_string(out, t.qty.raw());
          out += R"(,"T":)";
          append_int(out, t.time_ns / 1'000'000);
          out += t.buyer_maker ? R"(,"m":true,"M":true})" : R"(,"m":false,"M":true})";
          market_.sink_.publish(stream_trade_, out);
          ++market_.trades_published_;
        }
      }
      if (publish) {
        out.clear();
        out += R"({"e":"aggTrade","E":)";
        append_int(out, now_ms);
        out += R"(,"s":)";
        append_string(out, cfg_.symbol.view());
        out += R"(,"a":)";
        append_int(out, next_agg_id_);
        out += R"(,"p":)";
        append_decimal_string(out, trades_[i].price.raw());
        out += R"(,"q":)";
        append_decimal_string(out, agg_qty.raw());
        out += R"(,"f":)";
        append_int(out, static_cast<std::int64_t>(trades_[i].id));
        out += R"(,"l":)";
        append_int(out, static_cast<std::int64_t>(trades_[j - 1].id));
        out += R"(,"T":)";
        append_int(out, trades_[i].time_ns / 1'000'000);
        out += trades_[i].buyer_maker ? R"(,"m":true,"M":true})" : R"(,"m":false,"M":true})";
        market_.sink_.publish(stream_agg_, out);
      }
      ++next_agg_id_;
      i = j;
    }
    trades_.clear();

    const auto bid = engine_.best(Side::Buy);
    const auto ask = engine_.best(Side::Sell);
    const Top top{bid ? bid->price.raw() : 0, bid ? bid->quantity.raw() : 0, ask ? ask->price.raw() : 0,
                  ask ? ask->quantity.raw() : 0};
    if (top != last_top_) {
      last_top_ = top;
      if (publish) {
        out.clear();
        render_book_ticker_stream(out);
        market_.sink_.publish(stream_book_ticker_, out);
      }
    }
  }

  void render_book_ticker_stream(std::string& out) const {
    out += R"({"u":)";
    append_int(out, static_cast<std::int64_t>(engine_.update_id()));
    out += R"(,"s":)";
    append_string(out, cfg_.symbol.view());
    out += R"(,"b":)";
    append_decimal_string(out, last_top_.bid);
    out += R"(,"B":)";
    append_decimal_string(out, last_top_.bid_qty);
    out += R"(,"a":)";
    append_decimal_string(out, last_top_.ask);
    out += R"(,"A":)";
    append_decimal_string(out, last_top_.ask_qty);
    out += '}';
  }

  void flush_depth(DiffSpeed speed, std::int64_t now_ms) {
    const std::size_t s = speed == DiffSpeed::Fast100ms ? 0 : 1;
    std::string& out = market_.scratch_;
    auto& changes = diffs_[s];
    if (!changes.empty()) {
      // Latest quantity per (side, price): stable sort keeps arrival order within a price.
      std::stable_sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
        if (a.side != b.side) return a.side == Side::Buy;
        return a.side == Side::Buy ? a.price > b.price : a.price < b.price;
      });
      bids_.clear();
      asks_.clear();
      for (std::size_t i = 0; i < changes.size(); ++i) {
        if (i + 1 < changes.size() && changes[i + 1].side == changes[i].side && changes[i + 1].price == changes[i].price) continue;
        (changes[i].side == Side::Buy ? bids_ : asks_).emplace_back(changes[i].price, changes[i].qty);
      }
      const bool skip = skip_next_[s];
      skip_next_[s] = false;
      if (!skip) {
        out.clear();
        out += R"({"e":"depthUpdate","E":)";
        append_int(out, now_ms);
        out += R"(,"s":)";
        append_string(out, cfg_.symbol.view());
        out += R"(,"U":)";
        append_int(out, static_cast<std::int64_t>(diff_first_[s]));
        out += R"(,"u":)";
        append_int(out, static_cast<std::int64_t>(engine_.update_id()));
        out += R"(,"b":)";
        append_levels(out, bids_);
        out += R"(,"a":)";
        append_levels(out, asks_);
        out += '}';
        market_.sink_.publish(stream_depth_[s], out);
      }
      changes.clear();
      // Partial depth: Binance pushes it on its schedule; the simulator does when the book moved.
      static constexpr std::array<std::size_t, 3> kLevels = {5, 10, 20};
      for (std::size_t i = 0; i < kLevels.size(); ++i) {
        out.clear();
        render_partial(kLevels[i], out);
        market_.sink_.publish(stream_partial_[s][i], out);
      }
    }
  }

  void render_partial(std::size_t limit, std::string& out) const {
    // Reused scratch (grows to the largest limit asked, at most REST's 5000).
    std::vector<book::AggregatedLevel>& levels = depth_scratch_;
    const std::size_t n = std::min<std::size_t>(limit, 5000);
    if (levels.size() < n) levels.resize(n);
    out += R"({"lastUpdateId":)";
    append_int(out, static_cast<std::int64_t>(engine_.update_id()));
    out += R"(,"bids":)";
    append_levels(out, std::span<const book::AggregatedLevel>(levels.data(), engine_.depth(Side::Buy, std::span(levels.data(), n))));
    out += R"(,"asks":)";
    append_levels(out, std::span<const book::AggregatedLevel>(levels.data(), engine_.depth(Side::Sell, std::span(levels.data(), n))));
    out += '}';
  }

  // --- klines ---------------------------------------------------------------------------------
  void roll(std::size_t k, std::int64_t now_ms) {
    const std::int64_t len = kline_interval_ms(kAllIntervals[k]);
    KlineBar& bar = current_[k];
    if (bar.open_time == 0) {
      start_bar(bar, now_ms - now_ms % len, len);
      return;
    }
    while (now_ms > bar.close_time) {
      closed_[k].push_back(bar);
      if (closed_[k].size() > kKlineHistory) closed_[k].pop_front();
      unpublished_closed_[k].push_back(bar);
      if (unpublished_closed_[k].size() > 4) unpublished_closed_[k].pop_front();
      const std::int64_t next_open = bar.close_time + 1;
      // After a long quiet stretch, skip straight to the bar that holds now.
      start_bar(bar, now_ms - next_open >= len ? now_ms - now_ms % len : next_open, len);
    }
  }
  void start_bar(KlineBar& bar, std::int64_t open_time, std::int64_t len) const {
    bar = KlineBar{};
    bar.open_time = open_time;
    bar.close_time = open_time + len - 1;
    bar.open = bar.high = bar.low = bar.close = last_price_;
  }
  void add_to_klines(const PendingTrade& t, std::int64_t now_ms) {
    for (std::size_t k = 0; k < kKlineIntervals; ++k) {
      roll(k, now_ms);
      KlineBar& bar = current_[k];
      if (bar.trades == 0) {
        bar.open = bar.high = bar.low = t.price;
        bar.first_trade_id = static_cast<std::int64_t>(t.id);
      }
      bar.high = max(bar.high, t.price);
      bar.low = min(bar.low, t.price);
      bar.close = t.price;
      bar.volume += t.qty;
      bar.quote_volume += t.quote;
      if (!t.buyer_maker) {
        bar.taker_buy_volume += t.qty;
        bar.taker_buy_quote += t.quote;
      }
      ++bar.trades;
      bar.last_trade_id = static_cast<std::int64_t>(t.id);
    }
  }

  void publish_klines(KlineInterval interval, std::int64_t now_ms) {
    const auto k = static_cast<std::size_t>(interval);
    roll(k, now_ms);
    std::string& out = market_.scratch_;
    for (const KlineBar& bar : unpublished_closed_[k]) {
      out.clear();
      render_kline_event(interval, bar, true, now_ms, out);
      market_.sink_.publish(stream_kline_[k], out);
    }
    unpublished_closed_[k].clear();
    out.clear();
    render_kline_event(interval, current_[k], false, now_ms, out);
    market_.sink_.publish(stream_kline_[k], out);
  }

  void render_kline_event(KlineInterval interval, const KlineBar& bar, bool closed, std::int64_t now_ms, std::string& out) const {
    out += R"({"e":"kline","E":)";
    append_int(out, now_ms);
    out += R"(,"s":)";
    append_string(out, cfg_.symbol.view());
    out += R"(,"k":{"t":)";
    append_int(out, bar.open_time);
    out += R"(,"T":)";
    append_int(out, bar.close_time);
    out += R"(,"s":)";
    append_string(out, cfg_.symbol.view());
    out += R"(,"i":)";
    append_string(out, kline_interval_name(interval));
    out += R"(,"f":)";
    append_int(out, bar.first_trade_id);
    out += R"(,"L":)";
    append_int(out, bar.last_trade_id);
    out += R"(,"o":)";
    append_decimal_string(out, bar.open.raw());
    out += R"(,"c":)";
    append_decimal_string(out, bar.close.raw());
    out += R"(,"h":)";
    append_decimal_string(out, bar.high.raw());
    out += R"(,"l":)";
    append_decimal_string(out, bar.low.raw());
    out += R"(,"v":)";
    append_decimal_string(out, bar.volume.raw());
    out += R"(,"n":)";
    append_int(out, bar.trades);
    out += closed ? R"(,"x":true,"q":)" : R"(,"x":false,"q":)";
    append_decimal_string(out, bar.quote_volume.raw());
    out += R"(,"V":)";
    append_decimal_string(out, bar.taker_buy_volume.raw());
    out += R"(,"Q":)";
    append_decimal_string(out, bar.taker_buy_quote.raw());
    out += R"(,"B":"0"}})";
  }

  void render_klines(KlineInterval interval, std::int64_t start_ms, std::int64_t end_ms, std::size_t limit, std::string& out) const {
    const auto k = static_cast<std::size_t>(interval);
    std::vector<const KlineBar*> bars;
    for (const KlineBar& bar : closed_[k]) bars.push_back(&bar);
    if (current_[k].open_time != 0) bars.push_back(&current_[k]);
    std::vector<const KlineBar*> chosen;
    for (const KlineBar* bar : bars) {
      if (bar->open_time >= start_ms && bar->open_time <= end_ms) chosen.push_back(bar);
    }
    // Binance: with startTime the oldest `limit` from there, otherwise the most recent `limit`.
    std::size_t from = 0;
    std::size_t to = chosen.size();
    if (chosen.size() > limit) {
      if (start_ms > 0) {
        to = limit;
      } else {
        from = chosen.size() - limit;
      }
    }
    out += '[';
    for (std::size_t i = from; i < to; ++i) {
      const KlineBar& bar = *chosen[i];
      if (i != from) out += ',';
      out += '[';
      append_int(out, bar.open_time);
      out += ',';
      append_decimal_string(out, bar.open.raw());
      out += ',';
      append_decimal_string(out, bar.high.raw());
      out += ',';
      append_decimal_string(out, bar.low.raw());
      out += ',';
      append_decimal_string(out, bar.close.raw());
      out += ',';
      append_decimal_string(out, bar.volume.raw());
      out += ',';
      append_int(out, bar.close_time);
      out += ',';
      append_decimal_string(out, bar.quote_volume.raw());
      out += ',';
      append_int(out, bar.trades);
      out += ',';
      append_decimal_string(out, bar.taker_buy_volume.raw());
      out += ',';
      append_decimal_string(out, bar.taker_buy_quote.raw());
      out += R"(,"0"])";
    }
    out += ']';
  }

  SimMarket& market_;
  std::size_t index_;
  const SimSymbolConfig& cfg_;
  book::MatchingEngine engine_;
  SimRng rng_;
  double fair_;  // the agents' belief, in 1e-8 units; only decides where agents quote
  std::string lower_;
  std::string stream_trade_, stream_agg_, stream_book_ticker_;
  std::array<std::string, 2> stream_depth_;
  std::array<std::array<std::string, 3>, 2> stream_partial_;
  std::array<std::string, kKlineIntervals> stream_kline_;
  std::deque<book::OrderId> agent_orders_;
  std::array<std::vector<Change>, 2> diffs_;
  std::array<book::UpdateId, 2> diff_first_{};
  std::array<bool, 2> skip_next_{};
  std::vector<std::pair<std::int64_t, std::int64_t>> bids_, asks_;
  std::vector<PendingTrade> trades_;
  mutable std::vector<book::AggregatedLevel> depth_scratch_;
  std::int64_t next_agg_id_ = 1;
  Top last_top_;
  Price last_price_;
  std::array<KlineBar, kKlineIntervals> current_{};
  std::array<std::deque<KlineBar>, kKlineIntervals> closed_;
  std::array<std::deque<KlineBar>, kKlineIntervals> unpublished_closed_;
};

// ---------------------------------------------------------------------------------------------
// SimMarket

SimMarket::SimMarket(const SimConfig& config, StreamSink& sink) : config_(config), sink_(sink) {
  std::uint64_t seed = config.seed;
  for (std::size_t i = 0; i < config.symbols.size(); ++i) {
    symbols_.push_back(std::make_unique<SimSymbol>(*this, i, config.symbols[i], splitmix(seed)));
  }
}
SimMarket::~SimMarket() = default;

void SimMarket::step(std::int64_t now_ms) {
  for (auto& s : symbols_) s->step(now_ms, config_.agent_step_ms);
}
void SimMarket::flush_depth(DiffSpeed speed, std::int64_t now_ms) {
  for (auto& s : symbols_) s->flush_depth(speed, now_ms);
}
void SimMarket::publish_klines(KlineInterval interval, std::int64_t now_ms) {
  for (auto& s : symbols_) s->publish_klines(interval, now_ms);
}
std::size_t SimMarket::symbol_count() const noexcept { return symbols_.size(); }
std::optional<std::size_t> SimMarket::find(const Symbol& symbol) const noexcept {
  for (std::size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i]->cfg_.symbol == symbol) return i;
  }
  return std::nullopt;
}
const SimSymbolConfig& SimMarket::symbol_config(std::size_t index) const noexcept { return symbols_[index]->cfg_; }
book::MatchingEngine& SimMarket::engine(std::size_t index) noexcept { return symbols_[index]->engine_; }
void SimMarket::after_user_request(std::size_t index, std::int64_t now_ms) { symbols_[index]->after_request(now_ms, true); }
void SimMarket::skip_next_diff(std::size_t index) noexcept { symbols_[index]->skip_next_ = {true, true}; }
Price SimMarket::last_price(std::size_t index) const noexcept { return symbols_[index]->last_price_; }

void SimMarket::set_replay_snapshot(std::size_t index, std::string_view json) {
  if (replay_snapshots_.size() < symbols_.size()) replay_snapshots_.resize(symbols_.size());
  replay_snapshots_[index].assign(json);
}

void SimMarket::render_depth(std::size_t index, std::size_t limit, std::string& out) const {
  if (index < replay_snapshots_.size() && !replay_snapshots_[index].empty()) {
    out += replay_snapshots_[index];  // as recorded (its own depth)
    return;
  }
  symbols_[index]->render_partial(limit, out);
}

void SimMarket::render_book_ticker(std::size_t index, std::string& out) const {
  const SimSymbol& s = *symbols_[index];
  const auto bid = s.engine_.best(Side::Buy);
  const auto ask = s.engine_.best(Side::Sell);
  out += R"({"symbol":)";
  append_string(out, s.cfg_.symbol.view());
  out += R"(,"bidPrice":)";
  append_decimal_string(out, bid ? bid->price.raw() : 0);
  out += R"(,"bidQty":)";
  append_decimal_string(out, bid ? bid->quantity.raw() : 0);
  out += R"(,"askPrice":)";
  append_decimal_string(out, ask ? ask->price.raw() : 0);
  out += R"(,"askQty":)";
  append_decimal_string(out, ask ? ask->quantity.raw() : 0);
  out += '}';
}

void SimMarket::render_price_ticker(std::size_t index, std::string& out) const {
  const SimSymbol& s = *symbols_[index];
  out += R"({"symbol":)";
  append_string(out, s.cfg_.symbol.view());
  out += R"(,"price":)";
  append_decimal_string(out, s.last_price_.raw());
  out += '}';
}

void SimMarket::render_klines(std::size_t index, KlineInterval interval, std::int64_t start_ms, std::int64_t end_ms,
                              std::size_t limit, std::string& out) const {
  symbols_[index]->render_klines(interval, start_ms, end_ms, limit, out);
}

void SimMarket::render_exchange_info_symbol(std::size_t index, std::string& out) const {
  const SimSymbolConfig& c = symbols_[index]->cfg_;
  out += R"({"symbol":)";
  append_string(out, c.symbol.view());
  out += R"(,"status":"TRADING","baseAsset":)";
  append_string(out, c.base_asset);
  out += R"(,"baseAssetPrecision":8,"quoteAsset":)";
  append_string(out, c.quote_asset);
  out += R"(,"quotePrecision":8,"quoteAssetPrecision":8,"baseCommissionPrecision":8,"quoteCommissionPrecision":8,)"
         R"("orderTypes":["LIMIT","LIMIT_MAKER","MARKET"],"icebergAllowed":false,"ocoAllowed":false,)"
         R"("otoAllowed":false,"opoAllowed":false,"quoteOrderQtyMarketAllowed":true,"allowTrailingStop":false,)"
         R"("cancelReplaceAllowed":false,"amendAllowed":false,"pegInstructionsAllowed":false,)"
         R"("isSpotTradingAllowed":true,"isMarginTradingAllowed":false,"filters":[)";
  out += R"({"filterType":"PRICE_FILTER","minPrice":)";
  append_decimal_string(out, c.min_price.raw());
  out += R"(,"maxPrice":)";
  append_decimal_string(out, c.max_price.raw());
  out += R"(,"tickSize":)";
  append_decimal_string(out, c.tick_size.raw());
  out += R"(},{"filterType":"LOT_SIZE","minQty":)";
  append_decimal_string(out, c.min_qty.raw());
  out += R"(,"maxQty":)";
  append_decimal_string(out, c.max_qty.raw());
  out += R"(,"stepSize":)";
  append_decimal_string(out, c.step_size.raw());
  out += R"(},{"filterType":"MARKET_LOT_SIZE","minQty":)";
  append_decimal_string(out, 0);
  out += R"(,"maxQty":)";
  append_decimal_string(out, c.max_qty.raw());
  out += R"(,"stepSize":)";
  append_decimal_string(out, 0);
  out += R"(},{"filterType":"NOTIONAL","minNotional":)";
  append_decimal_string(out, c.min_notional.raw());
  out += R"(,"applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5})";
  out += R"(],"permissions":[],"permissionSets":[["SPOT"]],"defaultSelfTradePreventionMode":"EXPIRE_MAKER",)"
         R"("allowedSelfTradePreventionModes":["NONE","EXPIRE_TAKER","EXPIRE_MAKER","EXPIRE_BOTH"]})";
}

}  // namespace tb::sim
