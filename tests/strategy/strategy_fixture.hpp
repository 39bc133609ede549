// A MarketView over hand-built books and positions, for strategy decision tests.
#pragma once

#include <map>

#include "tradingbot/strategy/strategy.hpp"

namespace tb::test {

inline Price px(const char* s) { return *Price::parse(s); }
inline Qty qty(const char* s) { return *Qty::parse(s); }
inline Symbol sym(const char* s) { return *Symbol::parse(s); }
inline constexpr Nanos kT0 = 1'795'428'000LL * kNanosPerSecond;

struct FakeView final : strategy::MarketView {
  std::map<Symbol, Qty> positions;
  std::map<Symbol, strategy::Instrument> instruments;
  std::map<Symbol, const book::L2Book*> books;

  Qty position(const Symbol& s) const noexcept override {
    auto it = positions.find(s);
    return it == positions.end() ? Qty{} : it->second;
  }
  const strategy::Instrument* instrument(const Symbol& s) const noexcept override {
    auto it = instruments.find(s);
    return it == instruments.end() ? nullptr : &it->second;
  }
  const book::L2Book* book(const Symbol& s) const noexcept override {
    auto it = books.find(s);
    return it == books.end() ? nullptr : it->second;
  }
};

inline strategy::Instrument btc_instrument() {
  return strategy::Instrument{sym("BTCUSDT"), px("0.01"), qty("0.00001"), *Money::parse("5")};
}

inline void set_top(book::L2Book& b, const char* bid, const char* bid_qty, const char* ask, const char* ask_qty) {
  b.clear();
  b.set_level(book::BookSide::Bid, px(bid), qty(bid_qty));
  b.set_level(book::BookSide::Ask, px(ask), qty(ask_qty));
}

}  // namespace tb::test
