// InterestTracker speed: updates/s on 1 and 2 threads with Zipf-distributed users (one update()
// per event, and batches; embeddings given with the event or looked up in an item store; with
// new users arriving), the latency of one update (p50/p99), interests() latency, and
// snapshot/restore beside a plain sequential write/read of the same bytes to the same disk
// (reads from disk: the files are dropped from the page cache first).
//
// Settings from the environment: NOWREC_BENCH_USERS (default 1000000), NOWREC_BENCH_DTYPE
// (f32 or bf16, default bf16), NOWREC_BENCH_DIR (snapshot folder, default /tmp),
// NOWREC_BENCH_STORE (the item store: `rows`, a plain copy out of an array, or `index`, an
// ItemIndexStore over an fp32 ItemIndex as the Python binding and the Kafka worker use it;
// default rows), NOWREC_BENCH_EXPECTED_USERS (the tracker's expected_users, default the number
// of users: their tables and state memory are set up before the clock starts),
// NOWREC_BENCH_AT_CAP (1: max_memory_bytes holds exactly the benchmark's users, so the tracker
// runs full, keeps its least-recently-active lists, and every new user evicts one),
// NOWREC_BENCH_ITEMS_USED (events name only the first this many of the 20,000 items, default
// all: a few hundred keep every item row in cache, to see what the rows' misses cost).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bandwidth_probe.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/item_index.hpp"

namespace {

constexpr std::size_t kDim = 384;
constexpr std::size_t kItems = 20000;
constexpr std::size_t kSamples = 1 << 20;  // pre-drawn (user, item) pairs per thread

std::size_t env_size(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

nowrec::StateDtype env_dtype() {
  const char* v = std::getenv("NOWREC_BENCH_DTYPE");
  return v && std::string(v) == "f32" ? nowrec::StateDtype::F32 : nowrec::StateDtype::BF16;
}

std::filesystem::path bench_dir() {
  const char* v = std::getenv("NOWREC_BENCH_DIR");
  return v && *v ? v : "/tmp";
}

bool env_index_store() {
  const char* v = std::getenv("NOWREC_BENCH_STORE");
  return v && std::string(v) == "index";
}

// The item embeddings as the tracker's item store: a copy of one row per lookup.
class RowStore : public nowrec::ItemStore {
 public:
  explicit RowStore(const std::vector<float>& rows) : rows_(rows) {}
  bool lookup(std::int64_t item, std::span<float> out) const override {
    if (item < 0 || static_cast<std::size_t>(item) >= kItems) return false;
    std::copy_n(rows_.begin() + item * kDim, kDim, out.begin());
    return true;
  }
  // As a store over plain memory would: the rows a few items ahead are asked for while one is
  // copied.
  void lookup_many(std::span<const std::int64_t> items, std::span<float> out,
                   std::span<bool> found) const override {
    constexpr std::size_t kAhead = 4;
    auto prefetch = [&](std::size_t i) {
      if (items[i] < 0 || static_cast<std::size_t>(items[i]) >= kItems) return;
      const float* row = rows_.data() + items[i] * kDim;
      for (std::size_t f = 0; f < kDim; f += 16) __builtin_prefetch(row + f);
    };
    for (std::size_t i = 0; i < std::min(kAhead, items.size()); ++i) prefetch(i);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i + kAhead < items.size()) prefetch(i + kAhead);
      found[i] = lookup(items[i], out.subspan(i * kDim, kDim));
    }
  }

 private:
  const std::vector<float>& rows_;
};

// Users, cached item embeddings, and per-thread Zipf(1.0) streams of (user, item) indices.
struct World {
  std::size_t users = env_size("NOWREC_BENCH_USERS", 1'000'000);
  std::vector<std::string> user_ids;
  std::vector<float> items;
  std::vector<std::vector<std::uint32_t>> user_stream, item_stream;
  std::unique_ptr<nowrec::ItemIndex> index;
  std::unique_ptr<nowrec::ItemStore> store;
  std::unique_ptr<nowrec::InterestTracker> tracker;
  std::int64_t clock = 1'700'000'000;

