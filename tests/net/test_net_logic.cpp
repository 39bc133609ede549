// Pure logic of the net module (Backoff, ControlPacer, CircuitBreaker) and the PKI helpers.
#include <catch2/catch.hpp>

#include <filesystem>
#include <vector>

#include "test_support.hpp"
#include "tradingbot/net/backoff.hpp"
#include "tradingbot/net/circuit_breaker.hpp"
#include "tradingbot/net/control_pacer.hpp"

using namespace tb;
using namespace tb::net;

TEST_CASE("Backoff draws full-jitter delays under a growing, capped ceiling", "[net][backoff]") {
  Backoff backoff(BackoffOptions{100 * kNanosPerMilli, 1 * kNanosPerSecond, 0, 2.0}, 42);
  const std::vector<Nanos> ceilings{100, 200, 400, 800, 1000, 1000, 1000};
  for (Nanos ceiling_ms : ceilings) {
    CHECK(backoff.current_ceiling() == ceiling_ms * kNanosPerMilli);
    const Nanos d = backoff.next_delay();
    CHECK(d >= 0);
    CHECK(d <= ceiling_ms * kNanosPerMilli);
  }
  CHECK(backoff.attempts() == ceilings.size());
  backoff.reset();
  CHECK(backoff.attempts() == 0);
  CHECK(backoff.current_ceiling() == 100 * kNanosPerMilli);
}

TEST_CASE("Backoff is deterministic for a seed and jitters between seeds", "[net][backoff]") {
  Backoff a(BackoffOptions{}, 7), b(BackoffOptions{}, 7), c(BackoffOptions{}, 8);
  std::vector<Nanos> da, db, dc;
  for (int i = 0; i < 10; ++i) {
    da.push_back(a.next_delay());
    db.push_back(b.next_delay());
    dc.push_back(c.next_delay());
  }
  CHECK(da == db);
  CHECK(da != dc);
  // Many draws at the cap spread over the range instead of clustering (that is the jitter).
  Backoff capped(BackoffOptions{kNanosPerSecond, kNanosPerSecond, 0, 2.0}, 1);
  int low = 0, high = 0;
  for (int i = 0; i < 1000; ++i) (capped.next_delay() < kNanosPerSecond / 2 ? low : high)++;
  CHECK(low > 400);
  CHECK(high > 400);
}

TEST_CASE("Backoff honours a floor", "[net][backoff]") {
  Backoff backoff(BackoffOptions{50 * kNanosPerMilli, 10 * kNanosPerSecond, 20 * kNanosPerMilli, 2.0}, 3);
  for (int i = 0; i < 50; ++i) CHECK(backoff.next_delay() >= 20 * kNanosPerMilli);
}

TEST_CASE("ControlPacer allows at most N sends in any window", "[net][pacing]") {
  const Nanos W = kNanosPerSecond;
  ControlPacer pacer(4, W);
  Nanos now = 0;
  std::vector<Nanos> sent;
  for (int i = 0; i < 20; ++i) {
    now = pacer.next_allowed(now);
    pacer.record(now);
    sent.push_back(now);
  }
  CHECK(sent[3] == 0);      // a burst of 4 at once
  CHECK(sent[4] == W);      // the 5th waits for the first to leave the window
  for (std::size_t i = 0; i + 4 < sent.size(); ++i) CHECK(sent[i + 4] - sent[i] >= W);
}

TEST_CASE("ControlPacer counts forced pongs against the budget", "[net][pacing]") {
  ControlPacer pacer(4, kNanosPerSecond);
  pacer.record_forced(0);  // a pong Beast sent by itself
  for (int i = 0; i < 3; ++i) {
    REQUIRE(pacer.allowed(10));
    pacer.record(10);
  }
  CHECK_FALSE(pacer.allowed(10));
  CHECK(pacer.next_allowed(10) == kNanosPerSecond);
  ControlPacer off(0, kNanosPerSecond);
  off.record(0);
  CHECK(off.allowed(0));
}

