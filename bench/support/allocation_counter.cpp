#include "allocation_counter.hpp"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace {
// Relaxed atomic: benchmarks that serve from several threads count correctly, and the cost is
// irrelevant because the paths being measured are expected to allocate nothing.
std::atomic<std::uint64_t> g_allocations{0};
void count() noexcept { g_allocations.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

std::uint64_t tb::bench::allocation_count() noexcept { return g_allocations.load(std::memory_order_relaxed); }

#if defined(__SANITIZE_ADDRESS__)
// Under ASan the allocator belongs to the sanitizer (benchmarks are only compiled there, not
// measured): count the C++ allocations through operator new, over ASan's malloc.
namespace {
[[gnu::noinline]] void release(void* p) noexcept { std::free(p); }
void* counted(std::size_t n) {
  count();
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace
void* operator new(std::size_t n) { return counted(n); }
void* operator new[](std::size_t n) { return counted(n); }
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
#else
// Every heap allocation of the process, not only C++ ones: the C allocator's entry points are
// defined here, so the shared libraries bind to them too (OpenSSL's CRYPTO_malloc, Asio's
// aligned handler memory, libc's own callers). Each counts and forwards to glibc's allocator
// under its internal names. operator new reaches malloc, so it is counted once, here.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* __libc_valloc(std::size_t);
void* __libc_pvalloc(std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* memalign(std::size_t align, std::size_t n) {
  count();
  return __libc_memalign(align, n);
}
void* aligned_alloc(std::size_t align, std::size_t n) {
  count();
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return 22;  // EINVAL
  count();
  void* p = __libc_memalign(align, n);
  if (p == nullptr) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void* valloc(std::size_t n) {
  count();
  return __libc_valloc(n);
}
void* pvalloc(std::size_t n) {
  count();
  return __libc_pvalloc(n);
}
void free(void* p) { __libc_free(p); }
}
#endif
