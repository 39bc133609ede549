// Signing against every vector of binance-vectors.md section 1, and the exact wire bytes the
// builders produce.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "tradingbot/exchange/binance/credentials.hpp"
#include "tradingbot/exchange/binance/rest_request.hpp"
#include "tradingbot/exchange/binance/signer.hpp"
#include "tradingbot/exchange/binance/ws_api_request.hpp"

using namespace tb::binance;

namespace {
constexpr std::string_view kApiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr std::string_view kSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
constexpr std::string_view kEdPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIOw0AAmGHY4nqwv+mh8OzRRc91uddDjdXsiggbp2vDH0\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kEdApiKey = "4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO";
const std::string kUnicodeSymbol = "\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x96";  // １２３４５６

std::string hmac_hex(std::string_view payload) {
  HmacSha256Signer signer(kSecret);
  SignatureText sig;
  signer.sign(payload, sig);
  return std::string(sig.view());
}

std::string hex(const std::uint8_t* p, std::size_t n) {
  std::string out(2 * n, '?');
  to_lower_hex(p, n, out.data());
  return out;
}

RequestSigner hmac_signer() { return RequestSigner(HmacSha256Signer(kSecret)); }
RequestSigner ed_signer() { return RequestSigner(Ed25519Signer::from_pem(kEdPem).value()); }
}  // namespace

