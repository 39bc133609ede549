#include "tradingbot/app/logging.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace tb::app {
namespace {

// "%*" in a pattern: the syslog priority prefix journald understands ("<4>" for warnings).
class SyslogPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr const char* kPrefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
    const char* prefix = kPrefix[static_cast<int>(msg.level)];
    dest.append(prefix, prefix + 3);
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriorityFlag>();
  }
};

// A plain append-only file sink whose file can be reopened on request (SIGHUP after logrotate).
// The reopen happens on the logging thread at the next line, under the sink's own mutex.
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(std::string path) : path_(std::move(path)) { open_or_throw(); }
  ~ReopenableFileSink() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  ReopenableFileSink(const ReopenableFileSink&) = delete;
  ReopenableFileSink& operator=(const ReopenableFileSink&) = delete;

  void request_reopen() noexcept { reopen_requested_.store(true, std::memory_order_release); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (reopen_requested_.exchange(false, std::memory_order_acq_rel)) reopen();
    if (file_ == nullptr) return;  // reopen failed; already reported on stderr
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), file_);
  }
  void flush_() override {
    if (file_ != nullptr) std::fflush(file_);
  }

 private:
  void open_or_throw() {
    file_ = std::fopen(path_.c_str(), "a");
    if (file_ == nullptr) {
      throw std::runtime_error("log.file = \"" + path_ + "\": cannot open for appending: " + std::strerror(errno));
    }
  }
  void reopen() {
    if (file_ != nullptr) std::fclose(file_);
    file_ = std::fopen(path_.c_str(), "a");
    if (file_ == nullptr) {
      std::fprintf(stderr, "tradingbot: cannot reopen log file %s: %s\n", path_.c_str(), std::strerror(errno));
    }
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  std::atomic<bool> reopen_requested_{false};
};

std::shared_ptr<ReopenableFileSink> g_file_sink;  // guarded by: set once at start-up

std::unique_ptr<spdlog::pattern_formatter> make_formatter(const std::string& pattern, bool with_priority) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (with_priority) formatter->add_flag<SyslogPriorityFlag>('*');
  formatter->set_pattern(pattern);
  return formatter;
}

}  // namespace

bool stdout_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  struct stat st {};
  if (fstat(STDOUT_FILENO, &st) != 0) return false;
  const std::string expected = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  return expected == stream;
}

void setup_logging(const config::LogConfig& log) {
  constexpr const char* kTimestamped = "%Y-%m-%dT%H:%M:%S.%fZ %l %v";
  const bool journald = log.target == config::LogTarget::Journald ||
                        (log.target == config::LogTarget::Auto && stdout_is_journal());

  auto console = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  console->set_formatter(journald ? make_formatter("%*%l: %v", true) : make_formatter(kTimestamped, false));
  std::vector<spdlog::sink_ptr> sinks{console};
  if (!log.file.empty()) {
    g_file_sink = std::make_shared<ReopenableFileSink>(log.file);
    g_file_sink->set_formatter(make_formatter(kTimestamped, false));
    sinks.push_back(g_file_sink);
  }

  spdlog::init_thread_pool(static_cast<std::size_t>(log.queue_size), 1);
  auto logger = std::make_shared<spdlog::async_logger>("tradingbot", sinks.begin(), sinks.end(),
                                                       spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::overrun_oldest);
  logger->set_level(spdlog::level::from_str(log.level));
  logger->flush_on(spdlog::level::warn);
  // Never let a logging failure (disk full, closed stdout) propagate into the caller.
  logger->set_error_handler([](const std::string& what) {
    std::fprintf(stderr, "tradingbot: logging error: %s\n", what.c_str());
  });
  spdlog::set_default_logger(std::move(logger));
  spdlog::flush_every(std::chrono::seconds(1));
}

void set_log_level(const std::string& level) { spdlog::set_level(spdlog::level::from_str(level)); }

void reopen_log_files() {
  if (g_file_sink) g_file_sink->request_reopen();
}

std::uint64_t dropped_log_lines() {
  auto pool = spdlog::thread_pool();
  return pool ? pool->overrun_counter() : 0;
}

void shutdown_logging() {
  spdlog::default_logger()->flush();
  spdlog::shutdown();
  g_file_sink.reset();
}

}  // namespace tb::app
