// StreamDecoder against every stream payload of binance-vectors.md section 2 (copied verbatim
// as string literals), plus REST depth/error payloads and hostile input.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tradingbot/exchange/binance/stream_decoder.hpp"
#include "tradingbot/market/capture.hpp"

using namespace tb::binance;
using tb::Money;
using tb::Price;
using tb::Qty;
using tb::Symbol;

namespace {
Price P(const char* s) { return *Price::parse(s); }
Qty Q(const char* s) { return *Qty::parse(s); }
Symbol S(const char* s) { return *Symbol::parse(s); }

// Everything a decode produced, as text, so two decoders can be compared message by message.
std::string outcome(DecodeStatus status, const DecodedMessage& m) {
  std::ostringstream out;
  out << to_string(status) << ' ' << to_string(m.kind);
  if (status != DecodeStatus::Ok) return out.str();
  out << " stream=" << m.stream << " e=" << m.event_type << " symbol=" << m.symbol.view();
  if (m.kind == MessageKind::DepthDiff) {
    const auto& d = m.depth_diff;
    out << " E=" << d.event_time_ms << " U=" << d.first_update_id << " u=" << d.final_update_id << " b=";
    for (const auto& l : d.bids) out << l.price.raw() << ':' << l.qty.raw() << ',';
    out << " a=";
    for (const auto& l : d.asks) out << l.price.raw() << ':' << l.qty.raw() << ',';
  } else if (m.kind == MessageKind::BookTicker) {
    const auto& t = m.book_ticker;
    out << " symbol=" << t.symbol.view() << " u=" << t.update_id << ' ' << t.bid_price.raw() << ' '
        << t.bid_qty.raw() << ' ' << t.ask_price.raw() << ' ' << t.ask_qty.raw();
  } else if (m.kind == MessageKind::Trade) {
    const auto& t = m.trade;
    out << " symbol=" << t.symbol.view() << " E=" << t.event_time_ms << " T=" << t.trade_time_ms << " t=" << t.trade_id
        << ' ' << t.price.raw() << ' ' << t.qty.raw() << " m=" << t.buyer_is_maker;
  } else if (m.kind == MessageKind::AggTrade) {
    const auto& t = m.agg_trade;
    out << " symbol=" << t.symbol.view() << " E=" << t.event_time_ms << " T=" << t.trade_time_ms
        << " a=" << t.agg_trade_id << " f=" << t.first_trade_id << " l=" << t.last_trade_id << ' ' << t.price.raw()
        << ' ' << t.qty.raw() << " m=" << t.buyer_is_maker;
  }
  return out.str();
}

StreamDecoder::Options generic_only() {
  StreamDecoder::Options o;
  o.exact_form_fast_path = false;
  return o;
}

StreamDecoder::Options scalar_levels() {
  StreamDecoder::Options o;
  o.exact_form_vector_decimals = false;
  return o;
}

// The exact-form fast path with its decimals converted in their AVX2 version where the CPU has it
// ("fast") and in the scalar one ("scalar"), next to the generic decoder they must match.
struct ThreeDecoders {
  StreamDecoder fast;
  StreamDecoder scalar{scalar_levels()};
  StreamDecoder generic{generic_only()};
  DecodedMessage a;  // fast's
  DecodedMessage s;  // scalar's
  DecodedMessage g;  // generic's
  // Outcomes of the three on `frame`; true when they agree (else the test fails, naming them).
  bool agree(std::string_view frame, std::string_view raw_stream = {}) {
    return same(frame, outcome(fast.decode_frame(frame, a, raw_stream), a),
                outcome(scalar.decode_frame(frame, s, raw_stream), s),
                outcome(generic.decode_frame(frame, g, raw_stream), g));
  }
  // The same with the frame's first `len` bytes read in place from `buffer` (its padding is
  // whatever follows them) by the fast decoders, and copied by the generic one.
  bool agree_in_place(const std::vector<char>& buffer, std::size_t len) {
    const std::string_view frame(buffer.data(), len);
    return same(frame, outcome(fast.decode_frame_padded(buffer.data(), len, buffer.size(), a), a),
                outcome(scalar.decode_frame_padded(buffer.data(), len, buffer.size(), s), s),
                outcome(generic.decode_frame(frame, g), g));
  }
  static bool same(std::string_view frame, const std::string& fast_out, const std::string& scalar_out,
                   const std::string& generic_out) {
    if (fast_out == generic_out && scalar_out == generic_out) return true;
    FAIL_CHECK("frame " << frame << "\n fast:    " << fast_out << "\n scalar:  " << scalar_out
                        << "\n generic: " << generic_out);
    return false;
  }
};
}  // namespace

