// Server implementation: `http.threads` workers, each one io_context on one thread with the
// connections it serves; one acceptor (on the first worker) hands each accepted socket to the
// next worker, round-robin, and a Connection lives on its worker's thread only. One Connection
// per client socket. Each Connection runs a strictly sequential cycle (read -> parse every complete
// request in the buffer -> write all their responses with one write -> parse or read again), so
// pipelined requests are answered in order with a single outstanding write per socket and no
// locks. Parsing uses Beast's request parser fed from our own flat_buffer (parser::put), which
// keeps Beast's hardened grammar while letting us batch responses and map each limit to its
// status code. Per-connection buffers, a header arena and the Response object are reused, so a
// warm keep-alive connection serves GET /health without touching the heap.
//
// Deadlines (STYLE.md habit 2) use one steady_timer per connection that is re-armed lazily:
// moving a deadline later only stores a time point; the timer, when it fires early, re-arms
// itself for the current deadline. It is re-armed at once only when a deadline moves earlier.
//   first request / partial request: read_timeout from its first byte (whole request, not per
//                                     byte: a slowloris is cut off)
//   keep-alive between requests:     idle_timeout from the last response written
//   writing:                         read_timeout (a client that does not read is dropped)
//   lingering after an error:        min(read_timeout, 1 s) to drain input so the client sees
//                                     our 4xx instead of a TCP reset
//   awaiting a deferred response:    the route's deadline (default read_timeout), then 504
//
// Deferred responses (responder.hpp): a deferred route puts the connection in the awaiting state
// (no reading, no parsing of pipelined requests behind it, so order is kept). The Responder
// shares a DeferredState holding a weak_ptr to the Connection, the ticket of that request and
// the server's CompletionSink. complete() posts the Response to the HTTP io_context through the
// sink (whose io pointer is cleared, under its mutex, once the HTTP thread has joined, so a late
// completion can never touch a destroyed io_context); on the HTTP thread the Connection accepts
// it only if it is alive and still awaiting that ticket. A timeout or a throwing handler bumps
// the ticket, which voids the Responder.
#include "tradingbot/http/server.hpp"
#include "tradingbot/http/responder.hpp"
#include "tradingbot/core/arena_allocator.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
// GCC 12 reports -Wnull-dereference inside Asio's scheduler and epoll reactor after inlining,
// ignoring that they are system headers; the paths are Asio's own (no frame of ours), so the
// warning is silenced for these includes only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#pragma GCC diagnostic pop
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

namespace tb::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

constexpr std::size_t kReadChunk = 4096;            // bytes asked of one read_some
constexpr std::size_t kArenaBytes = 4096;           // header storage per request before spilling to the heap
constexpr std::size_t kMaxPipelineBatch = 64;       // requests answered per write
constexpr std::size_t kMaxBatchBytes = 64 * 1024;   // response bytes gathered per write
constexpr std::size_t kMaxKeptOutput = 256 * 1024;  // larger output buffers are released after the write
constexpr std::size_t kMaxLingerBytes = 1 << 20;    // input drained after an error before closing
constexpr auto kStopGrace = std::chrono::seconds(1);
constexpr auto kMaxLinger = std::chrono::seconds(1);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);

// Bump allocator for one request's header fields. Everything is freed when the parser is
// destroyed, at which point the arena rewinds; a request with unusually large headers spills
// to the heap instead of failing.
class RequestArena {
 public:
  explicit RequestArena(std::size_t capacity)
      : storage_(std::make_unique<unsigned char[]>(capacity)), capacity_(capacity) {}

  void* allocate(std::size_t bytes, std::size_t alignment) {
    const std::size_t offset = (used_ + alignment - 1) & ~(alignment - 1);
    if (bytes <= capacity_ && offset <= capacity_ - bytes) {
      used_ = offset + bytes;
      ++live_;
      return storage_.get() + offset;
    }
    return ::operator new(bytes);
  }

  void deallocate(void* pointer, std::size_t /*alignment*/) noexcept {
    const auto* p = static_cast<const unsigned char*>(pointer);
    if (p >= storage_.get() && p < storage_.get() + capacity_) {
      if (--live_ == 0) used_ = 0;
      return;
    }
    ::operator delete(pointer);
  }

 private:
  std::unique_ptr<unsigned char[]> storage_;
  std::size_t capacity_;
  std::size_t used_ = 0;
  std::size_t live_ = 0;
};

using RequestParser = bhttp::request_parser<bhttp::string_body, ArenaAllocator<char, RequestArena>>;

std::chrono::milliseconds clamp_ms(std::int64_t ms) { return std::chrono::milliseconds(std::max<std::int64_t>(ms, 1)); }

