// PriceCache: latest best bid/ask per symbol for quick price lookups (strategy, /price, risk),
// bounded by a capacity with least-recently-used eviction and judged fresh against a TTL using
// the `now` the caller passes (replay passes capture time, live passes wall time).
//
// Storage is flat and allocated once in the constructor: an entry array with an intrusive
// doubly linked LRU list (indices) plus an open-addressing index (linear probing, backward-shift
// deletion) of twice the capacity rounded to a power of two. get/put/erase are O(1) and never
// allocate. Symbols hash and compare as 32 raw bytes (tb::Symbol is inline and zero padded).
// Owned by the trading thread; not thread-safe (publish a snapshot to share it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/symbol.hpp"

namespace tb::market {

enum class PriceSource : std::uint8_t { Ws, Rest };

struct PriceQuote {
  Price bid_price;
  Qty bid_qty;
  Price ask_price;
  Qty ask_qty;
  std::uint64_t update_id = 0;  // exchange book update id; 0 = unknown (REST ticker)
  PriceSource source = PriceSource::Ws;
};

struct PriceEntry {
  PriceQuote quote;
  Nanos updated_ns = 0;  // `now` of the put that last changed the quote
};

enum class PriceLookup : std::uint8_t { Hit, Miss, Stale };

struct PriceCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t stale = 0;  // found but older than the TTL
  std::uint64_t evictions = 0;
  std::uint64_t puts = 0;
  std::uint64_t older_puts_ignored = 0;  // a quote with an older update id than the cached one
  std::size_t size = 0;
  std::size_t capacity = 0;
};

class PriceCache {
 public:
  static constexpr std::size_t kDefaultCapacity = 1000;
  static constexpr Nanos kDefaultTtl = 500 * kNanosPerMilli;

  explicit PriceCache(std::size_t capacity = kDefaultCapacity, Nanos ttl = kDefaultTtl);

  // Hit: fresh entry (age <= ttl). Stale: entry exists but is older; `out` still points at it so
  // the caller can show the age or fall back to it. Miss: `out` is null. Hit and Stale make the
  // entry the most recently used.
  PriceLookup get(const Symbol& symbol, Nanos now, const PriceEntry*& out) noexcept;
  // The entry without touching recency or counters (status publication); null when absent.
  [[nodiscard]] const PriceEntry* peek(const Symbol& symbol) const noexcept;
  // Inserts or updates, making the entry most recently used; evicts the least recently used
  // entry when full. A Ws quote whose non-zero update id is older than the cached one is ignored
  // (a 100 ms depth diff can arrive after a fresher bookTicker).
  void put(const Symbol& symbol, const PriceQuote& quote, Nanos now) noexcept;
  bool erase(const Symbol& symbol) noexcept;
  void clear() noexcept;

  [[nodiscard]] PriceCacheStats stats() const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] Nanos ttl() const noexcept { return ttl_; }
  // Least and most recently used symbols (for tests and /status); empty when the cache is empty.
  [[nodiscard]] Symbol lru_symbol() const noexcept;
  [[nodiscard]] Symbol mru_symbol() const noexcept;

 private:
  static constexpr std::uint32_t kNone = 0xffffffffU;
  struct Node {
    Symbol symbol;
    PriceEntry entry;
    std::uint32_t prev = kNone;  // towards most recently used
    std::uint32_t next = kNone;  // towards least recently used
  };

  [[nodiscard]] std::size_t home_slot(const Symbol& symbol) const noexcept;
  [[nodiscard]] std::size_t find_slot(const Symbol& symbol) const noexcept;  // index slot or npos
  void unlink(std::uint32_t node) noexcept;
  void push_front(std::uint32_t node) noexcept;
  void remove_slot(std::size_t slot) noexcept;

  std::size_t capacity_;
  Nanos ttl_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> slots_;  // node index or kNone
  std::size_t slot_mask_ = 0;
  std::vector<std::uint32_t> free_;
  std::uint32_t head_ = kNone;  // most recently used
  std::uint32_t tail_ = kNone;  // least recently used
  std::size_t size_ = 0;
  PriceCacheStats stats_;
};

}  // namespace tb::market
