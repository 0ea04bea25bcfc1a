// A Kafka cluster for tests: librdkafka's mock cluster (real brokers' protocol on localhost
// sockets, consumer groups included), a producer keyed by user id with Kafka's default
// partitioner, and a reader of a group's committed offsets.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace nowrec::test {

inline rd_kafka_conf_t* kafka_conf(const std::vector<std::pair<std::string, std::string>>& set) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char reason[512];
  for (const auto& [name, value] : set) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), reason, sizeof reason) !=
        RD_KAFKA_CONF_OK) {
      throw std::runtime_error(name + ": " + reason);
    }
  }
  return conf;
}

inline rd_kafka_t* kafka_handle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char reason[512];
  rd_kafka_t* handle = rd_kafka_new(type, conf, reason, sizeof reason);
  if (!handle) throw std::runtime_error(reason);
  return handle;
}

class MockCluster {
 public:
  explicit MockCluster(int brokers)
      : handle_(kafka_handle(RD_KAFKA_PRODUCER, kafka_conf({{"log_level", "3"}}))),
        cluster_(rd_kafka_mock_cluster_new(handle_, brokers)) {
    if (!cluster_) throw std::runtime_error("no mock cluster");
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(handle_);
  }
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void create_topic(const std::string& topic, int partitions) {
    if (rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1)) {
      throw std::runtime_error("cannot create topic " + topic);
    }
  }

 private:
  rd_kafka_t* handle_;
  rd_kafka_mock_cluster_t* cluster_;
};

// Where each produced message landed, by the order it was sent.
struct Delivered {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

class KeyedProducer {
 public:
  KeyedProducer(const std::string& bootstraps, std::string topic) : topic_(std::move(topic)) {
    rd_kafka_conf_t* conf = kafka_conf(
        {{"bootstrap.servers", bootstraps}, {"partitioner", "murmur2_random"}, {"linger.ms", "2"}});
    rd_kafka_conf_set_dr_msg_cb(conf, &on_delivery);
    rd_kafka_conf_set_opaque(conf, this);
    handle_ = kafka_handle(RD_KAFKA_PRODUCER, conf);
  }
  ~KeyedProducer() { rd_kafka_destroy(handle_); }
  KeyedProducer(const KeyedProducer&) = delete;
  KeyedProducer& operator=(const KeyedProducer&) = delete;

  // Sends one message keyed by `key`; its delivery is recorded under the returned number.
  std::size_t send(const std::string& key, const std::string& payload) {
    std::size_t number;
    {
      const std::lock_guard lock(mutex_);
      number = delivered_.size();
      delivered_.emplace_back();
    }
    rd_kafka_resp_err_t error;
    do {
      error = rd_kafka_producev(handle_, RD_KAFKA_V_TOPIC(topic_.c_str()),
                                RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                                RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(number)), RD_KAFKA_V_END);
      if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(handle_, 10);
    } while (error == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    if (error) throw std::runtime_error(rd_kafka_err2str(error));
    rd_kafka_poll(handle_, 0);
    return number;
  }

  // Waits until every message is acknowledged; returns where each one landed.
  std::vector<Delivered> flush() {
    if (rd_kafka_flush(handle_, 30000)) throw std::runtime_error("messages not delivered");
    const std::lock_guard lock(mutex_);
    for (const Delivered& d : delivered_) {
      if (d.offset < 0) throw std::runtime_error("a message was not delivered");
    }
    return delivered_;
  }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto& self = *static_cast<KeyedProducer*>(opaque);
    if (message->err) return;
    const std::lock_guard lock(self.mutex_);
    self.delivered_[reinterpret_cast<std::size_t>(message->_private)] = {message->partition,
                                                                         message->offset};
  }

  std::string topic_;
  rd_kafka_t* handle_ = nullptr;
  std::mutex mutex_;
  std::vector<Delivered> delivered_;
};

// The offsets a group has committed for each partition of a topic (0 where none).
class CommittedOffsets {
 public:
  CommittedOffsets(const std::string& bootstraps, const std::string& group)
      : handle_(kafka_handle(RD_KAFKA_CONSUMER, kafka_conf({{"bootstrap.servers", bootstraps},
                                                            {"group.id", group}}))) {}
  ~CommittedOffsets() { rd_kafka_destroy(handle_); }
  CommittedOffsets(const CommittedOffsets&) = delete;
  CommittedOffsets& operator=(const CommittedOffsets&) = delete;

  std::vector<std::int64_t> read(const std::string& topic, int partitions) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
    std::vector<std::int64_t> offsets(partitions, 0);
    if (!rd_kafka_committed(handle_, list, 5000)) {
      for (int i = 0; i < list->cnt; ++i) {
        offsets[list->elems[i].partition] = std::max<std::int64_t>(0, list->elems[i].offset);
      }
    }
    rd_kafka_topic_partition_list_destroy(list);
    return offsets;
  }

 private:
  rd_kafka_t* handle_;
};

}  // namespace nowrec::test
