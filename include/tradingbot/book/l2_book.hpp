// L2Book: the local mirror of one symbol's exchange order book (price -> aggregate quantity per
// side), as rebuilt from a REST snapshot plus depth diffs. It knows nothing about update-id
// sequencing (that is market::DepthSynchronizer's job); it only stores levels.
//
// Storage (flat, allocation-free once reserved): each side is a sequence of fixed-size blocks
// of up to 64 sorted levels, kept in book order (worst -> best) by an index of block ids plus
// each block's first price. A lookup is two short binary searches; an insert or erase moves at
// most one block's levels (never the whole side, which matters because depth diffs touch levels
// deep in the book); a full block splits, an empty one returns to the side's pool. Blocks come
// from a per-side pool reserved up front, so no call allocates until a side outgrows its
// reservation. A snapshot already in price order is bulk-loaded into 3/4-full blocks.
//
// Deep updates wait. Trading reads the top of the book, while Binance's diffs mostly touch
// levels far from it (BTCUSDT, 2024-08-08: 56% of diff levels beyond the 64 best). So each side
// has a hot bound, the price of its kHotLevels-th best level when the bound was last set: an
// update at or better than it is applied at once; a deeper one is queued, in arrival order, and
// applied later: by apply_deferred() (the daemon calls it when the trading thread is idle), when
// the queue is full, or before any read that could see a deep level (top() past the hot levels,
// qty_at() of a deep price, the level counts, best() once the hot levels are all gone). Every read
// therefore answers exactly as if each update had been applied on arrival; what the queue buys is
// that a diff's deep levels cost a store each instead of a block search and shift on the
// message's own time (per-message p99, bench_market). The bound stays put while updates are
// queued, so a price's updates are either all queued or all applied at once, in order.
// Reads are const but may apply queued updates first: the book's contents, as any read sees them,
// do not change (the queue is `mutable`).
//
// Owned and called by one thread (the trading thread); not thread-safe, reads included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tradingbot/book/level.hpp"
#include "tradingbot/book/level_scan.hpp"
#include "tradingbot/core/fixed_point.hpp"

namespace tb::book {

enum class BookSide : std::uint8_t { Bid, Ask };

class L2Book {
 public:
  static constexpr std::size_t kDefaultReserve = 8192;  // per side; snapshots carry <= 5000

  // The hot region: about this many best levels per side are always applied at once (the
  // strategies read the best level; /status publishes 100 and the paper venue walks 64, applying
  // the queue first). Per-message p99 on the real capture: 64 -> 2.0 us, 32 -> 1.8, 16 -> 1.6.
  static constexpr std::size_t kHotLevels = 16;
  // Queued deep updates per side before they are applied on the spot: smaller batches come often
  // enough to reach the per-message p99 (256: +0.4 us), bigger ones cost the rare message that
  // applies them more (~40 ns a level).
  static constexpr std::size_t kDeferCapacity = 512;

  explicit L2Book(std::size_t reserve_levels_per_side = kDefaultReserve);

  void reserve(std::size_t levels_per_side);
  void clear() noexcept;  // keeps capacity

  // Sets the absolute quantity of one level; qty <= 0 erases it (erasing an absent level is
  // normal and not an error).
  void set_level(BookSide side, Price price, Qty qty);
  void erase_level(BookSide side, Price price) { set_level(side, price, Qty{}); }

  // Applies many absolute (price, qty) updates to one side, in order (a later update of the same
  // price wins; qty <= 0 erases).
  void apply_levels(BookSide side, std::span<const BookLevel> levels);
  // Replaces the whole book (levels in any order; duplicates: last wins; zero quantities
  // skipped) and sets the update id.
  void load_snapshot(std::span<const BookLevel> bids, std::span<const BookLevel> asks, std::uint64_t update_id);

  [[nodiscard]] std::optional<BookLevel> best_bid() const noexcept;
  [[nodiscard]] std::optional<BookLevel> best_ask() const noexcept;
  // Quantity at an exact price, 0 when absent.
  [[nodiscard]] Qty qty_at(BookSide side, Price price) const noexcept;
  // Copies up to out.size() levels best first; returns how many were written.
  std::size_t top(BookSide side, std::span<BookLevel> out) const noexcept;
  // Best bid >= best ask (both sides non-empty).
  [[nodiscard]] bool crossed() const noexcept;

  // Deep updates queued on both sides, and applying them: at most `max_levels` (oldest first);
  // returns how many remain queued.
  [[nodiscard]] std::size_t deferred_levels() const noexcept { return bids_.deferred() + asks_.deferred(); }
  std::size_t apply_deferred(std::size_t max_levels = SIZE_MAX) const;
  // Times a side's queue filled and was applied inside the update that filled it (the market was
  // too busy for the idle drain to keep up; that update took ~kDeferCapacity x 40 ns longer).
  [[nodiscard]] std::uint64_t deferred_overflows() const noexcept { return bids_.overflows() + asks_.overflows(); }

  [[nodiscard]] std::size_t bid_count() const noexcept { return bids_.size(); }
  [[nodiscard]] std::size_t ask_count() const noexcept { return asks_.size(); }
  [[nodiscard]] bool empty() const noexcept { return bids_.size() == 0 && asks_.size() == 0; }

