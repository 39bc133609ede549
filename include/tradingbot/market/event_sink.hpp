// MarketEventSink: the one entry point through which normalized market data reaches pure logic
// (strategy, paper venue, recorders of statistics). The market-data pipeline calls it
// synchronously, on the trading thread, after the book and price cache are updated, so a
// handler sees a consistent book. Handlers must not throw and should not block.
#pragma once

#include "tradingbot/book/l2_book.hpp"
#include "tradingbot/core/clock.hpp"
#include "tradingbot/market/events.hpp"

namespace tb::market {

class MarketEventSink {
 public:
  virtual ~MarketEventSink() = default;
  virtual void on_book_ticker(const BookTicker& /*ticker*/, Nanos /*recv_ns*/) {}
  virtual void on_trade(const Trade& /*trade*/, Nanos /*recv_ns*/) {}
  virtual void on_agg_trade(const AggTrade& /*trade*/, Nanos /*recv_ns*/) {}
  virtual void on_kline(const Kline& /*kline*/, Nanos /*recv_ns*/) {}
  virtual void on_partial_depth(const PartialDepth& /*depth*/, Nanos /*recv_ns*/) {}
  // The synced book changed (diff or snapshot applied); `book.update_id()` is its new id.
  virtual void on_book_update(const Symbol& /*symbol*/, const book::L2Book& /*book*/, Nanos /*recv_ns*/) {}
  // The book was discarded (gap, crossed, reconnect): do not trade on it until the next update.
  virtual void on_book_reset(const Symbol& /*symbol*/) {}
  virtual void on_server_shutdown(const ServerShutdown& /*event*/, Nanos /*recv_ns*/) {}
};

}  // namespace tb::market
