// HttpsConnectionPool against FakeHttpsServer over real TLS on 127.0.0.1.
#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "fakes/fake_https_server.hpp"
#include "test_support.hpp"
#include "tradingbot/net/https_pool.hpp"

using namespace tb;
using namespace tb::net;
using namespace tb::net::test;
using namespace std::chrono_literals;
namespace http = boost::beast::http;

namespace {

HttpsRequest make_request(std::uint16_t port, std::string target, http::verb method = http::verb::get) {
  HttpsRequest r;
  r.method = method;
  r.host = "localhost";
  r.connect_host = "127.0.0.1";
  r.port = port;
  r.target = std::move(target);
  r.timeout = 3 * kNanosPerSecond;
  return r;
}

}  // namespace

TEST_CASE("HttpsConnectionPool reuses one keep-alive connection for sequential requests", "[net][https]") {
  boost::asio::io_context ioc;
  FakeHttpsServer server(ioc, server_tls(pki().localhost));
  auto pool = HttpsConnectionPool::create(ioc, client_tls());
  int done = 0;
  std::vector<std::string> bodies;
  std::string weight;
  std::function<void()> next = [&] {
    pool->request(make_request(server.port(), "/api/v3/ping?n=" + std::to_string(done)), [&](HttpsResult& r) {
      REQUIRE(r.ok());
      CHECK(r.response.result_int() == 200);
      bodies.push_back(r.response.body());
      weight = std::string(r.response["X-MBX-USED-WEIGHT-1M"]);
      CHECK(r.reused_connection == (done > 0));
      if (++done < 30) next();
    });
  };
  next();
  REQUIRE(run_until(ioc, [&] { return done == 30; }));
  CHECK(server.accepts == 1);
  CHECK(bodies.front() == "/api/v3/ping?n=0");
  CHECK(weight == "30");
  const auto s = pool->stats();
  CHECK(s.requests == 30);
  CHECK(s.responses == 30);
  CHECK(s.reuses == 29);
  CHECK(s.connections_open == 1);
  CHECK(s.connections_idle == 1);
  CHECK(s.errors == 0);
  pool->shutdown();
  CHECK(run_until(ioc, [&] { return server.open_connections == 0; }));
}

TEST_CASE("HttpsConnectionPool shut down while a request's write is completing frees nothing in use",
          "[net][https]") {
  // On a warm connection the request is written inside request() and its completion is posted;
  // shutdown() then completes and releases the request before that completion runs. The write
  // operation still reads the request's message: it must outlive it (ASan checks this suite).
  boost::asio::io_context ioc;
  FakeHttpsServer server(ioc, server_tls(pki().localhost));
  auto pool = HttpsConnectionPool::create(ioc, client_tls());
  bool warm = false;
  pool->request(make_request(server.port(), "/api/v3/ping"), [&](HttpsResult& r) { warm = r.ok(); });
  REQUIRE(run_until(ioc, [&] { return warm && pool->stats().connections_idle == 1; }));
  std::optional<boost::system::error_code> outcome;
  pool->request(make_request(server.port(), "/api/v3/time"), [&](HttpsResult& r) { outcome = r.ec; });
  pool->shutdown();
  REQUIRE(run_until(ioc, [&] { return outcome.has_value(); }));
  CHECK(*outcome == make_error_code(PoolError::shut_down));
  run_for(ioc, 50ms);  // the posted write completion, and the server seeing the close
  CHECK(pool->stats().connections_open == 0);
}

TEST_CASE("HttpsConnectionPool respects the per-host limit and queues the rest", "[net][https]") {
  boost::asio::io_context ioc;
  FakeHttpsServer server(ioc, server_tls(pki().localhost));
  server.delay = 30ms;
  HttpsPoolOptions options;
  options.max_per_host = 3;
  options.max_queued_per_host = 20;
  auto pool = HttpsConnectionPool::create(ioc, client_tls(), options);
  int ok = 0;
  int rejected = 0;
  for (int i = 0; i < 22; ++i) {  // 20 fit in the queue, 2 overflow
    pool->request(make_request(server.port(), "/r" + std::to_string(i)), [&](HttpsResult& r) {
      if (r.ok()) {
        ++ok;
      } else {
        CHECK(r.ec == make_error_code(PoolError::queue_full));
        ++rejected;
      }
    });
  }
  CHECK(pool->stats().queued == 20);
  REQUIRE(run_until(ioc, [&] { return ok + rejected == 22; }));
  CHECK(ok == 20);
  CHECK(rejected == 2);
  CHECK(server.accepts == 3);
  CHECK(server.max_open_connections == 3);
  CHECK(pool->stats().queue_rejected == 2);
  pool->shutdown();
  run_until(ioc, [&] { return server.open_connections == 0; });
}

