// drive_until: runs an io_context's handlers one at a time until `done()` or `limit` passes, so
// a benchmark's thread returns to the timed work as soon as the exchange's answer is in (and
// stays busy between samples, the way the trading thread is between market events).
#pragma once

#include <chrono>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace tb::bench {

template <class Done>
bool drive_until(boost::asio::io_context& ioc, Done done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(std::chrono::milliseconds(1));
  }
  return done();
}

// Runs `work` as a handler of `ioc`, the way the daemon's trading thread runs everything: Asio
// recycles handler memory only for a thread inside run() (a completion posted from outside
// allocates, one that a handler posts reuses the thread's cached block). Returns false when
// `work` did not get to run within `limit`.
template <class Work>
bool run_inside(boost::asio::io_context& ioc, Work work, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  bool ran = false;
  boost::asio::post(ioc, [&] {
    work();
    ran = true;
  });
  return drive_until(ioc, [&] { return ran; }, limit);
}

}  // namespace tb::bench
