// How the trading thread waits for its next event: sleep in the kernel, spin, or spin a while
// and then sleep (trading.busy_poll_us, the EF_POLL_USEC idiom of kernel-bypass stacks).
//
// Sleeping (0, the default): io_context::run() sleeps in epoll_wait until a socket, timer or post
// wakes it. The core is free for the HTTP, store and log threads, but every market frame that
// finds the thread asleep pays the kernel's wake-up first, and on a virtual machine that is the
// largest part of tick-to-trade: a halted vCPU has to be woken by the hypervisor
// (bench_tick_to_socket, 2026-12-03, this 2-core VM: 31-32 us from a frame's delivery to its
// handler starting, against ~1 us for a thread that spins).
//
// Spinning (-1): the thread never sleeps. It calls io_context::poll() in a loop, each pass an
// epoll_wait with a zero timeout, so a frame is picked up within one pass. It keeps one core at
// 100% whether the market is busy or not: worth it on a host with a core to spare (pin it with
// trading.cpu, and keep other work off that core), not on a shared 2-core VPS that also serves
// /health under load.
//
// Spinning for a window (N > 0 microseconds): after each event the thread keeps polling for N us
// before it sleeps. Market events come in bursts (a trade moves the book, the ticker and the
// trade streams together; our own order's ack and execution report follow within a
// millisecond), so the events of a burst after its first are picked up without a wake-up, while
// a quiet market costs no CPU. CPU spent: at most N us per event.
//
// Every mode ends the loop when the io_context runs out of work or is stopped, as run() does.
#pragma once

#include <boost/asio/io_context.hpp>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/result.hpp"

namespace tb::net {

// How long the thread polls after its last event before it sleeps.
struct WaitPolicy {
  static constexpr Nanos kForever = -1;
  Nanos spin_ns = 0;  // 0: sleep at once; kForever: never sleep

  static constexpr WaitPolicy sleep() noexcept { return WaitPolicy{0}; }
  static constexpr WaitPolicy spin() noexcept { return WaitPolicy{kForever}; }
  // From trading.busy_poll_us: -1 spins, 0 sleeps, N > 0 spins N us after each event.
  static constexpr WaitPolicy from_micros(std::int64_t micros) noexcept {
    return WaitPolicy{micros < 0 ? kForever : micros * kNanosPerMicro};
  }
};

// Runs `ioc`'s handlers on the calling thread until it runs out of work or is stopped.
// Returns the number of handlers run.
std::size_t run_event_loop(boost::asio::io_context& ioc, WaitPolicy policy);

// Pins the calling thread to one CPU (threads it creates afterwards inherit the pin, so call it
// after the other threads have started). An error names the CPU and the system's reason: a CPU
// that does not exist or is outside the process's allowed set (systemd CPUAffinity=, cgroups).
Result<bool> pin_current_thread(int cpu);

}  // namespace tb::net