TEST_CASE("HttpsConnectionPool closes idle connections after the idle timeout", "[net][https]") {
  boost::asio::io_context ioc;
  FakeHttpsServer server(ioc, server_tls(pki().localhost));
  HttpsPoolOptions options;
  options.idle_timeout = 150 * kNanosPerMilli;
  auto pool = HttpsConnectionPool::create(ioc, client_tls(), options);
  bool done = false;
  pool->request(make_request(server.port(), "/api/v3/time"), [&](HttpsResult& r) { done = r.ok(); });
  REQUIRE(run_until(ioc, [&] { return done; }));
  CHECK(server.open_connections == 1);
  REQUIRE(run_until(ioc, [&] { return server.open_connections == 0; }, 2s));
  const auto s = pool->stats();
  CHECK(s.connections_open == 0);
  CHECK(s.idle_expired == 1);
  // The next request simply opens a new connection.
  done = false;
  pool->request(make_request(server.port(), "/api/v3/time"), [&](HttpsResult& r) { done = r.ok(); });
  REQUIRE(run_until(ioc, [&] { return done; }));
  CHECK(server.accepts == 2);
}

TEST_CASE("HttpsConnectionPool retries a GET on a keep-alive connection the server closed, never a POST",
          "[net][https][retry]") {
  boost::asio::io_context ioc;
  FakeHttpsServer server(ioc, server_tls(pki().localhost));
  server.close_after_response = true;
  auto pool = HttpsConnectionPool::create(ioc, client_tls());
  std::optional<HttpsResult> result;
  auto call = [&](http::verb method, RetryPolicy policy = RetryPolicy::method_default) {
    result.reset();
    auto req = make_request(server.port(), "/api/v3/order", method);
    req.retry = policy;
    if (method == http::verb::post) {
      req.body = "symbol=BTCUSDT&side=BUY";
      req.content_type = "application/x-www-form-urlencoded";
    }
    pool->request(std::move(req), [&](HttpsResult& r) { result = std::move(r); });
    REQUIRE(run_until(ioc, [&] { return result.has_value(); }));
    run_for(ioc, 50ms);  // let the server's close reach the client's socket
  };

  call(http::verb::get);
  REQUIRE(result->ok());
  CHECK(result->attempts == 1);
  call(http::verb::get);  // goes to the connection the server has closed
  INFO(result->error);
  REQUIRE(result->ok());
  CHECK(result->attempts == 2);
  CHECK(server.accepts == 2);
  CHECK(pool->stats().retries == 1);

  call(http::verb::post);  // also meets the closed connection: error, the order is not sent twice
  CHECK_FALSE(result->ok());
  CHECK(result->ec == make_error_code(PoolError::connection_closed));
  CHECK(result->attempts == 1);
  CHECK(server.accepts == 2);
  CHECK(std::count(server.methods.begin(), server.methods.end(), "POST") == 0);
  call(http::verb::post);  // no idle connection left: a fresh one, fine
  REQUIRE(result->ok());
  CHECK(result->attempts == 1);
  CHECK(server.accepts == 3);
  CHECK(std::count(server.methods.begin(), server.methods.end(), "POST") == 1);

  call(http::verb::delete_, RetryPolicy::retry_on_stale);  // stale, but opted in: retried
  REQUIRE(result->ok());
  CHECK(result->attempts == 2);
  CHECK(server.accepts == 4);
  CHECK(pool->stats().retries == 2);
}

