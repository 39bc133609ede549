// Builds the strategy named in [strategy] (cold path, start-up).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tradingbot/core/result.hpp"
#include "tradingbot/strategy/ema_trend.hpp"
#include "tradingbot/strategy/market_maker.hpp"
#include "tradingbot/strategy/strategy.hpp"

namespace tb::strategy {

struct StrategySpec {
  std::string name;  // "market_maker" | "ema_trend"
  std::vector<Symbol> symbols;
  MarketMakerParams market_maker;
  EmaTrendParams ema_trend;
};

// The strategy, or an error naming the bad key ("strategy.name = \"x\": unknown strategy").
Result<std::unique_ptr<Strategy>> make_strategy(const StrategySpec& spec);

}  // namespace tb::strategy
