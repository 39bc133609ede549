// net::run_event_loop under each wait policy (the trading thread's loop) and pin_current_thread.
#include <catch2/catch.hpp>

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tradingbot/net/event_loop.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using tb::net::WaitPolicy;

namespace {

// Stops `ioc` if the test has not finished within the limit, so a broken loop fails instead of
// hanging the suite.
class Watchdog {
 public:
  explicit Watchdog(asio::io_context& ioc) : thread_([this, &ioc] {
      const auto end = std::chrono::steady_clock::now() + 5s;
      while (!done_ && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(1ms);
      if (!done_) {
        fired_ = true;
        ioc.stop();
      }
    }) {}
  ~Watchdog() {
    done_ = true;
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  [[nodiscard]] bool fired() const { return fired_; }

 private:
  std::atomic<bool> done_{false};
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

std::string name(WaitPolicy policy) {
  if (policy.spin_ns == WaitPolicy::kForever) return "spin";
  return policy.spin_ns == 0 ? "sleep" : "spin " + std::to_string(policy.spin_ns / 1000) + " us, then sleep";
}

// CPU time the calling thread has used.
std::chrono::nanoseconds thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

const WaitPolicy kPolicies[] = {WaitPolicy::sleep(), WaitPolicy::spin(), WaitPolicy::from_micros(2000)};

}  // namespace

TEST_CASE("run_event_loop runs posts, timers and other threads' posts until the work runs out", "[net][loop]") {
  for (const WaitPolicy policy : kPolicies) {
    INFO(name(policy));
    asio::io_context ioc;
    Watchdog watchdog(ioc);
    std::vector<int> order;
    auto guard = asio::make_work_guard(ioc);  // alive until the other thread's post has run
    asio::post(ioc, [&] { order.push_back(1); });
    const auto start = std::chrono::steady_clock::now();
    asio::steady_timer timer(ioc, 20ms);
    timer.async_wait([&](const boost::system::error_code& ec) {
      order.push_back(ec ? -3 : 3);
      asio::post(ioc, [&] { order.push_back(4); });  // a handler's own post runs in the same loop
    });
    std::thread other([&] {
      std::this_thread::sleep_for(5ms);
      asio::post(ioc, [&] {
        order.push_back(2);
        guard.reset();
      });
    });
    const std::size_t handlers = tb::net::run_event_loop(ioc, policy);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    other.join();
    CHECK_FALSE(watchdog.fired());
    CHECK(order == std::vector<int>{1, 2, 3, 4});
    CHECK(handlers == 4);
    CHECK(elapsed >= 20ms);  // the timer was waited for, not fired early
    CHECK(ioc.stopped());
  }
}

TEST_CASE("stop() from another thread ends a spinning loop that still has work", "[net][loop]") {
  asio::io_context ioc;
  Watchdog watchdog(ioc);
  auto guard = asio::make_work_guard(ioc);  // never released: only stop() can end the loop
  std::atomic<int> polled{0};
  // A handler that keeps re-posting itself: the loop is never idle and never out of work.
  std::function<void()> again = [&] {
    ++polled;
    asio::post(ioc, again);
  };
  asio::post(ioc, again);
  std::thread stopper([&] {
    std::this_thread::sleep_for(10ms);
    ioc.stop();
  });
  (void)tb::net::run_event_loop(ioc, WaitPolicy::spin());
  stopper.join();
  CHECK_FALSE(watchdog.fired());
  CHECK(ioc.stopped());
  CHECK(polled > 1);
}

TEST_CASE("a spin window sleeps once the window has passed; spinning for ever does not", "[net][loop]") {
  // One timer 300 ms out and nothing else: a thread that spins burns the whole wait, one with a
  // 5 ms window burns about 5 ms and sleeps the rest, one that sleeps burns nearly nothing.
  const auto cpu_while_waiting = [](WaitPolicy policy) {
    asio::io_context ioc;
    Watchdog watchdog(ioc);
    asio::steady_timer timer(ioc, 300ms);
    bool fired = false;
    timer.async_wait([&](const boost::system::error_code& ec) { fired = !ec; });
    const auto before = thread_cpu();
    (void)tb::net::run_event_loop(ioc, policy);
    const auto used = thread_cpu() - before;
    CHECK(fired);
    CHECK_FALSE(watchdog.fired());
    return used;
  };
  const auto spin = cpu_while_waiting(WaitPolicy::spin());
  const auto window = cpu_while_waiting(WaitPolicy::from_micros(5000));
  const auto sleep = cpu_while_waiting(WaitPolicy::sleep());
  INFO("cpu: spin " << spin.count() << " ns, 5 ms window " << window.count() << " ns, sleep " << sleep.count() << " ns");
  CHECK(window < 100ms);
  CHECK(sleep < 50ms);
  CHECK(spin > 2 * window);  // even on a loaded machine the spinner gets far more than 10 ms
}

TEST_CASE("pin_current_thread pins to an allowed CPU and explains a refusal", "[net][loop]") {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
  std::optional<std::size_t> first_allowed;
  std::optional<std::size_t> first_refused;
  for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) {
      if (!first_allowed) first_allowed = cpu;
    } else if (!first_refused) {
      first_refused = cpu;
    }
  }
  REQUIRE(first_allowed);
  // On a thread of its own: a pin is for the life of the thread, and the test runner's thread
  // must keep all its CPUs.
  std::thread pinned([&] {
    const auto ok = tb::net::pin_current_thread(static_cast<int>(*first_allowed));
    CHECK(ok.ok());
    cpu_set_t now;
    CPU_ZERO(&now);
    REQUIRE(pthread_getaffinity_np(pthread_self(), sizeof now, &now) == 0);
    CHECK(CPU_COUNT(&now) == 1);
    CHECK(CPU_ISSET(*first_allowed, &now));
    CHECK(sched_getcpu() == static_cast<int>(*first_allowed));
    if (first_refused) {
      const auto refused = tb::net::pin_current_thread(static_cast<int>(*first_refused));
      REQUIRE_FALSE(refused.ok());
      CHECK(refused.error().message.find("cannot pin the thread to cpu " + std::to_string(*first_refused)) == 0);
      CHECK(refused.error().message.find("no such CPU") != std::string::npos);
      CPU_ZERO(&now);
      REQUIRE(pthread_getaffinity_np(pthread_self(), sizeof now, &now) == 0);
      CHECK(CPU_ISSET(*first_allowed, &now));  // a refused pin leaves the old one in place
    }
    const auto negative = tb::net::pin_current_thread(-1);
    REQUIRE_FALSE(negative.ok());
    CHECK(negative.error().message == "cpu -1 is out of range (0.." + std::to_string(CPU_SETSIZE - 1) + ")");
    CHECK_FALSE(tb::net::pin_current_thread(CPU_SETSIZE).ok());
  });
  pinned.join();
}
