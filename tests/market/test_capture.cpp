// Capture reader/writer: native plain and gzip files, the cryptofeed formats, timestamps,
// padding guarantee, and the shared real captures when present.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tradingbot/market/capture.hpp"

using namespace tb::market;
namespace fs = std::filesystem;

namespace {

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("tb_test_capture_" + std::to_string(::getpid()) + "_" + name);
}

std::vector<CaptureRecord> read_all(const std::string& path, std::vector<std::string>& payloads) {
  auto reader = CaptureReader::open(path);
  REQUIRE(reader.ok());
  std::vector<CaptureRecord> out;
  CaptureRecord rec;
  while (reader.value().next(rec) == CaptureReader::Status::Record) {
    REQUIRE(rec.capacity >= rec.payload.size() + kCapturePadding);
    payloads.emplace_back(rec.payload);
    out.push_back(rec);
  }
  return out;
}

const std::string kDataDir = "../shared/data/binance/";

}  // namespace

TEST_CASE("timestamps: integer nanoseconds and decimal seconds, exactly", "[market][capture]") {
  tb::Nanos ns = 0;
  CHECK(parse_capture_timestamp("1723161253937085768", ns));
  CHECK(ns == 1723161253937085768LL);
  CHECK(parse_capture_timestamp("1633998512.0633569", ns));
  CHECK(ns == 1633998512063356900LL);
  CHECK(parse_capture_timestamp("1633998512.320639123456", ns));  // beyond 1 ns: truncated
  CHECK(ns == 1633998512320639123LL);
  CHECK(!parse_capture_timestamp("", ns));
  CHECK(!parse_capture_timestamp("12a", ns));
  CHECK(!parse_capture_timestamp("12.", ns));
}

TEST_CASE("line forms: native, cryptofeed ws, cryptofeed http, header", "[market][capture]") {
  CaptureRecord rec;
  bool header = false;
  REQUIRE(parse_capture_line("1723161253937085768 {\"a\":1}", rec, header));
  CHECK(rec.form == CaptureLineForm::Native);
  CHECK(rec.payload == "{\"a\":1}");
  REQUIRE(parse_capture_line("1633998512.0633569: {\"b\":2}\r", rec, header));
  CHECK(rec.form == CaptureLineForm::CryptofeedWs);
  CHECK(rec.recv_ns == 1633998512063356900LL);
  CHECK(rec.payload == "{\"b\":2}");
  REQUIRE(parse_capture_line(
      "https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000 -> 1633998512.320639: {\"lastUpdateId\":1}", rec,
      header));
  CHECK(rec.form == CaptureLineForm::CryptofeedHttp);
  CHECK(rec.url_symbol == *tb::Symbol::parse("NKNUSDT"));
  CHECK(rec.url == "https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000");
  CHECK(!parse_capture_line("wss://stream.binance.com:9443/stream?streams=a <-> 1633998511.159679", rec, header));
  CHECK(header);
  CHECK(!parse_capture_line("", rec, header));
  CHECK(!header);
  CHECK(!parse_capture_line("garbage line", rec, header));
}

