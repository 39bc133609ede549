#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "store_test_util.hpp"
#include "tradingbot/store/journal.hpp"
#include "tradingbot/store/store.hpp"

using namespace tb::store;
using tb::test::make_fill;
using tb::test::make_order;
using tb::test::TempDir;

namespace {

std::unique_ptr<Journal> open_journal(const std::filesystem::path& dir, std::uint64_t segment_bytes = 64ull << 20) {
  auto j = Journal::open(JournalOptions{dir, segment_bytes});
  INFO((j.ok() ? std::string() : j.error().message));
  REQUIRE(j.ok());
  return std::move(j).value();
}

void append_fills(Journal& j, std::int64_t first, std::int64_t count) {
  std::vector<SequencedRecord> batch;
  for (std::int64_t i = 0; i < count; ++i) batch.push_back({0, make_fill(first + i)});
  REQUIRE(j.append(batch.data(), batch.size()));
}

std::vector<SequencedRecord> read_all(Journal& j) {
  std::vector<SequencedRecord> all, chunk;
  std::uint64_t from = 1;
  for (;;) {
    REQUIRE(j.read(from, 7, chunk));
    if (chunk.empty()) return all;
    all.insert(all.end(), chunk.begin(), chunk.end());
    from = chunk.back().seq + 1;
  }
}

std::filesystem::path only_segment(const std::filesystem::path& dir) {
  std::filesystem::path found;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".tbj") found = e.path();
  }
  REQUIRE(!found.empty());
  return found;
}

}  // namespace

TEST_CASE("journal: records come back in order with their sequence after reopening", "[store][journal]") {
  TempDir dir;
  std::string id;
  {
    auto j = open_journal(dir.path());
    id = j->id();
    CHECK(j->last_seq() == 0);
    append_fills(*j, 1, 5);
    std::vector<SequencedRecord> mixed = {{0, make_order("a", OrderStatus::New)}, {0, make_fill(6)}};
    REQUIRE(j->append(mixed.data(), mixed.size()));
    CHECK(mixed[1].seq == 7);
    CHECK(j->last_seq() == 7);
  }
  auto j = open_journal(dir.path());
  CHECK(j->id() == id);
  CHECK(j->open_report().records == 7);
  CHECK(j->open_report().truncated_bytes == 0);
  const auto all = read_all(*j);
  REQUIRE(all.size() == 7);
  CHECK(std::get<OrderRecord>(all[5].record).client_order_id.view() == "a");
  CHECK(std::get<FillRecord>(all[6].record).trade_id == 6);
  CHECK(std::get<FillRecord>(all[0].record).price.to_string() == "61837.63");
  append_fills(*j, 7, 1);
  CHECK(j->last_seq() == 8);
  std::vector<SequencedRecord> tail;
  REQUIRE(j->read(8, 10, tail));
  REQUIRE(tail.size() == 1);
  CHECK(std::get<FillRecord>(tail[0].record).trade_id == 7);
}

TEST_CASE("journal: a truncated last record is cut and every earlier record kept", "[store][journal]") {
  TempDir dir;
  {
    auto j = open_journal(dir.path());
    append_fills(*j, 1, 6);
    append_fills(*j, 7, 4);
  }
  const auto segment = only_segment(dir.path());
  const auto size = std::filesystem::file_size(segment);
  std::filesystem::resize_file(segment, size - 5);  // torn write of record 10

  auto j = open_journal(dir.path());
  CHECK(j->last_seq() == 9);
  CHECK(j->open_report().records == 9);
  CHECK(j->open_report().truncated_bytes > 0);
  REQUIRE(j->open_report().repairs.size() == 1);
  CHECK_THAT(j->open_report().repairs[0], Catch::Contains("torn tail") && Catch::Contains("kept records 1..9"));
  const auto all = read_all(*j);
  REQUIRE(all.size() == 9);
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(std::get<FillRecord>(all[i].record).trade_id == int(i + 1));
  // New records follow on from 9, and the repaired file reopens clean.
  append_fills(*j, 100, 2);
  CHECK(j->last_seq() == 11);
  j.reset();
  auto again = open_journal(dir.path());
  CHECK(again->open_report().truncated_bytes == 0);
  CHECK(again->last_seq() == 11);
}

TEST_CASE("journal: a corrupt byte or trailing garbage is detected by the checksum", "[store][journal]") {
  TempDir dir;
  {
    auto j = open_journal(dir.path());
    append_fills(*j, 1, 3);
  }
  const auto segment = only_segment(dir.path());
  const auto size = std::filesystem::file_size(segment);
  SECTION("flipped byte inside the last record") {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 20));
    f.put('\x5a');
  }
  SECTION("garbage after the last record") {
    std::ofstream f(segment, std::ios::app | std::ios::binary);
    f << "garbage that is not a frame at all";
  }
  auto j = open_journal(dir.path());
  CHECK(j->last_seq() >= 2);
  CHECK(j->open_report().truncated_bytes > 0);
  CHECK(read_all(*j).size() == j->last_seq());
}

