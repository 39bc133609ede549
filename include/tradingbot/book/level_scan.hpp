// How many levels of a book block come before a price: the inner loop of every L2 book update
// (L2Book::Side::level_index). Exposed so the tests can hold the vector version to the scalar
// one on every block size; nothing else should call these directly.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tb::book::detail {

// prices[0..size) sorted ascending (bid side: counts prices < p) or descending (ask side: counts
// prices > p). The AVX2 version reads whole groups of four: `prices` must be readable up to the
// next multiple of four at or past `size` (a block's fixed array of 64 is).
[[nodiscard]] std::size_t count_before_scalar(const std::int64_t* prices, std::uint32_t size, std::int64_t p,
                                              bool bid) noexcept;
[[nodiscard]] std::size_t count_before_avx2(const std::int64_t* prices, std::uint32_t size, std::int64_t p,
                                            bool bid) noexcept;  // only where cpu_has_avx2()
[[nodiscard]] bool cpu_has_avx2() noexcept;

}  // namespace tb::book::detail
