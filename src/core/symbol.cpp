#include "tradingbot/core/symbol.hpp"

namespace tb {

std::optional<Symbol> Symbol::parse(std::string_view text) noexcept {
  if (text.empty() || text.size() > kMaxLength) return std::nullopt;
  Symbol symbol;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c <= 0x20 || c == 0x7f || c == '/' || c == '@' || c == '"' || c == '\\') return std::nullopt;
    symbol.chars_[i] = (c >= 'a' && c <= 'z') ? static_cast<char>(c - ('a' - 'A')) : static_cast<char>(c);
  }
  symbol.size_ = static_cast<std::uint8_t>(text.size());
  return symbol;
}

std::string Symbol::lower() const {
  std::string out(view());
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

}  // namespace tb
