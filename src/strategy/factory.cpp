#include "tradingbot/strategy/factory.hpp"

#include <stdexcept>

namespace tb::strategy {

Result<std::unique_ptr<Strategy>> make_strategy(const StrategySpec& spec) {
  try {
    if (spec.name == "market_maker") {
      return std::unique_ptr<Strategy>(std::make_unique<MarketMaker>(spec.market_maker, spec.symbols));
    }
    if (spec.name == "ema_trend") {
      return std::unique_ptr<Strategy>(std::make_unique<EmaTrend>(spec.ema_trend, spec.symbols));
    }
  } catch (const std::invalid_argument& e) {
    return Error{e.what()};
  }
  return Error{"strategy.name = \"" + spec.name + "\": unknown strategy (market_maker, ema_trend)"};
}

}  // namespace tb::strategy
