// Server-time offset estimation and rate-limit pacing; time is always a parameter.
#include <catch2/catch.hpp>

#include "tradingbot/exchange/binance/clock_offset.hpp"
#include "tradingbot/exchange/binance/rate_limits.hpp"

using namespace tb::binance;
using tb::kNanosPerMilli;
using tb::kNanosPerSecond;
using tb::Nanos;

namespace {
constexpr Nanos ms(std::int64_t v) { return v * kNanosPerMilli; }
constexpr Nanos kT = ms(1'700'000'040'000);  // an arbitrary wall time (Unix epoch)
}  // namespace

TEST_CASE("offset = serverTime - (t0+t1)/2, best of recent samples is the lowest RTT", "[exchange][clock]") {
  ClockOffsetEstimator est;
  CHECK(est.check(kT) == ClockStatus::NoSample);
  // Local clock 250 ms behind the server; RTT 40 ms.
  REQUIRE(est.add_sample(kT, 1'700'000'040'270, kT + ms(40)));
  CHECK(est.offset() == ms(250));
  CHECK(est.rtt() == ms(40));
  // A congested sample (RTT 400 ms, asymmetric) would suggest a wrong offset: it is not chosen.
  REQUIRE(est.add_sample(kT + ms(1000), 1'700'000'041'600, kT + ms(1400)));
  CHECK(est.offset() == ms(250));
  // A better sample later wins.
  REQUIRE(est.add_sample(kT + ms(2000), 1'700'000'042'255, kT + ms(2010)));
  CHECK(est.offset() == ms(250));
  CHECK(est.rtt() == ms(10));
  // Timestamps are biased 5 ms behind the estimated server time.
  CHECK(est.timestamp_for_request(kT + ms(3000)) == 1'700'000'043'250 - 5);
  CHECK(est.check(kT + ms(3000)) == ClockStatus::Ok);
  // Invalid samples are ignored.
  CHECK_FALSE(est.add_sample(kT + ms(10), 1, kT));
}

TEST_CASE("the window keeps only the last samples", "[exchange][clock]") {
  ClockOffsetEstimator est;
  REQUIRE(est.add_sample(0 + kT, 1'700'000'040'100, kT + ms(1)));  // excellent but will be pushed out
  for (int i = 1; i <= static_cast<int>(ClockOffsetEstimator::kWindow); ++i) {
    const Nanos t0 = kT + ms(1000 * i);
    REQUIRE(est.add_sample(t0, (t0 + ms(30)) / kNanosPerMilli + 7, t0 + ms(60)));
  }
  CHECK(est.rtt() == ms(60));
  CHECK(est.offset() == ms(7));
}

TEST_CASE("after -1021 the next sample replaces a low-RTT sample of the old clock", "[exchange][clock]") {
  ClockOffsetEstimator est;
  REQUIRE(est.add_sample(kT, 1'700'000'040'001, kT + ms(2)));  // offset 0, RTT 2 ms: hard to beat
  est.distrust_current_samples();
  CHECK(est.offset() == ms(0));  // still used until a fresh sample arrives
  // The server's clock is now 3 s behind ours; this sample's RTT (20 ms) is worse than the old one.
  REQUIRE(est.add_sample(kT + ms(1000), 1'700'000'038'010, kT + ms(1020)));
  CHECK(est.offset() == ms(-3000));
  CHECK(est.rtt() == ms(20));
  // Without distrust, the old low-RTT sample would have kept winning.
  ClockOffsetEstimator trusting;
  REQUIRE(trusting.add_sample(kT, 1'700'000'040'001, kT + ms(2)));
  REQUIRE(trusting.add_sample(kT + ms(1000), 1'700'000'038'010, kT + ms(1020)));
  CHECK(trusting.offset() == ms(0));
}

