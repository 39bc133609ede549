// Symbol: an exchange instrument name ("BTCUSDT") stored inline, so passing, copying, comparing
// and hashing it never allocates. Value type: any thread may use it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tb {

class Symbol {
 public:
  // Binance symbols are short ASCII, but since 2025-12 may hold UTF-8; 31 bytes covers both.
  static constexpr std::size_t kMaxLength = 31;

  constexpr Symbol() noexcept = default;

  // Accepts 1..kMaxLength bytes with no whitespace, control characters or '/', '@'
  // (which would corrupt stream names). ASCII letters are upper-cased, so a lowercase
  // stream name ("btcusdt") and the REST form ("BTCUSDT") give the same Symbol.
  static std::optional<Symbol> parse(std::string_view text) noexcept;

  [[nodiscard]] std::string_view view() const noexcept { return {chars_.data(), size_}; }
  [[nodiscard]] std::string str() const { return std::string(view()); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  // Lower-case form used in stream names: "btcusdt@depth@100ms".
  [[nodiscard]] std::string lower() const;

  friend bool operator==(const Symbol& a, const Symbol& b) noexcept { return a.view() == b.view(); }
  friend auto operator<=>(const Symbol& a, const Symbol& b) noexcept { return a.view() <=> b.view(); }

 private:
  std::array<char, kMaxLength> chars_{};
  std::uint8_t size_ = 0;
};

struct SymbolHash {
  std::size_t operator()(const Symbol& s) const noexcept { return std::hash<std::string_view>{}(s.view()); }
};

}  // namespace tb

template <>
struct std::hash<tb::Symbol> : tb::SymbolHash {};