TEST_CASE("REST HMAC vectors 1.1 A/B/C", "[exchange][signing]") {
  CHECK(hmac_hex("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&"
                 "timestamp=1499827319559") == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
  CHECK(hmac_hex("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&"
                 "timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559") ==
        "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3");
  CHECK(hmac_hex("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=0.1&recvWindow=5000&"
                 "timestamp=1499827319559") == "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77");
}

TEST_CASE("WS API HMAC vectors 1.2 A/B/C", "[exchange][signing]") {
  CHECK(hmac_hex("apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00&"
                 "quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp="
                 "1645423376532&type=LIMIT") == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24");
  CHECK(hmac_hex("apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=0.10000000&"
                 "quantity=1.00000000&recvWindow=5000&side=BUY&symbol=" +
                 kUnicodeSymbol + "&timeInForce=GTC&timestamp=1645423376532&type=LIMIT") ==
        "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd");
  CHECK(hmac_hex("apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&timestamp=1649729878532") ==
        "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed");
}

TEST_CASE("HMAC keys longer than a block and empty payloads follow RFC 2104", "[exchange][signing]") {
  // RFC 4231 test case 6: 131-byte key of 0xaa.
  const std::string key(131, '\xaa');
  HmacSha256Signer signer(key);
  std::array<std::uint8_t, 32> mac;
  signer.sign_raw("Test Using Larger Than Block-Size Key - Hash Key First", mac);
  CHECK(hex(mac.data(), mac.size()) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("changing one byte of the payload changes the signature", "[exchange][signing]") {
  const std::string payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&"
                              "timestamp=1499827319559";
  const std::string good = hmac_hex(payload);
  auto ed = Ed25519Signer::from_pem(kEdPem).value();
  SignatureText ed_good;
  REQUIRE(ed.sign(payload, ed_good));
  for (std::size_t i = 0; i < payload.size(); i += 7) {
    std::string tampered = payload;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    CHECK(hmac_hex(tampered) != good);
    SignatureText ed_bad;
    REQUIRE(ed.sign(tampered, ed_bad));
    CHECK(ed_bad.view() != ed_good.view());
  }
  // A different secret gives a different signature for the same bytes.
  HmacSha256Signer other(std::string(kSecret.substr(0, kSecret.size() - 1)) + "k");
  SignatureText sig;
  other.sign(payload, sig);
  CHECK(sig.view() != good);
}

TEST_CASE("Ed25519 known answers (vectors 1.3, self-generated key and RFC 8032 test 1)", "[exchange][signing]") {
  auto signer = Ed25519Signer::from_pem(kEdPem);
  REQUIRE(signer.ok());
  const auto pub = signer.value().public_key();
  CHECK(hex(pub.data(), pub.size()) == "0f1d20d2ea638cb24c6f9fbb74e8cdd30702e37181afb82a9377c7a3029710eb");

  SignatureText sig;
  REQUIRE(signer.value().sign("symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=0.2&"
                              "timestamp=1668481559918&recvWindow=5000",
                              sig));
  CHECK(sig.view() == "/Qro3jwNEkddyrhx2aHGRxDBDXPDHVTXtY/F+nVOcSPzk/iUtgKEmUIqy8IODkdMMPkIeXFd+vIcJrzi7rKFAg==");
  CHECK(percent_encode(sig.view()) ==
        "%2FQro3jwNEkddyrhx2aHGRxDBDXPDHVTXtY%2FF%2BnVOcSPzk%2FiUtgKEmUIqy8IODkdMMPkIeXFd%2BvIcJrzi7rKFAg%3D%3D");

  REQUIRE(signer.value().sign("apiKey=4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO&price=52000.00&"
                              "quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&"
                              "timestamp=1645423376532&type=LIMIT",
                              sig));
  CHECK(sig.view() == "NLxH00XOAJQ1GjhBiICCRcADo5Yj+KAE0sm96TKS58okW0Ky1kfwtQ99XuBeXNE0gssjaVS2NIeleHuapGbfBQ==");

  const std::array<std::uint8_t, 32> rfc_seed = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
                                                 0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
                                                 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
  auto rfc = Ed25519Signer::from_seed(rfc_seed);
  REQUIRE(rfc.ok());
  const auto rfc_pub = rfc.value().public_key();
  CHECK(hex(rfc_pub.data(), rfc_pub.size()) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  std::array<std::uint8_t, 64> raw;
  REQUIRE(rfc.value().sign_raw("", raw));
  CHECK(hex(raw.data(), raw.size()) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe"
        "24655141438e7a100b");
}

TEST_CASE("non-Ed25519 or malformed PEM keys are refused", "[exchange][signing]") {
  CHECK_FALSE(Ed25519Signer::from_pem("not a key").ok());
  CHECK_FALSE(Ed25519Signer::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());
}

TEST_CASE("percent-encoding keeps only A-Za-z0-9-._~ literal", "[exchange][signing]") {
  CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(percent_encode(kUnicodeSymbol) == "%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96");
  CHECK(percent_encode("a b+c/d=e&f%[\"x\"]") == "a%20b%2Bc%2Fd%3De%26f%25%5B%22x%22%5D");
}

TEST_CASE("RestRequestBuilder reproduces REST vectors A and B byte for byte", "[exchange][signing]") {
  auto signer = hmac_signer();
  RestRequestBuilder b;
  for (const bool unicode : {false, true}) {
    b.reset();
    b.add("symbol", unicode ? std::string_view(kUnicodeSymbol) : std::string_view("LTCBTC"));
    b.add("side", "BUY");
    b.add("type", "LIMIT");
    b.add("timeInForce", "GTC");
    b.add("quantity", "1");
    b.add("price", "0.1");
    REQUIRE(b.sign(signer, {1499827319559, 5000}) == BuildStatus::Ok);
    if (!unicode) {
      CHECK(b.query() ==
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp="
            "1499827319559&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
    } else {
      CHECK(b.signed_payload() ==
            "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&"
            "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559");
      CHECK(b.signature() == "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3");
    }
    CHECK(b.body().empty());
  }
  std::string target;
  b.target("/api/v3/order", target);
  CHECK(target.rfind("/api/v3/order?symbol=%EF%BC%91", 0) == 0);
}

TEST_CASE("RestRequestBuilder signs query+body without a separator and appends the signature to the body",
          "[exchange][signing]") {
  auto signer = hmac_signer();
  RestRequestBuilder b;
  b.add("symbol", "LTCBTC");
  b.add("side", "BUY");
  b.add("type", "LIMIT");
  b.add("timeInForce", "GTC");
  b.begin_body();
  b.add("quantity", "1");
  b.add("price", "0.1");
  REQUIRE(b.sign(signer, {1499827319559, 5000}) == BuildStatus::Ok);
  CHECK(b.query() == "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC");
  CHECK(b.body() == "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature="
                    "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77");
}

TEST_CASE("RestRequestBuilder with Ed25519 percent-encodes the base64 signature", "[exchange][signing]") {
  auto signer = ed_signer();
  RestRequestBuilder b;
  b.add("symbol", "BTCUSDT");
  b.add("side", "SELL");
  b.add("type", "LIMIT");
  b.add("timeInForce", "GTC");
  b.add("quantity", "1");
  b.add("price", "0.2");
  b.add("timestamp", std::int64_t{1668481559918});
  b.add("recvWindow", std::int64_t{5000});
  REQUIRE(b.sign_as_is(signer) == BuildStatus::Ok);
  CHECK(b.query() ==
        "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=0.2&timestamp=1668481559918&"
        "recvWindow=5000&signature=%2FQro3jwNEkddyrhx2aHGRxDBDXPDHVTXtY%2FF%2BnVOcSPzk%2FiUtgKEmUIqy8IODkdMMPkIeXFd%"
        "2BvIcJrzi7rKFAg%3D%3D");
}

TEST_CASE("typed NewOrder prints prices and quantities with the filter digits", "[exchange][signing]") {
  auto signer = hmac_signer();
  RestRequestBuilder b;
  NewOrder o;
  o.symbol = *tb::Symbol::parse("LTCBTC");
  o.side = tb::Side::Buy;
  o.type = OrderType::Limit;
  o.time_in_force = TimeInForce::Gtc;
  o.quantity = *tb::Qty::parse("1");
  o.price = *tb::Price::parse("0.1");
  o.qty_digits = 0;
  o.price_digits = 1;
  REQUIRE(add_new_order_params(b, o) == BuildStatus::Ok);
  REQUIRE(b.sign(signer, {1499827319559, 5000}) == BuildStatus::Ok);
  CHECK(b.signature() == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");

  o.price = tb::Price{};
  b.reset();
  CHECK(add_new_order_params(b, o) == BuildStatus::MissingField);
  o.type = OrderType::Market;
  o.time_in_force = TimeInForce::None;
  o.quote_order_qty = *tb::Money::parse("10");
  CHECK_FALSE(has_required_fields(o));  // MARKET takes quantity OR quoteOrderQty, not both
  o.quantity = tb::Qty{};
  CHECK(has_required_fields(o));
}

TEST_CASE("WS API order.place reproduces the documented signed requests", "[exchange][signing]") {
  auto signer = hmac_signer();
  WsApiRequestBuilder b;
  NewOrder o;
  o.symbol = *tb::Symbol::parse("BTCUSDT");
  o.side = tb::Side::Sell;
  o.type = OrderType::Limit;
  o.time_in_force = TimeInForce::Gtc;
  o.quantity = *tb::Qty::parse("0.01");
  o.price = *tb::Price::parse("52000");
  o.qty_digits = 8;
  o.price_digits = 2;
  REQUIRE(build_order_place(b, "4885f793-e5ad-4c3b-8f6c-55d891472b71", o, signer, kApiKey, {1645423376532, 100}) ==
          BuildStatus::Ok);
  CHECK(b.json() ==
        R"({"id":"4885f793-e5ad-4c3b-8f6c-55d891472b71","method":"order.place","params":{"symbol":"BTCUSDT",)"
        R"("side":"SELL","type":"LIMIT","timeInForce":"GTC","quantity":"0.01000000","price":"52000.00",)"
        R"("recvWindow":100,"timestamp":1645423376532,"apiKey":"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",)"
        R"("signature":"aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"}})");

  // Non-ASCII: raw UTF-8 in both the signed payload and the JSON.
  b.begin("4885f793-e5ad-4c3b-8f6c-55d891472b71", "order.place");
  b.add("symbol", std::string_view(kUnicodeSymbol));
  b.add("side", "BUY");
  b.add("type", "LIMIT");
  b.add("timeInForce", "GTC");
  b.add("quantity", "1.00000000");
  b.add("price", "0.10000000");
  REQUIRE(b.sign(signer, kApiKey, {1645423376532, 5000}) == BuildStatus::Ok);
  CHECK(b.json().find("\"symbol\":\"" + kUnicodeSymbol + "\"") != std::string_view::npos);
  CHECK(b.json().find("\"signature\":\"b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd\"") !=
        std::string_view::npos);
}

TEST_CASE("WS API Ed25519 signature is base64, sorted and not percent-encoded", "[exchange][signing]") {
  auto signer = ed_signer();
  WsApiRequestBuilder b;
  b.begin(7, "order.place");
  b.add("symbol", "BTCUSDT");
  b.add("side", "SELL");
  b.add("type", "LIMIT");
  b.add("timeInForce", "GTC");
  b.add("quantity", "0.01000000");
  b.add("price", "52000.00");
  REQUIRE(b.sign(signer, kEdApiKey, {1645423376532, 100}) == BuildStatus::Ok);
  CHECK(b.signed_payload() ==
        "apiKey=4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO&price=52000.00&quantity=0.01000000&"
        "recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT");
  CHECK(b.json().rfind(R"({"id":7,"method":"order.place","params":{)", 0) == 0);
  CHECK(b.json().find(
            R"("signature":"NLxH00XOAJQ1GjhBiICCRcADo5Yj+KAE0sm96TKS58okW0Ky1kfwtQ99XuBeXNE0gssjaVS2NIeleHuapGbfBQ=="})") !=
        std::string_view::npos);
}

TEST_CASE("WS API cancel/status/openOrders/userDataStream requests", "[exchange][signing]") {
  auto signer = hmac_signer();
  WsApiRequestBuilder b;
  OrderRef ref;
  ref.symbol = *tb::Symbol::parse("BTCUSDT");
  ref.order_id = 12510053279;
  REQUIRE(build_order_cancel(b, "c1", ref, signer, kApiKey, {1649729878532, 0}) == BuildStatus::Ok);
  CHECK(b.signed_payload() == std::string("apiKey=") + std::string(kApiKey) +
                                  "&orderId=12510053279&symbol=BTCUSDT&timestamp=1649729878532");
  CHECK(b.json().rfind(R"({"id":"c1","method":"order.cancel","params":{"symbol":"BTCUSDT","orderId":12510053279,)",
                       0) == 0);

  ref.order_id = -1;
  REQUIRE(ref.orig_client_order_id.assign("my\"odd\\id"));
  REQUIRE(build_order_status(b, "s1", ref, signer, kApiKey, {1649729878532, 5000}) == BuildStatus::Ok);
  CHECK(b.json().find(R"("origClientOrderId":"my\"odd\\id")") != std::string_view::npos);
  CHECK(b.signed_payload().find("origClientOrderId=my\"odd\\id&") != std::string_view::npos);
  ref.orig_client_order_id.clear();
  CHECK(build_order_status(b, "s1", ref, signer, kApiKey, {1, 0}) == BuildStatus::MissingField);

  REQUIRE(build_open_orders_status(b, "o1", "", signer, kApiKey, {1649729878532, 0}) == BuildStatus::Ok);
  CHECK(b.json().find("symbol") == std::string_view::npos);

  // userDataStream.subscribe.signature: payload is the sorted apiKey=...&timestamp=... (vector 1.2 C's shape).
  REQUIRE(build_user_data_stream_subscribe_signature(b, "u1", signer, kApiKey, {1649729878532, 0}) == BuildStatus::Ok);
  CHECK(b.signed_payload() == std::string("apiKey=") + std::string(kApiKey) + "&timestamp=1649729878532");
  CHECK(b.json() == std::string(R"({"id":"u1","method":"userDataStream.subscribe.signature","params":{"timestamp":1649729878532,"apiKey":")") +
                        std::string(kApiKey) +
                        R"(","signature":"1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed"}})");
}

TEST_CASE("JSON escaping handles quotes, backslashes and control characters", "[exchange][signing]") {
  std::string out;
  json_escape_append(out, std::string_view("a\"b\\c\n\x01\xEF\xBC\x91", 10));
  CHECK(out == "a\\\"b\\\\c\\n\\u0001\xEF\xBC\x91");
}

TEST_CASE("a key or secret with a stray line break, space or quote is refused by position, never shown",
          "[exchange][credentials]") {
  CHECK(credential_problem(kEnvApiKey, kApiKey).empty());
  CHECK(credential_problem(kEnvApiSecret, kSecret).empty());
  const std::string trailing = std::string(kSecret) + "\n";
  const std::string problem = credential_problem(kEnvApiSecret, trailing);
  CHECK(problem.find("BINANCE_API_SECRET has a line break at position 65 of 65 (the last one") == 0);
  CHECK(problem.find(kSecret.substr(0, 8)) == std::string::npos);
  CHECK(credential_problem(kEnvApiKey, "ab cd").find("a space at position 3 of 5") != std::string::npos);
  CHECK(credential_problem(kEnvApiKey, "ab\"cd").find("a quote or backslash at position 3") != std::string::npos);
  CHECK(credential_problem(kEnvApiKey, "ab\x01").find("a control character at position 3") != std::string::npos);
  CHECK(credential_problem(kEnvApiKey, "\xC3\xA9t\xC3\xA9").find("a non-ASCII byte at position 1") != std::string::npos);

  ::setenv(kEnvApiKey, (std::string(kApiKey) + "\r").c_str(), 1);
  ::setenv(kEnvApiSecret, std::string(kSecret).c_str(), 1);
  auto refused = hmac_credentials_from_env();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("BINANCE_API_KEY has a line break at position 65") == 0);
  ::unsetenv(kEnvApiKey);
  ::unsetenv(kEnvApiSecret);
}

TEST_CASE("credentials come from the environment and print redacted", "[exchange][credentials]") {
  ::unsetenv(kEnvApiKey);
  ::unsetenv(kEnvApiSecret);
  auto missing = hmac_credentials_from_env();
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("BINANCE_API_KEY") != std::string::npos);

  ::setenv(kEnvApiKey, std::string(kApiKey).c_str(), 1);
  ::setenv(kEnvApiSecret, std::string(kSecret).c_str(), 1);
  auto creds = hmac_credentials_from_env();
  REQUIRE(creds.ok());
  CHECK(creds.value().secret.reveal() == kSecret);
  CHECK(creds.value().secret.redacted() == "NhqP\xE2\x80\xA6");
  std::ostringstream os;
  os << creds.value().api_key << ' ' << creds.value().secret;
  CHECK(os.str() == "vmPU\xE2\x80\xA6 NhqP\xE2\x80\xA6");
  CHECK(os.str().find(kSecret.substr(4, 8)) == std::string::npos);
  auto signer = RequestSigner::from(creds.value());
  REQUIRE(signer.ok());
  CHECK(signer.value().key_type() == KeyType::Hmac);

  SecretString moved = std::move(creds.value().secret);
  CHECK(creds.value().secret.empty());
  CHECK(moved.reveal() == kSecret);
  CHECK(SecretString("short").redacted() == "\xE2\x80\xA6");

  const std::string path = "build-test-ed25519.pem";
  {
    std::ofstream(path) << kEdPem;
  }
  ::setenv(kEnvEd25519KeyFile, path.c_str(), 1);
  auto ed = ed25519_credentials_from_env();
  std::remove(path.c_str());
  REQUIRE(ed.ok());
  auto ed_sign = RequestSigner::from(ed.value());
  REQUIRE(ed_sign.ok());
  CHECK(ed_sign.value().key_type() == KeyType::Ed25519);
  ::unsetenv(kEnvApiKey);
  ::unsetenv(kEnvApiSecret);
  ::unsetenv(kEnvEd25519KeyFile);
}

// order.place and order.cancel are written directly (WsApiRequestBuilder::write_known); the
// general builder is the reference: the same frame and the same signed payload, byte for byte,
// over every combination of optional fields, digits, ids and both key types.
TEST_CASE("WS API order.place and order.cancel: the direct writer equals the general builder", "[exchange][signing]") {
  std::mt19937_64 rng(2026);
  RequestSigner hmac = hmac_signer();
  RequestSigner ed = ed_signer();
  WsApiRequestBuilder direct;
  WsApiRequestBuilder general;
  const OrderType types[] = {OrderType::Limit, OrderType::Market, OrderType::LimitMaker, OrderType::StopLoss,
                             OrderType::StopLossLimit, OrderType::TakeProfit, OrderType::TakeProfitLimit};
  const TimeInForce tifs[] = {TimeInForce::None, TimeInForce::Gtc, TimeInForce::Ioc, TimeInForce::Fok};
  const char* const client_ids[] = {"", "tb-1700000000000-000042", "x", "tb:a/b_c-d.e", "quote\"in", "ctl\x01"};
  const char* const request_ids[] = {"4885f793-e5ad-4c3b-8f6c-55d891472b71", "7", "odd\"id"};
  int direct_frames = 0;
  // Both builders answered `status`; when it is Ok, they must have built the same bytes.
  const auto same_request = [&](BuildStatus status) {
    if (status != BuildStatus::Ok) return;
    REQUIRE(direct.json() == general.json());
    REQUIRE(direct.signed_payload() == general.signed_payload());
  };
  for (int round = 0; round < 4000; ++round) {
    const bool use_ed = rng() % 4 == 0;
    RequestSigner& signer = use_ed ? ed : hmac;
    const std::string_view key = use_ed ? kEdApiKey : kApiKey;
    const std::string_view request_id = request_ids[rng() % 3];
    const RequestTiming timing{1'645'423'376'532 + static_cast<std::int64_t>(rng() % 100000),
                               rng() % 3 == 0 ? 0 : static_cast<std::int64_t>(1 + rng() % 60000)};
    const auto fixed = [&] { return static_cast<std::int64_t>(rng() % 4 == 0 ? 0 : rng() % 10'000'000'000'000ULL); };
    NewOrder o;
    o.symbol = *tb::Symbol::parse(rng() % 2 == 0 ? "BTCUSDT" : "1000SATSFDUSD");
    o.side = rng() % 2 == 0 ? tb::Side::Buy : tb::Side::Sell;
    o.type = types[rng() % std::size(types)];
    o.time_in_force = tifs[rng() % std::size(tifs)];
    o.quantity = tb::Qty::from_raw(fixed());
    o.quote_order_qty = tb::Money::from_raw(rng() % 5 == 0 ? fixed() : 0);
    o.price = tb::Price::from_raw(fixed());
    o.stop_price = tb::Price::from_raw(rng() % 3 == 0 ? fixed() : 0);
    REQUIRE(o.client_order_id.assign(client_ids[rng() % std::size(client_ids)]));
    o.set_response_type = rng() % 2 == 0;
    o.response_type = static_cast<OrderResponseType>(rng() % 3);
    o.price_digits = static_cast<int>(rng() % 9);
    o.qty_digits = static_cast<int>(rng() % 9);
    const BuildStatus a = build_order_place(direct, request_id, o, signer, key, timing);
    const BuildStatus b = detail::build_order_place_general(general, request_id, o, signer, key, timing);
    REQUIRE(a == b);
    same_request(a);
    direct_frames += a == BuildStatus::Ok ? 1 : 0;

    OrderRef ref;
    ref.symbol = o.symbol;
    ref.order_id = rng() % 2 == 0 ? -1 : static_cast<std::int64_t>(rng() % 100'000'000'000ULL);
    REQUIRE(ref.orig_client_order_id.assign(client_ids[rng() % std::size(client_ids)]));
    const BuildStatus c = build_order_cancel(direct, request_id, ref, signer, key, timing);
    const BuildStatus d = detail::build_order_cancel_general(general, request_id, ref, signer, key, timing);
    REQUIRE(c == d);
    same_request(c);
  }
  CHECK(direct_frames > 1000);  // most random orders are complete enough to build
}