TEST_CASE("vectors: combined depthUpdate envelope and raw depthUpdate", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  for (const char* frame :
       {R"({"stream":"bnbbtc@depth","data":{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}})",
        R"({"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]})"}) {
    REQUIRE(dec.decode_frame(frame, m) == DecodeStatus::Ok);
    REQUIRE(m.kind == MessageKind::DepthDiff);
    const auto& d = m.depth_diff;
    CHECK(d.symbol == S("BNBBTC"));
    CHECK(d.event_time_ms == 1672515782136);
    CHECK(d.first_update_id == 157);
    CHECK(d.final_update_id == 160);
    REQUIRE(d.bids.size() == 1);
    CHECK(d.bids[0].price == P("0.0024"));
    CHECK(d.bids[0].qty == Q("10"));
    REQUIRE(d.asks.size() == 1);
    CHECK(d.asks[0].price == P("0.0026"));
    CHECK(d.asks[0].qty == Q("100"));
  }
  CHECK(m.stream.empty());
}

TEST_CASE("vectors: serverShutdown raw and combined", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  REQUIRE(dec.decode_frame(R"({"e":"serverShutdown","E":1770123456789})", m) == DecodeStatus::Ok);
  CHECK(m.kind == MessageKind::ServerShutdown);
  CHECK(m.server_shutdown.event_time_ms == 1770123456789);
  REQUIRE(dec.decode_frame(R"({"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}})", m) ==
          DecodeStatus::Ok);
  CHECK(m.kind == MessageKind::ServerShutdown);
  CHECK(m.stream == "!serverShutdown");
  CHECK(m.server_shutdown.event_time_ms == 1770123456789);
}

TEST_CASE("vectors: control responses", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  struct Case {
    const char* json;
    std::int64_t id;
    JsonKind kind;
    const char* result;
  };
  for (const Case& c : {Case{R"({"result":null,"id":1})", 1, JsonKind::Null, "null"},
                        Case{R"({"result":null,"id":312})", 312, JsonKind::Null, "null"},
                        Case{R"({"result":["btcusdt@aggTrade"],"id":3})", 3, JsonKind::Array, R"(["btcusdt@aggTrade"])"},
                        Case{R"({"result":null,"id":5})", 5, JsonKind::Null, "null"},
                        Case{R"({"result":true,"id":2})", 2, JsonKind::Bool, "true"}}) {
    INFO(c.json);
    REQUIRE(dec.decode_frame(c.json, m) == DecodeStatus::Ok);
    CHECK(m.kind == MessageKind::ControlReply);
    CHECK(m.control.has_id);
    CHECK(m.control.id == c.id);
    CHECK(m.control.result_kind == c.kind);
    CHECK(m.control.result_json == c.result);
  }
  // The pretty-printed doc form (whitespace) decodes the same.
  REQUIRE(dec.decode_frame("{\n    \"result\": null,\n    \"id\": 1\n}", m) == DecodeStatus::Ok);
  CHECK(m.kind == MessageKind::ControlReply);
  CHECK(m.control.result_json == "null");
  // String ids are allowed by the protocol.
  REQUIRE(dec.decode_frame(R"({"result":null,"id":"abc123"})", m) == DecodeStatus::Ok);
  CHECK(m.control.id_is_string);
  CHECK(m.control.id_string == "abc123");
}

TEST_CASE("vectors: control requests we send are valid JSON but not events", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  for (const char* json : {R"({"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth"],"id":1})",
                           R"({"method":"UNSUBSCRIBE","params":["btcusdt@depth"],"id":312})",
                           R"({"method":"LIST_SUBSCRIPTIONS","id":3})",
                           R"({"method":"SET_PROPERTY","params":["combined",true],"id":5})",
                           R"({"method":"GET_PROPERTY","params":["combined"],"id":2})"}) {
    INFO(json);
    REQUIRE(dec.decode_frame(json, m) == DecodeStatus::Ok);
    CHECK(m.kind == MessageKind::ControlReply);  // shape {"id":..}: counted, never an event
    CHECK(m.control.result_kind == JsonKind::Absent);
  }
}