TEST_CASE("skew checks refuse trading on stale, slow or far-off clocks", "[exchange][clock]") {
  ClockOffsetConfig cfg;
  ClockOffsetEstimator est(cfg);
  REQUIRE(est.add_sample(kT, 1'700'000'040'020, kT + ms(40)));
  CHECK(est.check(kT + cfg.max_sample_age) == ClockStatus::Ok);
  CHECK(est.check(kT + ms(41) + cfg.max_sample_age) == ClockStatus::Stale);

  ClockOffsetEstimator slow(cfg);
  REQUIRE(slow.add_sample(kT, 1'700'000'041'000, kT + ms(2000)));
  CHECK(slow.check(kT + ms(2000)) == ClockStatus::RttTooHigh);

  ClockOffsetEstimator skewed(cfg);
  REQUIRE(skewed.add_sample(kT, 1'700'000'042'500, kT + ms(20)));  // server 2.49 s ahead
  CHECK(skewed.check(kT + ms(20)) == ClockStatus::OffsetTooLarge);
  CHECK(skewed.offset() == ms(2490));
  // Even so the timestamp it produces is correct for the server.
  CHECK(skewed.timestamp_for_request(kT + ms(20)) == 1'700'000'042'510 - 5);
}

TEST_CASE("endpoint weights follow reference section 5", "[exchange][ratelimit]") {
  CHECK(endpoint_weight(Endpoint::ExchangeInfo) == 20);
  CHECK(endpoint_weight(Endpoint::Depth, 100) == 5);
  CHECK(endpoint_weight(Endpoint::Depth, 500) == 25);
  CHECK(endpoint_weight(Endpoint::Depth, 1000) == 50);
  CHECK(endpoint_weight(Endpoint::Depth, 5000) == 250);
  CHECK(endpoint_weight(Endpoint::AggTrades) == 4);
  CHECK(endpoint_weight(Endpoint::TickerBookTicker, 1) == 2);
  CHECK(endpoint_weight(Endpoint::TickerBookTicker, 0) == 4);
  CHECK(endpoint_weight(Endpoint::Ticker24hr, 1) == 2);
  CHECK(endpoint_weight(Endpoint::Ticker24hr, 50) == 40);
  CHECK(endpoint_weight(Endpoint::Ticker24hr, 0) == 80);
  CHECK(endpoint_weight(Endpoint::OrderQuery) == 4);
  CHECK(endpoint_weight(Endpoint::OpenOrders, 1) == 6);
  CHECK(endpoint_weight(Endpoint::OpenOrders, 0) == 80);
  CHECK(endpoint_weight(Endpoint::Account) == 20);
  CHECK(endpoint_weight(Endpoint::MyTrades, 1) == 5);
  CHECK(endpoint_weight(Endpoint::OrderTest, 1) == 20);
  CHECK(endpoint_weight(Endpoint::RateLimitOrder) == 40);
}

TEST_CASE("requests are delayed before the weight limit and resume at the minute boundary",
          "[exchange][ratelimit]") {
  const Nanos minute = 60 * kNanosPerSecond;
  const Nanos t = (kT / minute) * minute + 40 * kNanosPerSecond;  // hh:mm:40
  RateLimitTracker rl(0.9);
  const RateLimit limits[] = {{RateLimitType::RequestWeight, IntervalUnit::Minute, 1, 1000}};
  rl.set_limits(limits, 1);
  CHECK(rl.can_send(20, t) == RateDecision::Ok);
  REQUIRE(rl.on_header("x-mbx-used-weight-1m", "880", t));
  CHECK(rl.used_weight_1m(t) == 880);
  CHECK(rl.can_send(20, t) == RateDecision::Ok);   // 900 <= 90% of 1000
  CHECK(rl.can_send(21, t) == RateDecision::WeightExhausted);
  CHECK(rl.delay_until(21, t) == (t / minute + 1) * minute);  // next :00
  rl.on_sent(20, t);
  CHECK(rl.used_weight_1m(t) == 900);
  // An older (smaller) header arriving late does not lower the count.
  REQUIRE(rl.on_header("X-MBX-USED-WEIGHT-1M", "850", t + ms(5)));
  CHECK(rl.used_weight_1m(t + ms(5)) == 900);
  // New window: count resets.
  const Nanos next = (t / minute + 1) * minute;
  CHECK(rl.used_weight_1m(next) == 0);
  CHECK(rl.can_send(21, next) == RateDecision::Ok);
  CHECK_FALSE(rl.on_header("Content-Type", "application/json", t));
  CHECK_FALSE(rl.on_header("X-MBX-USED-WEIGHT-1X", "5", t));
}

