// SimMarket without sockets: config validation, agent determinism, depth-diff continuity and the
// book a client rebuilds from a snapshot plus diffs, payload shapes.
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tradingbot/exchange/binance/stream_decoder.hpp"
#include "tradingbot/sim/sim_config.hpp"
#include "tradingbot/sim/sim_market.hpp"

namespace {

const char* kConfig = R"(
[sim]
seed = 7
agent_step_ms = 50
[[sim.symbols]]
symbol = "BTCUSDT"
base_asset = "BTC"
quote_asset = "USDT"
tick_size = "0.01"
step_size = "0.00001"
min_qty = "0.00001"
min_notional = "5"
start_price = "61837.63"
orders_per_s = 200
volatility_bps = 30
typical_qty = "0.05"
[[sim.symbols]]
symbol = "ETHUSDT"
base_asset = "ETH"
quote_asset = "USDT"
start_price = "2650.12"
step_size = "0.0001"
min_qty = "0.0001"
typical_qty = "0.5"
)";

tb::sim::SimConfig config_with_seed(std::uint64_t seed) {
  auto cfg = tb::sim::parse_sim_config(kConfig, "test");
  REQUIRE(cfg.ok());
  cfg.value().seed = seed;
  return cfg.value();
}

struct RecordingSink : tb::sim::StreamSink {
  std::vector<std::pair<std::string, std::string>> frames;
  void publish(std::string_view stream, std::string_view payload) override { frames.emplace_back(stream, payload); }
  [[nodiscard]] std::vector<std::string> of(std::string_view stream) const {
    std::vector<std::string> out;
    for (const auto& [s, p] : frames) {
      if (s == stream) out.push_back(p);
    }
    return out;
  }
};

using Side = std::map<std::int64_t, std::int64_t>;

void apply(Side& side, tb::market::LevelSpan levels) {
  for (const auto& level : levels) {
    if (level.qty.is_zero()) {
      side.erase(level.price.raw());
    } else {
      side[level.price.raw()] = level.qty.raw();
    }
  }
}

}  // namespace

TEST_CASE("sim config: unknown keys and bad values are errors naming key, value and reason", "[sim]") {
  auto unknown = tb::sim::parse_sim_config(std::string(kConfig) + "\n[sim.extra]\n", "cfg.toml");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("sim.extra") != std::string::npos);
  CHECK(unknown.error().message.find("unknown key") != std::string::npos);

  auto bad_tick = tb::sim::parse_sim_config(
      "[sim]\n[[sim.symbols]]\nsymbol = \"BTCUSDT\"\nbase_asset = \"BTC\"\nquote_asset = \"USDT\"\ntick_size = \"1e-2\"\n", "cfg.toml");
  REQUIRE_FALSE(bad_tick.ok());
  CHECK(bad_tick.error().message == "cfg.toml: sim.symbols[0].tick_size = '1e-2': is not a decimal number with at most 8 fractional digits");

  auto bad_port = tb::sim::parse_sim_config("[sim]\nlisten = \"127.0.0.1:99999\"\n", "cfg.toml");
  REQUIRE_FALSE(bad_port.ok());
  CHECK(bad_port.error().message.find("sim.listen") != std::string::npos);

  auto no_symbols = tb::sim::parse_sim_config("[sim]\nseed = 1\n", "cfg.toml");
  REQUIRE_FALSE(no_symbols.ok());
  CHECK(no_symbols.error().message.find("sim.symbols") != std::string::npos);

  auto key_without_secret = tb::sim::parse_sim_config(std::string(kConfig) + "[[sim.api_keys]]\napi_key = \"k\"\n", "cfg.toml");
  REQUIRE_FALSE(key_without_secret.ok());
  CHECK(key_without_secret.error().message.find("exactly one of secret") != std::string::npos);

  auto shipped = tb::sim::load_sim_config_file("config/sim.toml");
  REQUIRE(shipped.ok());
  CHECK(shipped.value().symbols.size() == 2);
}