struct Limits {
  explicit Limits(const config::HttpConfig& config)
      : max_connections(static_cast<std::size_t>(std::max<std::int64_t>(config.max_connections, 1))),
        header_limit(static_cast<std::uint32_t>(std::clamp<std::int64_t>(config.header_limit_bytes, 256, 1 << 24))),
        body_limit(static_cast<std::uint64_t>(std::max<std::int64_t>(config.body_limit_bytes, 0))),
        read_timeout(clamp_ms(config.read_timeout_ms)),
        idle_timeout(clamp_ms(config.idle_timeout_ms)),
        write_timeout(read_timeout),
        linger_timeout(std::min<Clock::duration>(read_timeout, kMaxLinger)) {}

  std::size_t max_connections;
  std::uint32_t header_limit;
  std::uint64_t body_limit;
  Clock::duration read_timeout;
  Clock::duration idle_timeout;
  Clock::duration write_timeout;
  Clock::duration linger_timeout;
};

// Counters written only by one worker's thread and read by stats() from any thread.
struct Counters {
  std::atomic<std::uint64_t> requests{0};
  std::array<std::atomic<std::uint64_t>, 5> responses_by_class{};
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::uint64_t> bad_requests{0};
  std::atomic<std::uint64_t> read_timeouts{0};
  std::atomic<std::uint64_t> idle_timeouts{0};
  std::atomic<std::uint64_t> write_timeouts{0};
  std::atomic<std::uint64_t> handler_errors{0};
  std::atomic<std::uint64_t> accept_errors{0};
  std::atomic<std::uint64_t> internal_errors{0};
  std::atomic<std::uint64_t> deferred_requests{0};
  std::atomic<std::uint64_t> deferred_timeouts{0};
};

void bump(std::atomic<std::uint64_t>& counter) noexcept { counter.fetch_add(1, std::memory_order_relaxed); }
std::uint64_t read(const std::atomic<std::uint64_t>& counter) noexcept {
  return counter.load(std::memory_order_relaxed);
}

std::string json_error_response(int status, std::string_view reason, std::string_view message) {
  std::string body = "{\"error\":\"" + std::string(message) + "\"}";
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

std::string_view reason_phrase(int status) noexcept {
  const std::string_view reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
  return reason.empty() || reason.front() == '<' ? std::string_view("Unknown") : reason;
}

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

}  // namespace

class Connection;

// Outlives the ServerCore: every Responder keeps it alive. `io` is the HTTP io_context while the
// HTTP thread may still run handlers, null afterwards. Any thread, under `mutex`.
struct CompletionSink {
  std::mutex mutex;
  asio::io_context* io = nullptr;
  std::atomic<std::uint64_t> dropped{0};
};

struct DeferredState {
  std::atomic<bool> completed{false};
  std::shared_ptr<CompletionSink> sink;
  std::weak_ptr<Connection> connection;
  std::uint64_t ticket = 0;
};

// Any thread: hands `response` to the HTTP thread for the request `state` stands for.
void post_completion(std::shared_ptr<DeferredState> state, Response response, bool abandoned);

class ServerCore;

// One HTTP thread: its own io_context, the connections it serves, its counters and the sink
// deferred completions are posted through. A Connection touches only its Worker (and, read-only,
// the limits and router of the ServerCore), so workers share nothing mutable but the connection
// count. Only start_thread(), post_stop(), join(), detach_sink() and the const accessors are
// called from other threads.
class Worker {
 public:
  Worker(ServerCore& core, std::size_t index);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // This worker's thread only.
  [[nodiscard]] const Limits& limits() const noexcept;
  [[nodiscard]] const Router& router() const noexcept;
  [[nodiscard]] Counters& counters() noexcept { return counters_; }
  [[nodiscard]] const std::shared_ptr<CompletionSink>& completion_sink() const noexcept { return sink_; }
  [[nodiscard]] bool stopping() const noexcept { return stopping_; }
  [[nodiscard]] std::string_view date_line() const noexcept { return {date_line_.data(), date_length_}; }
  void register_connection(Connection* connection) noexcept;
  void unregister_connection(Connection* connection) noexcept;

