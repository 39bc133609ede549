#include "tradingbot/app/store_service.hpp"

#include "tradingbot/app/trading_persistence.hpp"

#include <array>
#include <fstream>
#include <random>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "tradingbot/app/version.hpp"
#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"

namespace tb::app {
namespace {

// A run id in UUID v4 text form (the runs table's key; 36 chars fit store::RunId).
std::string new_run_id() {
  std::random_device rd;
  std::array<unsigned char, 16> b{};
  for (auto& byte : b) byte = static_cast<unsigned char>(rd());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xf];
  }
  return out;
}

// How often the trading thread moves parked overflow records into the ring. Only does work
// while the store thread is behind; otherwise one empty() check.
constexpr auto kPumpPeriod = std::chrono::milliseconds(20);

std::string seconds3(Nanos ns) { return fixed_to_string(ns / 10, 3); }

}  // namespace

std::string sha256_file_hex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return {};
  }
  std::array<char, 8192> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  const bool ok = EVP_DigestFinal_ex(ctx, md.data(), &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

StoreService::StoreService(std::unique_ptr<store::Store> store, boost::asio::io_context& trading)
    : store_(std::move(store)), pump_timer_(trading) {}

StoreService::~StoreService() {
  try {
    stop("daemon exiting");
  } catch (...) {
  }
}

Result<std::unique_ptr<StoreService>> StoreService::open(const config::Config& config, const std::string& config_path,
                                                         boost::asio::io_context& trading) {
  auto options = store::StoreOptions::from_config(config.store);
  const std::string database = options.describe_database();
  auto opened = store::Store::open(std::move(options));
  if (!opened) return Error{"store: " + opened.error().message};
  std::unique_ptr<StoreService> service(new StoreService(std::move(opened).value(), trading));
  service->database_ = database;

  auto recovered = service->store_->recover();
  if (!recovered) return Error{"store: recovery failed: " + recovered.error().message};
  service->recovered_ = std::move(recovered).value();

  service->store_->start();
  service->run_id_ = new_run_id();
  service->config_hash_ = sha256_file_hex(config_path);
  service->version_ = version_string();

  store::RunRecord start;
  start.run_id = service->run_id_;
  start.event = store::RunEvent::Start;
  start.version = service->version_;
  start.config_hash = service->config_hash_;
  start.pid = static_cast<std::int32_t>(::getpid());
  start.detail = config::to_string(config.trading.mode);
  start.time_ns = wall_clock_ns();
  service->store_->producer().enqueue(start);
  service->arm_pump();
  spdlog::info("store: run {} recorded (config sha256 {}), database {}", service->run_id_,
               service->config_hash_.empty() ? "unavailable" : service->config_hash_.substr(0, 12), database);
  return service;
}

void StoreService::arm_pump() {
  pump_timer_.expires_after(kPumpPeriod);
  pump_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || timers_cancelled_) return;
    store_->producer().pump();
    arm_pump();
  });
}

void StoreService::cancel_timers() noexcept {
  timers_cancelled_ = true;
  pump_timer_.cancel();
}

void StoreService::stop(std::string_view reason) {
  if (stopped_) return;
  stopped_ = true;
  cancel_timers();
  store::RunRecord stop;
  stop.run_id = run_id_;
  stop.event = store::RunEvent::Stop;
  stop.version = version_;
  stop.config_hash = config_hash_;
  stop.pid = static_cast<std::int32_t>(::getpid());
  stop.detail = reason;
  stop.time_ns = wall_clock_ns();
  store_->producer().enqueue(stop);
  // Everything is journaled before this returns; the database gets a bounded grace (systemd's
  // TimeoutStopSec is longer) and whatever it misses is backfilled at the next start.
  store_->stop(std::chrono::seconds(5));
  const auto s = store_->snapshot();
  spdlog::info("store: flushed: {} records journaled this run (journal seq {}), database seq {}{}", s.journaled,
               s.journal_seq, s.db_seq, s.lost != 0 ? ", LOST " + std::to_string(s.lost) : std::string());
}