TEST_CASE("CircuitBreaker trips after consecutive failures and recovers through half-open", "[net][breaker]") {
  CircuitBreaker cb(CircuitBreakerOptions{3, 0.0, 20, 10, 1000, 1, 2});
  using S = CircuitBreaker::State;
  CHECK(cb.state(0) == S::closed);
  cb.on_failure(1);
  cb.on_failure(2);
  cb.on_success(3);  // resets the run
  cb.on_failure(4);
  cb.on_failure(5);
  CHECK(cb.state(5) == S::closed);
  cb.on_failure(6);
  CHECK(cb.state(6) == S::open);
  CHECK(CircuitBreaker::state_name(cb.state(6)) == "open");
  CHECK_FALSE(cb.allow(500));
  CHECK(cb.stats().rejected == 1);
  // Cool-down over: one probe at a time.
  CHECK(cb.state(1006) == S::half_open);
  CHECK(cb.allow(1006));
  CHECK_FALSE(cb.allow(1006));
  cb.on_success(1010);
  CHECK(cb.state(1010) == S::half_open);
  CHECK(cb.allow(1011));
  cb.on_success(1012);
  CHECK(cb.state(1012) == S::closed);
  CHECK(cb.stats().trips == 1);
}

TEST_CASE("CircuitBreaker reopens when a half-open probe fails", "[net][breaker]") {
  CircuitBreaker cb(CircuitBreakerOptions{1, 0.0, 20, 10, 100, 1, 1});
  cb.on_failure(0);
  CHECK(cb.state(50) == CircuitBreaker::State::open);
  CHECK(cb.allow(100));
  cb.on_failure(120);
  CHECK(cb.state(150) == CircuitBreaker::State::open);  // a fresh cool-down from 120
  CHECK(cb.state(220) == CircuitBreaker::State::half_open);
  CHECK(cb.stats().trips == 2);
  CHECK(CircuitBreaker::state_value(CircuitBreaker::State::half_open) == 1);
}

TEST_CASE("CircuitBreaker trips on a failure ratio", "[net][breaker]") {
  CircuitBreaker cb(CircuitBreakerOptions{0, 0.5, 10, 10, 100, 1, 1});
  for (int i = 0; i < 9; ++i) (i % 2 == 0 ? cb.on_failure(i) : cb.on_success(i));  // 5 of 9
  CHECK(cb.state(9) == CircuitBreaker::State::closed);  // not enough samples yet
  cb.on_success(9);                                     // 5 of 10 = 0.5 but a success
  CHECK(cb.state(9) == CircuitBreaker::State::closed);
  cb.on_failure(10);                                    // window: 5 failures of 10 -> trips
  CHECK(cb.state(10) == CircuitBreaker::State::open);
}

TEST_CASE("CertificateAuthority reuses valid files and reissues when names change", "[net][tls]") {
  const auto dir = std::filesystem::temp_directory_path() / ("tb-net-ca-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    auto ca = test::must(CertificateAuthority::open_or_create(dir));
    CHECK_FALSE(ca.reused());
    auto first = test::must(ca.issue_server_certificate("sim", {"localhost", "127.0.0.1"}));
    CHECK_FALSE(first.reused);
    CHECK((std::filesystem::status(first.key_file).permissions() & std::filesystem::perms::others_read) ==
          std::filesystem::perms::none);
    auto again = test::must(ca.issue_server_certificate("sim", {"localhost"}));
    CHECK(again.reused);
    auto more = test::must(ca.issue_server_certificate("sim", {"localhost", "stream.binance.test"}));
    CHECK_FALSE(more.reused);
  }
  {
    auto ca = test::must(CertificateAuthority::open_or_create(dir));
    CHECK(ca.reused());
    auto cert = test::must(ca.issue_server_certificate("sim", {"stream.binance.test"}));
    CHECK(cert.reused);
    CHECK(make_server_tls_context(cert.cert_file.string(), cert.key_file.string()).ok());
    CHECK(make_client_tls_context(TlsClientOptions{ca.ca_cert_file().string(), true}).ok());
  }
  auto missing = make_client_tls_context(TlsClientOptions{(dir / "nope.pem").string(), true});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("nope.pem") != std::string::npos);
  std::filesystem::remove_all(dir);
}