TEST_CASE("vectors: error frames", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  REQUIRE(dec.decode_frame(R"({"code":-1121,"msg":"Invalid symbol."})", m) == DecodeStatus::Ok);
  CHECK(m.kind == MessageKind::ErrorReply);
  CHECK(m.error.code == -1121);
  CHECK(m.error.msg == "Invalid symbol.");
  REQUIRE(dec.decode_frame(R"({"code":2,"msg":"Invalid request: \"id\" missing","id":7})", m) == DecodeStatus::Ok);
  CHECK(m.kind == MessageKind::ErrorReply);
  CHECK(m.error.code == 2);
  CHECK(m.error.msg == "Invalid request: \"id\" missing");
  CHECK(m.error.has_id);
  CHECK(m.error.id == 7);
}

TEST_CASE("vectors: aggTrade", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  REQUIRE(dec.decode_frame(
              R"({"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true})",
              m) == DecodeStatus::Ok);
  REQUIRE(m.kind == MessageKind::AggTrade);
  const auto& t = m.agg_trade;
  CHECK(t.symbol == S("BNBBTC"));
  CHECK(t.event_time_ms == 1672515782136);
  CHECK(t.agg_trade_id == 12345);
  CHECK(t.price == P("0.001"));
  CHECK(t.qty == Q("100"));
  CHECK(t.first_trade_id == 100);
  CHECK(t.last_trade_id == 105);
  CHECK(t.trade_time_ms == 1672515782136);
  CHECK(t.buyer_is_maker);
}

TEST_CASE("vectors: trade", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  REQUIRE(dec.decode_frame(
              R"({"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true})",
              m) == DecodeStatus::Ok);
  REQUIRE(m.kind == MessageKind::Trade);
  CHECK(m.trade.symbol == S("BNBBTC"));
  CHECK(m.trade.trade_id == 12345);
  CHECK(m.trade.price == P("0.001"));
  CHECK(m.trade.qty == Q("100"));
  CHECK(m.trade.trade_time_ms == 1672515782136);
  CHECK(m.trade.event_time_ms == 1672515782136);
  CHECK(m.trade.buyer_is_maker);
}

TEST_CASE("vectors: kline with closed flag", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  REQUIRE(dec.decode_frame(
              R"({"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}})",
              m) == DecodeStatus::Ok);
  REQUIRE(m.kind == MessageKind::Kline);
  const auto& k = m.kline;
  CHECK(k.symbol == S("BNBBTC"));
  CHECK(k.event_time_ms == 1672515782136);
  CHECK(k.interval.view() == "1m");
  CHECK(k.open_time_ms == 1672515780000);
  CHECK(k.close_time_ms == 1672515839999);
  CHECK(k.first_trade_id == 100);
  CHECK(k.last_trade_id == 200);
  CHECK(k.open == P("0.0010"));
  CHECK(k.close == P("0.0020"));
  CHECK(k.high == P("0.0025"));
  CHECK(k.low == P("0.0015"));
  CHECK(k.base_volume == Q("1000"));
  CHECK(k.trade_count == 100);
  CHECK(!k.closed);
  CHECK(k.quote_volume == *Money::parse("1.0000"));
  CHECK(k.taker_buy_base_volume == Q("500"));
  CHECK(k.taker_buy_quote_volume == *Money::parse("0.500"));
  // Closed flag true, via the combined stream.
  REQUIRE(dec.decode_frame(
              R"({"stream":"bnbbtc@kline_1m","data":{"e":"kline","E":1,"s":"BNBBTC","k":{"t":1,"T":2,"s":"BNBBTC","i":"1m","f":-1,"L":-1,"o":"1","c":"1","h":"1","l":"1","v":"0","n":0,"x":true,"q":"0","V":"0","Q":"0","B":"0"}}})",
              m) == DecodeStatus::Ok);
  CHECK(m.kline.closed);
  CHECK(m.kline.first_trade_id == -1);
}

