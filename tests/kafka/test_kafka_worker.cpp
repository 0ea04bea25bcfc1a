// KafkaWorker against librdkafka's mock cluster: one worker in this process, then worker
// processes of a consumer group with one killed mid-stream. Every user must end equal to one
// uninterrupted tracker over the same messages: nothing lost, nothing applied twice.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "interest/interest_test_util.hpp"
#include "kafka/kafka_test_cluster.hpp"
#include "nowrec/error.hpp"
#include "nowrec/event_message.hpp"
#include "nowrec/kafka_worker.hpp"
#include "test_support.hpp"

extern char** environ;

namespace nowrec {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kDim = 16;
constexpr int kItems = 300;

ItemIndex make_index() {
  std::mt19937 rng(5);
  ItemIndex index(kDim);
  std::vector<std::int64_t> ids;
  std::vector<float> vectors;
  for (int item = 0; item < kItems; ++item) {
    ids.push_back(item);
    const std::vector<float> v = test::random_embedding(rng, kDim);
    vectors.insert(vectors.end(), v.begin(), v.end());
  }
  index.add(ids, vectors);
  return index;
}

// The messages of a stream: mostly item events, some carrying their own embedding, and a few
// that are not valid events (not JSON, an unknown item) which every consumer must skip.
struct Stream {
  std::vector<std::string> users;
  std::vector<std::string> keys;
  std::vector<std::string> payloads;

  void generate(std::size_t count, std::mt19937& rng) {
    for (std::size_t i = 0; i < count; ++i) {
      const std::string& user = users[rng() % users.size()];
      const auto timestamp = static_cast<std::int64_t>(1'000'000 + payloads.size());
      const std::uint32_t kind = rng() % 100;
      std::string payload;
      if (kind == 0) {
        payload = "{\"user\": \"" + user + "\", \"timestamp\": ";  // cut short
      } else if (kind == 1) {
        payload = format_event_message({.user = user, .timestamp = timestamp, .item = 99999});
      } else if (kind < 6) {
        const std::vector<float> embedding = test::random_embedding(rng, kDim);
        payload = format_event_message(
            {.user = user, .item_embedding = embedding, .timestamp = timestamp, .action = "like"});
      } else {
        payload = format_event_message({.user = user,
                                        .timestamp = timestamp,
                                        .item = static_cast<std::int64_t>(rng() % kItems),
                                        .action = kind % 7 == 0 ? "skip" : "click"});
      }
      keys.push_back(user);
      payloads.push_back(std::move(payload));
    }
  }
};

Stream make_stream(std::size_t users) {
  Stream stream;
  for (std::size_t u = 0; u < users; ++u) stream.users.push_back("user-" + std::to_string(u));
  return stream;
}

InterestTrackerOptions tracker_options(const ItemStore& store) {
  InterestTrackerOptions options;
  options.dim = kDim;
  options.item_store = &store;
  return options;
}

// One tracker applying every delivered message in its partition's order, as a single
// uninterrupted consumer would.
InterestTracker reference_of(const Stream& stream, const std::vector<test::Delivered>& delivered,
                             const ItemStore& store, std::size_t* rejected = nullptr) {
  std::vector<std::size_t> order(delivered.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::pair(delivered[a].partition, delivered[a].offset) <
           std::pair(delivered[b].partition, delivered[b].offset);
  });
  InterestTracker reference(tracker_options(store));
  for (const std::size_t i : order) {
    try {
      const EventMessage message = parse_event_message(stream.payloads[i], stream.keys[i]);
      reference.update(message.event(static_cast<std::uint64_t>(delivered[i].offset) + 1));
    } catch (const Error&) {
      if (rejected) ++*rejected;
    }
  }
  return reference;
}

// The end offset of each partition: one past its last delivered message.
std::vector<std::uint64_t> end_offsets(const std::vector<test::Delivered>& delivered,
                                       int partitions) {
  std::vector<std::uint64_t> ends(partitions, 0);
  for (const test::Delivered& d : delivered) {
    ends[d.partition] = std::max<std::uint64_t>(ends[d.partition], d.offset + 1);
  }
  return ends;
}

void check_users_equal(const InterestTracker& reference, const PartitionedTracker& workers,
                       const Stream& stream) {
  std::size_t compared = 0;
  for (const std::string& user : stream.users) {
    CAPTURE(user);
    if (!reference.user_stats(user)) continue;
    CHECK(test::same(test::view(reference, user, 2'000'000),
                     test::view(workers.tracker_of(user), user, 2'000'000)));
    ++compared;
  }
  CHECK(compared > stream.users.size() / 2);
}

