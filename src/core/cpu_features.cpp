#include "tradingbot/core/cpu_features.hpp"

namespace tb {

#if defined(__x86_64__)
namespace {
const bool kHasAvx2 = [] {
  __builtin_cpu_init();  // may run before other constructors
  return __builtin_cpu_supports("avx2") != 0;
}();
}  // namespace

bool cpu_has_avx2() noexcept { return kHasAvx2; }
#else
bool cpu_has_avx2() noexcept { return false; }
#endif

}  // namespace tb
