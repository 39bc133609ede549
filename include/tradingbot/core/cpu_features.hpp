// What the CPU we run on can do, decided once at start-up. The binary is built for baseline
// x86-64 (it must run on any VPS, including hypervisors that expose an old CPU model), and the
// few hot loops that gain from newer instructions (the L2 book's level scan, the market decoder's
// number parsing) carry a second version compiled for them and pick it through this.
#pragma once

namespace tb {

// AVX2 (every x86-64 server CPU of the last decade); false on other architectures.
[[nodiscard]] bool cpu_has_avx2() noexcept;

}  // namespace tb
