// ZeroedArray<T>: a fixed-size array of all-zero T whose memory is reserved, not touched: it
// comes straight from mmap, so a page becomes resident (and counts in RSS) only when an element
// on it is first written. For the big tables sized from configured limits (the OMS trade-id
// index is 2 MB at the default 65536 trades) an idle daemon pays nothing for them, and a busy
// one pays as it fills them. The first write to each 4 KB page costs one minor fault (the kernel
// hands over a zeroed page); once the table has been through its working set there are none.
//
// T must be trivially copyable and all-zero bytes must be its empty state (the caller's
// contract: design the element so). Not copyable; movable. Owned by one thread like its owner.
#pragma once

#include <cstddef>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

namespace tb {

namespace detail {
// mmap/munmap of `bytes` zeroed, untouched pages; throws std::bad_alloc on failure.
void* map_zeroed_pages(std::size_t bytes);
void unmap_pages(void* base, std::size_t bytes) noexcept;
}  // namespace detail

template <class T>
class ZeroedArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "ZeroedArray elements must be plain data whose all-zero bytes are a valid value");

 public:
  ZeroedArray() = default;
  explicit ZeroedArray(std::size_t count)
      : data_(count == 0 ? nullptr : static_cast<T*>(detail::map_zeroed_pages(count * sizeof(T)))), size_(count) {}
  ~ZeroedArray() { release(); }
  ZeroedArray(const ZeroedArray&) = delete;
  ZeroedArray& operator=(const ZeroedArray&) = delete;
  ZeroedArray(ZeroedArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  ZeroedArray& operator=(ZeroedArray&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] T* data() noexcept { return data_; }
  [[nodiscard]] const T* data() const noexcept { return data_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  [[nodiscard]] std::span<T> span() noexcept { return {data_, size_}; }
  // Iterating reads every element; pages never written read as the shared zero page and stay
  // out of RSS.
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size_; }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size_; }

 private:
  void release() noexcept {
    if (data_ != nullptr) detail::unmap_pages(data_, size_ * sizeof(T));
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tb