  // Any thread. adopt(): the socket was accepted onto this worker's io_context; the Connection is
  // created and started on its thread.
  [[nodiscard]] asio::io_context& io() noexcept { return io_; }
  [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint64_t deferred_dropped() const noexcept { return read(sink_->dropped); }
  void adopt(tcp::socket socket);
  void start_thread();
  void post_stop();
  [[nodiscard]] bool is_current_thread() const noexcept { return std::this_thread::get_id() == thread_.get_id(); }
  void join();
  void detach_sink();  // after join(): later completions are dropped, never posted to a dead io

 private:
  void run();
  void begin_stop();
  void update_date_line() noexcept;
  void do_date_tick();

  ServerCore& core_;
  std::size_t index_;
  alignas(64) Counters counters_;  // own cache lines: workers never write each other's
  std::shared_ptr<CompletionSink> sink_ = std::make_shared<CompletionSink>();
  std::array<char, 64> date_line_{};
  std::size_t date_length_ = 0;
  Connection* connections_ = nullptr;  // intrusive list of this worker's live connections
  bool stopping_ = false;

  // Declared last so they are destroyed first, while the state above is still alive for any
  // Connection released by the io_context's destructor.
  asio::io_context io_{1};
  asio::steady_timer date_timer_{io_};
  std::thread thread_;
};

// The server: shared read-only state (limits, router), one acceptor on the first worker's
// io_context handing accepted sockets round-robin to `http.threads` workers, and the connection
// cap. One acceptor rather than SO_REUSEPORT sockets per worker, so a second daemon started by
// mistake still fails to bind instead of silently taking half of the connections.
class ServerCore {
 public:
  ServerCore(const config::HttpConfig& config, Router router)
      : config_(config), limits_(config), router_(std::move(router)),
        reject_response_(json_error_response(503, "Service Unavailable", "too many connections")) {}

  ~ServerCore() { stop(); }

  Result<std::uint16_t> start();
  void stop();

  // Any thread.
  [[nodiscard]] std::uint16_t port() const noexcept { return port_.load(std::memory_order_acquire); }
  [[nodiscard]] bool running() const noexcept { return running_.load(std::memory_order_acquire); }
  [[nodiscard]] ServerStats stats() const noexcept;
  [[nodiscard]] const Limits& limits() const noexcept { return limits_; }
  [[nodiscard]] const Router& router() const noexcept { return router_; }
  // Connections open or accepted and on their way to a worker (the cap counts both).
  void connection_closed() noexcept { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  void mark_stopped() noexcept { running_.store(false, std::memory_order_release); }

 private:
  // The acceptor's (first worker's) thread.
  void do_accept();
  void on_accept(const error_code& ec, Worker& worker, tcp::socket socket);
  void reject(tcp::socket& socket);
  void stop_accepting();

  config::HttpConfig config_;
  Limits limits_;
  Router router_;
  const std::string reject_response_;
  std::atomic<std::size_t> open_connections_{0};
  std::size_t next_worker_ = 0;  // acceptor thread: round-robin
  bool accepting_ = false;       // acceptor thread
  std::atomic<std::uint16_t> port_{0};
  std::atomic<bool> running_{false};
  std::mutex lifecycle_mutex_;  // serialises start() and stop()
  bool started_ = false;

  // Destroyed in reverse order: the acceptor and its retry timer (bound to the first worker's
  // io_context) before the workers, the workers before the state above.
  std::vector<std::unique_ptr<Worker>> workers_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> accept_retry_timer_;
};

class Connection : public std::enable_shared_from_this<Connection>, public DeferredStarter {
 public:
  Connection(Worker& worker, tcp::socket socket)
      : worker_(worker),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        in_(worker.limits().header_limit + kReadChunk),
        arena_(kArenaBytes) {
    worker_.register_connection(this);
  }

