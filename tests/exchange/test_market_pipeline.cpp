// MarketDataPipeline: snapshot requests, bridging, bookTicker cross-check, price cache, bad
// frames never touching a book, gaps and reconnects, symbol filtering.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tradingbot/exchange/binance/market_pipeline.hpp"

using namespace tb::binance;
using tb::Price;
using tb::Qty;
using tb::Symbol;

namespace {
const Symbol kBtc = *Symbol::parse("BTCUSDT");

std::string diff(std::uint64_t first, std::uint64_t last, const std::string& bids, const std::string& asks) {
  return R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":)" + std::to_string(first) +
         R"(,"u":)" + std::to_string(last) + R"(,"b":)" + bids + R"(,"a":)" + asks + "}}";
}
std::string ticker(std::uint64_t u, const char* b, const char* bq, const char* a, const char* aq) {
  return R"({"stream":"btcusdt@bookTicker","data":{"u":)" + std::to_string(u) + R"(,"s":"BTCUSDT","b":")" + b +
         R"(","B":")" + bq + R"(","a":")" + a + R"(","A":")" + aq + "\"}}";
}
const char* kSnapshot = R"({"lastUpdateId":100,"bids":[["10.0","1"],["9.0","2"]],"asks":[["11.0","3"],["12.0","4"]]})";

struct RecordingSink : tb::market::MarketEventSink {
  int book_updates = 0;
  int resets = 0;
  int tickers = 0;
  int shutdowns = 0;
  void on_book_update(const Symbol&, const tb::book::L2Book&, tb::Nanos) override { ++book_updates; }
  void on_book_reset(const Symbol&) override { ++resets; }
  void on_book_ticker(const tb::market::BookTicker&, tb::Nanos) override { ++tickers; }
  void on_server_shutdown(const tb::market::ServerShutdown&, tb::Nanos) override { ++shutdowns; }
};

MarketDataPipeline::Options btc_options() {
  MarketDataPipeline::Options o;
  o.symbols = {kBtc};
  o.book_reserve_levels = 64;
  return o;
}
}  // namespace

TEST_CASE("live flow: request, bridge, cross-check, cache, bad frames, gap, reconnect", "[exchange][pipeline]") {
  MarketDataPipeline p(btc_options());
  RecordingSink sink;
  p.set_sink(&sink);
  std::vector<Symbol> requests;
  p.set_snapshot_request_handler([&](const Symbol& s) { requests.push_back(s); });
  REQUIRE(requests.size() == 1);  // a configured book asks for its snapshot at once
  CHECK(requests[0] == kBtc);

  CHECK(p.on_ws_frame(diff(95, 101, R"([["10.0","5"]])", "[]"), 1) == DecodeStatus::Ok);  // buffered
  // bookTicker for an id the book has not reached yet: kept, compared later.
  CHECK(p.on_ws_frame(ticker(102, "10.0", "5", "11.0", "7"), 2) == DecodeStatus::Ok);
  CHECK(p.on_rest_depth_snapshot(kBtc, kSnapshot, 3) == DecodeStatus::Ok);
  REQUIRE(p.synchronizer(kBtc)->synced());
  CHECK(p.book(kBtc)->update_id() == 101);
  CHECK(p.symbol_stats(kBtc)->book_ticker_checks == 0);
  CHECK(p.on_ws_frame(diff(102, 102, "[]", R"([["11.0","7"]])"), 4) == DecodeStatus::Ok);
  auto st = *p.symbol_stats(kBtc);
  CHECK(st.book_ticker_checks == 1);  // compared when the book reached u=102
  CHECK(st.book_ticker_mismatches == 0);
  // On arrival at the same id, with a different quantity: a mismatch.
  CHECK(p.on_ws_frame(ticker(102, "10.0", "4", "11.0", "7"), 5) == DecodeStatus::Ok);
  st = *p.symbol_stats(kBtc);
  CHECK(st.book_ticker_checks == 2);
  CHECK(st.book_ticker_mismatches == 1);

  // The price cache holds the latest quote.
  const tb::market::PriceEntry* e = nullptr;
  CHECK(p.price_cache().get(kBtc, 5, e) == tb::market::PriceLookup::Hit);
  CHECK(e->quote.bid_qty == *Qty::parse("4"));

  // Truncated and garbage frames are counted and never reach the book.
  const std::string good = diff(103, 103, R"([["10.0","0"]])", "[]");
  CHECK(p.on_ws_frame(good.substr(0, good.size() - 3), 6) != DecodeStatus::Ok);
  CHECK(p.on_ws_frame("\x01\x02garbage", 6) == DecodeStatus::Malformed);
  CHECK(p.stats().decode_errors == 2);
  CHECK(p.book(kBtc)->update_id() == 102);
  CHECK(p.book(kBtc)->best_bid()->price == *Price::parse("10"));

  // A gap: book discarded, a new snapshot requested, sink told.
  CHECK(p.on_ws_frame(diff(105, 106, "[]", "[]"), 7) == DecodeStatus::Ok);
  CHECK(!p.synchronizer(kBtc)->synced());
  CHECK(requests.size() == 2);
  CHECK(sink.resets == 1);
  CHECK(p.symbol_stats(kBtc)->sync.gaps == 1);

  // serverShutdown, then the client reconnects.
  CHECK(p.on_ws_frame(R"({"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}})", 8) ==
        DecodeStatus::Ok);
  CHECK(p.server_shutdown_seen());
  CHECK(sink.shutdowns == 1);
  p.on_reconnect();
  CHECK(!p.server_shutdown_seen());
  CHECK(p.symbol_stats(kBtc)->sync.resyncs == 2);
  CHECK(sink.tickers == 2);
  CHECK(sink.book_updates == 2);  // snapshot(+buffer) and diff 102
}

