#include "tradingbot/book/l2_book.hpp"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "tradingbot/book/level_scan.hpp"
#include "tradingbot/core/cpu_features.hpp"

namespace tb::book {
namespace detail {

// Four prices per AVX2 compare where the CPU has it (every x86-64 server of the last decade): the
// binary stays baseline x86-64 and picks at start-up.
std::size_t count_before_scalar(const std::int64_t* prices, std::int64_t p, bool bid) noexcept {
  std::size_t n = 0;
  if (bid) {
    for (std::uint32_t k = 0; k < kScanLevels; ++k) n += prices[k] < p ? 1 : 0;
  } else {
    for (std::uint32_t k = 0; k < kScanLevels; ++k) n += prices[k] > p ? 1 : 0;
  }
  return n;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) std::size_t count_before_avx2(const std::int64_t* prices, std::int64_t p,
                                                               bool bid) noexcept {
  // A compare sets a lane to -1 where the price comes before `p`: subtracting the masks counts
  // four prices per instruction, and the fixed trip count unrolls into straight-line code.
  static_assert(kScanLevels % 4 == 0, "whole groups of four prices");
  const __m256i price = _mm256_set1_epi64x(p);
  __m256i count = _mm256_setzero_si256();
  if (bid) {
#pragma GCC unroll 16
    for (std::uint32_t k = 0; k < kScanLevels; k += 4) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(prices + k));
      count = _mm256_sub_epi64(count, _mm256_cmpgt_epi64(price, v));
    }
  } else {
#pragma GCC unroll 16
    for (std::uint32_t k = 0; k < kScanLevels; k += 4) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(prices + k));
      count = _mm256_sub_epi64(count, _mm256_cmpgt_epi64(v, price));
    }
  }
  const __m128i pair = _mm_add_epi64(_mm256_castsi256_si128(count), _mm256_extracti128_si256(count, 1));
  return static_cast<std::size_t>(_mm_cvtsi128_si64(pair) + _mm_extract_epi64(pair, 1));
}

#else
std::size_t count_before_avx2(const std::int64_t* prices, std::int64_t p, bool bid) noexcept {
  return count_before_scalar(prices, p, bid);
}
#endif

}  // namespace detail

namespace {

inline std::size_t count_before(const std::int64_t* prices, std::int64_t p, bool bid) noexcept {
  return cpu_has_avx2() ? detail::count_before_avx2(prices, p, bid) : detail::count_before_scalar(prices, p, bid);
}

// Branch-free lower bound: index of the first element for which `less(element)` is false.
// Binary searches over book levels are data dependent and mispredict constantly otherwise.
template <class T, class Less>
inline std::size_t lower_index(const T* first, std::size_t n, Less less) noexcept {
  if (n == 0) return 0;
  const T* base = first;
  while (n > 1) {
    const std::size_t half = n / 2;
    base = less(base[half - 1]) ? base + half : base;
    n -= half;
  }
  return static_cast<std::size_t>(base - first) + (less(*base) ? 1 : 0);
}

}  // namespace

// ---- Side ----

void L2Book::Side::reserve(std::size_t levels) {
  // Worst case every block is half full after splits.
  const std::size_t blocks = levels / (kBlockLevels / 2) + 2;
  pool_.reserve(blocks);
  free_.reserve(blocks);
  order_.reserve(blocks);
  first_.reserve(blocks);
  deferred_.reserve(kDeferCapacity);
}

void L2Book::Side::clear() noexcept {
  deferred_.clear();
  deferred_head_ = 0;
  hot_bound_ = no_bound();
  hot_ = 0;
  for (std::uint32_t id : order_) free_.push_back(id);  // within reserved capacity
  order_.clear();
  first_.clear();
  count_ = 0;
}

std::uint32_t L2Book::Side::new_block() {
  std::uint32_t id = 0;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    pool_.emplace_back();
    id = static_cast<std::uint32_t>(pool_.size() - 1);
  }
  Block& block = pool_[id];
  block.size = 0;
  std::fill(block.prices, block.prices + kBlockLevels, sentinel());
  return id;
}