TEST_CASE("vectors: bookTicker (no e), raw and combined", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  for (const char* frame :
       {R"({"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"})",
        R"({"stream":"bnbusdt@bookTicker","data":{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}})"}) {
    REQUIRE(dec.decode_frame(frame, m) == DecodeStatus::Ok);
    REQUIRE(m.kind == MessageKind::BookTicker);
    const auto& t = m.book_ticker;
    CHECK(t.symbol == S("BNBUSDT"));
    CHECK(t.update_id == 400900217);
    CHECK(t.bid_price == P("25.3519"));
    CHECK(t.bid_qty == Q("31.21"));
    CHECK(t.ask_price == P("25.3652"));
    CHECK(t.ask_qty == Q("40.66"));
  }
}

TEST_CASE("vectors: partial depth takes its symbol from the stream name", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  const char* payload = R"({"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]})";
  REQUIRE(dec.decode_frame(std::string(R"({"stream":"bnbbtc@depth5@100ms","data":)") + payload + "}", m) ==
          DecodeStatus::Ok);
  REQUIRE(m.kind == MessageKind::PartialDepth);
  CHECK(m.partial_depth.symbol == S("BNBBTC"));
  CHECK(m.partial_depth.depth == 5);
  CHECK(m.partial_depth.last_update_id == 160);
  REQUIRE(m.partial_depth.bids.size() == 1);
  CHECK(m.partial_depth.bids[0].price == P("0.0024"));
  CHECK(m.partial_depth.asks[0].qty == Q("100"));
  // A raw connection names its stream.
  REQUIRE(dec.decode_frame(payload, m, "bnbbtc@depth20") == DecodeStatus::Ok);
  REQUIRE(m.kind == MessageKind::PartialDepth);
  CHECK(m.partial_depth.depth == 20);
  CHECK(m.partial_depth.symbol == S("BNBBTC"));
  // Without a stream name the same shape is a REST snapshot with unknown symbol.
  REQUIRE(dec.decode_frame(payload, m) == DecodeStatus::Ok);
  CHECK(m.kind == MessageKind::DepthSnapshot);
  CHECK(m.depth_snapshot.symbol.empty());
}

TEST_CASE("vectors: REST depth snapshot, bare and in the recorder's envelope", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  const char* rest = R"({"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]})";
  REQUIRE(dec.decode_depth_snapshot(rest, S("BNBBTC"), m) == DecodeStatus::Ok);
  REQUIRE(m.kind == MessageKind::DepthSnapshot);
  CHECK(m.depth_snapshot.symbol == S("BNBBTC"));
  CHECK(m.depth_snapshot.last_update_id == 1027024);
  CHECK(m.depth_snapshot.bids[0].price == P("4"));
  CHECK(m.depth_snapshot.bids[0].qty == Q("431"));
  CHECK(m.depth_snapshot.asks[0].price == P("4.000002"));
  REQUIRE(dec.decode_frame(std::string(R"({"stream":"ethusdt@depthSnapshot","data":)") + rest + "}", m) ==
          DecodeStatus::Ok);
  CHECK(m.kind == MessageKind::DepthSnapshot);
  CHECK(m.depth_snapshot.symbol == S("ETHUSDT"));
}

TEST_CASE("vectors: streams we do not turn into events decode as unsupported", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  struct Case {
    const char* json;
    const char* event;
    const char* symbol;
  };
  for (const Case& c : {
           Case{R"({"e":"referencePrice","s":"BAZUSD","r":"1.00","t":1770313263917})", "referencePrice", "BAZUSD"},
           Case{R"({"e":"blockTrade","E":1772506983582,"s":"BNBBTC","t":582,"p":"0.052","q":"5838","T":1772506983321,"m":true})",
                "blockTrade", "BNBBTC"},
           Case{R"({"e":"24hrMiniTicker","E":1672515782136,"s":"BNBBTC","c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"})",
                "24hrMiniTicker", "BNBBTC"},
           Case{R"({"e":"24hrTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","x":"0.0009","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":18150,"n":18151})",
                "24hrTicker", "BNBBTC"},
           Case{R"({"e":"1hTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","o":"0.0010","h":"0.0025","l":"0.0010","c":"0.0025","w":"0.0018","v":"10000","q":"18","O":0,"C":1675216573749,"F":0,"L":18150,"n":18151})",
                "1hTicker", "BNBBTC"},
           Case{R"({"e":"avgPrice","E":1693907033000,"s":"BTCUSDT","i":"5m","w":"25776.86000000","T":1693907032213})",
                "avgPrice", "BTCUSDT"},
       }) {
    INFO(c.json);
    REQUIRE(dec.decode_frame(c.json, m) == DecodeStatus::Ok);
    CHECK(m.kind == MessageKind::Unsupported);
    CHECK(m.event_type == c.event);
    CHECK(m.symbol == S(c.symbol));
  }
  CHECK(dec.stats().unsupported == 6);
  CHECK(dec.stats().errors() == 0);
}

