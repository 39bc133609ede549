// MarketDataStatus: the market-data part of DaemonStatus (one sub-struct): per-symbol book and
// feed state, connections, stream freshness, price-cache counters, and each symbol's top of book
// (bounded depth) and cached quote, so the HTTP thread answers /book and /price from this
// immutable copy and never touches the trading thread's books. Built by MarketDataService on the
// trading thread at each status publication; read by any thread through Published<DaemonStatus>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tradingbot/book/level.hpp"
#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/market/price_cache.hpp"

namespace tb::app {

// Levels per side published for /book (its depth parameter is bounded by this).
inline constexpr std::size_t kPublishedBookDepth = 100;

struct MarketSymbolStatus {
  Symbol symbol;
  bool synced = false;
  std::uint64_t last_update_id = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t gaps = 0;
  std::uint64_t crossed = 0;
  std::uint64_t snapshots_applied = 0;
  std::size_t book_deferred_levels = 0;        // deep levels queued in the book (L2Book) at publication
  std::uint64_t book_deferred_overflows = 0;   // times a full queue was applied inside a message
  std::string feed_state = "closed";  // market-data breaker: closed | open | half_open
  int feed_state_value = 0;           // closed 0, half_open 1, open 2 (Prometheus)
  std::uint64_t breaker_trips = 0;
  bool connection_up = false;
  std::uint64_t messages = 0;
  double messages_per_s = 0;
  Nanos last_message_mono_ns = 0;  // 0 = never
  std::uint64_t rest_polls = 0;
  std::uint64_t rest_poll_failures = 0;
  std::uint64_t snapshot_requests = 0;
  std::uint64_t snapshot_failures = 0;
  std::vector<book::BookLevel> bids;  // best first, at most kPublishedBookDepth
  std::vector<book::BookLevel> asks;
  bool has_quote = false;
  market::PriceEntry quote;  // updated_ns is wall time
};

struct MarketConnectionStatus {
  std::size_t index = 0;
  std::size_t streams = 0;
  bool up = false;
  std::uint64_t connects = 0;
  std::uint64_t disconnects = 0;
  std::uint64_t rotations = 0;
  std::uint64_t server_shutdowns = 0;
  std::uint64_t messages = 0;
  double messages_per_s = 0;
  std::string last_disconnect;
};

struct MarketStreamStatus {
  std::string name;
  std::uint64_t messages = 0;
  Nanos last_message_mono_ns = 0;
};

struct MarketDataStatus {
  bool running = false;
  Nanos stale_after_ns = 0;
  Nanos price_ttl_ns = 0;
  std::vector<MarketSymbolStatus> symbols;  // sorted by symbol
  std::vector<MarketConnectionStatus> connections;
  std::vector<MarketStreamStatus> streams;
  market::PriceCacheStats price_cache;
  std::uint64_t frames = 0;
  std::uint64_t decode_errors = 0;
  std::uint64_t server_shutdowns = 0;
  std::int64_t used_weight_1m = -1;

  [[nodiscard]] const MarketSymbolStatus* find(const Symbol& symbol) const noexcept {
    for (const auto& s : symbols) {
      if (s.symbol == symbol) return &s;
    }
    return nullptr;
  }
};

}  // namespace tb::app
