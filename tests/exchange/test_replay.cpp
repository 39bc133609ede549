// Replay of the real shared captures, checked against an independent model built here with
// simdjson's DOM API and std::map books (not the decoder, synchronizer or L2Book under test).
#include <catch2/catch.hpp>
#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tradingbot/exchange/binance/replay.hpp"
#include "tradingbot/market/capture.hpp"

using namespace tb::binance;
namespace fs = std::filesystem;

namespace {

const std::string kDir = "../shared/data/binance/";

std::string read_file(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  REQUIRE(gz != nullptr);
  std::string out;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(gz, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(gz);
  return out;
}

std::int64_t fx(std::string_view s) {
  std::int64_t raw = 0;
  REQUIRE(tb::parse_fixed(s, raw));
  return raw;
}

// One symbol's independent model of Binance's procedure and the section 7 cross-check.
struct Model {
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;
  std::uint64_t id = 0;
  bool synced = false;
  bool gap = false;
  bool crossed = false;
  struct Diff {
    std::uint64_t first, last;
    std::vector<std::pair<std::int64_t, std::int64_t>> b, a;
  };
  std::vector<Diff> buffered;
  struct Ticker {
    std::uint64_t u = 0;
    std::int64_t b = 0, bq = 0, a = 0, aq = 0;
  } ticker;
  bool pending = false;
  std::uint64_t checks = 0, mismatches = 0;

  void compare() {
    pending = false;
    ++checks;
    const bool same = !bids.empty() && !asks.empty() && bids.begin()->first == ticker.b &&
                      bids.begin()->second == ticker.bq && asks.begin()->first == ticker.a &&
                      asks.begin()->second == ticker.aq;
    if (!same) ++mismatches;
  }
  void apply(const Diff& d) {
    if (d.last <= id) return;
    if (d.first > id + 1) gap = true;
    for (auto& [p, q] : d.b) q == 0 ? (void)bids.erase(p) : (void)(bids[p] = q);
    for (auto& [p, q] : d.a) q == 0 ? (void)asks.erase(p) : (void)(asks[p] = q);
    id = d.last;
    if (!bids.empty() && !asks.empty() && bids.begin()->first >= asks.begin()->first) crossed = true;
  }
};

std::vector<std::pair<std::int64_t, std::int64_t>> levels(simdjson::dom::array arr) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (auto level : arr) {
    simdjson::dom::array pair = level.get_array();
    out.emplace_back(fx(std::string_view(pair.at(0))), fx(std::string_view(pair.at(1))));
  }
  return out;
}

struct Line {
  std::int64_t ts;
  std::string symbol_hint;  // for snapshots
  std::string json;
};

// Splits capture text into (timestamp, json) lines in any of the supported forms.
void collect(const std::string& text, std::vector<Line>& out) {
  std::size_t pos = 0;
  std::string file_symbol;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line.rfind("wss://", 0) == 0) continue;
    std::string hint;
    if (line.rfind("http", 0) == 0) {
      const auto sym = line.find("symbol=");
      hint = line.substr(sym + 7, line.find('&', sym) - sym - 7);
      line = line.substr(line.find(" -> ") + 4);
    }
    const auto brace = line.find('{');
    std::string ts = line.substr(0, line.find_first_of(" :"));
    std::int64_t ns = 0;
    if (ts.find('.') != std::string::npos) {
      std::string frac = ts.substr(ts.find('.') + 1) + "000000000";
      ns = std::stoll(ts.substr(0, ts.find('.'))) * 1'000'000'000 + std::stoll(frac.substr(0, 9));
    } else {
      ns = std::stoll(ts);
    }
    std::string json = line.substr(brace);
    const auto s = json.find("\"s\":\"");
    if (hint.empty() && s != std::string::npos) file_symbol = json.substr(s + 5, json.find('"', s + 5) - s - 5);
    out.push_back(Line{ns, hint.empty() ? file_symbol : hint, json});
  }
}

std::map<std::string, Model> model_of(const std::vector<std::string>& paths) {
  std::vector<Line> lines;
  for (const auto& p : paths) {
    std::vector<Line> one;
    collect(read_file(p), one);
    lines.insert(lines.end(), one.begin(), one.end());
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) { return a.ts < b.ts; });
  std::map<std::string, Model> models;
  simdjson::dom::parser parser;
  for (const auto& line : lines) {
    simdjson::dom::object doc = parser.parse(line.json).get_object();
    simdjson::dom::object data = doc;
    std::string stream;
    if (doc["stream"].error() == simdjson::SUCCESS) {
      stream = std::string(std::string_view(doc["stream"]));
      data = doc["data"].get_object();
    }
    if (data["lastUpdateId"].error() == simdjson::SUCCESS) {  // snapshot
      Model& m = models[line.symbol_hint];
      m.bids.clear();
      m.asks.clear();
      for (auto& [p, q] : levels(data["bids"].get_array())) m.bids[p] = q;
      for (auto& [p, q] : levels(data["asks"].get_array())) m.asks[p] = q;
      m.id = std::uint64_t(data["lastUpdateId"]);
      m.synced = true;
      for (const auto& d : m.buffered) m.apply(d);
      m.buffered.clear();
      if (m.pending && m.ticker.u == m.id) m.compare();
      continue;
    }
    const std::string symbol{std::string_view(data["s"])};
    Model& m = models[symbol];
    if (stream.find("@depth") != std::string::npos) {
      Model::Diff d{std::uint64_t(data["U"]), std::uint64_t(data["u"]), levels(data["b"].get_array()),
                    levels(data["a"].get_array())};
      if (!m.synced) {
        m.buffered.push_back(d);
      } else {
        m.apply(d);
        if (m.pending && m.ticker.u == m.id) m.compare();
      }
    } else if (stream.find("@bookTicker") != std::string::npos) {
      m.ticker = Model::Ticker{std::uint64_t(data["u"]), fx(std::string_view(data["b"])), fx(std::string_view(data["B"])),
                               fx(std::string_view(data["a"])), fx(std::string_view(data["A"]))};
      m.pending = true;
      if (m.synced && m.id == m.ticker.u) m.compare();
    }
  }
  return models;
}