TEST_CASE("HttpsConnectionPool fails a request that misses its deadline", "[net][https]") {
  boost::asio::io_context ioc;
  FakeHttpsServer server(ioc, server_tls(pki().localhost));
  server.slow_delay = 600ms;
  auto pool = HttpsConnectionPool::create(ioc, client_tls());
  std::optional<HttpsResult> result;
  auto req = make_request(server.port(), "/slow");
  req.timeout = 200 * kNanosPerMilli;
  pool->request(std::move(req), [&](HttpsResult& r) { result = std::move(r); });
  REQUIRE(run_until(ioc, [&] { return result.has_value(); }, 3s));
  CHECK(result->ec == make_error_code(PoolError::timeout));
  CHECK(result->elapsed >= 200 * kNanosPerMilli);
  CHECK(result->elapsed < 1500 * kNanosPerMilli);
  CHECK(pool->stats().timeouts == 1);
  CHECK(pool->stats().connections_open == 0);  // the connection mid-exchange is dropped
  CHECK(run_until(ioc, [&] { return server.open_connections == 0; }, 3s));
}

TEST_CASE("HttpsConnectionPool reports a refused certificate", "[net][https][tls]") {
  boost::asio::io_context ioc;
  FakeHttpsServer server(ioc, server_tls(pki().wrong_host));
  auto pool = HttpsConnectionPool::create(ioc, client_tls());
  std::optional<HttpsResult> result;
  pool->request(make_request(server.port(), "/api/v3/ping"), [&](HttpsResult& r) { result = std::move(r); });
  REQUIRE(run_until(ioc, [&] { return result.has_value(); }));
  CHECK_FALSE(result->ok());
  INFO(result->error);
  CHECK(result->error.find("tls handshake") != std::string::npos);
  CHECK(pool->stats().connections_open == 0);
}

namespace {

// Sets (or unsets, with nullptr) an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// A directory laid out like /etc/ssl/certs: the CA under its OpenSSL subject-hash name.
std::filesystem::path hashed_ca_dir(const std::filesystem::path& ca_file, const std::string& name) {
  const auto dir = pki().dir / name;
  std::filesystem::create_directories(dir);
  FILE* in = std::fopen(ca_file.c_str(), "r");
  REQUIRE(in != nullptr);
  X509* cert = PEM_read_X509(in, nullptr, nullptr, nullptr);
  std::fclose(in);
  REQUIRE(cert != nullptr);
  char hash[16];
  std::snprintf(hash, sizeof hash, "%08lx.0", X509_subject_name_hash(cert));
  X509_free(cert);
  std::filesystem::copy_file(ca_file, dir / hash, std::filesystem::copy_options::overwrite_existing);
  return dir;
}

bool fetch_ok(boost::asio::io_context& ioc, std::uint16_t port, const TlsContextPtr& tls) {
  auto pool = HttpsConnectionPool::create(ioc, tls);
  std::optional<bool> ok;
  pool->request(make_request(port, "/api/v3/ping"), [&](HttpsResult& r) { ok = r.ok(); });
  REQUIRE(run_until(ioc, [&] { return ok.has_value(); }));
  pool->shutdown();
  return *ok;
}

}  // namespace

TEST_CASE("the system trust store comes from its hashed directory when it has links, else OpenSSL's defaults",
          "[net][https][tls]") {
  boost::asio::io_context ioc;
  FakeHttpsServer server(ioc, server_tls(pki().localhost));
  const ScopedEnv no_bundle(X509_get_default_cert_file_env(), nullptr);
  const TlsClientOptions system_store_only{"", true};
  {
    // The test CA hash-linked into the "system" directory: trusted through the system store alone.
    const ScopedEnv dir(X509_get_default_cert_dir_env(), hashed_ca_dir(pki().ca_file, "hashed").c_str());
    CHECK(fetch_ok(ioc, server.port(), must(make_client_tls_context(system_store_only))));
  }
  {
    // A directory without hash links: OpenSSL's defaults, which do not know the test CA.
    const auto empty = pki().dir / "no-links";
    std::filesystem::create_directories(empty);
    const ScopedEnv dir(X509_get_default_cert_dir_env(), empty.c_str());
    CHECK_FALSE(fetch_ok(ioc, server.port(), must(make_client_tls_context(system_store_only))));
  }
}