  World() {
    user_ids.reserve(users);
    for (std::size_t u = 0; u < users; ++u) user_ids.push_back("user-" + std::to_string(u));
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    items.resize(kItems * kDim);
    for (std::size_t i = 0; i < kItems; ++i) {
      float norm = 0;
      for (std::size_t j = 0; j < kDim; ++j) norm += std::pow(items[i * kDim + j] = normal(rng), 2);
      for (std::size_t j = 0; j < kDim; ++j) items[i * kDim + j] /= std::sqrt(norm);
    }
    std::vector<double> cdf(users);
    double sum = 0;
    for (std::size_t u = 0; u < users; ++u) cdf[u] = sum += 1.0 / double(u + 1);
    const std::size_t item_range = std::min(kItems, env_size("NOWREC_BENCH_ITEMS_USED", kItems));
    for (int t = 0; t < 2; ++t) {
      std::uniform_real_distribution<double> uniform(0, sum);
      std::vector<std::uint32_t> us(kSamples), is(kSamples);
      for (std::size_t s = 0; s < kSamples; ++s) {
        // Hash the rank so that hot users spread over the shards.
        const auto rank = std::lower_bound(cdf.begin(), cdf.end(), uniform(rng)) - cdf.begin();
        us[s] = static_cast<std::uint32_t>((std::uint64_t(rank) * 2654435761u) % users);
        is[s] = static_cast<std::uint32_t>(rng() % item_range);
      }
      user_stream.push_back(std::move(us));
      item_stream.push_back(std::move(is));
    }
    if (env_index_store()) {
      index = std::make_unique<nowrec::ItemIndex>(kDim);
      std::vector<std::int64_t> ids(kItems);
      for (std::size_t i = 0; i < kItems; ++i) ids[i] = static_cast<std::int64_t>(i);
      index->add(ids, items);
      store = std::make_unique<nowrec::ItemIndexStore>(*index);
    } else {
      store = std::make_unique<RowStore>(items);
    }
    nowrec::InterestTrackerOptions options{.dim = kDim,
                                           .shards = env_size("NOWREC_BENCH_SHARDS", 256),
                                           .max_interests = 4,
                                           .recent_window = 50,
                                           .allowed_lateness_seconds = 3600,
                                           .dtype = env_dtype(),
                                           .item_store = store.get()};
    if (env_size("NOWREC_BENCH_AT_CAP", 0) == 1) {
      // What one user holds, from a tracker with one user.
      nowrec::InterestTracker probe(options);
      probe.update({.user = "probe", .timestamp = clock, .item = 0, .action = "click"});
      options.max_memory_bytes = users * probe.stats().memory_bytes;
    }
    options.expected_users = env_size("NOWREC_BENCH_EXPECTED_USERS", users);
    tracker = std::make_unique<nowrec::InterestTracker>(options);
    // Every user starts with a few events, so the benchmark updates existing users.
    for (int round = 0; round < 3; ++round) {
      for (std::size_t u = 0; u < users; ++u) {
        update(u, (u * 7 + round * 13) % kItems, round == 2 ? "like" : "click", clock);
      }
      ++clock;
    }
  }

  void update(std::size_t user, std::size_t item, std::string_view action, std::int64_t t) {
    tracker->update({.user = user_ids[user],
                     .item_embedding = std::span(items).subspan(item * kDim, kDim),
                     .timestamp = t,
                     .item = static_cast<std::int64_t>(item),
                     .action = action});
  }
};

World& world() {
  static World w;
  return w;
}

// Event time runs on from run to run, as a stream's does: each benchmark run starts one second
// after the latest event of the runs before it. (Runs that jumped months ahead made every user's
// first event in a run fold decayed vectors, a cost a steady stream pays only for users who come
// back after hours.) Within a run, event time advances one second per 1,024 events of each
// thread; the threads of one run drift apart by up to a few thousand seconds, within the
// tracker's allowed lateness.
class EventClock {
 public:
  std::int64_t run_start() const { return next_.load(); }
  void run_ended_at(std::int64_t last) {
    std::int64_t next = next_.load();
    while (next <= last && !next_.compare_exchange_weak(next, last + 1)) {
    }
  }

