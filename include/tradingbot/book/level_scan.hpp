// How many levels of a book block come before a price: the inner loop of every L2 book update
// (L2Book::Side::level_index). Exposed so the tests can hold the vector version to the scalar
// one on every block size; nothing else should call these directly.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tb::book::detail {

// Every block holds this many price slots and a search reads them all: the slots past a block's
// size hold a sentinel that never counts (INT64_MAX on the bid side, INT64_MIN on the ask side),
// so the scan has a fixed length and no loop bound to mispredict.
inline constexpr std::uint32_t kScanLevels = 64;

// How many of prices[0..kScanLevels) come before `p`: prices < p on the bid side (ascending),
// prices > p on the ask side (descending).
[[nodiscard]] std::size_t count_before_scalar(const std::int64_t* prices, std::int64_t p, bool bid) noexcept;
[[nodiscard]] std::size_t count_before_avx2(const std::int64_t* prices, std::int64_t p,
                                            bool bid) noexcept;  // only where tb::cpu_has_avx2()

}  // namespace tb::book::detail
