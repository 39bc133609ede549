#include "kernel_send_stamp.hpp"

#include <dlfcn.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

namespace tb::bench {
namespace {
SendStamp g_kernel;
SendStamp g_tls_write;

template <class Fn>
Fn next_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}
}  // namespace

SendStamp& kernel_send_stamp() noexcept { return g_kernel; }
SendStamp& tls_write_stamp() noexcept { return g_tls_write; }

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
  return real(ssl, data, size, written);
}
