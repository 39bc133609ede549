// RecordQueue: the bounded single-producer/single-consumer ring that carries StoreRecords from
// the trading thread to the store thread (Aeron OneToOneRingBuffer style: try_push returns
// false when full, never blocks, never allocates). Slots are reserved once at construction as
// untouched zero pages (core::ZeroedArray): an idle daemon's ring costs no memory, and each page
// becomes resident when the first record lands on it (once, during the ring's first lap).
//   try_push(): the ONE producer thread (trading thread) only.
//   try_pop() / pop_some(): the ONE consumer thread (store thread) only.
//   size_approx(), capacity(): any thread.
//
// StoreProducer: the trading thread's handle. It decides what happens when the ring is full,
// so nothing that matters is lost and the trading thread still never blocks:
//   - orders, fills, positions, balances and runs go to an in-memory FIFO overflow owned by the
//     trading thread (the only place that may allocate, and only while the store thread is
//     behind); while the overflow is non-empty every critical record goes there too, so order
//     is preserved; pump() (or the next enqueue) moves them into the ring as it frees up;
//   - klines and equity samples are dropped and counted (they can be regenerated: klines from
//     REST, equity at the next sample);
//   - every full-ring event is counted (stats) and logged at warn, at most once per second.
// All StoreProducer methods: the trading thread only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>

#include "tradingbot/core/zeroed_array.hpp"
#include "tradingbot/store/records.hpp"
#include "tradingbot/store/stats.hpp"

namespace tb::store {

class RecordQueue {
 public:
  // capacity is rounded up to a power of two (minimum 2).
  explicit RecordQueue(std::size_t capacity);
  RecordQueue(const RecordQueue&) = delete;
  RecordQueue& operator=(const RecordQueue&) = delete;

  [[nodiscard]] bool try_push(const StoreRecord& record) noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ >= capacity_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ >= capacity_) return false;
    }
    slots_[tail & mask_].record = record;
    tail_.store(tail + 1, std::memory_order_release);
    // The next slot was last touched by the consumer (another core): pull its lines in with
    // write intent now, off the next enqueue's latency path (the p99 is cache misses).
    const auto* next = reinterpret_cast<const char*>(&slots_[(tail + 1) & mask_]);
    for (std::size_t off = 0; off < sizeof(Slot); off += kCacheLine) __builtin_prefetch(next + off, 1, 3);
    return true;
  }

  [[nodiscard]] bool try_pop(StoreRecord& out) noexcept {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return false;
    }
    out = slots_[head & mask_].record;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Pops up to `max` records into `out`; returns how many.
  std::size_t pop_some(StoreRecord* out, std::size_t max) noexcept {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    tail_cache_ = tail_.load(std::memory_order_acquire);
    std::uint64_t n = tail_cache_ - head;
    if (n > max) n = max;
    for (std::uint64_t i = 0; i < n; ++i) out[i] = slots_[(head + i) & mask_].record;
    head_.store(head + n, std::memory_order_release);
    return static_cast<std::size_t>(n);
  }

  [[nodiscard]] std::size_t size_approx() const noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    return static_cast<std::size_t>(tail - head);
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(capacity_); }

 private:
  static constexpr std::size_t kCacheLine = 64;
  // Slots start on their own cache line, so the producer writing slot i+1 never touches a line
  // the consumer is still reading slot i from.
  struct alignas(kCacheLine) Slot {
    StoreRecord record;
  };
  std::uint64_t capacity_;
  std::uint64_t mask_;
  ZeroedArray<Slot> slots_;
  alignas(kCacheLine) std::atomic<std::uint64_t> tail_{0};  // written by the producer
  std::uint64_t head_cache_ = 0;                             // producer's view of head_
  alignas(kCacheLine) std::atomic<std::uint64_t> head_{0};  // written by the consumer
  std::uint64_t tail_cache_ = 0;                             // consumer's view of tail_
  char pad_[kCacheLine - sizeof(std::uint64_t)]{};
};

class StoreProducer {
 public:
  enum class EnqueueResult : std::uint8_t {
    Queued,      // in the ring
    Overflowed,  // ring full: parked in the overflow, will reach the ring in order
    Dropped,     // ring full and the record is a sample (kline/equity): counted, not stored
  };

  StoreProducer(RecordQueue& queue, StoreStats& stats) noexcept : queue_(queue), stats_(stats) {}
  StoreProducer(const StoreProducer&) = delete;
  StoreProducer& operator=(const StoreProducer&) = delete;

  // Never blocks; allocation-free unless the ring is full (then only for critical records).
  EnqueueResult enqueue(const StoreRecord& record) noexcept;

  // Moves parked overflow records into the ring while there is room. Call from a trading-thread
  // timer (e.g. every flush interval) so the overflow drains even when no new records arrive.
  // Returns the number still parked.
  std::size_t pump() noexcept;

  [[nodiscard]] std::size_t overflow_size() const noexcept { return overflow_.size(); }

 private:
  void on_full(const StoreRecord& record) noexcept;

  RecordQueue& queue_;
  StoreStats& stats_;
  std::deque<StoreRecord> overflow_;
  Nanos last_full_log_mono_ns_ = 0;
  std::uint64_t full_since_log_ = 0;
};

}  // namespace tb::store