void L2Book::Side::remove_block(std::size_t index) {
  free_.push_back(order_[index]);
  order_.erase(order_.begin() + static_cast<std::ptrdiff_t>(index));
  first_.erase(first_.begin() + static_cast<std::ptrdiff_t>(index));
}

std::size_t L2Book::Side::block_index(Price price) const noexcept {
  // Last block whose first price is not after `price`; block 0 when `price` precedes them all.
  const std::int64_t p = price.raw();
  const std::size_t after =
      bid_ ? lower_index(first_.data(), first_.size(), [p](Price f) { return f.raw() <= p; })
           : lower_index(first_.data(), first_.size(), [p](Price f) { return f.raw() >= p; });
  return after == 0 ? 0 : after - 1;
}

[[gnu::always_inline]] inline bool L2Book::Side::block_holds(std::size_t index, Price price) const noexcept {
  // block_index's answer: the first price of `index` is not after `price` (or it is block 0) and
  // the next block's first price is after it (or there is no next block).
  return index < first_.size() && (index == 0 || !before(price, first_[index])) &&
         (index + 1 == first_.size() || before(price, first_[index + 1]));
}

[[gnu::always_inline]] inline std::size_t L2Book::Side::find_block(Price price, std::size_t hint) const noexcept {
  if (hint < first_.size()) {
    if (block_holds(hint, price)) return hint;
    if (hint > 0 && block_holds(hint - 1, price)) return hint - 1;
    if (block_holds(hint + 1, price)) return hint + 1;
  }
  return block_index(price);
}

[[gnu::always_inline]] inline std::size_t L2Book::Side::level_index(const Block& block, Price price) const noexcept {
  // Count the levels before `price`: a branch-free scan of all 64 slots (sentinels past the size)
  // beats a binary search here, whose dependent loads miss L1 for the deep (rarely touched)
  // blocks and whose branches mispredict.
  return count_before(block.prices, price.raw(), bid_);
}

void L2Book::Side::set(Price price, Qty qty, std::size_t& block_hint) {
  if (order_.empty()) {
    block_hint = 0;
    if (!qty.is_positive()) return;
    const std::uint32_t id = new_block();
    order_.push_back(id);
    first_.push_back(price);
    pool_[id].prices[0] = price.raw();
    pool_[id].qtys[0] = qty.raw();
    pool_[id].size = 1;
    ++count_;
    return;
  }
  std::size_t index = find_block(price, block_hint);
  block_hint = index;
  Block* block = &pool_[order_[index]];
  auto pos = static_cast<std::uint32_t>(level_index(*block, price));
  if (pos < block->size && block->prices[pos] == price.raw()) {
    if (qty.is_positive()) {
      block->qtys[pos] = qty.raw();
      return;
    }
    std::copy(block->prices + pos + 1, block->prices + block->size, block->prices + pos);
    std::copy(block->qtys + pos + 1, block->qtys + block->size, block->qtys + pos);
    --block->size;
    block->prices[block->size] = sentinel();
    --count_;
    if (block->size == 0) {
      remove_block(index);
    } else if (pos == 0) {
      first_[index] = Price::from_raw(block->prices[0]);
    }
    return;
  }
  if (!qty.is_positive()) return;  // erasing an absent level
  if (block->size == kBlockLevels) {  // split: the upper half moves to a new block after this one
    const std::uint32_t id = new_block();
    block = &pool_[order_[index]];  // the pool may have moved
    Block& upper = pool_[id];
    constexpr std::uint32_t half = kBlockLevels / 2;
    std::copy(block->prices + half, block->prices + kBlockLevels, upper.prices);
    std::copy(block->qtys + half, block->qtys + kBlockLevels, upper.qtys);
    upper.size = kBlockLevels - half;
    block->size = half;
    std::fill(block->prices + half, block->prices + kBlockLevels, sentinel());
    order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(index + 1), id);
    first_.insert(first_.begin() + static_cast<std::ptrdiff_t>(index + 1), Price::from_raw(upper.prices[0]));
    if (pos > half) {
      block = &upper;
      pos -= half;
      ++index;
      block_hint = index;
    }
  }
  std::copy_backward(block->prices + pos, block->prices + block->size, block->prices + block->size + 1);
  std::copy_backward(block->qtys + pos, block->qtys + block->size, block->qtys + block->size + 1);
  block->prices[pos] = price.raw();
  block->qtys[pos] = qty.raw();
  ++block->size;
  ++count_;
  if (pos == 0) first_[index] = price;
}

