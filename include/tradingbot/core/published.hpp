// Published<T>: how the trading thread shows its state to other threads (HTTP, store) without
// sharing mutable data. The owner builds a new immutable T and publishes it; readers load a
// shared_ptr to the latest one and keep it alive for as long as they use it. Neither side ever
// blocks the other for longer than a pointer swap.
// publish(): one writer thread (the owner). load(): any thread.
#pragma once

#include <atomic>
#include <memory>

namespace tb {

template <class T>
class Published {
 public:
  Published() = default;
  explicit Published(std::shared_ptr<const T> initial) : current_(std::move(initial)) {}
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  void publish(std::shared_ptr<const T> next) noexcept { current_.store(std::move(next), std::memory_order_release); }
  [[nodiscard]] std::shared_ptr<const T> load() const noexcept { return current_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::shared_ptr<const T>> current_;
};

}  // namespace tb