TEST_CASE("a failed or error REST snapshot is requested again", "[exchange][pipeline]") {
  MarketDataPipeline p(btc_options());
  int requests = 0;
  p.set_snapshot_request_handler([&](const Symbol&) { ++requests; });
  REQUIRE(requests == 1);
  CHECK(p.on_rest_depth_snapshot(kBtc, R"({"code":-1121,"msg":"Invalid symbol."})", 1) == DecodeStatus::Ok);
  CHECK(p.last_message().kind == MessageKind::ErrorReply);
  CHECK(p.stats().error_replies == 1);
  CHECK(requests == 2);
  CHECK(p.on_rest_depth_snapshot(kBtc, R"({"lastUpdateId":5,"bids":[[)", 2) == DecodeStatus::Malformed);
  CHECK(requests == 3);
  p.on_rest_depth_snapshot_failed(kBtc);  // e.g. a timeout
  CHECK(requests == 4);
  CHECK(p.on_rest_depth_snapshot(kBtc, kSnapshot, 3) == DecodeStatus::Ok);
  CHECK(p.synchronizer(kBtc)->synced());
  p.on_rest_depth_snapshot_failed(kBtc);  // late failure of a duplicate: nothing to do
  CHECK(requests == 4);
}

TEST_CASE("symbols outside the configured set are filtered unless accepted", "[exchange][pipeline]") {
  MarketDataPipeline p(btc_options());
  CHECK(p.on_ws_frame(R"({"stream":"ethusdt@trade","data":{"e":"trade","E":1,"s":"ETHUSDT","t":1,"p":"1","q":"1","T":1,"m":true}})",
                      1) == DecodeStatus::Ok);
  CHECK(p.stats().filtered == 1);
  CHECK(p.book(*Symbol::parse("ETHUSDT")) == nullptr);
  auto o = btc_options();
  o.accept_new_symbols = true;
  MarketDataPipeline q(o);
  CHECK(q.on_ws_frame(R"({"stream":"ethusdt@trade","data":{"e":"trade","E":1,"s":"ETHUSDT","t":1,"p":"1","q":"1","T":1,"m":true}})",
                      1) == DecodeStatus::Ok);
  CHECK(q.symbols().size() == 2);
  CHECK(q.symbol_stats(*Symbol::parse("ETHUSDT"))->trades == 1);
}

TEST_CASE("partial depth refreshes the price cache but never touches the diff-synced book", "[exchange][pipeline]") {
  MarketDataPipeline p(btc_options());
  const std::string frame =
      R"({"stream":"btcusdt@depth5@100ms","data":{"lastUpdateId":160,"bids":[["10.5","2"],["10.4","3"]],"asks":[["10.6","4"],["10.7","1"]]}})";
  REQUIRE(p.on_ws_frame(frame, 1000) == DecodeStatus::Ok);
  CHECK(p.symbol_stats(kBtc)->partial_depths == 1);
  CHECK(p.book(kBtc)->empty());  // a top-N snapshot is not a book update
  CHECK_FALSE(p.synchronizer(kBtc)->synced());
  const tb::market::PriceEntry* entry = p.price_cache().peek(kBtc);
  REQUIRE(entry != nullptr);
  CHECK(entry->quote.bid_price == *tb::Price::parse("10.5"));
  CHECK(entry->quote.bid_qty == *tb::Qty::parse("2"));
  CHECK(entry->quote.ask_price == *tb::Price::parse("10.6"));
  CHECK(entry->quote.update_id == 160);
  CHECK(entry->updated_ns == 1000);
}

