// InterestTracker::update over a batch: the same state as one update() per event, bad events
// skipped and reported, concurrent batches, and no allocation once warm.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../allocation_counter.hpp"
#include "interest_test_util.hpp"
#include "nowrec/error.hpp"
#include "nowrec/item_index.hpp"

namespace nowrec {
namespace {

constexpr std::size_t kDim = 24;
constexpr std::size_t kItems = 50;

class TableItemStore : public ItemStore {
 public:
  explicit TableItemStore(std::mt19937& rng) {
    for (std::size_t i = 0; i < kItems; ++i) {
      const auto v = test::random_embedding(rng, kDim);
      rows_.insert(rows_.end(), v.begin(), v.end());
    }
  }
  bool lookup(std::int64_t item, std::span<float> out) const override {
    if (item < 0 || item >= static_cast<std::int64_t>(kItems)) return false;
    std::copy_n(rows_.begin() + item * kDim, kDim, out.begin());
    return true;
  }
  const std::vector<float>& rows() const { return rows_; }

 private:
  std::vector<float> rows_;
};

// A store whose batch lookup always fails: a batch must then ask for each item alone.
class FailingBatchStore : public TableItemStore {
 public:
  using TableItemStore::TableItemStore;
  void lookup_many(std::span<const std::int64_t>, std::span<float>,
                   std::span<bool>) const override {
    ++calls;
    throw Error(ErrorCode::Io, "the store is unreachable");
  }
  mutable int calls = 0;
};

// A stream of events over `users` users, with the faults a real stream has: unknown items and
// actions, non-finite embeddings, events later than the allowed lateness, replayed sequences.
struct Stream {
  std::vector<std::string> users;
  std::vector<std::vector<float>> embeddings;
  std::vector<InterestEvent> events;
};

Stream make_stream(std::mt19937& rng, std::size_t user_count, std::size_t event_count,
                   const std::string& prefix = "user-") {
  Stream s;
  for (std::size_t u = 0; u < user_count; ++u) s.users.push_back(prefix + std::to_string(u));
  s.embeddings.reserve(event_count);
  const char* actions[] = {"click", "like", "skip", "purchase", "view", "dislike", "no-such"};
  std::map<std::size_t, std::int64_t> clock;
  std::map<std::size_t, std::uint64_t> sequence;
  for (std::size_t e = 0; e < event_count; ++e) {
    const std::size_t u = rng() % user_count;
    InterestEvent event{.user = s.users[u]};
    std::int64_t& t = clock.try_emplace(u, 1'000'000 + std::int64_t(u)).first->second;
    const unsigned kind = rng() % 100;
    t += rng() % 600;
    event.timestamp = kind < 3 ? t - 10'000 : kind < 10 ? t - 100 : t;  // too late; late
    event.action = actions[kind == 50 ? 6 : rng() % 6];
    if (rng() % 2) {
      event.item = static_cast<std::int64_t>(rng() % (kind == 60 ? 2 * kItems : kItems));
    } else {
      s.embeddings.push_back(test::random_embedding(rng, kDim));
      if (kind == 70) s.embeddings.back()[3] = std::numeric_limits<float>::quiet_NaN();
      event.item_embedding = s.embeddings.back();
      event.item = static_cast<std::int64_t>(1000 + e);
    }
    if (rng() % 4 == 0) event.value = static_cast<float>(rng() % 5);
    std::uint64_t& seq = sequence[u];
    event.sequence = kind == 80 ? seq : ++seq;  // a replayed sequence is a duplicate
    s.events.push_back(event);
  }
  return s;
}

InterestTrackerOptions options_for(const ItemStore* store, bool evicting, StateDtype dtype) {
  InterestTrackerOptions options{.dim = kDim,
                                 .shards = 8,
                                 .max_interests = 3,
                                 .recent_window = 6,
                                 .allowed_lateness_seconds = 1000,
                                 .dtype = dtype,
                                 .item_store = store};
  if (!evicting) options.expected_users = 100;  // tables sized up front
  if (evicting) {
    options.ttl_seconds = 20'000;
    options.max_memory_bytes = 40 * InterestTracker(options).bytes_per_user();
    options.user_id_key = std::string(16, 'k');
  }
  return options;
}

}  // namespace

TEST_CASE("a batch leaves every user as one update() per event does, and reports each event") {
  std::mt19937 rng(7);
  const TableItemStore table_store(rng);
  const FailingBatchStore failing_store(rng);
  // The same rows in an ItemIndex, whose store answers a batch under one lock.
  ItemIndex index(kDim);
  std::vector<std::int64_t> ids(kItems);
  std::iota(ids.begin(), ids.end(), 0);
  index.add(ids, table_store.rows());
  const ItemIndexStore index_store(index);
  for (const bool evicting : {false, true}) {
    for (const StateDtype dtype : {StateDtype::F32, StateDtype::BF16}) {
      // The batch asks the store for its items at once; one store refuses, so the batch must
      // fall back to one lookup per event and still agree.
      for (const ItemStore* store : {static_cast<const ItemStore*>(&table_store),
                                     static_cast<const ItemStore*>(&failing_store),
                                     static_cast<const ItemStore*>(&index_store)}) {
        CAPTURE(evicting);
        CAPTURE(static_cast<int>(dtype));
        CAPTURE(store == &failing_store);
        CAPTURE(store == &index_store);
        // More events than one internal chunk, over more users than the eviction cap keeps.
        const Stream s = make_stream(rng, 120, 1500);
        const InterestTrackerOptions options = options_for(store, evicting, dtype);

        InterestTracker one_by_one(options);
        std::vector<UpdateOutcome> expected;
        std::size_t first_rejected = s.events.size();
        for (std::size_t i = 0; i < s.events.size(); ++i) {
          try {
            expected.push_back(one_by_one.update(s.events[i]) ? UpdateOutcome::Applied
                                                              : UpdateOutcome::Duplicate);
          } catch (const Error& error) {
            CHECK(error.code() == ErrorCode::InvalidArgument);
            expected.push_back(UpdateOutcome::Rejected);
            first_rejected = std::min(first_rejected, i);
          }
        }

        InterestTracker batched(options);
        std::vector<UpdateOutcome> outcomes(s.events.size());
        const BatchUpdateResult result = batched.update(s.events, outcomes);
        CHECK(outcomes == expected);
        const auto count = [&](UpdateOutcome o) {
          return static_cast<std::size_t>(std::count(expected.begin(), expected.end(), o));
        };
        // The stream must exercise every outcome, or this test proves little.
        REQUIRE(count(UpdateOutcome::Duplicate) > 0);
        REQUIRE(count(UpdateOutcome::Rejected) > 0);
        CHECK(result.applied == count(UpdateOutcome::Applied));
        CHECK(result.duplicates == count(UpdateOutcome::Duplicate));
        CHECK(result.rejected == count(UpdateOutcome::Rejected));
        CHECK(result.first_rejected == first_rejected);
        CHECK_FALSE(result.first_error.empty());

        const TrackerStats a = one_by_one.stats(), b = batched.stats();
        CHECK(a.users == b.users);
        CHECK(a.events_applied == b.events_applied);
        CHECK(a.events_rejected == b.events_rejected);
        CHECK(a.events_duplicate == b.events_duplicate);
        CHECK(a.users_evicted == b.users_evicted);
        CHECK(a.users_expired == b.users_expired);
        if (evicting) CHECK(a.users_evicted + a.users_expired > 0);
        const std::int64_t now = 10'000'000;
        for (const std::string& user : s.users) {
          CAPTURE(user);
          CHECK(test::same(test::view(one_by_one, user, now), test::view(batched, user, now)));
        }
      }
    }
  }
  CHECK(failing_store.calls >= 4 * 6);  // each 1,500-event batch has six chunks
}

TEST_CASE("a batch names its first bad event by position and message") {
  InterestTracker tracker(options_for(nullptr, false, StateDtype::F32));
  const auto v = test::unit(kDim, 2);
  std::vector<float> bad = v;
  bad[5] = std::numeric_limits<float>::infinity();
  const std::vector<InterestEvent> events = {
      {.user = "a", .item_embedding = v, .timestamp = 10, .action = "click"},
      {.user = "b", .item_embedding = v, .timestamp = 10, .action = "frown"},
      {.user = "c", .item_embedding = bad, .timestamp = 10},
      {.user = "d", .item_embedding = v, .timestamp = 10},
  };
  const BatchUpdateResult result = tracker.update(events);
  CHECK(result.applied == 2);
  CHECK(result.rejected == 2);
  CHECK(result.first_rejected == 1);
  CHECK(result.first_error.find("unknown action 'frown'") != std::string::npos);
  CHECK(tracker.user_stats("a"));
  CHECK_FALSE(tracker.user_stats("b"));
  CHECK_FALSE(tracker.user_stats("c"));
  CHECK(tracker.user_stats("d"));
}

TEST_CASE("a batch with outcomes of the wrong size is refused whole") {
  InterestTracker tracker(options_for(nullptr, false, StateDtype::F32));
  const auto v = test::unit(kDim, 1);
  const std::vector<InterestEvent> events = {{.user = "a", .item_embedding = v, .timestamp = 1},
                                             {.user = "b", .item_embedding = v, .timestamp = 1}};
  std::vector<UpdateOutcome> outcomes(1);
  CHECK_THROWS_AS(tracker.update(events, outcomes), Error);
  CHECK(tracker.user_count() == 0);
  CHECK(tracker.update(std::span<const InterestEvent>{}).applied == 0);
}

TEST_CASE("batches from several threads over shared users equal one update() per event") {
  // Each thread owns its users' order (a host partitions its stream by user); the threads'
  // batches touch every shard at once, so their lock order is exercised.
  std::mt19937 rng(11);
  const TableItemStore store(rng);
  const InterestTrackerOptions options = options_for(&store, false, StateDtype::F32);
  constexpr int kThreads = 4;
  std::vector<Stream> streams;
  for (int t = 0; t < kThreads; ++t) {
    // Moving a Stream keeps its users' and embeddings' storage, which its events point into.
    streams.push_back(make_stream(rng, 60, 3000, "thread-" + std::to_string(t) + "-user-"));
  }
  InterestTracker reference(options);
  for (const Stream& s : streams) {
    for (const InterestEvent& e : s.events) {
      try {
        reference.update(e);
      } catch (const Error&) {
      }
    }
  }
  InterestTracker shared(options);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto& events = streams[t].events;
      for (std::size_t at = 0; at < events.size(); at += 97) {
        shared.update(std::span(events).subspan(at, std::min<std::size_t>(97, events.size() - at)));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(shared.stats().events_applied == reference.stats().events_applied);
  for (const Stream& s : streams) {
    for (const std::string& user : s.users) {
      CAPTURE(user);
      CHECK(test::same(test::view(reference, user, 10'000'000),
                       test::view(shared, user, 10'000'000)));
    }
  }
}

// A store that cannot be reached at all: neither a batch nor a single lookup answers.
class UnreachableStore : public FailingBatchStore {
 public:
  using FailingBatchStore::FailingBatchStore;
  bool lookup(std::int64_t, std::span<float>) const override {
    throw Error(ErrorCode::Io, "the store is unreachable");
  }
};

TEST_CASE("a store that cannot answer fails the batch instead of rejecting its events") {
  std::mt19937 rng(12);
  const UnreachableStore store(rng);
  InterestTracker tracker(options_for(&store, false, StateDtype::F32));
  const std::vector<float> embedding = test::random_embedding(rng, kDim);
  // An event with its own embedding, then one that needs the store.
  const std::vector<InterestEvent> events = {
      {.user = "a", .item_embedding = embedding, .timestamp = 100},
      {.user = "b", .timestamp = 100, .item = 3}};
  try {
    tracker.update(events);
    FAIL("the batch did not fail");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::Io);
  }
  CHECK(tracker.stats().events_applied == 0);  // the failing chunk applied nothing
}

TEST_CASE("a warm batch over known users allocates nothing") {
  std::mt19937 rng(3);
  const TableItemStore store(rng);
  InterestTracker tracker(options_for(&store, false, StateDtype::BF16));
  std::vector<std::string> users;
  for (int u = 0; u < 300; ++u) users.push_back("user-" + std::to_string(u));
  std::vector<InterestEvent> events;
  for (int e = 0; e < 900; ++e) {
    events.push_back({.user = users[e % users.size()],
                      .timestamp = 100 + e,
                      .item = e % static_cast<int>(kItems),
                      .action = e % 5 == 0 ? "skip" : "click"});
  }
  std::vector<UpdateOutcome> outcomes(events.size());
  REQUIRE(tracker.update(events, outcomes).applied == events.size());
  for (InterestEvent& e : events) e.timestamp += 1000;
  std::size_t applied = 0;
  CHECK(test::allocations_of([&] { applied = tracker.update(events, outcomes).applied; }) == 0);
  CHECK(applied == events.size());
  // The counter does see this path's allocations: a new user whose id is too long for the
  // string's own buffer allocates its key.
  for (InterestEvent& e : events) e.timestamp += 1000;
  events[0].user = "a newcomer with a long id";
  CHECK(test::allocations_of([&] { tracker.update(events, outcomes); }) > 0);
}

TEST_CASE("new users up to expected_users allocate nothing, one at a time or in a batch") {
  std::mt19937 rng(4);
  const TableItemStore store(rng);
  InterestTrackerOptions options = options_for(&store, false, StateDtype::BF16);
  options.expected_users = 1000;
  InterestTracker tracker(options);
  std::vector<std::string> users;  // short ids, held in the strings' own buffers
  for (int u = 0; u < 400; ++u) users.push_back("new-" + std::to_string(u));
  std::vector<InterestEvent> events;
  for (std::size_t u = 0; u < users.size(); ++u) {
    events.push_back({.user = users[u], .timestamp = 100, .item = std::int64_t(u % kItems)});
  }
  std::vector<UpdateOutcome> outcomes(200);
  // This thread's scratch is made on its first calls, by a user kept apart.
  tracker.update({.user = "warm", .timestamp = 100, .item = 1});
  tracker.update(std::span(events).first(1), std::span(outcomes).first(1));
  CHECK(test::allocations_of([&] {
          for (std::size_t u = 1; u < 200; ++u) tracker.update(events[u]);
        }) == 0);
  std::size_t applied = 0;
  CHECK(test::allocations_of([&] {
          applied = tracker.update(std::span(events).subspan(200), outcomes).applied;
        }) == 0);
  CHECK(applied == 200);
  CHECK(tracker.stats().users == 401);
}

}  // namespace nowrec

