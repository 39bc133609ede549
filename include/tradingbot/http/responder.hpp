// Responder: the completion object of a deferred route (Router::add_deferred). The handler runs
// on the HTTP thread like any other, but instead of filling a Response before returning it keeps
// (moves) the Responder, typically into work posted to the trading thread, and later calls
// complete() from ANY thread with the finished Response. complete() posts the response back to
// the HTTP io_context, which writes it and resumes that connection (pipelined requests behind it
// wait, so responses stay in request order).
//
// Rules (each one is tested in tests/http/test_server.cpp):
//  - complete() takes effect at most once. A second call (misuse) is ignored and returns false;
//    it never writes a second response.
//  - Completing after the client disconnected, after the route's deadline answered 504, or after
//    the server stopped (even after the Server was destroyed) is a safe no-op, counted in
//    ServerStats::deferred_dropped.
//  - If complete() is not called within the route's deadline (default: the server's
//    read_timeout_ms), the client gets 504 {"error":"response deadline exceeded"} and the
//    connection carries on.
//  - A Responder destroyed without complete() (the work was abandoned, e.g. the trading thread's
//    queue was destroyed with the job in it) answers 500 {"error":"internal error"} at once
//    instead of making the client wait for the deadline. (A deferred handler that throws gets
//    its 500 from the router and its Responder is void.)
// A Responder is movable, not copyable; one Responder must not be used by two threads at once
// (hand it over, then forget it). complete() may allocate (one post per deferred response): the
// synchronous routes (/health) never create one.
#pragma once

#include <memory>

#include "tradingbot/http/message.hpp"

namespace tb::http {

namespace detail {
struct DeferredState;
}

class Responder {
 public:
  Responder() = default;  // empty: complete() returns false
  explicit Responder(std::shared_ptr<detail::DeferredState> state) noexcept : state_(std::move(state)) {}
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&& other) noexcept;  // an uncompleted target is abandoned (500)
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // Hands the finished response to the HTTP thread. True when this call was the completion,
  // false when the Responder was already completed (or is empty). Never throws except bad_alloc.
  bool complete(Response response);

  // True until complete() has been called (on this Responder or the one it was moved from).
  [[nodiscard]] bool pending() const noexcept;

 private:
  std::shared_ptr<detail::DeferredState> state_;
};

}  // namespace tb::http
