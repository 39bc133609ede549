// exchangeInfo decoding and the local filter checks, against binance-vectors.md sections 3 and 4.
#include <catch2/catch.hpp>

#include <string>

#include "tradingbot/exchange/binance/exchange_info.hpp"

using namespace tb::binance;
using tb::Price;
using tb::Qty;
using tb::Side;

namespace {
// Verbatim strict JSON of section 3 "GET /api/v3/exchangeInfo".
const std::string kDocExchangeInfo =
    R"({"timezone":"UTC","serverTime":1565246363776,"rateLimits":[{}],"exchangeFilters":[],"symbols":[{"symbol":"ETHBTC","status":"TRADING","baseAsset":"ETH","baseAssetPrecision":8,"quoteAsset":"BTC","quotePrecision":8,"quoteAssetPrecision":8,"baseCommissionPrecision":8,"quoteCommissionPrecision":8,"orderTypes":["LIMIT","LIMIT_MAKER","MARKET","STOP_LOSS","STOP_LOSS_LIMIT","TAKE_PROFIT","TAKE_PROFIT_LIMIT"],"icebergAllowed":true,"ocoAllowed":true,"otoAllowed":true,"opoAllowed":true,"quoteOrderQtyMarketAllowed":true,"allowTrailingStop":false,"cancelReplaceAllowed":false,"amendAllowed":false,"pegInstructionsAllowed":true,"isSpotTradingAllowed":true,"isMarginTradingAllowed":true,"filters":[],"permissions":[],"permissionSets":[["SPOT","MARGIN"]],"defaultSelfTradePreventionMode":"NONE","allowedSelfTradePreventionModes":["NONE"]}],"sors":[{"baseAsset":"BTC","symbols":["BTCUSDT","BTCUSDC"]}]})";

// The same document with every filter payload of section 4 and the rateLimitType examples filled in.
const std::string kFullExchangeInfo = R"({"timezone":"UTC","serverTime":1565246363776,
 "rateLimits":[
  {"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},
  {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":1,"limit":10},
  {"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":61000},
  {"rateLimitType":"SOMETHING_NEW","interval":"MINUTE","intervalNum":1,"limit":5}],
 "exchangeFilters":[{"filterType":"EXCHANGE_MAX_NUM_ORDERS","maxNumOrders":1000}],
 "symbols":[{"symbol":"ETHBTC","status":"TRADING","baseAsset":"ETH","baseAssetPrecision":8,"quoteAsset":"BTC",
  "quotePrecision":8,"quoteAssetPrecision":8,
  "filters":[
   {"filterType":"PRICE_FILTER","minPrice":"0.00000100","maxPrice":"100000.00000000","tickSize":"0.00000100"},
   {"filterType":"PERCENT_PRICE","multiplierUp":"1.3000","multiplierDown":"0.7000","avgPriceMins":5},
   {"filterType":"PERCENT_PRICE_BY_SIDE","bidMultiplierUp":"1.2","bidMultiplierDown":"0.2","askMultiplierUp":"5","askMultiplierDown":"0.8","avgPriceMins":1},
   {"filterType":"LOT_SIZE","minQty":"0.00100000","maxQty":"100000.00000000","stepSize":"0.00100000"},
   {"filterType":"MIN_NOTIONAL","minNotional":"0.00100000","applyToMarket":true,"avgPriceMins":5},
   {"filterType":"NOTIONAL","minNotional":"10.00000000","applyMinToMarket":false,"maxNotional":"10000.00000000","applyMaxToMarket":false,"avgPriceMins":5},
   {"filterType":"ICEBERG_PARTS","limit":10},
   {"filterType":"MARKET_LOT_SIZE","minQty":"0.00100000","maxQty":"100000.00000000","stepSize":"0.00100000"},
   {"filterType":"MAX_NUM_ORDERS","maxNumOrders":25},
   {"filterType":"MAX_NUM_ALGO_ORDERS","maxNumAlgoOrders":5},
   {"filterType":"MAX_NUM_ICEBERG_ORDERS","maxNumIcebergOrders":5},
   {"filterType":"MAX_POSITION","maxPosition":"10.00000000"},
   {"filterType":"TRAILING_DELTA","minTrailingAboveDelta":10,"maxTrailingAboveDelta":2000,"minTrailingBelowDelta":10,"maxTrailingBelowDelta":2000},
   {"filterType":"MAX_NUM_ORDER_AMENDS","maxNumOrderAmends":10},
   {"filterType":"MAX_NUM_ORDER_LISTS","maxNumOrderLists":20},
   {"filterType":"SOME_FUTURE_FILTER","x":"y"}]},
  {"symbol":"BTCUSDT","status":"HALT","baseAsset":"BTC","quoteAsset":"USDT","filters":[
   {"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},
   {"filterType":"LOT_SIZE","minQty":"0.00001000","maxQty":"9000.00000000","stepSize":"0.00001000"}]}]})";

Price P(const char* s) { return *Price::parse(s); }
Qty Q(const char* s) { return *Qty::parse(s); }
}  // namespace

TEST_CASE("the documented exchangeInfo example parses; empty rateLimit objects are skipped", "[exchange][filters]") {
  JsonParser parser;
  auto info = parse_exchange_info(parser, kDocExchangeInfo);
  REQUIRE(info.ok());
  CHECK(info.value().server_time_ms == 1565246363776);
  CHECK(info.value().rate_limits.empty());
  REQUIRE(info.value().symbols.size() == 1);
  const SymbolRules& r = info.value().symbols[0];
  CHECK(r.symbol.view() == "ETHBTC");
  CHECK(r.status == SymbolStatus::Trading);
  CHECK(r.base_asset == "ETH");
  CHECK(r.quote_asset == "BTC");
  CHECK_FALSE(r.price_filter.has_value());
  CHECK(r.price_digits() == 8);
}

TEST_CASE("every filter payload of section 4 is decoded; unknown filters are ignored", "[exchange][filters]") {
  JsonParser parser;
  auto parsed = parse_exchange_info(parser, kFullExchangeInfo);
  REQUIRE(parsed.ok());
  const ExchangeInfo& info = parsed.value();
  REQUIRE(info.rate_limits.size() == 3);
  CHECK(info.rate_limits[0].type == RateLimitType::RequestWeight);
  CHECK(info.rate_limits[0].unit == IntervalUnit::Minute);
  CHECK(info.rate_limits[0].limit == 6000);
  CHECK(info.rate_limits[1].type == RateLimitType::Orders);
  CHECK(info.rate_limits[1].unit == IntervalUnit::Second);
  CHECK(info.rate_limits[2].type == RateLimitType::RawRequests);
  CHECK(info.rate_limits[2].interval_num == 5);

  const SymbolRules* r = info.find(*tb::Symbol::parse("ETHBTC"));
  REQUIRE(r != nullptr);
  REQUIRE(r->price_filter);
  CHECK(r->price_filter->min_price == P("0.000001"));
  CHECK(r->price_filter->max_price == P("100000"));
  CHECK(r->price_filter->tick_size == P("0.000001"));
  REQUIRE(r->percent_price);
  CHECK(r->percent_price->multiplier_up == 130'000'000);
  CHECK(r->percent_price->multiplier_down == 70'000'000);
  CHECK(r->percent_price->avg_price_mins == 5);
  REQUIRE(r->percent_price_by_side);
  CHECK(r->percent_price_by_side->bid_multiplier_up == 120'000'000);
  CHECK(r->percent_price_by_side->bid_multiplier_down == 20'000'000);
  CHECK(r->percent_price_by_side->ask_multiplier_up == 500'000'000);
  CHECK(r->percent_price_by_side->ask_multiplier_down == 80'000'000);
  REQUIRE(r->lot_size);
  CHECK(r->lot_size->step_size == Q("0.001"));
  REQUIRE(r->market_lot_size);
  CHECK(r->market_lot_size->max_qty == Q("100000"));
  REQUIRE(r->min_notional);
  CHECK(r->min_notional->min_notional == *tb::Money::parse("0.001"));
  CHECK(r->min_notional->apply_min_to_market);
  REQUIRE(r->notional);
  CHECK(r->notional->min_notional == *tb::Money::parse("10"));
  CHECK(r->notional->max_notional == *tb::Money::parse("10000"));
  CHECK_FALSE(r->notional->apply_min_to_market);
  CHECK(r->max_num_orders == 25);
  CHECK(r->price_digits() == 6);
  CHECK(r->qty_digits() == 3);

  const SymbolRules* halted = info.find(*tb::Symbol::parse("BTCUSDT"));
  REQUIRE(halted != nullptr);
  CHECK(halted->status == SymbolStatus::Halt);
  CHECK(halted->validate(Side::Buy, OrderType::Limit, P("60000"), Q("0.001")) == FilterCheck::SymbolNotTrading);
  CHECK(info.find(*tb::Symbol::parse("XRPUSDT")) == nullptr);
}

TEST_CASE("a malformed known filter fails the parse instead of trading on wrong rules", "[exchange][filters]") {
  JsonParser parser;
  auto bad = parse_exchange_info(
      parser, R"({"symbols":[{"symbol":"ETHBTC","status":"TRADING","filters":[{"filterType":"LOT_SIZE","stepSize":"1e-3"}]}]})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("LOT_SIZE") != std::string::npos);
  CHECK_FALSE(parse_exchange_info(parser, "{not json").ok());
}

TEST_CASE("rounding: qty floors to step, BUY price floors and SELL ceils to tick, clamped", "[exchange][filters]") {
  JsonParser parser;
  auto parsed = parse_exchange_info(parser, kFullExchangeInfo);
  REQUIRE(parsed.ok());
  const SymbolRules& r = *parsed.value().find(*tb::Symbol::parse("BTCUSDT"));
  CHECK(r.round_qty(Q("0.12345678")) == Q("0.12345"));
  CHECK(r.round_qty(Q("12000")) == Q("9000"));  // clamp to maxQty
  CHECK(r.round_price(P("61837.639"), Side::Buy) == P("61837.63"));
  CHECK(r.round_price(P("61837.631"), Side::Sell) == P("61837.64"));
  CHECK(r.round_price(P("61837.63"), Side::Sell) == P("61837.63"));  // already on the grid
  CHECK(r.round_price(P("0.001"), Side::Buy) == P("0.01"));          // clamp up to minPrice
  CHECK(r.round_price(P("2000000"), Side::Sell) == P("1000000"));    // clamp down to maxPrice
  const RoundedOrder o = r.round_order(Side::Sell, P("61837.631"), Q("0.123456"));
  CHECK(r.price_string(o.price) == "61837.64");
  CHECK(r.qty_string(o.quantity) == "0.12345");
  CHECK(r.price_string(P("5")) == "5.00");
  CHECK(r.qty_string(Q("1")) == "1.00000");
  char buf[tb::kMaxFixedChars];
  CHECK(std::string_view(buf, r.format_price(P("0.1"), buf)) == "0.10");
}

TEST_CASE("validation names the failing filter like Binance (-1013 Filter failure: X)", "[exchange][filters]") {
  JsonParser parser;
  auto parsed = parse_exchange_info(parser, kFullExchangeInfo);
  REQUIRE(parsed.ok());
  const SymbolRules& r = *parsed.value().find(*tb::Symbol::parse("ETHBTC"));
  const Price avg = P("0.05");
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.05"), Q("300"), avg) == FilterCheck::Ok);
  // PRICE_FILTER: off the tick grid, below minPrice.
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.0500005"), Q("300"), avg) == FilterCheck::PriceFilter);
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.0000001"), Q("300")) == FilterCheck::PriceFilter);
  // PERCENT_PRICE: 0.05 * 1.3 = 0.065 is the ceiling.
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.065"), Q("300"), avg) == FilterCheck::PercentPriceBySide);
  CHECK(r.validate(Side::Sell, OrderType::Limit, P("0.065"), Q("300"), avg) == FilterCheck::Ok);
  CHECK(r.validate(Side::Sell, OrderType::Limit, P("0.065001"), Q("300"), avg) == FilterCheck::PercentPrice);
  // PERCENT_PRICE_BY_SIDE: SELL must be >= 0.8 * avg = 0.04 (PERCENT_PRICE floor 0.035 passes).
  CHECK(r.validate(Side::Sell, OrderType::Limit, P("0.039999"), Q("300"), avg) == FilterCheck::PercentPriceBySide);
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.039999"), Q("300"), avg) == FilterCheck::Ok);
  // LOT_SIZE: step 0.001, min 0.001.
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.05"), Q("300.0005"), avg) == FilterCheck::LotSize);
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.05"), Q("200000"), avg) == FilterCheck::LotSize);
  // NOTIONAL: 0.05 * 199.999 = 9.99995 < 10 (exact, no double); 0.05 * 200 = 10 passes.
  const FilterCheck low = r.validate(Side::Buy, OrderType::Limit, P("0.05"), Q("199.999"), avg);
  CHECK(low == FilterCheck::Notional);
  CHECK(error_code_of(low) == -1013);
  CHECK(message_of(low) == "Filter failure: NOTIONAL");
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.05"), Q("200"), avg) == FilterCheck::Ok);
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.05"), Q("200000"), avg) != FilterCheck::Ok);
  // maxNotional 10000: 1 * 10000.001 is over.
  CHECK(r.validate(Side::Sell, OrderType::Limit, P("1"), Q("10000.001"), P("1")) == FilterCheck::Notional);
  // MARKET: NOTIONAL does not apply (applyMinToMarket false) but legacy MIN_NOTIONAL does.
  CHECK(r.validate(Side::Buy, OrderType::Market, Price{}, Q("1"), avg) == FilterCheck::Ok);
  CHECK(r.validate(Side::Buy, OrderType::Market, Price{}, Q("0.001"), P("0.5")) == FilterCheck::MinNotional);
  CHECK(r.validate(Side::Buy, OrderType::Market, Price{}, Q("1"), Price{}) == FilterCheck::NoReferencePrice);
  // MAX_NUM_ORDERS 25.
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.05"), Q("300"), avg, 24) == FilterCheck::Ok);
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.05"), Q("300"), avg, 25) == FilterCheck::MaxNumOrders);
  CHECK(message_of(FilterCheck::LotSize) == "Filter failure: LOT_SIZE");
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.05"), Qty{}, avg) == FilterCheck::InvalidValue);
}

TEST_CASE("notional check is exact in 128 bits for large price x qty", "[exchange][filters]") {
  SymbolRules r;
  r.symbol = *tb::Symbol::parse("BTCUSDT");
  r.status = SymbolStatus::Trading;
  r.notional = NotionalFilter{*tb::Money::parse("5"), *tb::Money::parse("90000000000"), true, true, 5};
  // 1,000,000 * 90,000 = 9e10 exactly at the max: raw product 1e14*9e12 overflows int64 but not int128.
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("1000000"), Q("90000"), {}) == FilterCheck::Ok);
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("1000000"), Q("90000.00000001"), {}) == FilterCheck::Notional);
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.00000001"), Q("499999999.99999999"), {}) == FilterCheck::Notional);
  CHECK(r.validate(Side::Buy, OrderType::Limit, P("0.00000001"), Q("500000000"), {}) == FilterCheck::Ok);
}
