#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <string>

#include "tradingbot/exchange/binance/replay.hpp"
#include "tradingbot/trading/paper_session.hpp"

namespace fs = std::filesystem;
using namespace tb;

namespace {
const std::string kCapture = "../shared/data/binance/btcusdt_spot_20240808.capture.gz";

config::Config mm_config() {
  auto parsed = config::parse_config(R"(
[market]
symbols = ["BTCUSDT"]
[strategy]
name = "market_maker"
[strategy.market_maker]
order_qty = "0.001"
max_position = "0.005"
half_spread_bps = 1
skew_bps = 1
requote_bps = 1
)", "test.toml");
  REQUIRE(parsed.ok());
  return parsed.value();
}

struct PaperRun {
  binance::ReplaySummary summary;
  std::string json;  // without the wall-clock speed fields
  trading::TradingSnapshot snapshot;
};

PaperRun run(const config::Config& cfg) {
  auto session = trading::PaperSession::create(cfg, "tbREPLAY");
  REQUIRE(session.ok());
  trading::PaperSession& s = *session.value();
  binance::ReplayHooks hooks;
  hooks.sink = &s;
  hooks.paper_summary = [&s] {
    return binance::PaperSummary{s.venue().stats().orders, s.venue().stats().fills, s.loop().positions().realized_pnl()};
  };
  auto result = binance::run_replay(cfg, {kCapture}, std::nullopt, hooks);
  REQUIRE(result.ok());
  PaperRun r;
  r.summary = result.value();
  r.json = std::regex_replace(binance::to_json(r.summary), std::regex("\"(elapsed_s|msgs_per_s|pipeline_s|pipeline_msgs_per_s)\":[^,]*,"), "");
  s.loop().snapshot(0, r.snapshot);
  return r;
}
}  // namespace

TEST_CASE("replay with the market maker trades on paper, deterministically", "[trading][replay][data]") {
  if (!fs::exists(kCapture)) {
    WARN("skipped: missing shared capture " << kCapture);
    return;
  }
  const config::Config cfg = mm_config();
  const PaperRun a = run(cfg);
  const PaperRun b = run(cfg);
  CHECK(a.summary.paper.orders > 0);
  CHECK(a.summary.paper.fills > 0);
  CHECK(a.snapshot.counters.fills == a.summary.paper.fills);
  CHECK(a.snapshot.strategy_enabled);
  CHECK(a.json.find("\"paper\":{\"orders\":" + std::to_string(a.summary.paper.orders)) != std::string::npos);
  // Same capture and config: byte-identical summary apart from wall-clock speed.
  CHECK(a.json == b.json);
  CHECK(a.snapshot.portfolio.equity == b.snapshot.portfolio.equity);
  CHECK(a.snapshot.portfolio.fees_quote == b.snapshot.portfolio.fees_quote);
  // Without a strategy nothing trades.
  config::Config none = cfg;
  none.strategy.name.clear();
  const PaperRun c = run(none);
  CHECK(c.summary.paper.orders == 0);
  CHECK(c.summary.paper.fills == 0);
}