TEST_CASE("array streams are valid frames that are not decoded", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  const std::string mini =
      R"({"e":"24hrMiniTicker","E":1672515782136,"s":"BNBBTC","c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"})";
  REQUIRE(dec.decode_frame(R"({"stream":"!miniTicker@arr","data":[)" + mini + "," + mini + "]}", m) == DecodeStatus::Ok);
  CHECK(m.kind == MessageKind::Unsupported);
  CHECK(m.stream == "!miniTicker@arr");
  REQUIRE(dec.decode_frame("[" + mini + "]", m) == DecodeStatus::Ok);
  CHECK(m.kind == MessageKind::Unsupported);
  CHECK(dec.decode_frame("[" + mini + "] x", m) == DecodeStatus::Malformed);
}

TEST_CASE("the doc's commented (javascript) form is not JSON and is rejected", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  CHECK(dec.decode_frame("{\n  \"e\": \"serverShutdown\", // Event type\n  \"E\": 1770123456789     // Event time\n}", m) ==
        DecodeStatus::Malformed);
  CHECK(m.kind == MessageKind::None);
}

TEST_CASE("every truncation of a frame is an error and yields no event", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  const std::string frame =
      R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"],["61730.17000000","0.00000000"]],"a":[["61837.64000000","1.54698000"]]}})";
  for (std::size_t n = 0; n < frame.size(); ++n) {
    INFO(frame.substr(0, n));
    const auto status = dec.decode_frame(frame.substr(0, n), m);
    CHECK(status != DecodeStatus::Ok);
    CHECK(m.kind == MessageKind::None);
  }
  CHECK(dec.stats().errors() == frame.size());
  CHECK(dec.decode_frame(frame, m) == DecodeStatus::Ok);
}

// Level decimals are scanned by hand (not by simdjson): the fixed-point range's edge, integer
// parts too long to fit, leading zeros, and the forms tb::parse_fixed also refuses.
TEST_CASE("depth levels: decimals at and past the fixed-point range", "[exchange][decoder]") {
  StreamDecoder dec;
  DecodedMessage m;
  const auto level = [&](const std::string& price) {
    return dec.decode_frame(R"({"e":"depthUpdate","s":"X","U":1,"u":2,"b":[[")" + price + R"(","1"]],"a":[]})", m);
  };
  REQUIRE(level("92233720368.54775807") == DecodeStatus::Ok);  // INT64_MAX at the 1e-8 scale
  CHECK(m.depth_diff.bids[0].price == Price::from_raw(INT64_MAX));
  CHECK(level("92233720368.54775808") == DecodeStatus::BadField);
  CHECK(level("92233720369") == DecodeStatus::BadField);
  CHECK(level("999999999999999999") == DecodeStatus::BadField);       // 18 digits: no step overflows, the scale does
  CHECK(level("12345678901234567890.5") == DecodeStatus::BadField);   // 20 digits: the checked path
  REQUIRE(level("00000000000000000000001.50000000") == DecodeStatus::Ok);
  CHECK(m.depth_diff.bids[0].price == P("1.5"));
  REQUIRE(level("0.00000001") == DecodeStatus::Ok);
  CHECK(m.depth_diff.bids[0].price == Price::from_raw(1));
  REQUIRE(level("61737.63") == DecodeStatus::Ok);
  CHECK(m.depth_diff.bids[0].price == P("61737.63"));
  for (const char* bad : {"1.", ".5", "1.000000001", "+1", "-0", "1e3", " 1", "1 ", "0x10", ""}) {
    CHECK(level(bad) == DecodeStatus::BadField);
  }
}

