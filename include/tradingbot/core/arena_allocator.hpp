// ArenaAllocator<T, Arena>: the standard allocator interface over an arena that hands out raw
// memory, for the containers and handlers that take an allocator (Beast's request parser,
// boost::asio::bind_allocator). The arena provides
//   void* allocate(std::size_t bytes, std::size_t alignment);
//   void deallocate(void* pointer, std::size_t alignment) noexcept;
// and must outlive every allocator copy (they hold a plain pointer). Thread: the arena's.
#pragma once

#include <cstddef>

namespace tb {

template <class T, class Arena>
class ArenaAllocator {
 public:
  using value_type = T;

  explicit ArenaAllocator(Arena& arena) noexcept : arena_(&arena) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U, Arena>& other) noexcept : arena_(other.arena()) {}  // NOLINT: rebinding

  T* allocate(std::size_t n) { return static_cast<T*>(arena_->allocate(n * sizeof(T), alignof(T))); }
  void deallocate(T* pointer, std::size_t /*n*/) noexcept { arena_->deallocate(pointer, alignof(T)); }
  [[nodiscard]] Arena* arena() const noexcept { return arena_; }

  template <class U>
  bool operator==(const ArenaAllocator<U, Arena>& other) const noexcept {
    return arena_ == other.arena();
  }

 private:
  Arena* arena_;
};

}  // namespace tb
