// The installed nowrec::kafka links and runs: a worker given a missing snapshot directory is
// refused before it connects anywhere.
#include <cstdio>

#include <nowrec/error.hpp>
#include <nowrec/kafka_worker.hpp>

int main() {
  nowrec::KafkaWorkerOptions options{.brokers = "localhost:1",
                                     .group_id = "consumer",
                                     .topic = "events",
                                     .snapshot_directory = "/nonexistent/nowrec-snapshots"};
  options.tracker.dim = 8;
  try {
    nowrec::KafkaWorker worker(options);
  } catch (const nowrec::Error& error) {
    std::printf("KafkaWorker refused: %s\n", error.what());
    return error.code() == nowrec::ErrorCode::NotFound ? 0 : 1;
  }
  std::printf("KafkaWorker accepted a missing snapshot directory\n");
  return 1;
}