void L2Book::Side::set_or_defer(Price price, Qty qty, std::size_t& block_hint) {
  if (deep(price)) {
    deferred_.push_back(BookLevel{price, qty});  // within the reserved capacity
    if (deferred_.size() == kDeferCapacity) {
      if (deferred_head_ != 0) {
        // Slices applied by the idle drain still occupy the front: reclaim them (<= 8 KB moved)
        // rather than apply a queue that is not full.
        deferred_.erase(deferred_.begin(), deferred_.begin() + static_cast<std::ptrdiff_t>(deferred_head_));
        deferred_head_ = 0;
      } else {
        ++overflows_;
        apply_deferred(SIZE_MAX);
      }
    }
    return;
  }
  const std::size_t count_before = count_;
  set(price, qty, block_hint);
  hot_ = hot_ + count_ - count_before;  // the level was hot: count_ moved by -1, 0 or +1
  // The market moved away from the bound (or a thin book filled up): tighten it while nothing is
  // queued, so the hot region stays about kHotLevels deep.
  if (deferred() == 0 && hot_ > 2 * kHotLevels) reset_hot_bound();
}

std::size_t L2Book::Side::apply_deferred(std::size_t max_levels) const {
  const std::size_t queued = deferred();
  if (queued == 0) return 0;
  // Applying changes the blocks but not the book any read sees: `this` is never a const object
  // (an L2Book is always owned by a synchronizer, a venue or a test), so casting away the const
  // of this logically-const call is defined.
  auto& self = const_cast<Side&>(*this);
  const std::size_t n = std::min(queued, max_levels);
  std::size_t block_hint = kNoBlockHint;  // queued updates come in runs sorted by price (one per diff)
  for (std::size_t k = deferred_head_; k < deferred_head_ + n; ++k) {
    self.set(deferred_[k].price, deferred_[k].qty, block_hint);
  }
  deferred_head_ += n;
  if (deferred_head_ < deferred_.size()) return deferred_.size() - deferred_head_;
  deferred_.clear();
  deferred_head_ = 0;
  reset_hot_bound();
  return 0;
}

void L2Book::Side::reset_hot_bound() const noexcept {
  hot_bound_ = no_bound();
  hot_ = count_;
  if (count_ <= kHotLevels) return;
  std::size_t seen = 0;  // levels in the blocks after the current one (better)
  for (auto id = order_.rbegin(); id != order_.rend(); ++id) {
    const Block& block = pool_[*id];
    if (seen + block.size >= kHotLevels) {
      hot_bound_ = block.prices[block.size - (kHotLevels - seen)];
      hot_ = kHotLevels;
      return;
    }
    seen += block.size;
  }
}

void L2Book::Side::bulk_load(std::span<const BookLevel> levels, bool best_first) {
  constexpr std::uint32_t fill = kBlockLevels * 3 / 4;  // room for inserts before a split
  const std::size_t n = levels.size();
  Block* block = nullptr;
  for (std::size_t k = 0; k < n; ++k) {
    const BookLevel& l = best_first ? levels[n - 1 - k] : levels[k];
    if (!l.qty.is_positive()) continue;
    if (block == nullptr || block->size == fill) {
      const std::uint32_t id = new_block();
      order_.push_back(id);
      first_.push_back(l.price);
      block = &pool_[id];
    }
    block->prices[block->size] = l.price.raw();
    block->qtys[block->size] = l.qty.raw();
    ++block->size;
    ++count_;
  }
}

