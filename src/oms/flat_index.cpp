#include "tradingbot/oms/flat_index.hpp"

#include <bit>

namespace tb::oms {

namespace {

std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

FlatIndex::FlatIndex(std::size_t max_entries) : max_entries_(max_entries) {
  const std::size_t cap = std::bit_ceil(max_entries < 4 ? std::size_t{8} : max_entries * 2);
  slots_ = ZeroedArray<Slot>(cap);
  mask_ = cap - 1;
}

std::size_t FlatIndex::home(std::uint64_t key) const noexcept { return static_cast<std::size_t>(mix(key)) & mask_; }

bool FlatIndex::insert(std::uint64_t key, std::uint32_t value) noexcept {
  if (value == kNotFound) return false;
  for (std::size_t i = home(key);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.stored == 0) {
      if (size_ >= max_entries_) return false;
      s.key = key;
      s.stored = value + 1;
      ++size_;
      return true;
    }
    if (s.key == key) return false;
  }
}

std::uint32_t FlatIndex::find(std::uint64_t key) const noexcept {
  for (std::size_t i = home(key);; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.stored == 0) return kNotFound;
    if (s.key == key) return s.stored - 1;
  }
}

bool FlatIndex::erase(std::uint64_t key) noexcept {
  std::size_t i = home(key);
  for (;; i = (i + 1) & mask_) {
    if (slots_[i].stored == 0) return false;
    if (slots_[i].key == key) break;
  }
  // Backward-shift deletion: move later members of the cluster into the hole when their home
  // position does not lie cyclically in (hole, j].
  std::size_t hole = i;
  for (std::size_t j = (hole + 1) & mask_; slots_[j].stored != 0; j = (j + 1) & mask_) {
    const std::size_t h = home(slots_[j].key);
    const bool between = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
    if (!between) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
  return true;
}

void FlatIndex::clear() noexcept {
  // Only the slots in use are written (a fresh mapping would allocate): the untouched pages stay
  // untouched.
  if (size_ == 0) return;
  for (std::size_t i = 0; i < slots_.size() && size_ > 0; ++i) {
    if (slots_[i].stored != 0) {
      slots_[i] = Slot{};
      --size_;
    }
  }
}

}  // namespace tb::oms