void check_against_model(const ReplaySymbolSummary& s, const Model& m) {
  INFO(s.symbol.view());
  CHECK(s.synced);
  CHECK(m.synced);
  CHECK(!m.gap);
  CHECK(!m.crossed);
  CHECK(s.gaps == 0);
  CHECK(s.resyncs == 0);
  CHECK(s.crossed == 0);
  CHECK(s.last_update_id == m.id);
  CHECK(s.book_ticker_checks == m.checks);
  CHECK(s.book_ticker_mismatches == 0);
  CHECK(m.mismatches == 0);
  REQUIRE(s.bids.size() == std::min<std::size_t>(20, m.bids.size()));
  REQUIRE(s.asks.size() == std::min<std::size_t>(20, m.asks.size()));
  auto b = m.bids.begin();
  for (const auto& l : s.bids) {
    CHECK(l.price.raw() == b->first);
    CHECK(l.qty.raw() == b->second);
    ++b;
  }
  auto a = m.asks.begin();
  for (const auto& l : s.asks) {
    CHECK(l.price.raw() == a->first);
    CHECK(l.qty.raw() == a->second);
    ++a;
  }
}

}  // namespace

TEST_CASE("replay of the real BTCUSDT capture matches an independent book", "[exchange][replay][data]") {
  const std::string path = kDir + "btcusdt_spot_20240808.capture.gz";
  if (!fs::exists(path)) {
    WARN("skipped: missing shared capture " << path);
    return;
  }
  tb::config::Config config;
  auto result = run_replay(config, {path}, std::nullopt);
  REQUIRE(result.ok());
  const ReplaySummary& summary = result.value();
  CHECK(summary.messages == 41249);
  CHECK(summary.decode_errors == 0);
  CHECK(summary.bad_lines == 0);
  CHECK(summary.unattributed_snapshots == 0);
  REQUIRE(summary.symbols.size() == 1);
  const auto& s = summary.symbols[0];
  CHECK(s.symbol == *tb::Symbol::parse("BTCUSDT"));
  CHECK(s.depth_diffs == 3451);
  CHECK(s.book_tickers == 28040);
  CHECK(s.trades == 9757);
  CHECK(s.snapshots == 1);
  CHECK(s.book_ticker_checks >= 300);  // "several hundred"
  const auto models = model_of({path});
  REQUIRE(models.count("BTCUSDT") == 1);
  check_against_model(s, models.at("BTCUSDT"));

  const std::string json = to_json(summary);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(json).get(doc) == simdjson::SUCCESS);
  CHECK(std::uint64_t(doc["messages"]) == 41249);
  CHECK(doc["elapsed_s"].is_number());
  CHECK(doc["msgs_per_s"].is_number());
  // The pipeline's own time excludes reading and gunzip, so it is part of the total.
  CHECK(summary.pipeline_s > 0);
  CHECK(summary.pipeline_s <= summary.elapsed_s);
  CHECK(double(doc["pipeline_msgs_per_s"]) >= double(doc["msgs_per_s"]));
  auto btc = doc["symbols"]["BTCUSDT"];
  CHECK(bool(btc["synced"]));
  CHECK(std::uint64_t(btc["book_ticker_mismatches"]) == 0);
  simdjson::dom::array bids = btc["bids"].get_array();
  CHECK(bids.size() == 20);
  const std::string_view best(bids.at(0).at(0));
  CHECK(best == tb::fixed_to_string(s.bids[0].price.raw()));
  CHECK(best.find('e') == std::string_view::npos);
  CHECK(best.back() != '0');  // shortest form: "61837.63", not "61837.63000000"
  CHECK(std::uint64_t(doc["paper"]["orders"]) == 0);
  CHECK(std::string_view(doc["paper"]["realized_pnl"]) == "0");
}

