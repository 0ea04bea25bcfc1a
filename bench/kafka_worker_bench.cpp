// KafkaWorker throughput on librdkafka's mock cluster: messages/s of one worker that parses and
// applies every event, beside a bare librdkafka consumer reading the same messages (the
// transport's ceiling here) and the two steps alone (JSON decoding, tracker updates).
//
//   kafka_worker_bench [messages=200000] [users=10000] [dim=384]
//
// The mock cluster keeps at most about 5 MB per partition: more messages than fit are dropped
// from the front of the log, so keep messages * ~70 bytes under 4 partitions * 5 MB.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kafka/kafka_test_cluster.hpp"
#include "nowrec/event_message.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/item_index.hpp"
#include "nowrec/kafka_worker.hpp"
#include "test_support.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Reads every message of the topic's partitions from the beginning, doing nothing with them.
double bare_consumer_seconds(const std::string& brokers, const std::string& topic, int partitions,
                             std::size_t messages) {
  rd_kafka_t* consumer = nowrec::test::kafka_handle(
      RD_KAFKA_CONSUMER,
      nowrec::test::kafka_conf({{"bootstrap.servers", brokers}, {"group.id", "bare"}}));
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::size_t seen = 0;
  Clock::time_point start;
  std::size_t bytes = 0;
  int idle_seconds = 0;
  while (seen < messages) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 1000);
    if (!message) {
      if (++idle_seconds == 10) {
        std::fprintf(stderr, "only %zu of %zu messages arrived\n", seen, messages);
        std::exit(1);
      }
      continue;
    }
    if (!message->err) {
      if (seen++ == 0) start = Clock::now();
      bytes += message->len;
    }
    rd_kafka_message_destroy(message);
  }
  const double elapsed = seconds_since(start);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  std::printf("  (%.1f MB of payload)\n", static_cast<double>(bytes) / 1e6);
  return elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::size_t messages = argc > 1 ? std::stoul(argv[1]) : 200000;
  const std::size_t users = argc > 2 ? std::stoul(argv[2]) : 10000;
  const std::size_t dim = argc > 3 ? std::stoul(argv[3]) : 384;
  constexpr int kPartitions = 4;
  constexpr std::int64_t kItems = 10000;
  const std::string topic = "events";

  std::mt19937 rng(3);
  nowrec::ItemIndex index(dim);
  {
    std::normal_distribution<float> normal;
    std::vector<std::int64_t> ids(kItems);
    std::vector<float> vectors(kItems * dim);
    for (std::int64_t i = 0; i < kItems; ++i) ids[i] = i;
    for (float& x : vectors) x = normal(rng);
    index.add(ids, vectors);
  }
  const nowrec::ItemIndexStore store(index);
  nowrec::InterestTrackerOptions tracker_options;
  tracker_options.dim = dim;
  tracker_options.item_store = &store;

  // Skewed activity: a few users act often.
  std::vector<std::string> keys, payloads;
  std::vector<double> weights(users);
  for (std::size_t u = 0; u < users; ++u) weights[u] = 1.0 / static_cast<double>(u + 1);
  std::discrete_distribution<std::size_t> user_of(weights.begin(), weights.end());
  for (std::size_t i = 0; i < messages; ++i) {
    keys.push_back("user-" + std::to_string(user_of(rng)));
    payloads.push_back(nowrec::format_event_message(
        {.user = keys.back(),
         .timestamp = static_cast<std::int64_t>(1'700'000'000 + i / 10),
         .item = static_cast<std::int64_t>(rng() % kItems),
         .action = i % 9 == 0 ? "skip" : "click"}));
  }

  std::printf(
      "KafkaWorker bench: %zu messages, %zu users (Zipf), %lld items x %zu, "
      "%d partitions, 1 mock broker\n",
      messages, users, static_cast<long long>(kItems), dim, kPartitions);

  // The two steps alone, on one thread.
  Clock::time_point start = Clock::now();
  std::vector<nowrec::EventMessage> decoded;
  decoded.reserve(messages);
  for (std::size_t i = 0; i < messages; ++i) {
    decoded.push_back(nowrec::parse_event_message(payloads[i], keys[i]));
  }
  const double parse_seconds = seconds_since(start);
  nowrec::InterestTracker tracker(tracker_options);
  start = Clock::now();
  for (std::size_t i = 0; i < messages; ++i) tracker.update(decoded[i].event(i + 1));
  const double update_seconds = seconds_since(start);
  // The same events in batches of 256, as the worker applies what it has fetched.
  nowrec::InterestTracker batched_tracker(tracker_options);
  std::vector<nowrec::InterestEvent> batch;
  start = Clock::now();
  for (std::size_t first = 0; first < messages; first += 256) {
    batch.clear();
    for (std::size_t i = first; i < std::min(messages, first + 256); ++i) {
      batch.push_back(decoded[i].event(i + 1));
    }
    batched_tracker.update(batch);
  }
  const double batch_seconds = seconds_since(start);

  nowrec::test::MockCluster cluster(1);
  cluster.create_topic(topic, kPartitions);
  {
    nowrec::test::KeyedProducer producer(cluster.bootstraps(), topic);
    for (std::size_t i = 0; i < messages; ++i) producer.send(keys[i], payloads[i]);
    producer.flush();
  }
  const double bare_seconds =
      bare_consumer_seconds(cluster.bootstraps(), topic, kPartitions, messages);

  nowrec::test::TempDir snapshots;
  nowrec::KafkaWorker worker({.brokers = cluster.bootstraps(),
                              .group_id = "bench",
                              .topic = topic,
                              .snapshot_directory = snapshots.path(),
                              .snapshot_interval_seconds = 3600,
                              .tracker = tracker_options});
  std::size_t consumed = 0;
  while (consumed == 0) consumed += worker.poll(10ms);  // the group's first assignment
  start = Clock::now();
  const std::size_t counted_from = consumed;
  while (consumed < messages) consumed += worker.poll(100ms);
  const double worker_seconds = seconds_since(start);
  const nowrec::KafkaWorkerStats stats = worker.stats();
  start = Clock::now();
  worker.snapshot();
  const double snapshot_seconds = seconds_since(start);

  const auto rate = [](std::size_t n, double s) { return static_cast<double>(n) / s / 1e6; };
  std::printf("  bare librdkafka consumer      %6.3f M messages/s\n", rate(messages, bare_seconds));
  std::printf("  KafkaWorker (decode + apply)  %6.3f M messages/s  (applied %llu, rejected %llu)\n",
              rate(messages - counted_from, worker_seconds),
              static_cast<unsigned long long>(stats.applied),
              static_cast<unsigned long long>(stats.rejected));
  std::printf("  decode alone                  %6.3f M messages/s\n",
              rate(messages, parse_seconds));
  std::printf(
      "  tracker updates alone         %6.3f M events/s one by one, %.3f M in batches of 256\n",
      rate(messages, update_seconds), rate(messages, batch_seconds));
  std::printf("  snapshot of %zu partitions    %6.3f s\n", worker.owned().size(), snapshot_seconds);
  worker.close();
}
