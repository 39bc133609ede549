// Counts heap allocations in a benchmark binary (STYLE.md habit 4: "a benchmark shows it").
// Linking tb_bench_support interposes the C allocator (malloc, calloc, realloc, the aligned
// forms) for the whole process, shared libraries included, so OpenSSL's and Asio's own
// allocations count like ours; allocation_count() reads the total so far. Any thread.
#pragma once

#include <cstdint>

namespace tb::bench {

// Every heap allocation (malloc family, operator new through it) since the program started.
[[nodiscard]] std::uint64_t allocation_count() noexcept;

}  // namespace tb::bench
