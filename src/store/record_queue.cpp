#include "tradingbot/store/record_queue.hpp"

#include <bit>

#include <spdlog/spdlog.h>

namespace tb::store {
namespace {
// Single-writer counters: a plain load+store is enough (no locked instruction on the hot path).
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
}  // namespace

RecordQueue::RecordQueue(std::size_t capacity)
    : capacity_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity)),
      mask_(capacity_ - 1),
      slots_(capacity_) {}

StoreProducer::EnqueueResult StoreProducer::enqueue(const StoreRecord& record) noexcept {
  if (overflow_.empty() && queue_.try_push(record)) {
    bump(stats_.enqueued);
    return EnqueueResult::Queued;
  }
  if (!overflow_.empty()) pump();
  if (overflow_.empty() && queue_.try_push(record)) {
    bump(stats_.enqueued);
    return EnqueueResult::Queued;
  }
  on_full(record);
  if (is_sample(kind_of(record))) {
    bump(stats_.dropped_samples);
    return EnqueueResult::Dropped;
  }
  try {
    overflow_.push_back(record);
  } catch (...) {
    bump(stats_.lost);
    spdlog::critical("store: LOST a {} record: the store queue is full and the overflow cannot grow",
                     to_string(kind_of(record)));
    return EnqueueResult::Dropped;
  }
  bump(stats_.enqueued);
  bump(stats_.overflowed);
  stats_.overflow_depth.store(overflow_.size(), std::memory_order_relaxed);
  return EnqueueResult::Overflowed;
}

std::size_t StoreProducer::pump() noexcept {
  while (!overflow_.empty() && queue_.try_push(overflow_.front())) overflow_.pop_front();
  stats_.overflow_depth.store(overflow_.size(), std::memory_order_relaxed);
  return overflow_.size();
}

void StoreProducer::on_full(const StoreRecord& record) noexcept {
  bump(stats_.queue_full);
  ++full_since_log_;
  const Nanos now = monotonic_ns();
  if (last_full_log_mono_ns_ == 0 || now - last_full_log_mono_ns_ >= kNanosPerSecond) {
    try {
      spdlog::warn(
          "store: queue FULL ({} slots): {} enqueue(s) hit a full ring since the last report (latest: {}); "
          "orders/fills wait in an in-memory overflow ({} parked), samples are dropped ({} so far). "
          "The store thread is behind: check the database and the disk.",
          queue_.capacity(), full_since_log_, to_string(kind_of(record)), overflow_.size(),
          stats_.dropped_samples.load(std::memory_order_relaxed));
    } catch (...) {
    }
    last_full_log_mono_ns_ = now;
    full_since_log_ = 0;
  }
}

}  // namespace tb::store
