// A Kafka worker process: joins a consumer group on a topic of interest events (EventMessage
// JSON keyed by user id), keeps the interests of the users in its partitions, snapshots them to
// a shared directory, and answers recommendation requests read from standard input.
//
//   kafka_worker --brokers host:9092 --group nowrec --topic events --snapshots /shared/nowrec \
//                --index items.nri [--snapshot-interval 60] [-X session.timeout.ms=10000]
//
// Standard input: one request per line, "<user> [now]"; the answer is one line of item:score
// pairs, or the error (a user of a partition owned elsewhere is NotFound). SIGTERM or SIGINT
// leaves the group cleanly (every partition snapshotted); SIGUSR1 snapshots now.
#include <atomic>
#include <csignal>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "nowrec/error.hpp"
#include "nowrec/item_index.hpp"
#include "nowrec/kafka_worker.hpp"

namespace {

std::atomic<bool> stop_requested{false};
std::atomic<bool> snapshot_requested{false};

extern "C" void on_stop(int) { stop_requested = true; }
extern "C" void on_snapshot(int) { snapshot_requested = true; }

std::mutex output_mutex;

void say(const std::string& line) {
  const std::lock_guard lock(output_mutex);
  std::cout << line << std::endl;
}

std::string owned_line(const std::vector<std::uint32_t>& owned) {
  std::string line = "owns:";
  for (const std::uint32_t partition : owned) line += " " + std::to_string(partition);
  return line;
}

// Answers "<user> [now]" lines until standard input ends.
void serve(const nowrec::KafkaWorker& worker) {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream fields(line);
    std::string user;
    std::int64_t now = 0;
    if (!(fields >> user)) continue;
    fields >> now;
    try {
      std::string answer = "recommend " + user + ":";
      for (const nowrec::Recommendation& item : worker.recommend(user, now)) {
        answer += " " + std::to_string(item.item) + ":" + std::to_string(item.score);
      }
      say(answer);
    } catch (const nowrec::Error& error) {
      say("recommend " + user + ": error: " + error.what());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A nowrec Kafka worker"};
  nowrec::KafkaWorkerOptions options;
  std::string snapshots;
  std::string index_path;
  std::size_t dim = 0;
  std::vector<std::string> properties;
  bool serve_stdin = false;
  app.add_option("--brokers", options.brokers, "bootstrap.servers")->required();
  app.add_option("--group", options.group_id, "consumer group id")->required();
  app.add_option("--topic", options.topic, "the events topic")->required();
  app.add_option("--snapshots", snapshots, "shared snapshot directory")->required();
  app.add_option("--index", index_path, "item index file (nowrec index): embeddings of items");
  app.add_option("--dim", dim, "embedding width, for a worker without an index");
  app.add_option("--snapshot-interval", options.snapshot_interval_seconds, "seconds");
  app.add_option("-X", properties, "a librdkafka property, name=value");
  app.add_flag("--serve", serve_stdin, "answer recommendation requests from standard input");
  CLI11_PARSE(app, argc, argv);

  try {
    options.snapshot_directory = snapshots;
    for (const std::string& property : properties) {
      const std::size_t equals = property.find('=');
      if (equals == std::string::npos) throw CLI::ValidationError("-X", property + ": no '='");
      options.kafka_properties.emplace_back(property.substr(0, equals),
                                            property.substr(equals + 1));
    }
    std::optional<nowrec::ItemIndex> index;
    std::optional<nowrec::ItemIndexStore> store;
    if (!index_path.empty()) {
      index.emplace(nowrec::ItemIndex::load(index_path));
      store.emplace(*index);
      options.index = &*index;
      options.tracker.item_store = &*store;
      dim = index->dim();
    }
    if (dim == 0) throw CLI::ValidationError("--dim", "give --index or --dim");
    options.tracker.dim = dim;

    std::signal(SIGTERM, on_stop);
    std::signal(SIGINT, on_stop);
    std::signal(SIGUSR1, on_snapshot);
    nowrec::KafkaWorker worker(options);
    say("joined group " + options.group_id + ": topic " + options.topic + " has " +
        std::to_string(worker.partitions()) + " partitions");
    if (serve_stdin) std::thread(serve, std::cref(worker)).detach();

    std::vector<std::uint32_t> owned;
    while (!stop_requested) {
      worker.poll(std::chrono::milliseconds(100));
      if (snapshot_requested.exchange(false)) worker.snapshot();
      if (std::vector<std::uint32_t> now_owned = worker.owned(); now_owned != owned) {
        owned = std::move(now_owned);
        say(owned_line(owned));
      }
    }
    worker.close();
    const nowrec::KafkaWorkerStats stats = worker.stats();
    say("stopped: messages " + std::to_string(stats.messages) + ", applied " +
        std::to_string(stats.applied) + ", duplicates " + std::to_string(stats.duplicates) +
        ", rejected " + std::to_string(stats.rejected) + ", snapshots " +
        std::to_string(stats.snapshots) +
        (stats.rejected ? ", last rejection: " + stats.last_rejection : std::string()));
    std::_Exit(0);  // the serving thread may still wait on standard input
  } catch (const CLI::Error& error) {
    return app.exit(error);
  } catch (const nowrec::Error& error) {
    std::cerr << "kafka_worker: " << error.what() << "\n";
    return 1;
  }
}
