#include "tradingbot/core/zeroed_array.hpp"

#include <sys/mman.h>

namespace tb::detail {

void* map_zeroed_pages(std::size_t bytes) {
  // Anonymous private pages read as zero and are backed only once written. The mapping is
  // still accounted against the commit limit now (no MAP_NORESERVE): a machine that cannot
  // promise the memory says so at start-up, not with a fault in the middle of trading.
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  return base;
}

void unmap_pages(void* base, std::size_t bytes) noexcept { (void)::munmap(base, bytes); }

}  // namespace tb::detail