// Deep levels of a diff wait in the book (l2_book.hpp); the pipeline lists the books that hold
// some, and apply_deferred_book_levels works through them a slice at a time, oldest first.
TEST_CASE("books with deferred deep levels are listed and applied a slice at a time", "[exchange][pipeline]") {
  MarketDataPipeline::Options o = btc_options();
  o.book_reserve_levels = 1024;
  MarketDataPipeline p(o);
  const auto cents = [](int c) {
    const std::string frac = std::to_string(c % 100);
    return std::to_string(c / 100) + "." + (frac.size() == 1 ? "0" : "") + frac;
  };
  // 100 bid levels 100.00 .. 99.01 and 100 ask levels 101.00 .. 101.99.
  std::string bids = "[";
  std::string asks = "[";
  for (int i = 0; i < 100; ++i) {
    bids += (i ? "," : "") + std::string(R"([")") + cents(10000 - i) + R"(","1"])";
    asks += (i ? "," : "") + std::string(R"([")") + cents(10100 + i) + R"(","1"])";
  }
  bids += "]";
  asks += "]";
  REQUIRE(p.on_rest_depth_snapshot(kBtc, R"({"lastUpdateId":100,"bids":)" + bids + R"(,"asks":)" + asks + "}", 1) ==
          DecodeStatus::Ok);

  // The first diff bridges the snapshot: one hot level per side (applied at once) and 40 deep
  // ones per side (quantities of the levels ranked 51 to 90).
  static_assert(tb::book::L2Book::kHotLevels < 50);
  std::string deep_bids = R"([["100.00","9"])";
  std::string deep_asks = R"([["101.00","8"])";
  for (int i = 0; i < 40; ++i) {
    deep_bids += R"(,[")" + cents(9950 - i) + R"(","2"])";
    deep_asks += R"(,[")" + cents(10150 + i) + R"(","3"])";
  }
  REQUIRE(p.on_ws_frame(diff(101, 101, deep_bids + "]", deep_asks + "]"), 2) == DecodeStatus::Ok);
  REQUIRE(p.synchronizer(kBtc)->synced());
  const tb::book::L2Book& book = *p.book(kBtc);
  CHECK(book.best_bid()->qty == *Qty::parse("9"));
  CHECK(book.best_ask()->qty == *Qty::parse("8"));
  REQUIRE(p.has_deferred_book_levels());
  CHECK(book.deferred_levels() == 80);

  CHECK(p.apply_deferred_book_levels(32) == 1);
  CHECK(book.deferred_levels() == 48);
  CHECK(p.apply_deferred_book_levels(32) == 1);
  CHECK(book.deferred_levels() == 16);
  CHECK(p.apply_deferred_book_levels(32) == 0);
  CHECK(!p.has_deferred_book_levels());
  CHECK(book.qty_at(tb::book::BookSide::Bid, *Price::parse("99.11")) == *Qty::parse("2"));
  CHECK(book.qty_at(tb::book::BookSide::Ask, *Price::parse("101.89")) == *Qty::parse("3"));
  CHECK(book.qty_at(tb::book::BookSide::Bid, *Price::parse("99.51")) == *Qty::parse("1"));  // untouched
  CHECK(book.bid_count() == 100);

  // A book a read brought up to date leaves the list on the next pass.
  REQUIRE(p.on_ws_frame(diff(102, 102, R"([["99.40","5"]])", "[]"), 3) == DecodeStatus::Ok);
  REQUIRE(p.has_deferred_book_levels());
  CHECK(book.qty_at(tb::book::BookSide::Bid, *Price::parse("99.40")) == *Qty::parse("5"));
  CHECK(p.apply_deferred_book_levels(32) == 0);
  CHECK(!p.has_deferred_book_levels());

  // Diffs buffered before a snapshot are applied with it: their deep levels are listed too.
  MarketDataPipeline q(o);
  REQUIRE(q.on_ws_frame(diff(95, 101, deep_bids + "]", deep_asks + "]"), 4) == DecodeStatus::Ok);
  REQUIRE(q.on_rest_depth_snapshot(kBtc, R"({"lastUpdateId":100,"bids":)" + bids + R"(,"asks":)" + asks + "}", 5) ==
          DecodeStatus::Ok);
  REQUIRE(q.synchronizer(kBtc)->synced());
  CHECK(q.has_deferred_book_levels());
  CHECK(q.book(kBtc)->deferred_levels() == 80);
  CHECK(q.apply_deferred_book_levels(SIZE_MAX) == 0);
  CHECK(q.book(kBtc)->qty_at(tb::book::BookSide::Ask, *Price::parse("101.89")) == *Qty::parse("3"));
}
