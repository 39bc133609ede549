// Stamps the moment bytes are handed to the kernel, for the benchmarks whose figure ends there
// ("decision -> bytes handed to the socket"). Linking this object interposes send() (what
// net::TlsSocket's BIO calls) and sendmsg() (what Asio's own sockets call), and SSL_write_ex
// (where our TLS write starts): the executable's definitions win over the shared libraries' for
// every caller, and each forwards to the real function. A stamp is armed before the timed call
// and taken by the first matching call after it, on the thread that armed it: a fake exchange
// serving on another thread never stamps. Calls while disarmed cost one relaxed load.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tb::bench {

class SendStamp {
 public:
  // Arms the stamp for the calling thread.
  void arm() noexcept {
    owner_.store(pthread_self(), std::memory_order_relaxed);
    armed_.store(true, std::memory_order_relaxed);
  }
  // True once taken; disarms. `at` is valid after a true result.
  bool taken() noexcept { return !armed_.exchange(false, std::memory_order_relaxed); }
  [[nodiscard]] std::chrono::steady_clock::time_point at() const noexcept { return at_; }

  void hit() noexcept {
    if (armed_.load(std::memory_order_relaxed) && pthread_equal(owner_.load(std::memory_order_relaxed), pthread_self())) {
      at_ = std::chrono::steady_clock::now();
      armed_.store(false, std::memory_order_relaxed);
    }
  }

 private:
  std::atomic<bool> armed_{false};
  std::atomic<pthread_t> owner_{};
  std::chrono::steady_clock::time_point at_;  // written and read by the owner thread only
};

SendStamp& kernel_send_stamp() noexcept;  // send() or sendmsg(), whichever comes first
SendStamp& tls_write_stamp() noexcept;    // SSL_write_ex entered
// Heap allocations made inside OpenSSL's SSL_write_ex so far, every thread (allocation_counter
// counts them; this attributes them): OpenSSL 3.0's record layer allocates per record, which
// no caller can avoid, so the benchmarks report it apart from the rest of the path.
std::uint64_t tls_library_allocations() noexcept;

}  // namespace tb::bench