  ~Connection() { worker_.unregister_connection(this); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start();
  void on_server_stop();

  // HTTP thread (the router, from handle_request).
  Responder begin_deferred(std::chrono::milliseconds deadline) override;
  // HTTP thread: the posted completion of ticket `ticket`. False when it came too late.
  bool finish_deferred(std::uint64_t ticket, Response& response, bool abandoned);

  Connection* prev = nullptr;  // its Worker's intrusive list
  Connection* next = nullptr;

 private:
  enum class Phase { Reading, Idle, Writing, Lingering, Awaiting, Closed };

  void do_read();
  void on_read(const error_code& ec, std::size_t bytes);
  void process();
  void handle_request();
  void fail_request(int status, std::string_view message);
  void append_response(const Response& response, bool head, bool keep_alive, unsigned version);
  void append_deferred(const Response& response);
  void on_deferred_timeout();
  void do_write();
  void on_write(const error_code& ec, std::size_t bytes);
  void do_linger();
  void do_linger_read();
  void on_linger_read(const error_code& ec, std::size_t bytes);
  void set_deadline(Phase phase, Clock::time_point deadline);
  void arm_timer();
  void on_deadline(const error_code& ec, std::uint64_t generation);
  void new_parser();
  void close() noexcept;

  Worker& worker_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  beast::flat_buffer in_;
  RequestArena arena_;
  std::optional<RequestParser> parser_;
  Request request_;
  Response response_;
  std::string out_;
  std::string remote_address_;
  std::uint16_t remote_port_ = 0;

  // The deferred request being awaited (at most one per connection: later ones wait in in_).
  bool awaiting_ = false;
  bool deferred_ready_ = false;      // completed while a write was in flight: kept in deferred_response_
  std::uint64_t deferred_ticket_ = 0;  // bumped per deferred request and to void one
  Clock::time_point awaiting_deadline_{};
  bool deferred_head_ = false;
  bool deferred_keep_alive_ = true;
  unsigned deferred_version_ = 11;
  Response deferred_response_;

  Phase phase_ = Phase::Reading;
  bool request_in_progress_ = true;  // bytes of an unanswered request have arrived (or: fresh connection)
  bool close_after_write_ = false;
  bool continue_sent_ = false;
  Clock::time_point request_started_{};
  Clock::time_point idle_since_{};
  std::size_t linger_budget_ = 0;

  Clock::time_point deadline_{};
  Clock::time_point timer_expiry_{};
  bool timer_pending_ = false;
  std::uint64_t timer_generation_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Connection

void Connection::start() {
  error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  const tcp::endpoint remote = socket_.remote_endpoint(ec);
  if (ec) {
    close();
    return;
  }
  remote_address_ = remote.address().to_string();
  remote_port_ = remote.port();
  request_in_progress_ = true;  // a new connection must deliver its first request within read_timeout
  request_started_ = Clock::now();
  new_parser();
  do_read();
}

void Connection::on_server_stop() {
  if (phase_ == Phase::Closed) return;
  awaiting_ = false;
  ++deferred_ticket_;  // a completion still to come is dropped
  if (phase_ == Phase::Writing) {
    deferred_ready_ = false;
    close_after_write_ = true;
    set_deadline(Phase::Writing, std::min(deadline_, Clock::now() + kStopGrace));
    return;
  }
  close();
}

void Connection::new_parser() {
  parser_.reset();  // frees every field; the arena rewinds
  parser_.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(ArenaAllocator<char, RequestArena>(arena_)));
  parser_->header_limit(worker_.limits().header_limit);
  parser_->body_limit(worker_.limits().body_limit);
  parser_->eager(true);
  continue_sent_ = false;
}

void Connection::do_read() {
  const Limits& limits = worker_.limits();
  if (request_in_progress_) {
    set_deadline(Phase::Reading, request_started_ + limits.read_timeout);
  } else {
    set_deadline(Phase::Idle, idle_since_ + limits.idle_timeout);
  }
  const std::size_t room = in_.max_size() - in_.size();  // > 0: process() rejects a full buffer
  socket_.async_read_some(in_.prepare(std::min(room, kReadChunk)),
                          [self = shared_from_this()](const error_code& ec, std::size_t bytes) {
                            self->on_read(ec, bytes);
                          });
}

void Connection::on_read(const error_code& ec, std::size_t bytes) {
  if (phase_ == Phase::Closed) return;
  if (ec) {
    // EOF, reset or cancellation: every complete request was already answered.
    close();
    return;
  }
  if (!request_in_progress_) {
    request_in_progress_ = true;
    request_started_ = Clock::now();
  }
  in_.commit(bytes);
  process();
}

void Connection::process() {
  if (deferred_ready_) {
    deferred_ready_ = false;
    append_deferred(deferred_response_);
  }
  std::size_t answered = 0;
  while (!close_after_write_ && !awaiting_ && in_.size() > 0 && answered < kMaxPipelineBatch && out_.size() < kMaxBatchBytes) {
    error_code ec;
    const std::size_t consumed = parser_->put(in_.data(), ec);
    in_.consume(consumed);
    if (ec == bhttp::error::need_more) break;
    if (ec == bhttp::error::header_limit) {
      fail_request(431, "request header fields too large");
      break;
    }
    if (ec == bhttp::error::body_limit) {
      fail_request(413, "request body too large");
      break;
    }
    if (ec) {
      fail_request(400, "bad request");
      break;
    }
    if (!parser_->is_done()) {
      if (consumed == 0) break;  // cannot happen with eager parsing; never spin
      continue;
    }
    handle_request();
    ++answered;
    request_in_progress_ = in_.size() > 0;  // the next pipelined request has begun
    if (request_in_progress_) request_started_ = Clock::now();
  }

  if (!close_after_write_ && !awaiting_ && !parser_->is_done() && parser_->got_some()) {
    if (parser_->is_header_done() && !continue_sent_ && parser_->get().version() == 11 &&
        ascii_iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
      out_.append("HTTP/1.1 100 Continue\r\n\r\n");
      continue_sent_ = true;
    }
    if (in_.size() >= in_.max_size()) {  // an incomplete line fills the whole buffer
      if (parser_->is_header_done()) {
        fail_request(400, "bad request");
      } else {
        fail_request(431, "request header fields too large");
      }
    }
  }

  if (!out_.empty()) {
    do_write();
  } else if (close_after_write_) {
    close();
  } else if (awaiting_) {
    set_deadline(Phase::Awaiting, awaiting_deadline_);  // no reading until it is answered
  } else {
    do_read();
  }
}

void Connection::handle_request() {
  auto& message = parser_->get();
  // RFC 9112 section 6.3: a request Transfer-Encoding whose final coding is not chunked has no
  // knowable length. Beast treats it as bodiless, which would let the body be read as another
  // request (smuggling); refuse it and close instead.
  if (!message.chunked() && message.find(bhttp::field::transfer_encoding) != message.end()) {
    fail_request(400, "bad request");
    return;
  }
  request_.reset(message.method_string(), message.target(), static_cast<int>(message.version()), message.keep_alive(),
                 message.body());
  for (const auto& field : message) request_.add_header(field.name_string(), field.value());
  request_.set_remote(remote_address_, remote_port_);
  response_.reset();

  Counters& counters = worker_.counters();
  bump(counters.requests);
  const DispatchOutcome outcome = worker_.router().dispatch(request_, response_, this);
  if (outcome == DispatchOutcome::HandlerFailed) {
    bump(counters.handler_errors);
    if (awaiting_) {  // a deferred handler threw: answer the router's 500 now, void its Responder
      awaiting_ = false;
      ++deferred_ticket_;
    }
  }
  if (outcome == DispatchOutcome::Deferred) {
    deferred_head_ = request_.method() == Method::Head;
    deferred_keep_alive_ = message.keep_alive();
    deferred_version_ = message.version();
    new_parser();  // the request's views die here; the handler copied what it needs
    return;
  }

  const bool keep_alive = message.keep_alive() && !response_.close_connection && !worker_.stopping();
  append_response(response_, request_.method() == Method::Head, keep_alive, message.version());
  if (!keep_alive) close_after_write_ = true;
  new_parser();  // the request's views die here
}

Responder Connection::begin_deferred(std::chrono::milliseconds deadline) {
  auto state = std::make_shared<DeferredState>();
  state->sink = worker_.completion_sink();
  state->connection = weak_from_this();
  state->ticket = ++deferred_ticket_;
  awaiting_ = true;
  awaiting_deadline_ = Clock::now() + (deadline.count() > 0 ? Clock::duration(deadline) : worker_.limits().read_timeout);
  bump(worker_.counters().deferred_requests);
  return Responder(std::move(state));
}

bool Connection::finish_deferred(std::uint64_t ticket, Response& response, bool abandoned) {
  if (phase_ == Phase::Closed || !awaiting_ || ticket != deferred_ticket_) return false;
  awaiting_ = false;
  if (abandoned) bump(worker_.counters().handler_errors);
  if (phase_ == Phase::Awaiting) {
    append_deferred(response);
    process();  // writes it, together with any pipelined requests already buffered behind it
  } else {
    // A write of earlier responses is in flight (out_ is in use): on_write -> process() appends it.
    std::swap(deferred_response_, response);
    deferred_ready_ = true;
  }
  return true;
}

void Connection::append_deferred(const Response& response) {
  const bool keep_alive = deferred_keep_alive_ && !response.close_connection && !worker_.stopping();
  append_response(response, deferred_head_, keep_alive, deferred_version_);
  if (!keep_alive) close_after_write_ = true;
  // Pipelined requests that waited behind this one get a fresh whole-request deadline.
  request_in_progress_ = in_.size() > 0;
  request_started_ = Clock::now();
}

void Connection::on_deferred_timeout() {
  bump(worker_.counters().deferred_timeouts);
  awaiting_ = false;
  ++deferred_ticket_;  // the late completion is dropped and counted
  response_.reset();
  response_.set_error(504, "response deadline exceeded");
  append_deferred(response_);
  process();
}

void Connection::fail_request(int status, std::string_view message) {
  bump(worker_.counters().bad_requests);
  response_.reset();
  response_.set_error(status, message);
  append_response(response_, false, false, 11);
  close_after_write_ = true;
}

void Connection::append_response(const Response& response, bool head, bool keep_alive, unsigned version) {
  int status = response.status;
  if (status < 100 || status > 599) status = 500;
  const bool bodiless = status < 200 || status == 204 || status == 304;

  std::string& out = out_;
  char number[24];
  out.append("HTTP/1.1 ", 9);
  auto result = std::to_chars(number, number + sizeof number, status);
  out.append(number, static_cast<std::size_t>(result.ptr - number)).push_back(' ');
  out.append(reason_phrase(status)).append("\r\n", 2);
  out.append(worker_.date_line());
  if (!bodiless) {
    const std::string_view type = response.content_type;
    if (!type.empty() && type.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos) {
      out.append("Content-Type: ", 14).append(type).append("\r\n", 2);
    }
    out.append("Content-Length: ", 16);
    result = std::to_chars(number, number + sizeof number, response.body.size());
    out.append(number, static_cast<std::size_t>(result.ptr - number)).append("\r\n", 2);
  }
  out.append(response.extra_headers());
  if (!keep_alive) {
    out.append("Connection: close\r\n", 19);
  } else if (version == 10) {
    out.append("Connection: keep-alive\r\n", 24);
  }
  out.append("\r\n", 2);
  if (!head && !bodiless) out.append(response.body);
  bump(worker_.counters().responses_by_class[static_cast<std::size_t>(status / 100 - 1)]);
}

void Connection::do_write() {
  set_deadline(Phase::Writing, Clock::now() + worker_.limits().write_timeout);
  asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this()](const error_code& ec, std::size_t bytes) {
    self->on_write(ec, bytes);
  });
}

void Connection::on_write(const error_code& ec, std::size_t /*bytes*/) {
  if (phase_ == Phase::Closed) return;
  if (ec) {
    close();
    return;
  }
  out_.clear();
  if (out_.capacity() > kMaxKeptOutput) std::string().swap(out_);  // one huge /status must not pin memory
  if (close_after_write_) {
    if (worker_.stopping()) {
      close();
    } else {
      do_linger();
    }
    return;
  }
  idle_since_ = Clock::now();
  process();  // more pipelined requests may already be buffered
}

void Connection::do_linger() {
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    close();
    return;
  }
  set_deadline(Phase::Lingering, Clock::now() + worker_.limits().linger_timeout);
  in_.consume(in_.size());
  linger_budget_ = kMaxLingerBytes;
  do_linger_read();
}

