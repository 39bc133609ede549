// ZeroedArray: zero-valued, writable, movable, and its pages stay out of memory until written
// (checked with mincore(), which reports which pages of a mapping are resident).
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "tradingbot/core/zeroed_array.hpp"

namespace {

std::size_t resident_pages(const void* base, std::size_t bytes) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> flags((bytes + page - 1) / page);
  REQUIRE(::mincore(const_cast<void*>(base), bytes, flags.data()) == 0);
  std::size_t resident = 0;
  for (const unsigned char f : flags) resident += f & 1u;
  return resident;
}

struct Entry {
  std::uint64_t key;
  std::uint32_t value;
};

}  // namespace

TEST_CASE("ZeroedArray starts all zero and keeps what is written", "[core]") {
  tb::ZeroedArray<Entry> a(1000);
  REQUIRE(a.size() == 1000);
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].key == 0);
    CHECK(a[i].value == 0);
  }
  a[999] = Entry{42, 7};
  CHECK(a[999].key == 42);
  CHECK(a.span().back().value == 7);

  tb::ZeroedArray<Entry> moved(std::move(a));
  CHECK(moved.size() == 1000);
  CHECK(moved[999].key == 42);
  CHECK(a.size() == 0);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK(a.data() == nullptr);

  tb::ZeroedArray<Entry> assigned;
  assigned = std::move(moved);
  CHECK(assigned[999].value == 7);
  CHECK(tb::ZeroedArray<Entry>(0).data() == nullptr);
}

TEST_CASE("ZeroedArray pages become resident only when written", "[core]") {
  constexpr std::size_t kBytes = 4u << 20;
  tb::ZeroedArray<std::uint64_t> a(kBytes / sizeof(std::uint64_t));
  CHECK(resident_pages(a.data(), kBytes) == 0);
  a[0] = 1;
  a[a.size() - 1] = 2;
  CHECK(resident_pages(a.data(), kBytes) == 2);
  CHECK(a[a.size() / 2] == 0);  // (a read maps the kernel's shared zero page: mincore counts it)
}
