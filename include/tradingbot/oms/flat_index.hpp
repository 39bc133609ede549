// FlatIndex: a fixed-capacity open-addressing hash map from uint64 keys to uint32 values (linear
// probing, backward-shift deletion, no tombstones). All memory is allocated in the constructor;
// insert/find/erase never allocate. Used by the order manager for its id indexes and its
// recent-trade-id set. Trading thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

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
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t value = kNotFound;  // kNotFound marks an empty slot
  };
  [[nodiscard]] std::size_t home(std::uint64_t key) const noexcept;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::size_t max_entries_ = 0;
};

}  // namespace tb::oms