void Connection::do_linger_read() {
  socket_.async_read_some(in_.prepare(kReadChunk), [self = shared_from_this()](const error_code& ec, std::size_t bytes) {
    self->on_linger_read(ec, bytes);
  });
}

void Connection::on_linger_read(const error_code& ec, std::size_t bytes) {
  if (phase_ == Phase::Closed) return;
  if (ec || bytes >= linger_budget_) {
    close();
    return;
  }
  linger_budget_ -= bytes;  // discarded: prepare() hands out the same space again
  do_linger_read();
}

void Connection::set_deadline(Phase phase, Clock::time_point deadline) {
  phase_ = phase;
  deadline_ = deadline;
  if (!timer_pending_ || deadline_ < timer_expiry_) arm_timer();
}

void Connection::arm_timer() {
  timer_.expires_at(deadline_);  // cancels a pending wait; its handler sees an old generation
  timer_expiry_ = deadline_;
  timer_pending_ = true;
  const std::uint64_t generation = ++timer_generation_;
  timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) { self->on_deadline(ec, generation); });
}

void Connection::on_deadline(const error_code& ec, std::uint64_t generation) {
  if (generation != timer_generation_) return;  // superseded by a re-arm
  timer_pending_ = false;
  if (ec || phase_ == Phase::Closed) return;
  if (Clock::now() < deadline_) {
    arm_timer();  // the deadline moved later since this wait was armed
    return;
  }
  if (phase_ == Phase::Awaiting) {
    on_deferred_timeout();
    return;
  }
  Counters& counters = worker_.counters();
  switch (phase_) {
    case Phase::Reading:
      bump(counters.read_timeouts);
      break;
    case Phase::Idle:
      bump(counters.idle_timeouts);
      break;
    case Phase::Writing:
      bump(counters.write_timeouts);
      break;
    case Phase::Lingering:
    case Phase::Awaiting:
    case Phase::Closed:
      break;
  }
  close();
}