TEST_CASE("writer and reader round-trip plain and gzip files", "[market][capture]") {
  for (const std::string name : {"rt.txt", "rt.txt.gz"}) {
    const auto path = temp_file(name);
    {
      auto writer = CaptureWriter::open(path.string());
      REQUIRE(writer.ok());
      CHECK(writer.value().write_frame(1, R"({"stream":"btcusdt@trade","data":{}})"));
      CHECK(writer.value().write_snapshot(2, *tb::Symbol::parse("BTCUSDT"), R"({"lastUpdateId":5,"bids":[],"asks":[]})",
                                          false));
      CHECK(writer.value().write_snapshot(3, *tb::Symbol::parse("ETHUSDT"), R"({"lastUpdateId":6,"bids":[],"asks":[]})",
                                          true));
      std::string big(3 << 20, 'x');  // longer than the reader's initial buffer
      CHECK(writer.value().write_frame(4, "\"" + big + "\""));
      CHECK(writer.value().close());
    }
    if (name.ends_with(".gz")) {  // really gzip: magic bytes
      std::ifstream in(path, std::ios::binary);
      unsigned char magic[2] = {};
      in.read(reinterpret_cast<char*>(magic), 2);
      CHECK(magic[0] == 0x1f);
      CHECK(magic[1] == 0x8b);
    }
    std::vector<std::string> payloads;
    const auto records = read_all(path.string(), payloads);
    REQUIRE(records.size() == 4);
    CHECK(records[0].recv_ns == 1);
    CHECK(payloads[0] == R"({"stream":"btcusdt@trade","data":{}})");
    CHECK(payloads[1] == R"({"lastUpdateId":5,"bids":[],"asks":[]})");
    CHECK(payloads[2] == R"({"stream":"ethusdt@depthSnapshot","data":{"lastUpdateId":6,"bids":[],"asks":[]}})");
    CHECK(payloads[3].size() == (3u << 20) + 2);
    CHECK(records[3].line_number == 4);
    fs::remove(path);
  }
}

TEST_CASE("last line without newline, blank and bad lines", "[market][capture]") {
  const auto path = temp_file("edge.txt");
  {
    std::ofstream out(path);
    out << "1 {\"a\":1}\n\nnot a record\n2 {\"b\":2}";
  }
  auto reader = CaptureReader::open(path.string());
  REQUIRE(reader.ok());
  CaptureRecord rec;
  REQUIRE(reader.value().next(rec) == CaptureReader::Status::Record);
  CHECK(rec.payload == "{\"a\":1}");
  REQUIRE(reader.value().next(rec) == CaptureReader::Status::Record);
  CHECK(rec.payload == "{\"b\":2}");
  CHECK(rec.recv_ns == 2);
  CHECK(reader.value().next(rec) == CaptureReader::Status::End);
  CHECK(reader.value().bad_lines() == 1);
  fs::remove(path);
  CHECK(!CaptureReader::open((fs::temp_directory_path() / "tb_no_such_capture.gz").string()).ok());
}

TEST_CASE("shared BTCUSDT capture reads 41,249 records with the snapshot at line 8", "[market][capture][data]") {
  const std::string path = kDataDir + "btcusdt_spot_20240808.capture.gz";
  if (!fs::exists(path)) {
    WARN("skipped: missing shared capture " << path);
    return;
  }
  std::vector<std::string> payloads;
  const auto records = read_all(path, payloads);
  CHECK(records.size() == 41249);
  REQUIRE(payloads.size() > 8);
  CHECK(payloads[7].rfind("{\"lastUpdateId\":50093239218,", 0) == 0);
  CHECK(records.front().recv_ns == 1723161253937085768LL);
  for (std::size_t i = 1; i < records.size(); ++i) REQUIRE(records[i].line_number == i + 1);
}

TEST_CASE("shared cryptofeed captures: ws header skipped, 265 messages; 4 http snapshots", "[market][capture][data]") {
  const std::string ws = kDataDir + "cryptofeed_binance_ws.txt";
  const std::string http = kDataDir + "cryptofeed_binance_http.txt";
  if (!fs::exists(ws) || !fs::exists(http)) {
    WARN("skipped: missing shared capture " << (fs::exists(ws) ? http : ws));
    return;
  }
  std::vector<std::string> payloads;
  const auto ws_records = read_all(ws, payloads);
  CHECK(ws_records.size() == 265);
  CHECK(ws_records.front().form == CaptureLineForm::CryptofeedWs);
  payloads.clear();
  const auto http_records = read_all(http, payloads);
  REQUIRE(http_records.size() == 4);
  CHECK(http_records[0].url_symbol == *tb::Symbol::parse("NKNUSDT"));
  CHECK(http_records[3].url_symbol == *tb::Symbol::parse("RUNEEUR"));
  for (const auto& p : payloads) CHECK(p.rfind("{\"lastUpdateId\":", 0) == 0);
}