Qty L2Book::Side::qty_at(Price price) const noexcept {
  if (deep(price)) apply_deferred(SIZE_MAX);
  if (order_.empty()) return Qty{};
  const Block& block = pool_[order_[block_index(price)]];
  const std::size_t pos = level_index(block, price);
  return (pos < block.size && block.prices[pos] == price.raw()) ? Qty::from_raw(block.qtys[pos]) : Qty{};
}

std::optional<BookLevel> L2Book::Side::best() const noexcept {
  require_hot(1);
  if (order_.empty()) return std::nullopt;
  const Block& block = pool_[order_.back()];
  return BookLevel{Price::from_raw(block.prices[block.size - 1]), Qty::from_raw(block.qtys[block.size - 1])};
}

std::size_t L2Book::Side::top(std::span<BookLevel> out) const noexcept {
  require_hot(out.size());
  std::size_t n = 0;
  for (auto id = order_.rbegin(); id != order_.rend() && n < out.size(); ++id) {
    const Block& block = pool_[*id];
    for (std::uint32_t k = block.size; k > 0 && n < out.size(); --k) {
      out[n++] = BookLevel{Price::from_raw(block.prices[k - 1]), Qty::from_raw(block.qtys[k - 1])};
    }
  }
  return n;
}

// ---- L2Book ----

L2Book::L2Book(std::size_t reserve_levels_per_side) { reserve(reserve_levels_per_side); }

void L2Book::reserve(std::size_t levels_per_side) {
  bids_.reserve(levels_per_side);
  asks_.reserve(levels_per_side);
}

void L2Book::clear() noexcept {
  bids_.clear();
  asks_.clear();
  update_id_ = 0;
}

void L2Book::set_level(BookSide side, Price price, Qty qty) {
  std::size_t block_hint = Side::kNoBlockHint;
  side_of(side).set_or_defer(price, qty, block_hint);
}

std::size_t L2Book::apply_deferred(std::size_t max_levels) const {
  // Bids first, then asks, within one budget.
  const std::size_t bids_before = bids_.deferred();
  const std::size_t bids_left = bids_.apply_deferred(max_levels);
  const std::size_t spent = bids_before - bids_left;
  return bids_left + asks_.apply_deferred(max_levels - spent);
}

void L2Book::apply_levels(BookSide side, std::span<const BookLevel> levels) {
  Side& s = side_of(side);
  std::size_t block_hint = Side::kNoBlockHint;  // where the previous level landed
  for (const auto& l : levels) s.set_or_defer(l.price, l.qty, block_hint);
}

void L2Book::load_snapshot(std::span<const BookLevel> bids, std::span<const BookLevel> asks, std::uint64_t update_id) {
  bids_.clear();
  asks_.clear();
  for (Side* s : {&bids_, &asks_}) {
    const auto levels = s == &bids_ ? bids : asks;
    bool forward = true;  // book order (worst first)
    bool reverse = true;  // best first, as Binance sends
    for (std::size_t i = 1; i < levels.size() && (forward || reverse); ++i) {
      forward = forward && s->before(levels[i - 1].price, levels[i].price);
      reverse = reverse && s->before(levels[i].price, levels[i - 1].price);
    }
    if (forward || reverse) {
      s->bulk_load(levels, !forward);
    } else {
      for (const auto& l : levels) s->set(l.price, l.qty);  // any order, duplicates: last wins
    }
    s->reset_hot_bound();
  }
  update_id_ = update_id;
}

std::optional<BookLevel> L2Book::best_bid() const noexcept { return bids_.best(); }
std::optional<BookLevel> L2Book::best_ask() const noexcept { return asks_.best(); }
Qty L2Book::qty_at(BookSide side, Price price) const noexcept { return side_of(side).qty_at(price); }
std::size_t L2Book::top(BookSide side, std::span<BookLevel> out) const noexcept { return side_of(side).top(out); }

bool L2Book::crossed() const noexcept {
  const auto bid = bids_.best();
  const auto ask = asks_.best();
  return bid && ask && bid->price >= ask->price;
}

}  // namespace tb::book
