// FlatIndex: a fixed-capacity open-addressing hash map from uint64 keys to uint32 values (linear
// probing, backward-shift deletion, no tombstones). All memory is reserved in the constructor as
// untouched zero pages (ZeroedArray): a page becomes resident when a key first lands on it;
// insert/find/erase never allocate. Used by the order manager for its id indexes and its
// recent-trade-id set. Trading thread only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tradingbot/core/zeroed_array.hpp"

namespace tb::oms {

class FlatIndex {
 public:
  static constexpr std::uint32_t kNotFound = 0xFFFF'FFFFu;

  // Holds up to `max_entries`; the table is sized to at least twice that (power of two).
  explicit FlatIndex(std::size_t max_entries);

  // false when the key is present already (value left unchanged) or the index is full.
  bool insert(std::uint64_t key, std::uint32_t value) noexcept;
  [[nodiscard]] std::uint32_t find(std::uint64_t key) const noexcept;
  [[nodiscard]] bool contains(std::uint64_t key) const noexcept { return find(key) != kNotFound; }
  bool erase(std::uint64_t key) noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t max_entries() const noexcept { return max_entries_; }
  void clear() noexcept;

 private:
  // All-zero is the empty slot, so the table can live in untouched zero pages (ZeroedArray):
  // `stored` is the value + 1, 0 when empty.
  struct Slot {
    std::uint64_t key;
    std::uint32_t stored;
  };
  [[nodiscard]] std::size_t home(std::uint64_t key) const noexcept;
  ZeroedArray<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::size_t max_entries_ = 0;
};

}  // namespace tb::oms
