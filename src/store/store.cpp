#include "tradingbot/store/store.hpp"

#include <algorithm>
#include <cstdlib>
#include <random>

#include <spdlog/spdlog.h>

#include "database_driver.hpp"

namespace tb::store {
namespace {

Nanos to_nanos(std::chrono::milliseconds ms) { return static_cast<Nanos>(ms.count()) * kNanosPerMilli; }

bool env_set(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0';
}

}  // namespace

StoreOptions StoreOptions::from_config(const config::StoreConfig& cfg) {
  StoreOptions o;
  if (!cfg.postgres_url.empty()) {
    o.conninfo = cfg.postgres_url;
  } else if (env_set("PGHOST") || env_set("PGDATABASE") || env_set("PGSERVICE")) {
    o.conninfo = std::string();  // libpq reads PG* itself
  }
  o.journal_dir = cfg.journal_dir;
  o.batch_size = static_cast<std::size_t>(cfg.batch_size);
  o.queue_capacity = static_cast<std::size_t>(cfg.queue_capacity);
  o.flush_interval = std::chrono::milliseconds(cfg.flush_interval_ms);
  return o;
}

std::string StoreOptions::describe_database() const {
  if (!conninfo) return "none (journal only)";
  if (conninfo->empty()) return "PG* environment";
  return config::redact_postgres_url(*conninfo);
}

// Everything the store thread owns. Built by open(); used by recover() before start() and by
// the store thread after it.
struct Store::Writer {
  std::unique_ptr<Journal> journal;
  std::unique_ptr<detail::DatabaseSink> sink;  // null without a database
  std::vector<SequencedRecord> batch;     // popped from the ring, not yet journaled
  std::vector<SequencedRecord> backfill;  // read back from the journal
  std::uint64_t db_seq = 0;
  bool db_up = false;
  Nanos down_since_mono = 0;
  Nanos next_connect_mono = 0;
  Nanos backoff = 0;
  Nanos last_checkpoint_mono = 0;
  Nanos last_down_warning_mono = 0;
  Nanos last_journal_error_mono = 0;
  std::uint64_t failed_connects = 0;
  std::mt19937_64 rng{std::random_device{}()};
};

Store::Store(StoreOptions options)
    : options_(std::move(options)), queue_(options_.queue_capacity), producer_(queue_, stats_) {}

Store::~Store() {
  if (started_) stop(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<Store>> Store::open(StoreOptions options) {
  if (options.batch_size == 0) options.batch_size = 1;
  std::unique_ptr<Store> store(new Store(std::move(options)));
  const auto& o = store->options_;
  auto writer = std::make_unique<Writer>();
  writer->batch.reserve(o.batch_size);
  writer->backfill.reserve(o.batch_size);

  auto journal = Journal::open(JournalOptions{o.journal_dir, o.segment_bytes});
  if (!journal) return Error{journal.error().message};
  writer->journal = std::move(journal).value();
  const auto& report = writer->journal->open_report();
  store->journal_id_ = writer->journal->id();
  store->stats_.journal_seq = writer->journal->last_seq();
  store->stats_.journal_bytes = writer->journal->size_bytes();
  store->stats_.journal_truncated_bytes = report.truncated_bytes;
  spdlog::info("store: journal {} (id {}): {} records, seq {}..{}, checkpoint {}, {} bytes{}", o.journal_dir.string(),
               store->journal_id_, report.records, report.first_seq, report.last_seq, report.checkpoint,
               writer->journal->size_bytes(),
               report.truncated_bytes != 0 ? ", cut " + std::to_string(report.truncated_bytes) + " corrupt tail bytes"
                                           : std::string());

  if (o.conninfo) {
    store->stats_.db_enabled = true;
    // A driver that cannot be loaded is an installation fault, not an outage: refuse to start
    // rather than trade for months on a journal nobody will ever backfill.
    auto driver = detail::postgres_driver();
    if (!driver) return Error{"store: database " + o.describe_database() + " configured, but " + driver.error().message};
    writer->sink = driver.value()->create_sink(
        detail::SinkOptions{*o.conninfo, store->journal_id_, o.connect_timeout_s, o.statement_timeout_ms});
    std::string error;
    if (writer->sink->connect(error)) {
      writer->db_up = true;
      writer->db_seq = writer->sink->applied_seq();
      if (writer->db_seq > writer->journal->last_seq()) {
        spdlog::error("store: the database has committed up to seq {} of journal {} but the journal ends at {}: "
                      "journal files were lost; continuing after seq {}",
                      writer->db_seq, store->journal_id_, writer->journal->last_seq(), writer->db_seq);
        if (!writer->journal->advance_to(writer->db_seq)) return Error{writer->journal->last_error()};
      }
      store->stats_.db_up = true;
      store->stats_.db_seq = writer->db_seq;
      store->stats_.db_durable_seq = writer->db_seq;  // read back from the database: durable
      spdlog::info("store: database {} connected, schema version {}, committed through seq {} ({} to backfill)",
                   o.describe_database(), latest_schema_version(), writer->db_seq,
                   writer->journal->last_seq() - writer->db_seq);
    } else {
      if (error.find("newer than this binary") != std::string::npos) return Error{"store: " + error};
      writer->down_since_mono = monotonic_ns();
      writer->last_down_warning_mono = writer->down_since_mono;
      writer->backoff = to_nanos(o.reconnect_min);
      writer->next_connect_mono = writer->down_since_mono + writer->backoff;
      store->stats_.db_down_since_wall_ns = wall_clock_ns();
      store->stats_.db_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("store: database {} unavailable at start ({}); trading continues, records are journaled "
                   "locally and backfilled when it returns",
                   o.describe_database(), error);
    }
  } else {
    spdlog::info("store: no database configured (postgres_url empty, no PGHOST/PGDATABASE/PGSERVICE): journal only");
  }
  store->writer_ = std::move(writer);
  return store;
}

Result<RecoveredState> Store::recover() {
  if (started_) return Error{"store: recover() must run before start()"};
  auto& w = *writer_;
  RecoveryBuilder builder;
  RecoveredState::Source source = RecoveredState::Source::Journal;
  std::uint64_t from = w.journal->first_seq();
  if (w.sink && w.db_up) {
    std::string error;
    if (w.sink->load_state(builder, error)) {
      source = RecoveredState::Source::Database;
      from = w.db_seq + 1;
    } else {
      spdlog::warn("store: cannot load state from the database ({}); recovering from the journal", error);
      w.db_up = false;
      stats_.db_up = false;
      source = RecoveredState::Source::JournalPartial;
    }
  } else if (w.sink) {
    source = RecoveredState::Source::JournalPartial;
  }
  std::uint64_t applied = 0;
  if (from != 0) {
    for (;;) {
      if (!w.journal->read(from, options_.batch_size, w.backfill)) return Error{w.journal->last_error()};
      if (w.backfill.empty()) break;
      for (const auto& rec : w.backfill) builder.apply(rec.record);
      applied += w.backfill.size();
      from = w.backfill.back().seq + 1;
    }
  }
  if (source == RecoveredState::Source::Database && applied != 0) source = RecoveredState::Source::DatabaseAndJournal;
  if (builder.empty() && source != RecoveredState::Source::JournalPartial) source = RecoveredState::Source::Empty;
  RecoveredState state = builder.build(source);
  state.db_seq = w.db_seq;
  state.journal_records_applied = applied;
  spdlog::info("store: {}", state.describe());
  return state;
}

void Store::start() {
  if (started_) return;
  started_ = true;
  stop_requested_ = false;
  thread_ = std::thread([this] { run(); });
}

void Store::stop(std::chrono::milliseconds db_grace) {
  if (!started_) return;
  // The trading thread owns the overflow: hand it over before asking the store thread to stop.
  const Nanos give_up = monotonic_ns() + 30 * kNanosPerSecond;
  while (producer_.pump() != 0 && monotonic_ns() < give_up) {
    wake_.notify_one();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (producer_.overflow_size() != 0) {
    spdlog::critical("store: stopping with {} records still in the overflow: they are LOST",
                     producer_.overflow_size());
    stats_.lost.fetch_add(producer_.overflow_size(), std::memory_order_relaxed);
  }
  {
    std::lock_guard lock(wake_mutex_);
    grace_ = db_grace;
    stop_requested_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  started_ = false;
}

StoreStatsSnapshot Store::snapshot() const noexcept {
  auto s = stats_.snapshot();
  s.queue_depth = queue_.size_approx();
  return s;
}

bool Store::wait_idle(std::chrono::milliseconds timeout) {
  const Nanos deadline = monotonic_ns() + to_nanos(timeout);
  for (;;) {
    producer_.pump();
    const auto s = snapshot();
    const bool journaled = s.journaled >= s.enqueued && s.queue_depth == 0 && s.overflow_depth == 0;
    if (journaled && (!s.db_enabled || (s.db_up && s.db_durable_seq >= s.journal_seq))) return true;
    if (monotonic_ns() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// ---- the store thread ------------------------------------------------------------------------

void Store::run() noexcept {
  auto& w = *writer_;
  const auto& o = options_;
  constexpr auto relaxed = std::memory_order_relaxed;

  auto mark_down = [&](const std::string& why) {
    const Nanos now = monotonic_ns();
    const bool was_up = w.db_up;
    w.db_up = false;
    stats_.db_up.store(false, relaxed);
    stats_.db_errors.fetch_add(1, relaxed);
    if (was_up) {
      w.down_since_mono = now;
      w.last_down_warning_mono = now;
      w.backoff = to_nanos(o.reconnect_min);
      stats_.db_down_since_wall_ns.store(wall_clock_ns(), relaxed);
      spdlog::warn("store: database write failed ({}); trading continues, records are journaled locally "
                   "(lag {} records) and will be backfilled",
                   why, w.journal->last_seq() - w.db_seq);
    } else {
      w.backoff = std::min(w.backoff * 2, to_nanos(o.reconnect_max));
      spdlog::debug("store: database reconnect failed: {}", why);
    }
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    w.next_connect_mono = now + static_cast<Nanos>(static_cast<double>(w.backoff) * jitter(w.rng));
  };

  auto commit = [&](const SequencedRecord* recs, std::size_t n, bool from_journal) {
    std::string error;
    if (!w.sink->write(recs, n, error)) {
      mark_down(error);
      return false;
    }
    w.db_seq = recs[n - 1].seq;
    stats_.db_seq.store(w.db_seq, relaxed);
    stats_.db_written.fetch_add(n, relaxed);
    if (from_journal) stats_.backfilled.fetch_add(n, relaxed);
    stats_.last_db_commit_wall_ns.store(wall_clock_ns(), relaxed);
    return true;
  };

  // Commits journaled records the database does not have yet, oldest first, until caught up
  // or `deadline` (so the ring keeps being drained during a long backfill).
  auto catch_up = [&](Nanos deadline) {
    while (w.db_up && w.db_seq < w.journal->last_seq() && monotonic_ns() < deadline) {
      if (!w.journal->read(w.db_seq + 1, o.batch_size, w.backfill)) {
        spdlog::error("store: backfill read failed: {}", w.journal->last_error());
        return;
      }
      if (w.backfill.empty()) {  // records lost from the journal: nothing left to send
        w.db_seq = w.journal->last_seq();
        stats_.db_seq.store(w.db_seq, relaxed);
        return;
      }
      if (!commit(w.backfill.data(), w.backfill.size(), true)) return;
    }
  };

  auto try_connect = [&] {
    std::string error;
    if (!w.sink->connect(error)) {
      ++w.failed_connects;
      mark_down(error);
      return;
    }
    w.db_up = true;
    w.db_seq = w.sink->applied_seq();  // the database is the authority (a lost commit answer may have landed)
    if (w.db_seq > w.journal->last_seq()) {
      spdlog::error("store: the database is ahead of the journal (seq {} > {}); continuing after it", w.db_seq,
                    w.journal->last_seq());
      if (!w.journal->advance_to(w.db_seq)) spdlog::error("store: {}", w.journal->last_error());
    }
    stats_.db_up.store(true, relaxed);
    stats_.db_seq.store(w.db_seq, relaxed);
    stats_.db_durable_seq.store(w.db_seq, relaxed);
    stats_.db_down_since_wall_ns.store(0, relaxed);
    const double down_s = static_cast<double>(monotonic_ns() - w.down_since_mono) / 1e9;
    spdlog::info("store: database back after {:.1f} s; backfilling {} journaled records", down_s,
                 w.journal->last_seq() - w.db_seq);
    w.failed_connects = 0;
  };

  auto periodic = [&](bool force) {
    const Nanos now = monotonic_ns();
    stats_.queue_depth.store(queue_.size_approx(), relaxed);
    if (w.sink && !w.db_up && now - w.last_down_warning_mono >= to_nanos(o.down_warning_interval)) {
      w.last_down_warning_mono = now;
      spdlog::warn("store: database still unavailable after {} s; {} records ({} bytes) waiting in the journal",
                   (now - w.down_since_mono) / kNanosPerSecond, w.journal->last_seq() - w.db_seq,
                   w.journal->size_bytes());
    }
    if (!force && now - w.last_checkpoint_mono < to_nanos(o.checkpoint_interval)) return;
    w.last_checkpoint_mono = now;
    if (w.sink && w.db_up) {  // an idle store notices an outage too (/status, /metrics, the warning)
      std::string error;
      if (!w.sink->check_alive(error)) mark_down(error);
    }
    if (w.sink && w.db_up && w.db_seq > w.journal->checkpoint()) {
      // Batches commit asynchronously: only what a synchronous commit made durable may let
      // journal segments go.
      const std::uint64_t durable_seq = w.db_seq;
      std::string error;
      if (!w.sink->confirm_durable(error)) {
        mark_down(error);
      } else if (stats_.db_durable_seq.store(durable_seq, relaxed); !w.journal->write_checkpoint(durable_seq)) {
        spdlog::warn("store: {}", w.journal->last_error());
      } else if (o.prune_journal) {
        w.journal->prune_through(durable_seq);
      }
    }
    stats_.journal_bytes.store(w.journal->size_bytes(), relaxed);
  };

  for (;;) {
    const bool stopping = stop_requested_.load(std::memory_order_acquire);
    if (w.batch.empty()) {
      SequencedRecord rec;
      while (w.batch.size() < o.batch_size && queue_.try_pop(rec.record)) w.batch.push_back(rec);
    }
    if (!w.batch.empty()) {
      if (w.journal->append(w.batch.data(), w.batch.size())) {
        stats_.journaled.fetch_add(w.batch.size(), std::memory_order_release);
        stats_.journal_seq.store(w.journal->last_seq(), relaxed);
        stats_.journal_bytes.store(w.journal->size_bytes(), relaxed);
        if (w.sink && w.db_up) {
          if (w.db_seq + 1 == w.batch.front().seq) {
            commit(w.batch.data(), w.batch.size(), false);
          } else {
            catch_up(monotonic_ns() + 200 * kNanosPerMilli);
          }
        }
        w.batch.clear();
      } else {
        const Nanos now = monotonic_ns();
        if (now - w.last_journal_error_mono >= kNanosPerSecond) {
          w.last_journal_error_mono = now;
          spdlog::error("store: {}; {} records held in memory, retrying", w.journal->last_error(), w.batch.size());
        }
        std::unique_lock lock(wake_mutex_);
        wake_.wait_for(lock, std::chrono::milliseconds(100));
        if (stopping) {  // cannot journal and asked to stop: say exactly what is lost
          spdlog::critical("store: stopping with {} records that could not be journaled: they are LOST ({})",
                           w.batch.size(), w.journal->last_error());
          stats_.lost.fetch_add(w.batch.size(), relaxed);
          break;
        }
      }
      periodic(false);
      continue;
    }

    // Queue empty.
    if (w.sink) {
      if (!w.db_up && monotonic_ns() >= w.next_connect_mono) try_connect();
      if (w.db_up && w.db_seq < w.journal->last_seq()) {
        catch_up(monotonic_ns() + 200 * kNanosPerMilli);
        if (w.db_up && w.db_seq < w.journal->last_seq()) {
          periodic(false);
          continue;  // more backfill: do not sleep
        }
      }
    }
    periodic(false);
    if (stopping) break;
    std::unique_lock lock(wake_mutex_);
    wake_.wait_for(lock, o.flush_interval, [this] { return stop_requested_.load(std::memory_order_relaxed); });
  }

  // Shutdown: everything is journaled; give the database a bounded chance to catch up.
  if (w.sink) {
    const Nanos deadline = monotonic_ns() + to_nanos(grace_);
    if (!w.db_up && grace_.count() > 0) try_connect();
    catch_up(deadline);
  }
  periodic(true);
  if (w.sink) w.sink->disconnect();
  spdlog::info("store: stopped; journal seq {}, database seq {}{}", w.journal->last_seq(), w.db_seq,
               w.sink && w.db_seq < w.journal->last_seq() ? " (the rest is backfilled at next start)" : "");
}

}  // namespace tb::store