StoreStatus StoreService::status() const {
  StoreStatus s;
  s.running = !stopped_;
  s.database = database_;
  s.run_id = run_id_;
  s.stats = store_->snapshot();
  return s;
}

void write_store_status(http::JsonWriter& json, const StoreStatus& status) {
  const auto& s = status.stats;
  json.key("store").begin_object();
  json.member("running", status.running);
  json.member("database", status.database);
  json.member("run_id", status.run_id);
  json.member("db_enabled", s.db_enabled);
  json.member("db_up", s.db_up);
  if (s.db_enabled && !s.db_up && s.db_down_since_wall_ns != 0) {
    json.key("db_down_s").raw_number(seconds3(wall_clock_ns() - s.db_down_since_wall_ns));
  }
  if (s.last_db_commit_wall_ns != 0) {
    json.key("last_commit_age_s").raw_number(seconds3(wall_clock_ns() - s.last_db_commit_wall_ns));
  }
  json.member("lag_records", s.lag_records());
  json.member("queue_depth", s.queue_depth);
  json.member("overflow_depth", s.overflow_depth);
  json.member("queue_full", s.queue_full);
  json.member("dropped_samples", s.dropped_samples);
  json.member("lost", s.lost);
  json.member("enqueued", s.enqueued);
  json.member("journaled", s.journaled);
  json.member("journal_seq", s.journal_seq);
  json.member("journal_bytes", s.journal_bytes);
  json.member("journal_truncated_bytes", s.journal_truncated_bytes);
  json.member("db_seq", s.db_seq);
  json.member("db_durable_seq", s.db_durable_seq);
  json.member("db_written", s.db_written);
  json.member("backfilled", s.backfilled);
  json.member("db_errors", s.db_errors);
  write_store_recorder_status(json, status.recorder);
  json.end_object();
}

void write_store_metrics(http::PrometheusWriter& m, const StoreStatus& status) {
  using http::MetricType;
  const auto& s = status.stats;
  m.gauge("store_db_enabled", "1 when a database is configured ([store] postgres_url or PG* environment)",
          s.db_enabled ? 1 : 0);
  m.gauge("store_db_up", "1 while the database is connected and accepting writes (alert on 0 with db_enabled 1)",
          s.db_up ? 1 : 0);
  m.gauge("store_lag_records", "Records journaled but not yet committed to PostgreSQL", s.lag_records());
  m.gauge("store_queue_depth", "Records waiting in the trading -> store ring", s.queue_depth);
  m.gauge("store_overflow_depth", "Orders/fills parked in the in-memory overflow because the ring was full",
          s.overflow_depth);
  m.counter("store_queue_full_total", "Enqueues that found the store ring full", s.queue_full);
  m.counter("store_dropped_samples_total", "Kline/equity samples dropped because the ring was full", s.dropped_samples);
  m.counter("store_lost_total", "Critical records lost (must stay 0)", s.lost);
  m.counter("store_enqueued_total", "Records accepted from the trading thread", s.enqueued);
  m.counter("store_journaled_total", "Records appended (fsync'd) to the local journal", s.journaled);
  m.gauge("store_journal_seq", "Highest journal sequence fsync'd", s.journal_seq);
  m.gauge("store_journal_bytes", "Size of the local journal on disk", s.journal_bytes);
  m.gauge("store_db_seq", "Highest journal sequence committed to PostgreSQL", s.db_seq);
  m.gauge("store_db_durable_seq", "Highest journal sequence whose PostgreSQL commit is flushed", s.db_durable_seq);
  m.counter("store_db_written_total", "Records committed to PostgreSQL", s.db_written);
  m.counter("store_backfilled_total", "Records committed from the journal after an outage", s.backfilled);
  m.counter("store_db_errors_total", "Failed database connects or transactions", s.db_errors);
  m.gauge("store_db_down_seconds", "How long the database has been down (0 while up)",
          s.db_enabled && !s.db_up && s.db_down_since_wall_ns != 0
              ? (wall_clock_ns() - s.db_down_since_wall_ns) / kNanosPerSecond
              : 0);
  write_store_recorder_metrics(m, status.recorder);
}

}  // namespace tb::app