TEST_CASE("replay with --symbol filters everything else out", "[exchange][replay][data]") {
  const std::string path = kDir + "btcusdt_spot_20240808.capture.gz";
  if (!fs::exists(path)) {
    WARN("skipped: missing shared capture " << path);
    return;
  }
  tb::config::Config config;
  auto result = run_replay(config, {path}, *tb::Symbol::parse("ETHUSDT"));
  REQUIRE(result.ok());
  CHECK(result.value().symbols.empty());
  CHECK(result.value().filtered == 41249);
  CHECK(!run_replay(config, {kDir + "no_such_file.gz"}, std::nullopt).ok());
}

TEST_CASE("replay of the cryptofeed ws + http captures: four symbols synced", "[exchange][replay][data]") {
  const std::string ws = kDir + "cryptofeed_binance_ws.txt";
  const std::string http = kDir + "cryptofeed_binance_http.txt";
  if (!fs::exists(ws) || !fs::exists(http)) {
    WARN("skipped: missing shared capture " << (fs::exists(ws) ? http : ws));
    return;
  }
  tb::config::Config config;
  auto result = run_replay(config, {ws, http}, std::nullopt);
  REQUIRE(result.ok());
  const ReplaySummary& summary = result.value();
  CHECK(summary.messages == 265 + 4);
  CHECK(summary.decode_errors == 0);
  REQUIRE(summary.symbols.size() == 4);
  const auto models = model_of({ws, http});
  std::uint64_t agg = 0, klines = 0;
  for (const auto& s : summary.symbols) {
    REQUIRE(models.count(std::string(s.symbol.view())) == 1);
    check_against_model(s, models.at(std::string(s.symbol.view())));
    agg += s.agg_trades;
    klines += s.klines;
  }
  CHECK(agg == 2);
  CHECK(klines == 2);
  CHECK(summary.symbols[0].symbol == *tb::Symbol::parse("BLZETH"));  // sorted
}

TEST_CASE("replay of a recorded multi-symbol capture (depthSnapshot envelopes, gzip)", "[exchange][replay]") {
  const fs::path path = fs::temp_directory_path() / ("tb_test_replay_" + std::to_string(::getpid()) + ".capture.gz");
  {
    auto w = tb::market::CaptureWriter::open(path.string());
    REQUIRE(w.ok());
    auto& writer = w.value();
    const auto eth = *tb::Symbol::parse("ETHUSDT");
    const auto btc = *tb::Symbol::parse("BTCUSDT");
    writer.write_frame(1, R"({"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"ETHUSDT","U":10,"u":12,"b":[["2600.10","1.5"]],"a":[]}})");
    writer.write_frame(2, R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":500,"u":501,"b":[],"a":[["61000.01","0.2"]]}})");
    writer.write_snapshot(3, eth, R"({"lastUpdateId":11,"bids":[["2600.10","1"],["2600.00","2"]],"asks":[["2600.20","3"]]})", true);
    writer.write_snapshot(4, btc, R"({"lastUpdateId":500,"bids":[["61000.00","1"]],"asks":[["61000.01","0.1"],["61000.02","0.3"]]})", true);
    writer.write_frame(5, R"({"stream":"ethusdt@bookTicker","data":{"u":13,"s":"ETHUSDT","b":"2600.10000000","B":"1.50000000","a":"2600.20000000","A":"2.00000000"}})");
    writer.write_frame(6, R"({"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":2,"s":"ETHUSDT","U":13,"u":13,"b":[],"a":[["2600.20","2"]]}})");
    writer.write_frame(7, R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":2,"s":"BTCUSDT","U":505,"u":506,"b":[],"a":[]}})");  // gap
    writer.write_frame(8, R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"61000.01","q":"0.1","T":1,"m":false}})");
    writer.write_frame(9, "{truncated");
    REQUIRE(writer.close());
  }
  tb::config::Config config;
  auto result = run_replay(config, {path.string()}, std::nullopt);
  fs::remove(path);
  REQUIRE(result.ok());
  const auto& summary = result.value();
  CHECK(summary.messages == 9);
  CHECK(summary.decode_errors == 1);
  REQUIRE(summary.symbols.size() == 2);
  const auto& btc = summary.symbols[0];
  const auto& eth = summary.symbols[1];
  CHECK(btc.symbol == *tb::Symbol::parse("BTCUSDT"));
  CHECK(!btc.synced);
  CHECK(btc.gaps == 1);
  CHECK(btc.resyncs == 1);
  CHECK(btc.bids.empty());
  CHECK(btc.trades == 1);
  CHECK(eth.synced);
  CHECK(eth.last_update_id == 13);
  CHECK(eth.book_ticker_checks == 1);
  CHECK(eth.book_ticker_mismatches == 0);
  REQUIRE(eth.bids.size() == 2);
  CHECK(eth.bids[0].price.to_string() == "2600.1");
  CHECK(eth.bids[0].qty.to_string() == "1.5");
  REQUIRE(eth.asks.size() == 1);
  CHECK(eth.asks[0].qty.to_string() == "2");
  const std::string json = to_json(summary);
  CHECK(json.find(R"("ETHUSDT":{"synced":true,"last_update_id":13,"resyncs":0,"gaps":0,"crossed":0,"book_ticker_checks":1,"book_ticker_mismatches":0,"bids":[["2600.1","1.5"],["2600","2"]],"asks":[["2600.2","2"]])") !=
        std::string::npos);
}