  // The exchange update id the book reflects (set by whoever applies updates).
  [[nodiscard]] std::uint64_t update_id() const noexcept { return update_id_; }
  void set_update_id(std::uint64_t id) noexcept { update_id_ = id; }

 private:
  static constexpr std::uint32_t kBlockLevels = detail::kScanLevels;
  // Prices and quantities apart: a lookup scans only the prices (8 sequential cache lines). The
  // price slots past `size` hold the side's sentinel (level_scan.hpp), the quantities junk.
  struct Block {
    std::uint32_t size = 0;
    std::int64_t prices[kBlockLevels];
    std::int64_t qtys[kBlockLevels];
  };
  // One side; `bid` decides the order (bids ascending, asks descending: best at the back).
  class Side {
   public:
    explicit Side(bool bid) : bid_(bid), hot_bound_(no_bound()) {}
    void reserve(std::size_t levels);
    void clear() noexcept;
    void set(Price price, Qty qty) {
      std::size_t block_hint = kNoBlockHint;
      set(price, qty, block_hint);
    }
    // The same, starting the block search at `block_hint` (the block the previous level of a
    // sorted batch landed in, left there for the next): a diff's levels come sorted, so the next
    // one is nearly always in that block or its neighbour, and the search over every block's
    // first price is skipped. Any hint is safe: it is checked, and kNoBlockHint searches.
    static constexpr std::size_t kNoBlockHint = static_cast<std::size_t>(-1);
    void set(Price price, Qty qty, std::size_t& block_hint);
    // What apply_levels and set_level call: set() for a price at or better than the hot bound,
    // the queue for a deeper one.
    void set_or_defer(Price price, Qty qty, std::size_t& block_hint);
    // Applies up to `max_levels` queued updates, oldest first; returns how many remain. Once the
    // queue is empty the hot bound is set again from the book as it now is.
    std::size_t apply_deferred(std::size_t max_levels) const;
    [[nodiscard]] std::size_t deferred() const noexcept { return deferred_.size() - deferred_head_; }
    [[nodiscard]] std::uint64_t overflows() const noexcept { return overflows_; }
    // Sets the bound at the kHotLevels-th best level (no bound with fewer levels); queue empty.
    void reset_hot_bound() const noexcept;
    void bulk_load(std::span<const BookLevel> levels, bool best_first);  // strictly ordered input
    [[nodiscard]] Qty qty_at(Price price) const noexcept;
    [[nodiscard]] std::optional<BookLevel> best() const noexcept;
    std::size_t top(std::span<BookLevel> out) const noexcept;
    [[nodiscard]] std::size_t size() const noexcept {
      apply_deferred(SIZE_MAX);
      return count_;
    }
    [[nodiscard]] bool before(Price a, Price b) const noexcept { return bid_ ? a < b : a > b; }
    // What fills a block's unused price slots: a price no search ever counts as before another.
    [[nodiscard]] std::int64_t sentinel() const noexcept { return bid_ ? INT64_MAX : INT64_MIN; }

   private:
    // The bound when nothing is to be queued: a price every level is at or better than.
    [[nodiscard]] std::int64_t no_bound() const noexcept { return bid_ ? INT64_MIN : INT64_MAX; }
    [[nodiscard]] bool deep(Price price) const noexcept { return before(price, Price::from_raw(hot_bound_)); }
    // Applies the whole queue unless the first `levels` best levels are all hot.
    void require_hot(std::size_t levels) const {
      if (deferred() != 0 && hot_ < levels) apply_deferred(SIZE_MAX);
    }
    std::size_t block_index(Price price) const noexcept;  // index into order_ (order_ non-empty)
    [[nodiscard]] bool block_holds(std::size_t index, Price price) const noexcept;  // block_index(price) == index?
    std::size_t find_block(Price price, std::size_t hint) const noexcept;  // block_index, trying hint and its neighbours first
    std::size_t level_index(const Block& block, Price price) const noexcept;  // lower bound
    std::uint32_t new_block();
    void remove_block(std::size_t index);

    bool bid_;
    std::vector<Block> pool_;
    std::vector<std::uint32_t> free_;
    std::vector<std::uint32_t> order_;  // block ids, worst -> best
    std::vector<Price> first_;          // first (worst) price of each block in order_
    std::size_t count_ = 0;
    // The deep-update queue (see the top of the file). Mutable: const reads apply it first.
    // Invariants: every queued price is deep (strictly before hot_bound_), the bound does not
    // move while anything is queued, and hot_ counts the levels at or better than the bound.
    mutable std::vector<BookLevel> deferred_;  // reserved to kDeferCapacity
    mutable std::size_t deferred_head_ = 0;    // the oldest not yet applied
    mutable std::int64_t hot_bound_;
    mutable std::size_t hot_ = 0;
    std::uint64_t overflows_ = 0;  // queue applied because it was full
  };

  Side& side_of(BookSide side) noexcept { return side == BookSide::Bid ? bids_ : asks_; }
  const Side& side_of(BookSide side) const noexcept { return side == BookSide::Bid ? bids_ : asks_; }

  Side bids_{true};
  Side asks_{false};
  std::uint64_t update_id_ = 0;
};

}  // namespace tb::book