TEST_CASE("sim agents: the same seed gives the same trades, another seed different ones", "[sim]") {
  auto run = [](std::uint64_t seed) {
    const auto cfg = config_with_seed(seed);
    RecordingSink sink;
    tb::sim::SimMarket market(cfg, sink);
    for (int i = 0; i < 400; ++i) market.step(1'700'000'000'000 + i * 50);
    return sink.of("btcusdt@trade");
  };
  const auto a = run(11);
  const auto b = run(11);
  const auto c = run(12);
  REQUIRE(a.size() > 20);  // takers cross, so trades happen
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("sim depth: diffs chain (U = previous u + 1) and snapshot + diffs equals the engine's book", "[sim]") {
  const auto cfg = config_with_seed(3);
  RecordingSink sink;
  tb::sim::SimMarket market(cfg, sink);
  tb::binance::StreamDecoder decoder;
  tb::binance::DecodedMessage message;

  std::string snapshot;
  market.render_depth(0, 5000, snapshot);
  REQUIRE(decoder.decode_depth_snapshot(snapshot, *tb::Symbol::parse("BTCUSDT"), message) == tb::binance::DecodeStatus::Ok);
  Side bids;
  Side asks;
  apply(bids, message.depth_snapshot.bids);
  apply(asks, message.depth_snapshot.asks);
  std::uint64_t book_id = message.depth_snapshot.last_update_id;
  REQUIRE_FALSE(bids.empty());
  REQUIRE_FALSE(asks.empty());

  std::int64_t now = 1'700'000'000'000;
  std::size_t diffs = 0;
  for (int i = 0; i < 300; ++i) {
    market.step(now += 50);
    if (i % 2 == 1) market.flush_depth(tb::sim::DiffSpeed::Fast100ms, now);
  }
  market.flush_depth(tb::sim::DiffSpeed::Fast100ms, now);
  for (const auto& payload : sink.of("btcusdt@depth@100ms")) {
    REQUIRE(decoder.decode_frame(payload, message, "btcusdt@depth@100ms") == tb::binance::DecodeStatus::Ok);
    REQUIRE(message.kind == tb::binance::MessageKind::DepthDiff);
    CHECK(message.depth_diff.first_update_id == book_id + 1);
    book_id = message.depth_diff.final_update_id;
    apply(bids, message.depth_diff.bids);
    apply(asks, message.depth_diff.asks);
    ++diffs;
  }
  REQUIRE(diffs > 50);
  CHECK(book_id == market.engine(0).update_id());
  std::string final_snapshot;
  market.render_depth(0, 5000, final_snapshot);
  REQUIRE(decoder.decode_depth_snapshot(final_snapshot, *tb::Symbol::parse("BTCUSDT"), message) == tb::binance::DecodeStatus::Ok);
  Side want_bids;
  Side want_asks;
  apply(want_bids, message.depth_snapshot.bids);
  apply(want_asks, message.depth_snapshot.asks);
  CHECK(bids == want_bids);
  CHECK(asks == want_asks);
  CHECK(bids.rbegin()->first < asks.begin()->first);  // never crossed
}

TEST_CASE("sim payloads: Binance shapes with 8-decimal strings", "[sim]") {
  const auto cfg = config_with_seed(5);
  RecordingSink sink;
  tb::sim::SimMarket market(cfg, sink);
  std::int64_t now = 1'700'000'000'000;
  for (int i = 0; i < 200; ++i) market.step(now += 50);
  market.flush_depth(tb::sim::DiffSpeed::Slow1000ms, now);
  market.publish_klines(tb::sim::KlineInterval::M1, now);
  market.publish_klines(tb::sim::KlineInterval::M1, now + 60'000);  // closes the bar

  tb::binance::StreamDecoder decoder;
  tb::binance::DecodedMessage m;
  const auto trades = sink.of("btcusdt@trade");
  REQUIRE_FALSE(trades.empty());
  CHECK(trades[0].rfind(R"({"e":"trade","E":)", 0) == 0);
  REQUIRE(decoder.decode_frame(trades[0], m, "btcusdt@trade") == tb::binance::DecodeStatus::Ok);
  CHECK(m.kind == tb::binance::MessageKind::Trade);

  const auto tickers = sink.of("btcusdt@bookTicker");
  REQUIRE_FALSE(tickers.empty());
  CHECK(tickers.back().rfind(R"({"u":)", 0) == 0);
  REQUIRE(decoder.decode_frame(tickers.back(), m, "btcusdt@bookTicker") == tb::binance::DecodeStatus::Ok);
  CHECK(m.book_ticker.bid_price < m.book_ticker.ask_price);
  CHECK(m.book_ticker.update_id == market.engine(0).update_id());

  const auto aggs = sink.of("btcusdt@aggTrade");
  REQUIRE_FALSE(aggs.empty());
  REQUIRE(decoder.decode_frame(aggs[0], m, "btcusdt@aggTrade") == tb::binance::DecodeStatus::Ok);
  CHECK(m.kind == tb::binance::MessageKind::AggTrade);

  const auto partial = sink.of("btcusdt@depth5");
  REQUIRE(partial.size() == 1);
  CHECK(partial[0].rfind(R"({"lastUpdateId":)", 0) == 0);
  REQUIRE(decoder.decode_frame(partial[0], m, "btcusdt@depth5") == tb::binance::DecodeStatus::Ok);
  CHECK(m.partial_depth.bids.size() == 5);
  CHECK(m.partial_depth.asks.size() == 5);

  const auto klines = sink.of("btcusdt@kline_1m");
  REQUIRE(klines.size() >= 3);
  CHECK(klines[0].find(R"("x":false)") != std::string::npos);
  CHECK(klines[1].find(R"("x":true)") != std::string::npos);  // the closed bar goes out first
  REQUIRE(decoder.decode_frame(klines[1], m, "btcusdt@kline_1m") == tb::binance::DecodeStatus::Ok);
  CHECK(m.kind == tb::binance::MessageKind::Kline);

  std::string ticker;
  market.render_book_ticker(0, ticker);
  CHECK(ticker.find(R"("bidPrice":")") != std::string::npos);
  // 8 fractional digits, like Binance: "61837.63000000".
  const auto p = ticker.find(R"("bidPrice":")") + 12;
  const auto dot = ticker.find('.', p);
  CHECK(ticker.find('"', p) - dot - 1 == 8);
}