TEST_CASE("hostile and wrong input: statuses and counters", "[exchange][decoder]") {
  StreamDecoder::Options options;
  options.max_frame_bytes = 4096;
  options.max_levels_per_side = 3;
  StreamDecoder dec(options);
  DecodedMessage m;
  CHECK(dec.decode_frame(std::string(5000, ' '), m) == DecodeStatus::Oversized);
  CHECK(dec.decode_frame(
            R"({"e":"depthUpdate","s":"X","U":1,"u":2,"b":[["1","1"],["2","1"],["3","1"],["4","1"]],"a":[]})", m) ==
        DecodeStatus::Oversized);
  CHECK(dec.decode_frame("", m) == DecodeStatus::Malformed);
  CHECK(dec.decode_frame("not json", m) == DecodeStatus::Malformed);
  CHECK(dec.decode_frame("[1,2", m) == DecodeStatus::Malformed);
  CHECK(dec.decode_frame(R"({"stream":"!miniTicker@arr","data":[{"e":"24hrMiniTicker"})", m) ==
        DecodeStatus::Malformed);
  CHECK(dec.decode_frame(R"({"u":1,"s":"X","b":"1","B":"1","a":"1","A":"1"} trailing)", m) == DecodeStatus::Malformed);
  CHECK(dec.decode_frame("{}", m) == DecodeStatus::BadField);
  // A price that is not a fixed-point decimal string.
  CHECK(dec.decode_frame(R"({"u":1,"s":"X","b":"1e5","B":"1","a":"2","A":"1"})", m) == DecodeStatus::BadField);
  CHECK(dec.decode_frame(R"({"u":1,"s":"X","b":1.5,"B":"1","a":"2","A":"1"})", m) == DecodeStatus::BadField);
  // Missing U; negative quantity; U > u.
  CHECK(dec.decode_frame(R"({"e":"depthUpdate","s":"X","u":2,"b":[],"a":[]})", m) == DecodeStatus::BadField);
  CHECK(dec.decode_frame(R"({"e":"depthUpdate","s":"X","U":1,"u":2,"b":[["1","-1"]],"a":[]})", m) ==
        DecodeStatus::BadField);
  CHECK(dec.decode_frame(R"({"e":"depthUpdate","s":"X","U":3,"u":2,"b":[],"a":[]})", m) == DecodeStatus::BadField);
  // Stream name and payload disagree.
  CHECK(dec.decode_frame(R"({"stream":"x@trade","data":{"e":"aggTrade","s":"X","a":1,"p":"1","q":"1","f":1,"l":1,"T":1}})",
                         m) == DecodeStatus::BadField);
  // Envelope without data.
  CHECK(dec.decode_frame(R"({"stream":"x@trade"})", m) == DecodeStatus::BadField);
  CHECK(m.kind == MessageKind::None);
  const auto& st = dec.stats();
  CHECK(st.oversized == 2);
  CHECK(st.malformed == 5);
  CHECK(st.bad_field == 8);
  CHECK(st.ok == 0);
}

TEST_CASE("stream names", "[exchange][decoder]") {
  CHECK(parse_stream_name("btcusdt@depth@100ms").kind == MessageKind::DepthDiff);
  CHECK(parse_stream_name("btcusdt@depth").symbol == S("BTCUSDT"));
  CHECK(parse_stream_name("btcusdt@depth10@100ms").partial_depth == 10);
  CHECK(parse_stream_name("btcusdt@kline_1m").kind == MessageKind::Kline);
  CHECK(parse_stream_name("btcusdt@bookTicker").kind == MessageKind::BookTicker);
  CHECK(parse_stream_name("btcusdt@aggTrade").kind == MessageKind::AggTrade);
  CHECK(parse_stream_name("btcusdt@trade").kind == MessageKind::Trade);
  CHECK(parse_stream_name("!serverShutdown").kind == MessageKind::ServerShutdown);
  CHECK(parse_stream_name("btcusdt@miniTicker").kind == MessageKind::Unsupported);
}

