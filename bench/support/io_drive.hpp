// drive_until: runs an io_context's handlers one at a time until `done()` or `limit` passes, so
// a benchmark's thread returns to the timed work as soon as the exchange's answer is in (and
// stays busy between samples, the way the trading thread is between market events).
#pragma once

#include <chrono>

#include <boost/asio/io_context.hpp>

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

}  // namespace tb::bench
