#include "tradingbot/exchange/binance/exchange_info.hpp"

#include "json_util.hpp"

namespace tb::binance {

SymbolStatus parse_symbol_status(std::string_view text) noexcept {
  if (text == "TRADING") return SymbolStatus::Trading;
  if (text == "END_OF_DAY") return SymbolStatus::EndOfDay;
  if (text == "HALT") return SymbolStatus::Halt;
  if (text == "BREAK") return SymbolStatus::Break;
  if (text == "CANCEL_ONLY") return SymbolStatus::CancelOnly;
  return SymbolStatus::Unknown;
}

std::string_view to_string(SymbolStatus status) noexcept {
  switch (status) {
    case SymbolStatus::Trading: return "TRADING";
    case SymbolStatus::EndOfDay: return "END_OF_DAY";
    case SymbolStatus::Halt: return "HALT";
    case SymbolStatus::Break: return "BREAK";
    case SymbolStatus::CancelOnly: return "CANCEL_ONLY";
    case SymbolStatus::Unknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

std::int32_t error_code_of(FilterCheck check) noexcept {
  switch (check) {
    case FilterCheck::Ok: return 0;
    case FilterCheck::SymbolNotTrading: return -2010;
    case FilterCheck::NoReferencePrice: return -2043;
    default: return -1013;
  }
}

std::string_view message_of(FilterCheck check) noexcept {
  switch (check) {
    case FilterCheck::Ok: return "";
    case FilterCheck::PriceFilter: return "Filter failure: PRICE_FILTER";
    case FilterCheck::PercentPrice: return "Filter failure: PERCENT_PRICE";
    case FilterCheck::PercentPriceBySide: return "Filter failure: PERCENT_PRICE_BY_SIDE";
    case FilterCheck::LotSize: return "Filter failure: LOT_SIZE";
    case FilterCheck::MarketLotSize: return "Filter failure: MARKET_LOT_SIZE";
    case FilterCheck::MinNotional: return "Filter failure: MIN_NOTIONAL";
    case FilterCheck::Notional: return "Filter failure: NOTIONAL";
    case FilterCheck::MaxNumOrders: return "Filter failure: MAX_NUM_ORDERS";
    case FilterCheck::NoReferencePrice: return "No reference price for the symbol.";
    case FilterCheck::SymbolNotTrading: return "Market is closed.";
    case FilterCheck::InvalidValue: return "Invalid quantity or price.";
  }
  return "";
}

int SymbolRules::price_digits() const noexcept {
  return price_filter && price_filter->tick_size.is_positive() ? fixed_decimals_of_step(price_filter->tick_size.raw())
                                                               : kFixedDecimals;
}

int SymbolRules::qty_digits() const noexcept {
  return lot_size && lot_size->step_size.is_positive() ? fixed_decimals_of_step(lot_size->step_size.raw())
                                                       : kFixedDecimals;
}

Qty SymbolRules::round_qty(Qty qty, bool market) const noexcept {
  if (!qty.is_positive()) return qty;
  const LotSizeFilter* f = nullptr;
  if (market && market_lot_size && market_lot_size->step_size.is_positive()) {
    f = &*market_lot_size;
  } else if (lot_size) {
    f = &*lot_size;
  }
  if (f == nullptr) return qty;
  std::int64_t raw = qty.raw();
  const std::int64_t step = f->step_size.raw();
  if (step > 0) raw = floor_to_step(raw, step);
  if (f->max_qty.is_positive() && raw > f->max_qty.raw()) {
    raw = step > 0 ? floor_to_step(f->max_qty.raw(), step) : f->max_qty.raw();
  }
  return Qty::from_raw(raw);
}

Price SymbolRules::round_price(Price price, Side side) const noexcept {
  if (!price_filter || !price.is_positive()) return price;
  const PriceFilter& f = *price_filter;
  const std::int64_t tick = f.tick_size.raw();
  std::int64_t raw = price.raw();
  if (tick > 0) raw = side == Side::Buy ? floor_to_step(raw, tick) : ceil_to_step(raw, tick);
  if (f.min_price.is_positive() && raw < f.min_price.raw()) {
    raw = tick > 0 ? ceil_to_step(f.min_price.raw(), tick) : f.min_price.raw();
  }
  if (f.max_price.is_positive() && raw > f.max_price.raw()) {
    raw = tick > 0 ? floor_to_step(f.max_price.raw(), tick) : f.max_price.raw();
  }
  return Price::from_raw(raw);
}

RoundedOrder SymbolRules::round_order(Side side, Price price, Qty qty) const noexcept {
  return {round_price(price, side), round_qty(qty, false)};
}

namespace {

// a * 1e8 compared with b * multiplier: both sides in 1e-16 units, exact in 128 bits.
bool within(Price price, Price reference, std::int64_t mult_down, std::int64_t mult_up) noexcept {
  const Int128 p = static_cast<Int128>(price.raw()) * kFixedScale;
  const Int128 ref = reference.raw();
  if (mult_up > 0 && p > ref * mult_up) return false;
  if (mult_down > 0 && p < ref * mult_down) return false;
  return true;
}

bool lot_ok(const LotSizeFilter& f, Qty qty) noexcept {
  if (f.min_qty.is_positive() && qty < f.min_qty) return false;
  if (f.max_qty.is_positive() && qty > f.max_qty) return false;
  if (f.step_size.is_positive() && qty.raw() % f.step_size.raw() != 0) return false;
  return true;
}

}  // namespace

FilterCheck SymbolRules::validate(Side side, OrderType type, Price price, Qty qty, Price reference_price,
                                  std::int32_t open_orders) const noexcept {
  if (!trading()) return FilterCheck::SymbolNotTrading;
  const bool market = type == OrderType::Market;
  if (!qty.is_positive()) return FilterCheck::InvalidValue;
  if (!market && !price.is_positive()) return FilterCheck::InvalidValue;

  if (!market && price_filter) {
    const PriceFilter& f = *price_filter;
    if (f.min_price.is_positive() && price < f.min_price) return FilterCheck::PriceFilter;
    if (f.max_price.is_positive() && price > f.max_price) return FilterCheck::PriceFilter;
    if (f.tick_size.is_positive() && price.raw() % f.tick_size.raw() != 0) return FilterCheck::PriceFilter;
  }
  if (!market && reference_price.is_positive()) {
    if (percent_price && !within(price, reference_price, percent_price->multiplier_down, percent_price->multiplier_up)) {
      return FilterCheck::PercentPrice;
    }
    if (percent_price_by_side) {
      const PercentPriceBySideFilter& f = *percent_price_by_side;
      const bool ok = side == Side::Buy ? within(price, reference_price, f.bid_multiplier_down, f.bid_multiplier_up)
                                        : within(price, reference_price, f.ask_multiplier_down, f.ask_multiplier_up);
      if (!ok) return FilterCheck::PercentPriceBySide;
    }
  }
  if (lot_size && !lot_ok(*lot_size, qty)) return FilterCheck::LotSize;
  if (market && market_lot_size && !lot_ok(*market_lot_size, qty)) return FilterCheck::MarketLotSize;

  // Notional: exact 128-bit price*qty (1e-16 units) against minNotional*1e8.
  const Price effective = market ? reference_price : price;
  const auto check_notional = [&](const NotionalFilter& f, bool legacy) -> FilterCheck {
    const FilterCheck fail = legacy ? FilterCheck::MinNotional : FilterCheck::Notional;
    const bool check_min = f.min_notional.is_positive() && (!market || f.apply_min_to_market);
    const bool check_max = f.max_notional.is_positive() && (!market || f.apply_max_to_market);
    if (!check_min && !check_max) return FilterCheck::Ok;
    if (!effective.is_positive()) return FilterCheck::NoReferencePrice;
    const Int128 value = static_cast<Int128>(effective.raw()) * qty.raw();
    if (check_min && value < static_cast<Int128>(f.min_notional.raw()) * kFixedScale) return fail;
    if (check_max && value > static_cast<Int128>(f.max_notional.raw()) * kFixedScale) return fail;
    return FilterCheck::Ok;
  };
  if (min_notional) {
    if (const FilterCheck r = check_notional(*min_notional, true); r != FilterCheck::Ok) return r;
  }
  if (notional) {
    if (const FilterCheck r = check_notional(*notional, false); r != FilterCheck::Ok) return r;
  }
  if (max_num_orders > 0 && open_orders >= max_num_orders) return FilterCheck::MaxNumOrders;
  return FilterCheck::Ok;
}

std::size_t SymbolRules::format_price(Price price, char* out) const noexcept {
  return format_fixed(price.raw(), price_digits(), out);
}
std::size_t SymbolRules::format_qty(Qty qty, char* out) const noexcept {
  return format_fixed(qty.raw(), qty_digits(), out);
}
std::string SymbolRules::price_string(Price price) const { return fixed_to_string(price.raw(), price_digits()); }
std::string SymbolRules::qty_string(Qty qty) const { return fixed_to_string(qty.raw(), qty_digits()); }

const SymbolRules* ExchangeInfo::find(const Symbol& symbol) const noexcept {
  for (const SymbolRules& s : symbols) {
    if (s.symbol == symbol) return &s;
  }
  return nullptr;
}

// ---------------------------------------------------------------- parsing

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Optional decimal field: absent is fine (stays zero), present-but-malformed is not.
template <class T>
bool opt_fixed(const object& o, std::string_view key, T& out) noexcept {
  if (!json::has(o, key)) return true;
  return json::fixed(o, key, out);
}
bool opt_fixed_raw(const object& o, std::string_view key, std::int64_t& out) noexcept {
  if (!json::has(o, key)) return true;
  return json::fixed_raw(o, key, out);
}
bool opt_i32(const object& o, std::string_view key, std::int32_t& out) noexcept {
  std::int64_t v = 0;
  if (!json::has(o, key)) return true;
  if (!json::i64(o, key, v) || v < INT32_MIN || v > INT32_MAX) return false;
  out = static_cast<std::int32_t>(v);
  return true;
}
bool opt_bool(const object& o, std::string_view key, bool& out) noexcept {
  if (!json::has(o, key)) return true;
  return json::boolean(o, key, out);
}

// Returns an empty string on success, else the name of the malformed filter.
std::string_view parse_filter(const object& f, SymbolRules& rules) noexcept {
  std::string_view type;
  if (!json::str(f, "filterType", type)) return "filterType";
  if (type == "PRICE_FILTER") {
    PriceFilter p;
    if (!opt_fixed(f, "minPrice", p.min_price) || !opt_fixed(f, "maxPrice", p.max_price) ||
        !opt_fixed(f, "tickSize", p.tick_size)) {
      return type;
    }
    rules.price_filter = p;
  } else if (type == "LOT_SIZE" || type == "MARKET_LOT_SIZE") {
    LotSizeFilter l;
    if (!opt_fixed(f, "minQty", l.min_qty) || !opt_fixed(f, "maxQty", l.max_qty) ||
        !opt_fixed(f, "stepSize", l.step_size)) {
      return type;
    }
    (type == "LOT_SIZE" ? rules.lot_size : rules.market_lot_size) = l;
  } else if (type == "MIN_NOTIONAL") {
    NotionalFilter n;
    if (!opt_fixed(f, "minNotional", n.min_notional) || !opt_bool(f, "applyToMarket", n.apply_min_to_market) ||
        !opt_i32(f, "avgPriceMins", n.avg_price_mins)) {
      return type;
    }
    rules.min_notional = n;
  } else if (type == "NOTIONAL") {
    NotionalFilter n;
    if (!opt_fixed(f, "minNotional", n.min_notional) || !opt_bool(f, "applyMinToMarket", n.apply_min_to_market) ||
        !opt_fixed(f, "maxNotional", n.max_notional) || !opt_bool(f, "applyMaxToMarket", n.apply_max_to_market) ||
        !opt_i32(f, "avgPriceMins", n.avg_price_mins)) {
      return type;
    }
    rules.notional = n;
  } else if (type == "PERCENT_PRICE") {
    PercentPriceFilter p;
    if (!opt_fixed_raw(f, "multiplierUp", p.multiplier_up) || !opt_fixed_raw(f, "multiplierDown", p.multiplier_down) ||
        !opt_i32(f, "avgPriceMins", p.avg_price_mins)) {
      return type;
    }
    rules.percent_price = p;
  } else if (type == "PERCENT_PRICE_BY_SIDE") {
    PercentPriceBySideFilter p;
    if (!opt_fixed_raw(f, "bidMultiplierUp", p.bid_multiplier_up) ||
        !opt_fixed_raw(f, "bidMultiplierDown", p.bid_multiplier_down) ||
        !opt_fixed_raw(f, "askMultiplierUp", p.ask_multiplier_up) ||
        !opt_fixed_raw(f, "askMultiplierDown", p.ask_multiplier_down) || !opt_i32(f, "avgPriceMins", p.avg_price_mins)) {
      return type;
    }
    rules.percent_price_by_side = p;
  } else if (type == "MAX_NUM_ORDERS") {
    if (!opt_i32(f, "maxNumOrders", rules.max_num_orders)) return type;
  }
  // Other filters (ICEBERG_PARTS, TRAILING_DELTA, MAX_POSITION, ...) are not used by the bot.
  return {};
}

}  // namespace

Result<ExchangeInfo> parse_exchange_info(JsonParser& parser, std::string_view body) {
  element root;
  if (parser.impl().parse(body, root) != simdjson::SUCCESS) return Error{"exchangeInfo: invalid JSON"};
  object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) return Error{"exchangeInfo: not a JSON object"};
  ExchangeInfo info;
  (void)json::i64(top, "serverTime", info.server_time_ms);

  array limits;
  if (top.at_key("rateLimits").get_array().get(limits) == simdjson::SUCCESS) {
    for (element e : limits) {
      object o;
      if (e.get_object().get(o) != simdjson::SUCCESS) continue;
      std::string_view type_text, interval_text;
      std::int64_t num = 0, limit = 0;
      if (!json::str(o, "rateLimitType", type_text) || !json::str(o, "interval", interval_text) ||
          !json::i64(o, "intervalNum", num) || !json::i64(o, "limit", limit)) {
        continue;  // the docs' example has "{}" entries; all limits are optional
      }
      const auto type = parse_rate_limit_type(type_text);
      const auto unit = parse_interval_unit(interval_text);
      if (!type || !unit || num <= 0 || num > INT32_MAX) continue;
      info.rate_limits.push_back(RateLimit{*type, *unit, static_cast<std::int32_t>(num), limit});
    }
  }

  array symbols;
  if (top.at_key("symbols").get_array().get(symbols) != simdjson::SUCCESS) {
    return Error{"exchangeInfo: no symbols array"};
  }
  for (element e : symbols) {
    object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) return Error{"exchangeInfo: symbol entry is not an object"};
    SymbolRules rules;
    std::string_view name;
    if (!json::str(o, "symbol", name)) return Error{"exchangeInfo: symbol entry without a symbol"};
    const auto sym = Symbol::parse(name);
    if (!sym) return Error{"exchangeInfo: invalid symbol name " + std::string(name)};
    rules.symbol = *sym;
    std::string_view status;
    if (json::str(o, "status", status)) rules.status = parse_symbol_status(status);
    (void)json::inline_str(o, "baseAsset", rules.base_asset);
    (void)json::inline_str(o, "quoteAsset", rules.quote_asset);
    if (!opt_i32(o, "baseAssetPrecision", rules.base_asset_precision) ||
        !opt_i32(o, "quoteAssetPrecision", rules.quote_asset_precision)) {
      return Error{"exchangeInfo: " + std::string(name) + ": malformed precision"};
    }
    array filters;
    if (o.at_key("filters").get_array().get(filters) == simdjson::SUCCESS) {
      for (element fe : filters) {
        object f;
        if (fe.get_object().get(f) != simdjson::SUCCESS) continue;
        const std::string_view bad = parse_filter(f, rules);
        if (!bad.empty()) {
          return Error{"exchangeInfo: " + std::string(name) + ": malformed " + std::string(bad) + " filter"};
        }
      }
    }
    info.symbols.push_back(rules);
  }
  return info;
}

}  // namespace tb::binance
