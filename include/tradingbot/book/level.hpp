// One price level (price, aggregate quantity) shared by books, decoders and market events, so a
// decoded diff's levels feed a book without conversion. Value type: any thread.
#pragma once

#include "tradingbot/core/fixed_point.hpp"

namespace tb::book {

struct BookLevel {
  Price price;
  Qty qty;
  friend bool operator==(const BookLevel&, const BookLevel&) = default;
};

}  // namespace tb::book