TEST_CASE("order count headers and 10-second windows", "[exchange][ratelimit]") {
  const Nanos ten = 10 * kNanosPerSecond;
  const Nanos t = (kT / ten) * ten + 3 * kNanosPerSecond;
  RateLimitTracker rl(1.0);  // defaults: ORDERS 50/10s
  REQUIRE(rl.on_header("X-MBX-ORDER-COUNT-10S", "49", t));
  REQUIRE(rl.on_header("X-MBX-ORDER-COUNT-1D", "4043", t));
  CHECK(rl.can_send(1, t, 1) == RateDecision::Ok);
  rl.on_sent(1, t, 1);
  CHECK(rl.can_send(1, t, 1) == RateDecision::OrdersExhausted);
  CHECK(rl.can_send(4, t, 0) == RateDecision::Ok);  // non-order requests are not held back
  CHECK(rl.delay_until(1, t, 1) == (t / ten + 1) * ten);
}

TEST_CASE("429 Retry-After blocks all REST, 418 bans until Retry-After", "[exchange][ratelimit]") {
  RateLimitTracker rl;
  rl.on_http_status(429, 7, kT);
  CHECK(rl.can_send(1, kT + ms(6999)) == RateDecision::Throttled429);
  CHECK(rl.delay_until(1, kT) == kT + 7 * kNanosPerSecond);
  CHECK(rl.can_send(1, kT + 7 * kNanosPerSecond) == RateDecision::Ok);

  rl.on_http_status(418, 120, kT);
  CHECK(rl.banned(kT + 119 * kNanosPerSecond));
  CHECK(rl.can_send(1, kT + 119 * kNanosPerSecond) == RateDecision::Banned418);
  CHECK(rl.can_send(1, kT + 120 * kNanosPerSecond) == RateDecision::Ok);
  rl.on_http_status(500, 3, kT);  // other statuses do not block
  CHECK(rl.can_send(1, kT + 120 * kNanosPerSecond) == RateDecision::Ok);
}

TEST_CASE("WS API 418 retryAfter is an epoch-ms timestamp", "[exchange][ratelimit]") {
  RateLimitTracker rl;
  const Nanos now = ms(1659142907531);
  rl.on_ws_api_status(418, 1659146400000, now);
  CHECK(rl.can_send(1, ms(1659146399999)) == RateDecision::Banned418);
  CHECK(rl.can_send(1, ms(1659146400000)) == RateDecision::Ok);
  CHECK(rl.blocked_until() == ms(1659146400000));
}

TEST_CASE("WS API rateLimits arrays update limits and counts", "[exchange][ratelimit]") {
  RateLimitTracker rl(1.0);
  const Nanos now = ms(1655716096505);
  const RateLimitUsage usage[] = {
      {{RateLimitType::Orders, IntervalUnit::Second, 10, 50}, 12},
      {{RateLimitType::Orders, IntervalUnit::Day, 1, 160000}, 4043},
      {{RateLimitType::RequestWeight, IntervalUnit::Minute, 1, 6000}, 5999},
  };
  rl.on_usage(usage, 3, now);
  CHECK(rl.used_weight_1m(now) == 5999);
  CHECK(rl.can_send(1, now) == RateDecision::Ok);
  CHECK(rl.can_send(2, now) == RateDecision::WeightExhausted);
}