 private:
  std::atomic<std::int64_t> next_{1'700'001'000};
};
EventClock event_clock;

// Numbers for the ids of new users, unique over the whole process.
std::atomic<std::uint64_t> next_new_user{0};

const char* const kActions[] = {"click", "view", "like", "click", "skip", "click", "purchase"};

// One update() per event; range(0) = 1: the event carries only the item id, and the tracker
// copies its embedding out of the item store.
void update(benchmark::State& state) {
  World& w = world();
  const auto& users = w.user_stream[state.thread_index()];
  const auto& items = w.item_stream[state.thread_index()];
  const bool from_store = state.range(0) == 1;
  std::size_t s = 0;
  std::int64_t t = event_clock.run_start();
  for (auto _ : state) {
    nowrec::InterestEvent event{.user = w.user_ids[users[s]],
                                .timestamp = t + static_cast<std::int64_t>(s / 1024),
                                .item = static_cast<std::int64_t>(items[s]),
                                .action = kActions[s % 7]};
    if (!from_store) event.item_embedding = std::span(w.items).subspan(items[s] * kDim, kDim);
    w.tracker->update(event);
    if (++s == kSamples) {
      s = 0;
      t += kSamples / 1024;
    }
  }
  event_clock.run_ended_at(t + static_cast<std::int64_t>(s / 1024));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(update)->ArgName("store")->Arg(0)->Arg(1)->Threads(1)->Threads(2)->UseRealTime()->MinTime(
    2.0);

// Whether the default action table gives `action` a negative weight (an update then changes the
// negative vector instead of a cluster).
bool is_negative_action(std::string_view action) {
  static const auto weights = nowrec::default_action_weights();
  const auto it = std::find_if(weights.begin(), weights.end(),
                               [&](const nowrec::ActionWeight& a) { return a.name == action; });
  return it != weights.end() && it->weight < 0;
}

// Bytes of user state one event of the benchmark's mix moves between memory and the core at
// most. A positive event reads S, L and the K cluster vectors (the cosines) and writes back S, L
// and one cluster; a negative one reads and writes S, L and the negative vector. Both touch four
// 64-byte lines besides (table slot, entry, cluster weights or window). The item's fp32 row
// comes on top.
double state_bytes_per_event() {
  const double element = env_dtype() == nowrec::StateDtype::BF16 ? 2 : 4;
  constexpr double kInterests = 4;
  double negative = 0;
  for (const char* action : kActions) negative += is_negative_action(action) ? 1 : 0;
  const double negative_share = negative / double(std::size(kActions));
  const double vectors = (1 - negative_share) * ((2 + kInterests) + 3) + negative_share * 6;
  return element * kDim * vectors + 4 * 64;
}

// The machine's read bandwidth with 1 and 2 threads, beside the updates' rate of state bytes.
void read_bandwidth(benchmark::State& state) {
  static nowrec::bench::BandwidthProbe probe;
  for (auto _ : state) {
    state.counters["GB_per_s"] = probe.measure(static_cast<int>(state.range(0)), 3)[1];
  }
  benchmark::DoNotOptimize(probe.sink());
}
BENCHMARK(read_bandwidth)->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond);

// The same stream in batches of state.range(0) events; range(1) = 1: items looked up in the item
// store instead of given with the event; range(2) = n > 0: one event in n is a new user's.
void update_batch(benchmark::State& state) {
  World& w = world();
  const auto& users = w.user_stream[state.thread_index()];
  const auto& items = w.item_stream[state.thread_index()];
  const auto batch = static_cast<std::size_t>(state.range(0));
  const bool from_store = state.range(1) == 1;
  const auto new_user_every = static_cast<std::size_t>(state.range(2));
  std::vector<nowrec::InterestEvent> events(batch);
  std::vector<std::string> new_users(batch);
  std::size_t s = 0;
  std::int64_t t = event_clock.run_start();
  for (auto _ : state) {
    for (std::size_t e = 0; e < batch; ++e) {
      nowrec::InterestEvent& event = events[e];
      const std::size_t item = items[s];
      event = {.user = w.user_ids[users[s]],
               .timestamp = t + static_cast<std::int64_t>(s / 1024),
               .item = static_cast<std::int64_t>(item),
               .action = kActions[s % 7]};
      if (!from_store) event.item_embedding = std::span(w.items).subspan(item * kDim, kDim);
      if (new_user_every > 0 && s % new_user_every == 0) {
        new_users[e] = "new-" + std::to_string(next_new_user.fetch_add(1));
        event.user = new_users[e];
      }
      if (++s == kSamples) {
        s = 0;
        t += kSamples / 1024;
      }
    }
    benchmark::DoNotOptimize(w.tracker->update(events));
  }
  event_clock.run_ended_at(t + static_cast<std::int64_t>(s / 1024));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
  state.counters["state_bytes_per_event"] =
      benchmark::Counter(state_bytes_per_event(), benchmark::Counter::kAvgThreads);
  state.counters["state_GB_per_s"] =
      benchmark::Counter(double(state.iterations()) * double(batch) * state_bytes_per_event() / 1e9,
                         benchmark::Counter::kIsRate);
}
BENCHMARK(update_batch)
    ->ArgNames({"batch", "store", "new_every"})
    ->Args({1024, 0, 0})
    ->Args({1024, 1, 0})
    ->Args({1024, 1, 10})
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(2.0);

// The ceiling the memory system sets on update_batch: the same users' streams, each event
// reading and writing only the lines of state an update of its action reads and writes, with
// nothing else done. The blocks have the tracker's size and order (one per user, in the order
// the users were made, in 2 MB pages), and an event's lines are prefetched range(0) events ahead
// into the L2, as the batch does. A positive event reads S, L and the four clusters and writes
// S, L and one cluster; a negative one reads and writes S, L and the negative vector; both touch
// the line of the cluster weights and the window's. What the updates reach, against this, is
// what the work between the misses costs.
class StateLines {
 public:
  explicit StateLines(std::size_t users)
      : vector_(kDim * (env_dtype() == nowrec::StateDtype::BF16 ? 2 : 4)),
        weights_(7 * vector_),
        window_(weights_ + 64),
        stride_(window_ + 50 * 16),
        bytes_(users * stride_) {
    void* at = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (at == MAP_FAILED) throw std::runtime_error("state_access_ceiling: mmap failed");
    madvise(at, bytes_, MADV_HUGEPAGE);
    blocks_ = static_cast<std::byte*>(at);
    std::memset(blocks_, 1, bytes_);
  }
  ~StateLines() { munmap(blocks_, bytes_); }
  StateLines(const StateLines&) = delete;
  StateLines& operator=(const StateLines&) = delete;