void Connection::close() noexcept {
  if (phase_ == Phase::Closed) return;
  phase_ = Phase::Closed;
  error_code ignored;
  socket_.close(ignored);  // pending read/write complete with operation_aborted
  timer_.cancel();
}

// ---------------------------------------------------------------------------------------------
// Worker

Worker::Worker(ServerCore& core, std::size_t index) : core_(core), index_(index) {}

const Limits& Worker::limits() const noexcept { return core_.limits(); }
const Router& Worker::router() const noexcept { return core_.router(); }

void Worker::adopt(tcp::socket socket) {
  asio::post(io_, [this, socket = std::move(socket)]() mutable {
    if (stopping_) {
      error_code ignored;
      socket.close(ignored);
      core_.connection_closed();
      return;
    }
    std::make_shared<Connection>(*this, std::move(socket))->start();
  });
}

void Worker::start_thread() {
  {
    const std::lock_guard sink_lock(sink_->mutex);
    sink_->io = &io_;
  }
  update_date_line();
  do_date_tick();
  thread_ = std::thread([this] { run(); });
}

void Worker::post_stop() {
  asio::post(io_, [this] { begin_stop(); });
}

void Worker::join() {
  if (thread_.joinable() && !is_current_thread()) thread_.join();
}

void Worker::detach_sink() {
  const std::lock_guard sink_lock(sink_->mutex);
  sink_->io = nullptr;
}

