// L2Book: the local mirror of one symbol's exchange order book (price -> aggregate quantity per
// side), as rebuilt from a REST snapshot plus depth diffs. It knows nothing about update-id
// sequencing (that is market::DepthSynchronizer's job); it only stores levels.
//
// Storage: one sorted flat array per side with the BEST level at the BACK, so the frequent
// changes near the top of the book move few elements. Small updates use binary search +
// insert/erase; a large batch (a 1,000-level diff, a 5,000-level snapshot) is merged in one
// linear pass through a reserved scratch array. After `reserve()` no call allocates until a
// side outgrows its reservation.
// Owned and called by one thread (the trading thread); not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tradingbot/book/level.hpp"
#include "tradingbot/core/fixed_point.hpp"

namespace tb::book {

enum class BookSide : std::uint8_t { Bid, Ask };

class L2Book {
 public:
  static constexpr std::size_t kDefaultReserve = 8192;  // per side; snapshots carry <= 5000

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

  [[nodiscard]] std::size_t bid_count() const noexcept { return bids_.size(); }
  [[nodiscard]] std::size_t ask_count() const noexcept { return asks_.size(); }
  [[nodiscard]] bool empty() const noexcept { return bids_.empty() && asks_.empty(); }

  // The exchange update id the book reflects (set by whoever applies updates).
  [[nodiscard]] std::uint64_t update_id() const noexcept { return update_id_; }
  void set_update_id(std::uint64_t id) noexcept { update_id_ = id; }

 private:
  void merge_batch(BookSide side, std::span<const BookLevel> levels);

  // Bids ascending by price (best = back); asks descending by price (best = back).
  std::vector<BookLevel> bids_;
  std::vector<BookLevel> asks_;
  std::vector<BookLevel> scratch_;        // merge output
  std::vector<BookLevel> batch_scratch_;  // sorted copy of a batch
  std::uint64_t update_id_ = 0;
};

}  // namespace tb::book
