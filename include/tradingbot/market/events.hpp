// Normalized market-data events: what the exchange decoders produce and what books, the price
// cache, strategies and replay consume. Nothing here knows about JSON or sockets (STYLE.md
// habit 6). Level spans are views into storage owned by the producer (the decoder's reused
// vectors): they are valid only during the call that hands the event over; copy what you keep.
// Value types; produced and consumed on the trading thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "tradingbot/book/level.hpp"
#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/symbol.hpp"

namespace tb::market {

// Binance order-book update ids (U, u, lastUpdateId) are 64-bit and already above 2^32.
using UpdateId = std::uint64_t;

using Level = book::BookLevel;  // (price, qty); the book consumes decoded levels as they are
using LevelSpan = std::span<const Level>;

// <symbol>@bookTicker: best bid/ask at book update id `update_id` (no event time on spot).
struct BookTicker {
  Symbol symbol;
  UpdateId update_id = 0;
  Price bid_price;
  Qty bid_qty;
  Price ask_price;
  Qty ask_qty;
};

// <symbol>@depth[@100ms]: absolute quantities for the changed levels; qty 0 deletes a level.
struct DepthDiff {
  Symbol symbol;
  std::int64_t event_time_ms = 0;
  UpdateId first_update_id = 0;  // U
  UpdateId final_update_id = 0;  // u
  LevelSpan bids;                // as sent (Binance: best first)
  LevelSpan asks;
};

// REST GET /api/v3/depth (or a recorder's {"stream":"<s>@depthSnapshot",...} line).
struct DepthSnapshot {
  Symbol symbol;  // empty when the payload did not say (bare REST JSON); the owner knows it
  UpdateId last_update_id = 0;
  LevelSpan bids;  // best first
  LevelSpan asks;
};

// <symbol>@depth<5|10|20>[@100ms]: a top-N picture, not a diff; the symbol comes from the stream.
struct PartialDepth {
  Symbol symbol;
  UpdateId last_update_id = 0;
  int depth = 0;  // 5, 10 or 20 (from the stream name; 0 when unknown)
  LevelSpan bids;
  LevelSpan asks;
};

struct Trade {
  Symbol symbol;
  std::int64_t event_time_ms = 0;
  std::int64_t trade_time_ms = 0;
  std::int64_t trade_id = 0;
  Price price;
  Qty qty;
  bool buyer_is_maker = false;
};

struct AggTrade {
  Symbol symbol;
  std::int64_t event_time_ms = 0;
  std::int64_t trade_time_ms = 0;
  std::int64_t agg_trade_id = 0;
  std::int64_t first_trade_id = 0;
  std::int64_t last_trade_id = 0;
  Price price;
  Qty qty;
  bool buyer_is_maker = false;
};

// Kline interval spelled as on the wire ("1s", "1m", "15m", "1M"); stored inline.
struct KlineInterval {
  char text[8] = {};
  std::uint8_t size = 0;
  [[nodiscard]] std::string_view view() const noexcept { return {text, size}; }
};

struct Kline {
  Symbol symbol;
  std::int64_t event_time_ms = 0;
  KlineInterval interval;
  std::int64_t open_time_ms = 0;
  std::int64_t close_time_ms = 0;
  std::int64_t first_trade_id = 0;  // -1 when the kline has no trade
  std::int64_t last_trade_id = 0;
  Price open;
  Price high;
  Price low;
  Price close;
  Qty base_volume;
  Money quote_volume;
  Qty taker_buy_base_volume;
  Money taker_buy_quote_volume;
  std::int64_t trade_count = 0;
  bool closed = false;  // "x": the kline is final
};

// {"e":"serverShutdown","E":...}: the connection will be closed; reconnect now and resync.
struct ServerShutdown {
  std::int64_t event_time_ms = 0;
};

}  // namespace tb::market