  void prefetch(std::size_t user, bool positive) const {
    const std::byte* block = blocks_ + user * stride_;
    const auto ask = [&](std::size_t begin, std::size_t end) {
      for (std::size_t at = begin; at < end; at += 64) __builtin_prefetch(block + at, 1, 2);
    };
    ask(0, 2 * vector_);
    const std::size_t first = changed_first(positive);
    ask(first, first + (positive ? kInterests : 1) * vector_);
    __builtin_prefetch(block + weights_, 1, 3);
    __builtin_prefetch(block + window_, 1, 3);
  }

  // Reads the event's lines and writes back those an update changes; returns a sum of what it
  // read, so that nothing is optimised away.
  std::uint64_t touch(std::size_t user, bool positive, std::size_t cluster) {
    std::byte* block = blocks_ + user * stride_;
    const std::size_t first = changed_first(positive);
    std::uint64_t sum = read_lines(block, 2 * vector_);
    sum += read_lines(block + first, (positive ? kInterests : 1) * vector_);
    sum += read_lines(block + weights_, 64) + read_lines(block + window_, 64);
    write_lines(block, 2 * vector_);
    write_lines(block + first + (positive ? cluster * vector_ : 0), vector_);
    write_lines(block + window_, 64);
    return sum;
  }

 private:
  // The tracker's block at d = 384, K = 4 and a window of 50 events: S, L, the negative vector
  // and four clusters, the cluster weights and norms, the window.
  static constexpr std::size_t kInterests = 4;