// depthUpdate, bookTicker, trade and aggTrade frames in Binance's exact form skip simdjson; the
// fast path must give what the generic decoder gives, byte for byte, on real traffic and on every
// frame one edit away from it (each takes the fast path, the generic path, or an error, and the
// decoders must agree). The fast path's level arrays run in their AVX2 version where the CPU has
// it ("fast") and in the scalar one ("scalar"); both are held to the generic decoder.
TEST_CASE("the exact-form fast path decodes exactly as the generic decoder", "[exchange][decoder]") {
  ThreeDecoders d;
  DecodedMessage& a = d.a;
  DecodedMessage& b = d.g;
  const auto agree = [&](std::string_view frame, std::string_view raw_stream = {}) { return d.agree(frame, raw_stream); };

  SECTION("the real BTCUSDT capture") {
    const std::string path = "../shared/data/binance/btcusdt_spot_20240808.capture.gz";
    if (!std::filesystem::exists(path)) {
      WARN("skipped: missing shared capture " << path);
      return;
    }
    auto reader = tb::market::CaptureReader::open(path);
    REQUIRE(reader);
    tb::market::CaptureRecord rec;
    std::size_t depth = 0;
    std::size_t tickers = 0;
    std::size_t trades = 0;
    std::size_t frames = 0;
    while (reader.value().next(rec) == tb::market::CaptureReader::Status::Record) {
      ++frames;
      if (!agree(rec.payload)) break;
      depth += a.kind == MessageKind::DepthDiff ? 1 : 0;
      tickers += a.kind == MessageKind::BookTicker ? 1 : 0;
      trades += a.kind == MessageKind::Trade ? 1 : 0;
    }
    CHECK(depth == 3451);
    CHECK(tickers == 28040);
    CHECK(trades == 9757);
    CHECK(frames > 40'000);
  }

  SECTION("every truncation and single-byte edit of the exact forms") {
    const std::vector<std::string> frames = {
        R"({"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}})",
        R"({"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"})",
        R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}})",
        R"({"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":false,"M":false})",
        R"({"stream":"bnbbtc@aggTrade","data":{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}})",
        R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"],["61730.17000000","0.00000000"]],"a":[["61837.64000000","1.54698000"]]}})",
        R"({"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[]})",
        R"({"stream":"bnbbtc@depth","data":{"e":"depthUpdate","E":0,"s":"BNBBTC","U":0,"u":0,"b":[],"a":[["0.0026","100"]]}})",
    };
    const char edits[] = {' ', '"', '\\', '0', '1', '9', '.', '-', 'e', 'E', '{', '}', '[', ']', ',', ':', 'x', '\x01', '\x80'};
    for (const auto& frame : frames) {
      REQUIRE(agree(frame));
      REQUIRE(a.kind != MessageKind::None);
      REQUIRE(a.kind != MessageKind::Unsupported);
      for (std::size_t n = 0; n < frame.size(); ++n) {
        if (!agree(std::string_view(frame).substr(0, n))) return;
      }
      for (std::size_t i = 0; i < frame.size(); ++i) {
        for (const char c : edits) {
          std::string edited = frame;
          edited[i] = c;
          if (!agree(edited)) return;
          edited.insert(i, 1, c);  // and the same byte inserted
          edited[i + 1] = frame[i];
          if (!agree(edited)) return;
        }
        if (!agree(std::string(frame).erase(i, 1))) return;
      }
      if (!agree(frame + " ") || !agree(frame + "{}") || !agree(" " + frame)) return;
    }
  }

  SECTION("raw streams, the stream name and the limits") {
    const std::string raw =
        R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["1.5","2"],["1.4","3"]],"a":[["1.6","1"]]})";
    CHECK(agree(raw, "bnbbtc@depth@100ms"));
    CHECK(agree(raw, "bnbbtc@trade"));     // the stream names another kind: BadField both ways
    CHECK(agree(raw, "bnbbtc@unknown"));
    CHECK(agree(R"({"stream":"bnbbtc@aggTrade","data":{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[],"a":[]}})"));
    CHECK(agree(R"({"e":"depthUpdate","E":18446744073709551615,"s":"BNBBTC","U":1,"u":2,"b":[],"a":[]})"));
    CHECK(agree(R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":18446744073709551615,"u":18446744073709551615,"b":[],"a":[]})"));
    CHECK(agree(R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":18446744073709551616,"b":[],"a":[]})"));
    CHECK(agree(R"({"e":"depthUpdate","E":1,"s":"bnbbtc","U":1,"u":2,"b":[],"a":[]})"));
    CHECK(agree(R"({"e":"depthUpdate","E":1,"s":"BNB\u0042TC","U":1,"u":2,"b":[],"a":[]})"));
    CHECK(agree(R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[ [ "1.5" , "2" ] ],"a":[]})"));
    CHECK(agree(R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[],"a":[],"x":1})"));
    const std::string ticker = R"({"u":1,"s":"BNBBTC","b":"1.5","B":"2","a":"1.6","A":"3"})";
    CHECK(agree(ticker, "bnbbtc@bookTicker"));
    CHECK(agree(ticker, "bnbbtc@depth"));      // a stream of another kind: BadField both ways
    CHECK(agree(ticker, "bnbbtc@unknown"));    // unsupported stream, no "e": decoded as unsupported
    CHECK(agree(R"({"stream":"bnbbtc@trade","data":{"u":1,"s":"BNBBTC","b":"1.5","B":"2","a":"1.6","A":"3"}})"));
    const std::string trade = R"({"e":"trade","E":1,"s":"BNBBTC","t":2,"p":"1.5","q":"2","T":3,"m":true,"M":true})";
    CHECK(agree(trade, "bnbbtc@trade"));
    CHECK(agree(trade, "bnbbtc@aggTrade"));
    CHECK(agree(trade, "bnbbtc@unknown"));
    CHECK(agree(R"({"e":"trade","E":1,"s":"BNBBTC","t":9223372036854775808,"p":"1.5","q":"2","T":3,"m":true,"M":true})"));
    CHECK(agree(R"({"e":"trade","E":1,"s":"BNBBTC","t":2,"p":"1.5","q":"2","T":3,"m":true,"M":null})"));
    CHECK(agree(R"({"e":"trade","E":1,"s":"BNBBTC","t":2,"p":"1.5","q":"2","T":3,"m":true})"));
    CHECK(agree(R"({"e":"aggTrade","E":1,"s":"BNBBTC","a":2,"p":"1.5","q":"2","f":-1,"l":5,"T":3,"m":false,"M":true})"));
    StreamDecoder::Options small;
    small.max_levels_per_side = 1;
    StreamDecoder fast_small(small);
    small.exact_form_fast_path = false;
    StreamDecoder generic_small(small);
    CHECK(outcome(fast_small.decode_frame(raw, a), a) == outcome(generic_small.decode_frame(raw, b), b));
    CHECK(fast_small.decode_frame(raw, a) == DecodeStatus::Oversized);
  }
  CHECK(d.fast.stats().errors() == d.generic.stats().errors());
  CHECK(d.fast.stats().ok == d.generic.stats().ok);
  CHECK(d.scalar.stats().errors() == d.generic.stats().errors());
}