namespace nowrec {

TEST_CASE("timestamps at the ends of the int64 range are refused, not overflowed") {
  for (const std::int64_t ttl : {std::int64_t{0}, std::int64_t{1000}}) {
    InterestTrackerOptions options = options_for(nullptr, false, StateDtype::F32);
    options.ttl_seconds = ttl;
    InterestTracker tracker(options);
    const auto v = test::unit(kDim, 4);
    const std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
    const std::int64_t highest = std::numeric_limits<std::int64_t>::max();
    CHECK(tracker.update({.user = "a", .item_embedding = v, .timestamp = lowest}));
    // Too far from the first event (more than 68 years), and not a wrap-around.
    CHECK_THROWS_AS(tracker.update({.user = "a", .item_embedding = v, .timestamp = highest}),
                    Error);
    CHECK(tracker.update({.user = "b", .item_embedding = v, .timestamp = highest}));
    CHECK_THROWS_AS(tracker.update({.user = "b", .item_embedding = v, .timestamp = lowest}), Error);
    // With a TTL, b's update may expire a (in the same shard): a is 2^64 seconds older.
    const auto a = tracker.user_stats("a");
    if (ttl == 0 || a) CHECK((a && a->events == 1));
    const auto b = tracker.user_stats("b");
    REQUIRE(b);
    CHECK(b->events == 1);
    tracker.expire(lowest);
    tracker.expire(highest);
  }
}

}  // namespace nowrec
