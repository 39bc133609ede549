#include "tradingbot/net/event_loop.hpp"

#include <pthread.h>
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace tb::net {

std::size_t run_event_loop(boost::asio::io_context& ioc, WaitPolicy policy) {
  if (policy.spin_ns == 0) return ioc.run();
  // poll() runs every ready handler, then returns; with no work left at all it stops the
  // io_context (as run() would return), which ends the loop. No pause instruction between
  // passes: each pass is already a system call.
  std::size_t handlers = 0;
  if (policy.spin_ns == WaitPolicy::kForever) {
    while (!ioc.stopped()) handlers += ioc.poll();
    return handlers;
  }
  Nanos last_event = monotonic_ns();
  while (!ioc.stopped()) {
    if (const std::size_t ran = ioc.poll(); ran != 0) {
      handlers += ran;
      last_event = monotonic_ns();
    } else if (monotonic_ns() - last_event >= policy.spin_ns) {
      // Quiet for the whole window: sleep until the next event, run it, and spin again.
      handlers += ioc.run_one();
      last_event = monotonic_ns();
    }
  }
  return handlers;
}

Result<bool> pin_current_thread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) {
    return Error{"cpu " + std::to_string(cpu) + " is out of range (0.." + std::to_string(CPU_SETSIZE - 1) + ")"};
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  // pthread_setaffinity_np returns the error number instead of setting errno.
  if (const int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set); rc != 0) {
    return Error{"cannot pin the thread to cpu " + std::to_string(cpu) + ": " + std::strerror(rc) +
                 (rc == EINVAL ? " (no such CPU, or not in the CPUs this process may use)" : "")};
  }
  return true;
}

}  // namespace tb::net
