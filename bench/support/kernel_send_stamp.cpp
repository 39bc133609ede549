#include "kernel_send_stamp.hpp"

#include "allocation_counter.hpp"

#include <dlfcn.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

namespace tb::bench {
namespace {
SendStamp g_kernel;
SendStamp g_tls_write;
std::atomic<std::uint64_t> g_tls_library_allocations{0};

template <class Fn>
Fn next_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}
}  // namespace

SendStamp& kernel_send_stamp() noexcept { return g_kernel; }
SendStamp& tls_write_stamp() noexcept { return g_tls_write; }
std::uint64_t tls_library_allocations() noexcept { return g_tls_library_allocations.load(std::memory_order_relaxed); }

}  // namespace tb::bench

extern "C" ssize_t send(int fd, const void* data, size_t size, int flags) {
  static const auto real = tb::bench::next_symbol<ssize_t (*)(int, const void*, size_t, int)>("send");
  tb::bench::g_kernel.hit();
  return real(fd, data, size, flags);
}

extern "C" ssize_t sendmsg(int fd, const struct msghdr* message, int flags) {
  static const auto real = tb::bench::next_symbol<ssize_t (*)(int, const struct msghdr*, int)>("sendmsg");
  tb::bench::g_kernel.hit();
  return real(fd, message, flags);
}

extern "C" int SSL_write_ex(SSL* ssl, const void* data, size_t size, size_t* written) {
  static const auto real = tb::bench::next_symbol<int (*)(SSL*, const void*, size_t, size_t*)>("SSL_write_ex");
  tb::bench::g_tls_write.hit();
  const std::uint64_t before = tb::bench::allocation_count();
  const int result = real(ssl, data, size, written);
  tb::bench::g_tls_library_allocations.fetch_add(tb::bench::allocation_count() - before, std::memory_order_relaxed);
  return result;
}
