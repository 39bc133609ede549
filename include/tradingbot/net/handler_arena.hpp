// HandlerArena: memory for the one asynchronous operation chain a connection keeps in flight
// in one direction (its write), handed to Asio through the handler's associated allocator
// (Asio's "custom memory allocation" pattern). Asio's own per-thread recycling only caches
// blocks up to 1020 bytes; a Beast WebSocket write composed over TlsSocket is larger, so every
// completion Asio posts or every socket wait it registers for it would otherwise reach malloc:
// once per order sent. An allocation that does not fit, or arrives while the block is taken,
// falls back to operator new and is counted, so a change in Beast's or Asio's sizes shows up in
// the stats instead of as a crash.
//
// Lifetime: the allocator holds a plain pointer, so the arena must outlive every operation
// whose handler carries it. WebSocketClient's handlers own the client (shared_from_this), and
// Asio releases an operation's memory before the handler it moved out is destroyed, so the
// arena, a client member, always does. One thread (the connection's io_context thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "tradingbot/core/arena_allocator.hpp"

namespace tb::net {

class HandlerArena {
 public:
  static constexpr std::size_t kBytes = 4096;
  static constexpr std::size_t kAlign = 64;

  // Every allocation that misses the block is counted in `heap_allocations` (the owner's stats).
  explicit HandlerArena(std::uint64_t& heap_allocations) noexcept : fallbacks_(heap_allocations) {}
  HandlerArena(const HandlerArena&) = delete;
  HandlerArena& operator=(const HandlerArena&) = delete;

  void* allocate(std::size_t bytes, std::size_t align) {
    if (!in_use_ && bytes <= kBytes && align <= kAlign) {
      in_use_ = true;
      return storage_;
    }
    ++fallbacks_;
    return ::operator new(bytes, std::align_val_t{align});
  }
  void deallocate(void* p, std::size_t align) noexcept {
    if (p == storage_) {
      in_use_ = false;
      return;
    }
    ::operator delete(p, std::align_val_t{align});
  }

 private:
  alignas(kAlign) unsigned char storage_[kBytes];
  bool in_use_ = false;
  std::uint64_t& fallbacks_;  // allocations that went to operator new (too big, or the block was taken)
};

// The standard allocator interface over a HandlerArena, for boost::asio::bind_allocator.
template <class T>
using HandlerArenaAllocator = ArenaAllocator<T, HandlerArena>;

}  // namespace tb::net
