// Counts heap allocations in a benchmark binary (STYLE.md habit 4: "a benchmark shows it").
// Linking tb_bench_support replaces the global operator new/delete family with counting
// versions over malloc/free; allocation_count() reads the total so far. Any thread.
#pragma once

#include <cstdint>

namespace tb::bench {

// Every operator new / new[] (plain, aligned and nothrow) since the program started.
[[nodiscard]] std::uint64_t allocation_count() noexcept;

}  // namespace tb::bench