TEST_CASE("journal: checkpoint survives reopen, invalid ones are ignored, sequences never reuse it",
          "[store][journal]") {
  TempDir dir;
  {
    auto j = open_journal(dir.path());
    append_fills(*j, 1, 3);
    REQUIRE(j->write_checkpoint(3));
  }
  {
    auto j = open_journal(dir.path());
    CHECK(j->checkpoint() == 3);
  }
  {
    std::ofstream f(dir.path() / "checkpoint");
    f << "TBJCKPT1 nonsense 99 00000000\n";
  }
  auto j = open_journal(dir.path());
  CHECK(j->checkpoint() == 0);
  CHECK(j->open_report().repairs.size() == 1);
}

TEST_CASE("journal: segments roll, pruned segments go, reads continue across segments", "[store][journal]") {
  TempDir dir;
  auto j = open_journal(dir.path(), 2048);
  for (int b = 0; b < 20; ++b) append_fills(*j, b * 5 + 1, 5);
  CHECK(j->last_seq() == 100);
  const auto before = j->size_bytes();
  REQUIRE(read_all(*j).size() == 100);
  CHECK(j->prune_through(50) > 0);
  CHECK(j->size_bytes() < before);
  CHECK(j->first_seq() > 1);
  CHECK(j->first_seq() <= 51);
  std::vector<SequencedRecord> chunk;
  REQUIRE(j->read(51, 1000, chunk));
  REQUIRE(chunk.size() == 50);
  CHECK(chunk.front().seq == 51);
  j.reset();
  auto again = open_journal(dir.path(), 2048);
  CHECK(again->last_seq() == 100);
  CHECK(again->open_report().truncated_bytes == 0);
}

TEST_CASE("journal: SIGKILL while appending loses no record that append() acknowledged", "[store][journal]") {
  TempDir dir;
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    auto j = Journal::open(JournalOptions{dir.path(), 16 << 10});
    if (!j) ::_exit(2);
    std::vector<SequencedRecord> batch(10);
    for (std::int64_t id = 1;; id += 10) {
      for (std::int64_t k = 0; k < 10; ++k) batch[static_cast<std::size_t>(k)].record = make_fill(id + k);
      if (!j.value()->append(batch.data(), batch.size())) ::_exit(3);
      const std::uint64_t acked = j.value()->last_seq();
      if (::write(pipe_fds[1], &acked, sizeof(acked)) != sizeof(acked)) ::_exit(4);
    }
  }
  ::close(pipe_fds[1]);
  std::uint64_t acked = 0;
  while (acked < 2000) {
    std::uint64_t value = 0;
    REQUIRE(::read(pipe_fds[0], &value, sizeof(value)) == sizeof(value));
    acked = value;
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  // Whatever the child acknowledged after we stopped reading was also durable; count the pipe.
  std::uint64_t value = 0;
  while (::read(pipe_fds[0], &value, sizeof(value)) == sizeof(value)) acked = value;
  ::close(pipe_fds[0]);
  CHECK(WIFSIGNALED(status));

  auto j = open_journal(dir.path(), 16 << 10);
  CHECK(j->last_seq() >= acked);
  const auto all = read_all(*j);
  REQUIRE(all.size() == j->last_seq());
  for (std::size_t i = 0; i < all.size(); ++i) {
    REQUIRE(all[i].seq == i + 1);
    REQUIRE(std::get<FillRecord>(all[i].record).trade_id == static_cast<std::int64_t>(i + 1));
  }
}

TEST_CASE("journal-only store: SIGKILL of a running store keeps every journaled fill", "[store][journal]") {
  TempDir dir;
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    StoreOptions options;
    options.journal_dir = dir.path();
    options.flush_interval = std::chrono::milliseconds(1);
    auto store = Store::open(options);
    if (!store) ::_exit(2);
    store.value()->start();
    for (std::int64_t id = 1;; ++id) {
      store.value()->producer().enqueue(make_fill(id));
      if (id % 100 == 0) {
        store.value()->producer().pump();
        const std::uint64_t durable = store.value()->snapshot().journal_seq;
        if (::write(pipe_fds[1], &durable, sizeof(durable)) != sizeof(durable)) ::_exit(4);
        ::usleep(200);
      }
    }
  }
  ::close(pipe_fds[1]);
  std::uint64_t durable = 0;
  while (durable < 3000) {
    std::uint64_t value = 0;
    REQUIRE(::read(pipe_fds[0], &value, sizeof(value)) == sizeof(value));
    durable = value;
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(pipe_fds[0]);

  StoreOptions options;
  options.journal_dir = dir.path();
  auto store = Store::open(options);
  REQUIRE(store.ok());
  auto state = store.value()->recover();
  REQUIRE(state.ok());
  CHECK(state.value().source == RecoveredState::Source::Journal);
  REQUIRE(state.value().last_fills.size() == 1);
  CHECK(state.value().last_fills[0].trade_id >= static_cast<std::int64_t>(durable));
  CHECK(state.value().journal_records_applied == static_cast<std::uint64_t>(state.value().last_fills[0].trade_id));
}