  // The clusters for a positive event, the negative vector for a negative one.
  std::size_t changed_first(bool positive) const { return (positive ? 3 : 2) * vector_; }

  static std::uint64_t read_lines(const std::byte* at, std::size_t bytes) {
    std::uint64_t sum = 0;
    for (std::size_t line = 0; line < bytes; line += 64) {
      std::uint64_t word;
      std::memcpy(&word, at + line, sizeof(word));
      sum += word;
    }
    return sum;
  }
  static void write_lines(std::byte* at, std::size_t bytes) {
    for (std::size_t line = 0; line < bytes; line += 64) at[line] = std::byte(line);
  }

  std::size_t vector_, weights_, window_, stride_, bytes_;
  std::byte* blocks_ = nullptr;
};

void state_access_ceiling(benchmark::State& state) {
  World& w = world();
  static StateLines lines(w.users);
  const auto& users = w.user_stream[state.thread_index()];
  const auto ahead = static_cast<std::size_t>(state.range(0));
  std::array<bool, std::size(kActions)> positive_action{};
  for (std::size_t a = 0; a < std::size(kActions); ++a) {
    positive_action[a] = !is_negative_action(kActions[a]);
  }
  const auto positive = [&](std::size_t s) { return positive_action[s % std::size(kActions)]; };
  // range(1) = 1: each event also reads its item's fp32 row, as an update from the item store
  // copies it, prefetched as far ahead.
  const bool with_item = state.range(1) == 1;
  const auto& items = w.item_stream[state.thread_index()];
  const auto item_row = [&](std::size_t s) {
    return reinterpret_cast<const std::byte*>(w.items.data() + items[s] * kDim);
  };
  constexpr std::size_t kRowBytes = kDim * sizeof(float);
  std::uint64_t sum = 0;
  std::size_t s = 0;
  for (auto _ : state) {
    for (std::size_t e = 0; e < 1024; ++e) {
      const std::size_t next = (s + ahead) % kSamples;
      lines.prefetch(users[next], positive(next));
      sum += lines.touch(users[s], positive(s), s % 4);
      if (with_item) {
        for (std::size_t at = 0; at < kRowBytes; at += 64) {
          __builtin_prefetch(item_row(next) + at, 0, 2);
        }
        for (std::size_t at = 0; at < kRowBytes; at += 64) {
          std::uint64_t word;
          std::memcpy(&word, item_row(s) + at, sizeof(word));
          sum += word;
        }
      }
      if (++s == kSamples) s = 0;
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(state_access_ceiling)
    ->ArgNames({"ahead", "item"})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({4, 0})
    ->Args({8, 0})
    ->Args({1, 1})
    ->Args({2, 1})
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->MinTime(2.0);

// Each update timed on its own: p50, p99 and p99.9 in microseconds; range(0) = n > 0: one
// update in n is a new user's (its id made before the clock starts). With two threads, each
// updates its own stream of the same users at once (so they meet on shard locks), and the
// percentiles are the mean of the two threads' own.
void update_latency(benchmark::State& state) {
  World& w = world();
  const auto& users = w.user_stream[state.thread_index()];
  const auto& items = w.item_stream[state.thread_index()];
  const auto new_user_every = static_cast<std::size_t>(state.range(0));
  std::vector<float> micros, new_micros, returning_micros;
  micros.reserve(2'000'000);
  if (new_user_every > 0) {
    new_micros.reserve(2'000'000 / new_user_every + 1);
    returning_micros.reserve(2'000'000);
  }
  std::size_t s = 0;
  std::string new_user;
  const std::int64_t t = event_clock.run_start();
  for (auto _ : state) {
    const bool is_new = new_user_every > 0 && s % new_user_every == 0;
    if (is_new) new_user = "new-" + std::to_string(next_new_user.fetch_add(1));
    const auto start = std::chrono::steady_clock::now();
    if (is_new) {
      w.tracker->update({.user = new_user,
                         .item_embedding = std::span(w.items).subspan(items[s] * kDim, kDim),
                         .timestamp = t,
                         .item = static_cast<std::int64_t>(items[s]),
                         .action = kActions[s % 7]});
    } else {
      w.update(users[s], items[s], kActions[s % 7], t);
    }
    const float took =
        std::chrono::duration<float, std::micro>(std::chrono::steady_clock::now() - start).count();
    micros.push_back(took);
    if (new_user_every > 0) (is_new ? new_micros : returning_micros).push_back(took);
    if (++s == kSamples) s = 0;
  }
  event_clock.run_ended_at(t);
  const auto percentile = [](const std::vector<float>& sorted, std::size_t per_mille) {
    return benchmark::Counter(sorted[sorted.size() * per_mille / 1000],
                              benchmark::Counter::kAvgThreads);
  };
  std::sort(micros.begin(), micros.end());
  state.counters["p50_us"] = percentile(micros, 500);
  state.counters["p99_us"] = percentile(micros, 990);
  state.counters["p999_us"] = percentile(micros, 999);
  // New and returning users apart: where the tail lies.
  if (new_user_every > 0) {
    std::sort(new_micros.begin(), new_micros.end());
    std::sort(returning_micros.begin(), returning_micros.end());
    state.counters["new_p50_us"] = percentile(new_micros, 500);
    state.counters["new_p99_us"] = percentile(new_micros, 990);
    state.counters["returning_p99_us"] = percentile(returning_micros, 990);
  }
}
BENCHMARK(update_latency)
    ->ArgName("new_every")
    ->Arg(0)
    ->Arg(10)
    ->Iterations(1'000'000)
    ->Threads(1)
    ->Threads(2);

void interests_query(benchmark::State& state) {
  World& w = world();
  const auto& users = w.user_stream[1];
  const std::int64_t now = event_clock.run_start();
  event_clock.run_ended_at(now);
  std::size_t s = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(w.tracker->interests(w.user_ids[users[s]], now));
    if (++s == kSamples) s = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(interests_query)->MinTime(1.0);

std::filesystem::path snapshot_path() { return bench_dir() / "nowrec_interest_bench.nrs"; }

void snapshot(benchmark::State& state) {
  World& w = world();
  for (auto _ : state) w.tracker->snapshot(snapshot_path(), 1);
  const auto bytes = std::filesystem::file_size(snapshot_path());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
  state.counters["MB"] = double(bytes) / 1e6;
}
BENCHMARK(snapshot)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same number of bytes written sequentially in 4 MB chunks, then fsync: the disk's speed.
void plain_write(benchmark::State& state) {
  const auto bytes = std::filesystem::file_size(snapshot_path());
  const auto path = bench_dir() / "nowrec_interest_bench.raw";
  std::vector<char> chunk(4 << 20, 'x');
  for (auto _ : state) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (std::uintmax_t done = 0; done < bytes;) {
      const std::size_t n = std::min<std::uintmax_t>(chunk.size(), bytes - done);
      done += static_cast<std::uintmax_t>(::write(fd, chunk.data(), n));
    }
    ::fsync(fd);
    ::close(fd);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
}
BENCHMARK(plain_write)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Drops a (written and synced) file from the page cache, so that the next read comes from disk.
void evict_from_page_cache(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

void restore(benchmark::State& state) {
  World& w = world();
  for (auto _ : state) {
    state.PauseTiming();
    evict_from_page_cache(snapshot_path());
    state.ResumeTiming();
    w.tracker->restore(snapshot_path());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(std::filesystem::file_size(snapshot_path())) *
                          state.iterations());
}
BENCHMARK(restore)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Reading the plain file back in 4 MB chunks, from disk as the restore does.
void plain_read(benchmark::State& state) {
  const auto path = bench_dir() / "nowrec_interest_bench.raw";
  std::vector<char> chunk(4 << 20);
  for (auto _ : state) {
    state.PauseTiming();
    evict_from_page_cache(path);
    state.ResumeTiming();
    const int fd = ::open(path.c_str(), O_RDONLY);
    while (::read(fd, chunk.data(), chunk.size()) > 0) {
    }
    ::close(fd);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(std::filesystem::file_size(path)) *
                          state.iterations());
}
BENCHMARK(plain_read)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