std::vector<std::pair<std::string, std::string>> fast_group_properties() {
  return {{"session.timeout.ms", "3000"}, {"heartbeat.interval.ms", "300"}, {"log_level", "3"}};
}

}  // namespace

TEST_CASE("a worker consumes its partitions, serves its users and resumes from its snapshots") {
  test::MockCluster cluster(3);
  const std::string topic = "events";
  constexpr int kPartitions = 4;
  cluster.create_topic(topic, kPartitions);
  const ItemIndex index = make_index();
  const ItemIndexStore store(index);
  test::TempDir snapshots;

  std::mt19937 rng(11);
  Stream stream = make_stream(80);
  stream.generate(1500, rng);
  test::KeyedProducer producer(cluster.bootstraps(), topic);
  for (std::size_t i = 0; i < stream.payloads.size(); ++i) {
    producer.send(stream.keys[i], stream.payloads[i]);
  }
  std::vector<test::Delivered> delivered = producer.flush();
  for (std::size_t i = 0; i < delivered.size(); ++i) {
    // The producer's murmur2 partitioner and the tracker's agree.
    CHECK(delivered[i].partition ==
          static_cast<std::int32_t>(kafka_partition(stream.keys[i], kPartitions)));
  }

  KafkaWorkerOptions options{.brokers = cluster.bootstraps(),
                             .group_id = "serving",
                             .topic = topic,
                             .snapshot_directory = snapshots.path(),
                             .snapshot_interval_seconds = 3600,
                             .tracker = tracker_options(store),
                             .index = &index,
                             .kafka_properties = fast_group_properties()};
  const auto consume_until = [](KafkaWorker& worker, const std::vector<std::uint64_t>& ends) {
    const Clock::time_point deadline = Clock::now() + 60s;
    while (Clock::now() < deadline) {
      worker.poll(100ms);
      bool done = worker.owned().size() == ends.size();
      for (std::uint32_t p = 0; done && p < ends.size(); ++p) {
        done = worker.tracker().watermark(p) >= ends[p];
      }
      if (done) return true;
    }
    return false;
  };

  std::size_t bad_messages = 0;
  const InterestTracker reference = reference_of(stream, delivered, store, &bad_messages);
  CHECK(bad_messages > 10);
  {
    KafkaWorker worker(options);
    CHECK(worker.partitions() == kPartitions);
    REQUIRE(consume_until(worker, end_offsets(delivered, kPartitions)));
    const KafkaWorkerStats stats = worker.stats();
    CHECK(stats.messages == stream.payloads.size());
    CHECK(stats.rejected == bad_messages);
    CHECK(stats.applied == stream.payloads.size() - bad_messages);
    CHECK(stats.duplicates == 0);
    CHECK(stats.assigned == kPartitions);
    CHECK(stats.last_rejection.find("partition") != std::string::npos);
    check_users_equal(reference, worker.tracker(), stream);

    // Serving: the user's recommendations come from the partition's tracker.
    const std::vector<Recommendation> items = worker.recommend(stream.users[0], 2'000'000);
    CHECK(items.size() == 10);
    worker.close();
    CHECK(worker.owned().empty());
    CHECK_THROWS_WITH_AS(worker.recommend(stream.users[0], 2'000'000),
                         doctest::Contains("does not own"), Error);
  }
  for (int p = 0; p < kPartitions; ++p) {
    CHECK(
        std::filesystem::exists(snapshots.path() / ("events-" + std::to_string(p) + ".snapshot")));
  }

  // A new worker of the group resumes where the snapshots end: the old messages are not
  // applied again, the new ones are.
  const std::size_t before = stream.payloads.size();
  stream.generate(300, rng);
  for (std::size_t i = before; i < stream.payloads.size(); ++i) {
    producer.send(stream.keys[i], stream.payloads[i]);
  }
  delivered = producer.flush();
  KafkaWorker resumed(options);
  REQUIRE(consume_until(resumed, end_offsets(delivered, kPartitions)));
  CHECK(resumed.stats().messages == 300);
  CHECK(resumed.stats().duplicates == 0);
  check_users_equal(reference_of(stream, delivered, store), resumed.tracker(), stream);
}