// A live frame sits in a receive buffer whose bytes after it are whatever came next (the next
// frame, stale data): the vector decimal parsers read up to 16 bytes past a string's start, so
// they are tested on every truncation of a depth and a bookTicker frame whose padding is the rest
// of that frame. A value counts only if all its bytes lie inside the frame.
TEST_CASE("the decimal parsers never take bytes past the frame's end for the frame", "[exchange][decoder]") {
  const std::string depth =
      R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"],["61730.17000000","12.50000000"],["9.12345678","123456.00000000"]],"a":[["61837.64000000","1.54698000"]]}})";
  const std::string ticker =
      R"({"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}})";
  ThreeDecoders d;
  const DecodedMessage& a = d.a;
  for (const std::string& frame : {depth, ticker}) {
    std::vector<char> buffer(frame.size() + StreamDecoder::kPadding);
    std::copy(frame.begin(), frame.end(), buffer.begin());
    std::fill(buffer.begin() + static_cast<std::ptrdiff_t>(frame.size()), buffer.end(), '"');
    std::size_t decoded = 0;
    for (std::size_t n = 0; n <= frame.size(); ++n) {
      // The padding of a frame cut at n: the frame's own continuation, then quotes.
      INFO("cut at " << n);
      REQUIRE(d.agree_in_place(buffer, n));
      decoded += a.kind != MessageKind::None ? 1 : 0;
    }
    CHECK(decoded == 1);  // only the whole frame decodes
  }
  CHECK(a.book_ticker.bid_qty.raw() == 378'826'000);
  CHECK(a.book_ticker.ask_price.raw() == 6'183'764'000'000);
  REQUIRE(d.agree(depth));
  REQUIRE(a.depth_diff.bids.size() == 3);
  CHECK(a.depth_diff.bids[1].qty.raw() == 1'250'000'000);
  CHECK(a.depth_diff.bids[2].price.raw() == 912'345'678);
  CHECK(a.depth_diff.bids[2].qty.raw() == 12'345'600'000'000);
}
