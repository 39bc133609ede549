#include "tradingbot/market/price_cache.hpp"

#include <bit>
#include <cstring>
#include <type_traits>

namespace tb::market {
namespace {

static_assert(sizeof(Symbol) == 32 && std::is_trivially_copyable_v<Symbol>,
              "PriceCache hashes tb::Symbol as 32 raw bytes");
constexpr std::size_t kNpos = static_cast<std::size_t>(-1);

struct Words {
  std::uint64_t w[4];
};

inline Words words_of(const Symbol& s) noexcept {
  Words out;
  std::memcpy(&out, &s, sizeof out);
  return out;
}

inline bool same(const Symbol& a, const Symbol& b) noexcept {
  const Words x = words_of(a);
  const Words y = words_of(b);
  return ((x.w[0] ^ y.w[0]) | (x.w[1] ^ y.w[1]) | (x.w[2] ^ y.w[2]) | (x.w[3] ^ y.w[3])) == 0;
}

inline std::uint64_t hash_of(const Symbol& s) noexcept {
  const Words x = words_of(s);
  std::uint64_t h = x.w[0] * 0x9E3779B97F4A7C15ULL;
  h ^= (x.w[1] + (h >> 29)) * 0xC2B2AE3D27D4EB4FULL;
  h ^= (x.w[2] ^ x.w[3]) * 0x165667B19E3779F9ULL;
  return h ^ (h >> 32);
}

}  // namespace

PriceCache::PriceCache(std::size_t capacity, Nanos ttl) : capacity_(capacity == 0 ? 1 : capacity), ttl_(ttl) {
  nodes_.resize(capacity_);
  const std::size_t slot_count = std::bit_ceil(capacity_ * 2);
  slots_.assign(slot_count, kNone);
  slot_mask_ = slot_count - 1;
  free_.reserve(capacity_);
  for (std::size_t i = capacity_; i > 0; --i) free_.push_back(static_cast<std::uint32_t>(i - 1));
  stats_.capacity = capacity_;
}

std::size_t PriceCache::home_slot(const Symbol& symbol) const noexcept {
  return static_cast<std::size_t>(hash_of(symbol)) & slot_mask_;
}

std::size_t PriceCache::find_slot(const Symbol& symbol) const noexcept {
  for (std::size_t slot = home_slot(symbol);; slot = (slot + 1) & slot_mask_) {
    const std::uint32_t node = slots_[slot];
    if (node == kNone) return kNpos;
    if (same(nodes_[node].symbol, symbol)) return slot;
  }
}

void PriceCache::unlink(std::uint32_t node) noexcept {
  Node& n = nodes_[node];
  if (n.prev != kNone) nodes_[n.prev].next = n.next; else head_ = n.next;
  if (n.next != kNone) nodes_[n.next].prev = n.prev; else tail_ = n.prev;
  n.prev = n.next = kNone;
}

void PriceCache::push_front(std::uint32_t node) noexcept {
  Node& n = nodes_[node];
  n.prev = kNone;
  n.next = head_;
  if (head_ != kNone) nodes_[head_].prev = node;
  head_ = node;
  if (tail_ == kNone) tail_ = node;
}

void PriceCache::remove_slot(std::size_t slot) noexcept {
  // Backward-shift deletion keeps linear probing correct without tombstones.
  slots_[slot] = kNone;
  for (std::size_t next = (slot + 1) & slot_mask_; slots_[next] != kNone; next = (next + 1) & slot_mask_) {
    const std::size_t home = home_slot(nodes_[slots_[next]].symbol);
    // Move `next` into the hole if its home is not in (slot, next] cyclically.
    const bool in_range = slot <= next ? (home > slot && home <= next) : (home > slot || home <= next);
    if (!in_range) {
      slots_[slot] = slots_[next];
      slots_[next] = kNone;
      slot = next;
    }
  }
}

const PriceEntry* PriceCache::peek(const Symbol& symbol) const noexcept {
  const std::size_t slot = find_slot(symbol);
  return slot == kNpos ? nullptr : &nodes_[slots_[slot]].entry;
}

PriceLookup PriceCache::get(const Symbol& symbol, Nanos now, const PriceEntry*& out) noexcept {
  const std::size_t slot = find_slot(symbol);
  if (slot == kNpos) {
    ++stats_.misses;
    out = nullptr;
    return PriceLookup::Miss;
  }
  const std::uint32_t node = slots_[slot];
  if (head_ != node) {
    unlink(node);
    push_front(node);
  }
  out = &nodes_[node].entry;
  if (now - out->updated_ns > ttl_) {
    ++stats_.stale;
    return PriceLookup::Stale;
  }
  ++stats_.hits;
  return PriceLookup::Hit;
}

void PriceCache::put(const Symbol& symbol, const PriceQuote& quote, Nanos now) noexcept {
  ++stats_.puts;
  std::size_t slot = find_slot(symbol);
  std::uint32_t node;
  if (slot != kNpos) {
    node = slots_[slot];
    PriceEntry& e = nodes_[node].entry;
    if (quote.source == PriceSource::Ws && quote.update_id != 0 && e.quote.update_id != 0 &&
        quote.update_id < e.quote.update_id) {
      ++stats_.older_puts_ignored;
      return;
    }
    if (head_ != node) {
      unlink(node);
      push_front(node);
    }
  } else {
    if (size_ == capacity_) {
      const std::uint32_t victim = tail_;
      remove_slot(find_slot(nodes_[victim].symbol));
      unlink(victim);
      free_.push_back(victim);
      --size_;
      ++stats_.evictions;
    }
    node = free_.back();
    free_.pop_back();
    nodes_[node].symbol = symbol;
    for (slot = home_slot(symbol); slots_[slot] != kNone; slot = (slot + 1) & slot_mask_) {
    }
    slots_[slot] = node;
    push_front(node);
    ++size_;
  }
  nodes_[node].entry.quote = quote;
  nodes_[node].entry.updated_ns = now;
}

bool PriceCache::erase(const Symbol& symbol) noexcept {
  const std::size_t slot = find_slot(symbol);
  if (slot == kNpos) return false;
  const std::uint32_t node = slots_[slot];
  remove_slot(slot);
  unlink(node);
  free_.push_back(node);
  --size_;
  return true;
}

void PriceCache::clear() noexcept {
  while (tail_ != kNone) erase(nodes_[tail_].symbol);
}

PriceCacheStats PriceCache::stats() const noexcept {
  PriceCacheStats s = stats_;
  s.size = size_;
  return s;
}

Symbol PriceCache::lru_symbol() const noexcept { return tail_ == kNone ? Symbol{} : nodes_[tail_].symbol; }
Symbol PriceCache::mru_symbol() const noexcept { return head_ == kNone ? Symbol{} : nodes_[head_].symbol; }

}  // namespace tb::market