void Worker::run() {
  const std::string name = index_ == 0 ? std::string("tb-http") : "tb-http-" + std::to_string(index_);
  pthread_setname_np(pthread_self(), name.c_str());
  for (;;) {
    try {
      io_.run();
      break;
    } catch (...) {
      // A handler outside the router's try (e.g. bad_alloc while buffering) unwound run();
      // the connection involved is gone, everyone else carries on.
      bump(counters_.internal_errors);
    }
  }
  if (index_ == 0) core_.mark_stopped();
}

void Worker::begin_stop() {
  stopping_ = true;
  date_timer_.cancel();
  for (Connection* connection = connections_; connection != nullptr; connection = connection->next) {
    connection->on_server_stop();  // never destroys synchronously: handlers hold the references
  }
}

void Worker::register_connection(Connection* connection) noexcept {
  connection->next = connections_;
  if (connections_ != nullptr) connections_->prev = connection;
  connections_ = connection;
  bump(counters_.connections_accepted);
}

void Worker::unregister_connection(Connection* connection) noexcept {
  if (connection->prev != nullptr) connection->prev->next = connection->next;
  if (connection->next != nullptr) connection->next->prev = connection->prev;
  if (connections_ == connection) connections_ = connection->next;
  core_.connection_closed();
}

void Worker::update_date_line() noexcept {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  // RFC 9110 IMF-fixdate, formatted by hand so the process locale cannot change it.
  const int written = std::snprintf(date_line_.data(), date_line_.size(), "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                                    kDays[utc.tm_wday % 7], utc.tm_mday, kMonths[utc.tm_mon % 12], utc.tm_year + 1900,
                                    utc.tm_hour, utc.tm_min, utc.tm_sec);
  date_length_ = written > 0 ? std::min(static_cast<std::size_t>(written), date_line_.size() - 1) : 0;
}

void Worker::do_date_tick() {
  date_timer_.expires_after(std::chrono::seconds(1));
  date_timer_.async_wait([this](const error_code& ec) {
    if (ec || stopping_) return;
    update_date_line();
    do_date_tick();
  });
}

// ---------------------------------------------------------------------------------------------
// ServerCore

Result<std::uint16_t> ServerCore::start() {
  const std::lock_guard lock(lifecycle_mutex_);
  if (started_) return Error{"http: server already started"};

  const std::string& host = config_.listen_host;
  const std::string where = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                            std::to_string(config_.listen_port);
  const std::size_t threads = static_cast<std::size_t>(std::clamp<std::int64_t>(config_.threads, 1, 64));
  for (std::size_t i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>(*this, i));
  asio::io_context& accept_io = workers_.front()->io();
  acceptor_.emplace(accept_io);
  accept_retry_timer_.emplace(accept_io);
  // A failed start leaves nothing behind (the acceptor first: it lives on a worker's io_context).
  const auto abandon = [&](std::string message) -> Result<std::uint16_t> {
    accept_retry_timer_.reset();
    acceptor_.reset();
    workers_.clear();
    return Error{std::move(message)};
  };

  error_code ec;
  tcp::endpoint endpoint;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, config_.listen_port);
  } else {
    tcp::resolver resolver(accept_io);
    const auto results = resolver.resolve(host, std::to_string(config_.listen_port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return abandon("http: cannot resolve listen address " + where + ": " + (ec ? ec.message() : "no address"));
    }
    endpoint = results.begin()->endpoint();
  }

  const auto fail = [&](std::string_view step) {
    return abandon("http: cannot " + std::string(step) + " " + where + ": " + ec.message());
  };
  acceptor_->open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  // Lets a restarted daemon bind while old connections sit in TIME_WAIT; on Linux it still
  // refuses a port another socket is listening on.
  acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR on");
  acceptor_->bind(endpoint, ec);
  if (ec) return fail("listen on");
  acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  const std::uint16_t bound = acceptor_->local_endpoint(ec).port();
  if (ec) return fail("read the bound port of");

  started_ = true;
  port_.store(bound, std::memory_order_release);
  running_.store(true, std::memory_order_release);
  accepting_ = true;
  do_accept();
  for (auto& worker : workers_) worker->start_thread();
  return bound;
}

void ServerCore::stop() {
  const std::lock_guard lock(lifecycle_mutex_);
  if (!started_ || workers_.empty()) return;
  // The acceptor lives on the first worker's thread: closed there, before the workers stop.
  asio::post(workers_.front()->io(), [this] { stop_accepting(); });
  for (auto& worker : workers_) worker->post_stop();
  // Called from a handler (misuse): a thread cannot join itself; the loops wind down and the
  // destructor, on the owning thread, joins them.
  for (auto& worker : workers_) {
    if (worker->is_current_thread()) return;
  }
  for (auto& worker : workers_) worker->join();
  running_.store(false, std::memory_order_release);
  // From here on a completion (from any thread) is dropped instead of posted to an io_context
  // the destructor is about to destroy.
  for (auto& worker : workers_) worker->detach_sink();
}

