#include <catch2/catch.hpp>

#include <thread>

#include "store_test_util.hpp"
#include "tradingbot/store/record_queue.hpp"
#include "tradingbot/store/store.hpp"

using namespace tb::store;
using tb::test::make_fill;
using tb::test::make_order;

TEST_CASE("the ring is FIFO, bounded, and says false when full", "[store][queue]") {
  RecordQueue q(3);  // rounded up to 4
  CHECK(q.capacity() == 4);
  for (int i = 1; i <= 4; ++i) CHECK(q.try_push(make_fill(i)));
  CHECK_FALSE(q.try_push(make_fill(5)));
  CHECK(q.size_approx() == 4);
  StoreRecord out;
  REQUIRE(q.try_pop(out));
  CHECK(std::get<FillRecord>(out).trade_id == 1);
  CHECK(q.try_push(make_fill(5)));
  StoreRecord many[8];
  REQUIRE(q.pop_some(many, 8) == 4);
  for (int i = 0; i < 4; ++i) CHECK(std::get<FillRecord>(many[i]).trade_id == i + 2);
  CHECK_FALSE(q.try_pop(out));
}

TEST_CASE("the ring hands every record across threads in order", "[store][queue]") {
  RecordQueue q(64);
  constexpr std::int64_t kCount = 200'000;
  std::int64_t out_of_order = 0;  // Catch assertions are not thread-safe: count, check after
  std::thread consumer([&] {
    std::int64_t expected = 1;
    StoreRecord rec;
    while (expected <= kCount) {
      if (q.try_pop(rec)) {
        if (std::get<FillRecord>(rec).trade_id != expected) ++out_of_order;
        ++expected;
      }
    }
  });
  for (std::int64_t i = 1; i <= kCount;) {
    if (q.try_push(make_fill(i))) ++i;
  }
  consumer.join();
  CHECK(out_of_order == 0);
  CHECK(q.size_approx() == 0);
}

TEST_CASE("a full ring parks orders and fills in order and drops only samples, counted", "[store][queue]") {
  RecordQueue q(4);
  StoreStats stats;
  StoreProducer producer(q, stats);
  for (int i = 1; i <= 4; ++i) CHECK(producer.enqueue(make_fill(i)) == StoreProducer::EnqueueResult::Queued);
  CHECK(producer.enqueue(make_fill(5)) == StoreProducer::EnqueueResult::Overflowed);
  CHECK(producer.enqueue(make_order("o1", OrderStatus::New)) == StoreProducer::EnqueueResult::Overflowed);
  CHECK(producer.enqueue(KlineRecord{}) == StoreProducer::EnqueueResult::Dropped);
  CHECK(producer.enqueue(EquitySample{}) == StoreProducer::EnqueueResult::Dropped);
  CHECK(producer.enqueue(make_fill(6)) == StoreProducer::EnqueueResult::Overflowed);

  auto s = stats.snapshot();
  CHECK(s.enqueued == 7);
  CHECK(s.overflowed == 3);
  CHECK(s.overflow_depth == 3);
  CHECK(s.dropped_samples == 2);
  CHECK(s.queue_full == 5);
  CHECK(s.lost == 0);

  // The consumer frees two slots; pump() refills in order, a new record still queues behind.
  StoreRecord out;
  REQUIRE(q.try_pop(out));
  REQUIRE(q.try_pop(out));
  CHECK(producer.pump() == 1);
  CHECK(producer.enqueue(make_fill(7)) == StoreProducer::EnqueueResult::Overflowed);
  std::vector<std::size_t> kinds;
  std::vector<std::int64_t> ids;
  for (int round = 0; round < 4; ++round) {
    while (q.try_pop(out)) {
      kinds.push_back(out.index());
      ids.push_back(out.index() == 1 ? std::get<FillRecord>(out).trade_id : -1);
    }
    producer.pump();
  }
  CHECK(ids == std::vector<std::int64_t>{3, 4, 5, -1, 6, 7});
  CHECK(producer.overflow_size() == 0);
  CHECK(stats.snapshot().overflow_depth == 0);
}

TEST_CASE("a full queue loses nothing end to end: overflow drains through the store thread", "[store][queue]") {
  tb::test::TempDir dir;
  StoreOptions options;
  options.journal_dir = dir.path();
  options.queue_capacity = 16;
  options.batch_size = 8;
  options.flush_interval = std::chrono::milliseconds(5);
  auto opened = Store::open(options);
  REQUIRE(opened.ok());
  auto& store = *opened.value();
  // Not started yet: the ring fills at 16 and the rest waits in the overflow.
  for (int i = 1; i <= 1000; ++i) store.producer().enqueue(make_fill(i));
  CHECK(store.snapshot().overflow_depth == 984);
  CHECK(store.snapshot().queue_full == 984);
  store.start();
  store.stop();  // pumps the overflow through the running store thread
  const auto s = store.snapshot();
  CHECK(s.journaled == 1000);
  CHECK(s.lost == 0);

  auto reopened = Journal::open(JournalOptions{dir.path()});
  REQUIRE(reopened.ok());
  std::vector<SequencedRecord> records;
  REQUIRE(reopened.value()->read(1, 2000, records));
  REQUIRE(records.size() == 1000);
  for (std::size_t i = 0; i < records.size(); ++i) {
    CHECK(records[i].seq == i + 1);
    CHECK(std::get<FillRecord>(records[i].record).trade_id == static_cast<std::int64_t>(i + 1));
  }
}
