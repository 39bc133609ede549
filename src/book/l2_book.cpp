#include "tradingbot/book/l2_book.hpp"

#include <algorithm>

namespace tb::book {
namespace {

// Batches at or below this size go level by level (binary search + short memmove near the top);
// larger ones are merged in one linear pass.
constexpr std::size_t kSmallBatch = 16;

// Book order: bids ascending, asks descending, so the best level is at the back of each side.
inline bool before(BookSide side, Price a, Price b) noexcept { return side == BookSide::Bid ? a < b : a > b; }

}  // namespace

L2Book::L2Book(std::size_t reserve_levels_per_side) { reserve(reserve_levels_per_side); }

void L2Book::reserve(std::size_t levels_per_side) {
  bids_.reserve(levels_per_side);
  asks_.reserve(levels_per_side);
  scratch_.reserve(levels_per_side + levels_per_side / 2);
  batch_scratch_.reserve(levels_per_side);
}

void L2Book::clear() noexcept {
  bids_.clear();
  asks_.clear();
  update_id_ = 0;
}

void L2Book::set_level(BookSide side, Price price, Qty qty) {
  auto& levels = side == BookSide::Bid ? bids_ : asks_;
  auto it = std::lower_bound(levels.begin(), levels.end(), price,
                             [side](const BookLevel& l, Price p) { return before(side, l.price, p); });
  if (it != levels.end() && it->price == price) {
    if (qty.is_positive()) {
      it->qty = qty;
    } else {
      levels.erase(it);
    }
  } else if (qty.is_positive()) {
    levels.insert(it, BookLevel{price, qty});
  }
}

void L2Book::apply_levels(BookSide side, std::span<const BookLevel> levels) {
  if (levels.size() <= kSmallBatch) {
    for (const auto& l : levels) set_level(side, l.price, l.qty);
    return;
  }
  merge_batch(side, levels);
}

void L2Book::merge_batch(BookSide side, std::span<const BookLevel> levels) {
  // The merge needs the batch strictly ordered in book order. Binance sends levels best first
  // (the reverse of book order); accept either direction, otherwise go level by level (correct
  // for duplicates and any order, just slower).
  const std::size_t n = levels.size();
  bool forward = true;
  bool reverse = true;
  for (std::size_t i = 1; i < n && (forward || reverse); ++i) {
    forward = forward && before(side, levels[i - 1].price, levels[i].price);
    reverse = reverse && before(side, levels[i].price, levels[i - 1].price);
  }
  if (!forward && !reverse) {
    for (const auto& l : levels) set_level(side, l.price, l.qty);
    return;
  }
  batch_scratch_.clear();
  if (forward) {
    batch_scratch_.insert(batch_scratch_.end(), levels.begin(), levels.end());
  } else {
    batch_scratch_.insert(batch_scratch_.end(), levels.rbegin(), levels.rend());
  }

  auto& book = side == BookSide::Bid ? bids_ : asks_;
  scratch_.clear();
  if (scratch_.capacity() < book.size() + n) scratch_.reserve(2 * (book.size() + n));
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < book.size() && j < batch_scratch_.size()) {
    const BookLevel& a = book[i];
    const BookLevel& b = batch_scratch_[j];
    if (a.price == b.price) {
      if (b.qty.is_positive()) scratch_.push_back(b);
      ++i;
      ++j;
    } else if (before(side, a.price, b.price)) {
      scratch_.push_back(a);
      ++i;
    } else {
      if (b.qty.is_positive()) scratch_.push_back(b);
      ++j;
    }
  }
  for (; i < book.size(); ++i) scratch_.push_back(book[i]);
  for (; j < batch_scratch_.size(); ++j) {
    if (batch_scratch_[j].qty.is_positive()) scratch_.push_back(batch_scratch_[j]);
  }
  book.swap(scratch_);
}

void L2Book::load_snapshot(std::span<const BookLevel> bids, std::span<const BookLevel> asks, std::uint64_t update_id) {
  bids_.clear();
  asks_.clear();
  // Merging into an empty side is a sorted copy that drops zero quantities.
  apply_levels(BookSide::Bid, bids);
  apply_levels(BookSide::Ask, asks);
  update_id_ = update_id;
}

std::optional<BookLevel> L2Book::best_bid() const noexcept {
  if (bids_.empty()) return std::nullopt;
  return bids_.back();
}

std::optional<BookLevel> L2Book::best_ask() const noexcept {
  if (asks_.empty()) return std::nullopt;
  return asks_.back();
}

Qty L2Book::qty_at(BookSide side, Price price) const noexcept {
  const auto& levels = side == BookSide::Bid ? bids_ : asks_;
  auto it = std::lower_bound(levels.begin(), levels.end(), price,
                             [side](const BookLevel& l, Price p) { return before(side, l.price, p); });
  return (it != levels.end() && it->price == price) ? it->qty : Qty{};
}

std::size_t L2Book::top(BookSide side, std::span<BookLevel> out) const noexcept {
  const auto& levels = side == BookSide::Bid ? bids_ : asks_;
  const std::size_t n = std::min(out.size(), levels.size());
  for (std::size_t k = 0; k < n; ++k) out[k] = levels[levels.size() - 1 - k];
  return n;
}

bool L2Book::crossed() const noexcept {
  return !bids_.empty() && !asks_.empty() && bids_.back().price >= asks_.back().price;
}

}  // namespace tb::book