void ServerCore::stop_accepting() {
  accepting_ = false;
  error_code ignored;
  acceptor_->close(ignored);
  accept_retry_timer_->cancel();
}

void ServerCore::do_accept() {
  // The socket is created on the io_context of the worker whose turn it is; the handler runs on
  // the acceptor's (first worker's) thread.
  Worker& worker = *workers_[next_worker_];
  acceptor_->async_accept(worker.io(), [this, &worker](const error_code& ec, tcp::socket socket) {
    on_accept(ec, worker, std::move(socket));
  });
}

void ServerCore::on_accept(const error_code& ec, Worker& worker, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !accepting_) return;
  if (ec) {
    // Typically EMFILE: back off briefly instead of spinning on a failing accept().
    bump(workers_.front()->counters().accept_errors);
    accept_retry_timer_->expires_after(kAcceptRetryDelay);
    accept_retry_timer_->async_wait([this](const error_code& wait_ec) {
      if (!wait_ec && accepting_) do_accept();
    });
    return;
  }
  next_worker_ = (next_worker_ + 1) % workers_.size();
  if (open_connections_.fetch_add(1, std::memory_order_relaxed) >= limits_.max_connections) {
    open_connections_.fetch_sub(1, std::memory_order_relaxed);
    reject(socket);
  } else {
    worker.adopt(std::move(socket));
  }
  do_accept();
}

void ServerCore::reject(tcp::socket& socket) {
  bump(workers_.front()->counters().connections_rejected);
  // Best effort, never blocking: a fresh socket's send buffer always takes these few bytes.
  error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(reject_response_), ignored);
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

ServerStats ServerCore::stats() const noexcept {
  ServerStats s;
  for (const auto& worker : workers_) {
    const Counters& c = worker->counters();
    s.requests += read(c.requests);
    for (std::size_t i = 0; i < s.responses_by_class.size(); ++i) s.responses_by_class[i] += read(c.responses_by_class[i]);
    s.connections_accepted += read(c.connections_accepted);
    s.connections_rejected += read(c.connections_rejected);
    s.bad_requests += read(c.bad_requests);
    s.read_timeouts += read(c.read_timeouts);
    s.idle_timeouts += read(c.idle_timeouts);
    s.write_timeouts += read(c.write_timeouts);
    s.handler_errors += read(c.handler_errors);
    s.accept_errors += read(c.accept_errors);
    s.internal_errors += read(c.internal_errors);
    s.deferred_requests += read(c.deferred_requests);
    s.deferred_timeouts += read(c.deferred_timeouts);
    s.deferred_dropped += worker->deferred_dropped();
  }
  s.connections_open = open_connections_.load(std::memory_order_relaxed);
  return s;
}

void post_completion(std::shared_ptr<DeferredState> state, Response response, bool abandoned) {
  CompletionSink& sink = *state->sink;
  const std::lock_guard lock(sink.mutex);
  if (sink.io == nullptr) {
    bump(sink.dropped);
    return;
  }
  asio::post(*sink.io, [state = std::move(state), response = std::move(response), abandoned]() mutable {
    if (const auto connection = state->connection.lock()) {
      if (connection->finish_deferred(state->ticket, response, abandoned)) return;
    }
    bump(state->sink->dropped);
  });
}

}  // namespace tb::http::detail

namespace tb::http {

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    Responder abandoned(std::move(*this));  // its destructor answers 500 if it was pending
    state_ = std::move(other.state_);
  }
  return *this;
}

Responder::~Responder() {
  if (!state_ || state_->completed.exchange(true, std::memory_order_acq_rel)) return;
  try {
    Response response;
    response.set_error(500, "internal error");
    detail::post_completion(std::move(state_), std::move(response), true);
  } catch (...) {
    // bad_alloc while abandoning: the deadline answers 504 instead.
  }
}

bool Responder::complete(Response response) {
  if (!state_ || state_->completed.exchange(true, std::memory_order_acq_rel)) return false;
  detail::post_completion(std::move(state_), std::move(response), false);
  return true;
}

bool Responder::pending() const noexcept {
  return state_ && !state_->completed.load(std::memory_order_acquire);
}

Server::Server(const config::HttpConfig& config, Router router)
    : core_(std::make_unique<detail::ServerCore>(config, std::move(router))) {}

Server::~Server() = default;  // ServerCore's destructor stops

Result<std::uint16_t> Server::start() { return core_->start(); }
void Server::stop() { core_->stop(); }
std::uint16_t Server::port() const noexcept { return core_->port(); }
bool Server::running() const noexcept { return core_->running(); }
ServerStats Server::stats() const noexcept { return core_->stats(); }

}  // namespace tb::http
