// How the trading thread waits for its next event.
//
// Blocking (the default): io_context::run() sleeps in epoll_wait until a socket, timer or post
// wakes it. The core is free for the HTTP, store and log threads, but every market frame that
// finds the thread asleep pays the kernel's wake-up first, and on a virtual machine that is the
// largest part of tick-to-trade: a halted vCPU has to be woken by the hypervisor
// (bench_tick_to_socket, 2026-12-03, this 2-core VM: 34 us from a frame's arrival to its handler
// starting, against 1.3 us for a thread that busy-polls; the frame's own processing is also
// slower after a sleep, its code and data having left the caches).
//
// Busy-poll (trading.busy_poll): the thread never sleeps. It calls io_context::poll() in a loop,
// each pass an epoll_wait with a zero timeout, so a frame is picked up within one pass. It
// keeps one core at 100% whether the market is busy or not: worth it on a host with a core to
// spare (pin it with trading.cpu, and keep other work off that core with systemd's CPUAffinity=
// or isolcpus), not on a shared 2-core VPS that also serves /health under load.
//
// Either way the loop ends when the io_context runs out of work or is stopped, as run() does.
#pragma once

#include <boost/asio/io_context.hpp>

#include "tradingbot/core/result.hpp"

namespace tb::net {

enum class WaitMode { Blocking, BusyPoll };

// Runs `ioc`'s handlers on the calling thread until it runs out of work or is stopped.
// Returns the number of handlers run.
std::size_t run_event_loop(boost::asio::io_context& ioc, WaitMode mode);

// Pins the calling thread to one CPU (threads it creates afterwards inherit the pin, so call it
// after the other threads have started). An error names the CPU and the system's reason: a CPU
// that does not exist or is outside the process's allowed set (systemd CPUAffinity=, cgroups).
Result<bool> pin_current_thread(int cpu);

}  // namespace tb::net