TEST_CASE("a worker refuses options it cannot run") {
  test::MockCluster cluster(1);
  cluster.create_topic("events", 2);
  const ItemIndex index = make_index();
  const ItemIndexStore store(index);
  test::TempDir snapshots;
  const KafkaWorkerOptions good{.brokers = cluster.bootstraps(),
                                .group_id = "g",
                                .topic = "events",
                                .snapshot_directory = snapshots.path(),
                                .tracker = tracker_options(store),
                                .index = &index};
  KafkaWorkerOptions bad = good;
  bad.snapshot_directory = snapshots.path() / "missing";
  CHECK_THROWS_WITH_AS(KafkaWorker{bad}, doctest::Contains("does not exist"), Error);
  bad = good;
  bad.kafka_properties = {{"no.such.property", "1"}};
  CHECK_THROWS_WITH_AS(KafkaWorker{bad}, doctest::Contains("no.such.property"), Error);
  bad = good;
  bad.recommender.co_visitation = 0.5f;
  CHECK_THROWS_WITH_AS(KafkaWorker{bad}, doctest::Contains("co_visitation"), Error);
  bad = good;
  bad.index = nullptr;
  CHECK_THROWS_WITH_AS(KafkaWorker{bad}.recommend("user-1", 0), doctest::Contains("index"), Error);
  bad = good;
  bad.group_id.clear();
  CHECK_THROWS_AS(KafkaWorker{bad}, Error);
}

#ifdef NOWREC_KAFKA_WORKER
namespace {

// A kafka_worker process whose standard output is collected line by line.
class WorkerProcess {
 public:
  explicit WorkerProcess(const std::vector<std::string>& arguments) {
    int pipe_fds[2];
    REQUIRE(pipe(pipe_fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(NOWREC_KAFKA_WORKER));
    for (const std::string& argument : arguments)
      argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    REQUIRE(posix_spawn(&pid_, NOWREC_KAFKA_WORKER, &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    reader_ = std::thread([this, fd = pipe_fds[0]] {
      std::string pending;
      char buffer[4096];
      ssize_t got;
      while ((got = read(fd, buffer, sizeof buffer)) > 0) {
        pending.append(buffer, static_cast<std::size_t>(got));
        for (std::size_t end; (end = pending.find('\n')) != std::string::npos;) {
          const std::lock_guard lock(mutex_);
          lines_.push_back(pending.substr(0, end));
          pending.erase(0, end + 1);
        }
      }
      close(fd);
    });
  }
  ~WorkerProcess() {
    if (pid_ > 0) signal(SIGKILL), wait();
    if (reader_.joinable()) reader_.join();
  }

  void signal(int number) const { kill(pid_, number); }
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  // The partitions of the last "owns:" line; nullopt before the first.
  std::optional<std::set<int>> owned() const {
    const std::lock_guard lock(mutex_);
    for (auto line = lines_.rbegin(); line != lines_.rend(); ++line) {
      if (line->rfind("owns:", 0) != 0) continue;
      std::set<int> partitions;
      std::istringstream fields(line->substr(5));
      for (int p; fields >> p;) partitions.insert(p);
      return partitions;
    }
    return std::nullopt;
  }
  std::string output() const {
    const std::lock_guard lock(mutex_);
    std::string all;
    for (const std::string& line : lines_) all += line + "\n";
    return all;
  }

 private:
  pid_t pid_ = -1;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

template <typename Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit) {
  const Clock::time_point deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

}  // namespace

TEST_CASE("worker processes of a group, one killed mid-stream, lose and double nothing") {
  test::MockCluster cluster(3);
  const std::string topic = "events";
  const std::string group = "workers";
  constexpr int kPartitions = 6;
  cluster.create_topic(topic, kPartitions);
  const ItemIndex index = make_index();
  const ItemIndexStore store(index);
  test::TempDir dir;
  const std::filesystem::path snapshots = dir.path() / "snapshots";
  std::filesystem::create_directory(snapshots);
  index.save(dir.path() / "items.nri");

  std::vector<std::string> arguments = {"--brokers",
                                        cluster.bootstraps(),
                                        "--group",
                                        group,
                                        "--topic",
                                        topic,
                                        "--snapshots",
                                        snapshots.string(),
                                        "--index",
                                        (dir.path() / "items.nri").string(),
                                        "--snapshot-interval",
                                        "3600"};
  for (const auto& [name, value] : fast_group_properties()) {
    arguments.push_back("-X");
    arguments.push_back(name + "=" + value);
  }
  std::vector<std::unique_ptr<WorkerProcess>> workers;
  for (int w = 0; w < 3; ++w) workers.push_back(std::make_unique<WorkerProcess>(arguments));
  // The group settles with every worker owning two partitions.
  REQUIRE_MESSAGE(wait_until(
                      [&] {
                        for (const auto& worker : workers) {
                          const auto owned = worker->owned();
                          if (!owned || owned->size() != 2) return false;
                        }
                        return true;
                      },
                      60s),
                  workers[0]->output());

  std::mt19937 rng(23);
  Stream stream = make_stream(150);
  test::KeyedProducer producer(cluster.bootstraps(), topic);
  test::CommittedOffsets committed(cluster.bootstraps(), group);
  const auto produce = [&](std::size_t count) {
    const std::size_t from = stream.payloads.size();
    stream.generate(count, rng);
    for (std::size_t i = from; i < stream.payloads.size(); ++i) {
      producer.send(stream.keys[i], stream.payloads[i]);
    }
    return producer.flush();
  };
  // Snapshots on request (SIGUSR1) commit the offsets they cover. The workers may still be
  // consuming: ask again until the commits reach the ends.
  const auto snapshot_covers = [&](const std::vector<test::Delivered>& delivered) {
    const std::vector<std::uint64_t> ends = end_offsets(delivered, kPartitions);
    std::vector<std::int64_t> offsets;
    const bool covered = wait_until(
        [&] {
          for (const auto& worker : workers) {
            if (worker) worker->signal(SIGUSR1);
          }
          std::this_thread::sleep_for(200ms);
          offsets = committed.read(topic, kPartitions);
          for (int p = 0; p < kPartitions; ++p) {
            if (static_cast<std::uint64_t>(offsets[p]) < ends[p]) return false;
          }
          return true;
        },
        30s);
    if (!covered) {
      for (int p = 0; p < kPartitions; ++p) {
        MESSAGE("partition " << p << ": committed " << offsets[p] << ", end " << ends[p]);
      }
      for (const auto& worker : workers) {
        if (worker) MESSAGE(worker->output());
      }
    }
    return covered;
  };

  // Phase 1: consumed and snapshotted by all three.
  std::vector<test::Delivered> delivered = produce(2000);
  REQUIRE(snapshot_covers(delivered));
  const std::vector<std::uint64_t> first_ends = end_offsets(delivered, kPartitions);

  // Phase 2: consumed, not snapshotted; then worker 1 is killed. Its partitions' latest state
  // exists only in the log after its snapshot.
  delivered = produce(2000);
  std::this_thread::sleep_for(1s);
  const std::set<int> victim_partitions = *workers[1]->owned();
  workers[1]->signal(SIGKILL);
  workers[1]->wait();
  const Clock::time_point killed = Clock::now();
  workers[1].reset();
  // Its snapshots hold phase 1 only: the new owners must replay phase 2 from the log.
  const std::vector<std::uint64_t> second_ends = end_offsets(delivered, kPartitions);
  REQUIRE(victim_partitions.size() == 2);
  for (const int p : victim_partitions) {
    PartitionedTracker probe(tracker_options(store), kPartitions);
    CHECK(probe.adopt(p, snapshots / ("events-" + std::to_string(p) + ".snapshot")) ==
          first_ends[p]);
    CHECK(first_ends[p] < second_ends[p]);
  }

  // Phase 3 arrives while the group notices the death and hands the partitions over.
  delivered = produce(2000);
  const bool taken_over = wait_until(
      [&] {
        std::set<int> owned;
        for (const auto& worker : workers) {
          if (!worker) continue;
          if (const std::optional<std::set<int>> mine = worker->owned()) {
            owned.insert(mine->begin(), mine->end());
          }
        }
        return owned.size() == kPartitions;
      },
      60s);
  const double resume_seconds = std::chrono::duration<double>(Clock::now() - killed).count();
  REQUIRE(taken_over);
  MESSAGE("partitions of the killed worker owned again after " << resume_seconds << " s");
  REQUIRE(snapshot_covers(delivered));

  for (const auto& worker : workers) {
    if (!worker) continue;
    worker->signal(SIGTERM);
    const int status = worker->wait();
    CHECK_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0), worker->output());
  }

  // The saved state of every partition, gathered in one place, equals one uninterrupted
  // consumer's.
  PartitionedTracker gathered(tracker_options(store), kPartitions);
  const std::vector<std::uint64_t> ends = end_offsets(delivered, kPartitions);
  for (int p = 0; p < kPartitions; ++p) {
    CAPTURE(p);
    CHECK(gathered.adopt(p, snapshots / ("events-" + std::to_string(p) + ".snapshot")) == ends[p]);
  }
  check_users_equal(reference_of(stream, delivered, store), gathered, stream);
}
#endif

}  // namespace nowrec
