// splitvote-dev-broker: the embedded Kafka for local runs and tests (librdkafka's mock cluster).
// It speaks the Kafka protocol on loopback; in memory only: its data dies with it.
#include "splitvote/kafka/native.hpp"
#include "splitvote/runtime/program.hpp"
#include "splitvote/runtime/signals.hpp"
#include "src/control.hpp"

#include <librdkafka/rdkafka_mock.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace splitvote;

namespace {

struct mock_deleter {
  void operator()(rd_kafka_mock_cluster_t* m) const { rd_kafka_mock_cluster_destroy(m); }
};

int usage() {
  std::cerr
      << "usage: splitvote-dev-broker [--brokers N] [--topic NAME] [--partitions N]\n"
         "                            [--extra-topic NAME:PARTITIONS]... [--bootstrap-file PATH] [--control FIFO]\n"
         "Prints 'bootstrap.servers=HOST:PORT,...' when ready; stops on SIGINT/SIGTERM.\n"
         "--control: a FIFO for fault injection, one command per line (for tests):\n"
         "  down B | up B | leader TOPIC PARTITION B | errors API_KEY COUNT ERROR_CODE | rtt B MS\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  runtime::block_stop_signals();
  int brokers = 3, partitions = 6;
  std::string topic = "splitvote.votes", bootstrap_file, control_path;
  std::vector<std::pair<std::string, int>> extra_topics;  // more topics, e.g. for a partition sweep
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string value = argv[++i];
    try {
      if (arg == "--brokers")
        brokers = std::stoi(value);
      else if (arg == "--partitions")
        partitions = std::stoi(value);
      else if (arg == "--topic")
        topic = value;
      else if (arg == "--extra-topic") {
        const auto colon = value.rfind(':');
        if (colon == std::string::npos || colon == 0) return usage();
        extra_topics.emplace_back(value.substr(0, colon), std::stoi(value.substr(colon + 1)));
        if (extra_topics.back().second < 1) return usage();
      } else if (arg == "--bootstrap-file")
        bootstrap_file = value;
      else if (arg == "--control")
        control_path = value;
      else
        return usage();
    } catch (const std::exception&) {
      return usage();
    }
  }
  if (brokers < 1 || partitions < 1) return usage();
  return runtime::run_main("splitvote-dev-broker", [&] {
    // The mock cluster lives inside a client handle; this one is used for nothing else.
    auto handle = kafka::make_handle(RD_KAFKA_PRODUCER, kafka::make_conf({{"log_level", "3"}}));
    std::unique_ptr<rd_kafka_mock_cluster_t, mock_deleter> cluster(rd_kafka_mock_cluster_new(handle.get(), brokers));
    if (!cluster) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
    extra_topics.insert(extra_topics.begin(), {topic, partitions});
    for (const auto& [name, count] : extra_topics)
      if (auto err = rd_kafka_mock_topic_create(cluster.get(), name.c_str(), count, std::min(brokers, 3)))
        throw std::runtime_error("topic create " + name + ": " + rd_kafka_err2str(err));
    std::optional<dev_broker::control_channel> control;
    if (!control_path.empty()) control.emplace(cluster.get(), control_path);
    const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster.get());
    if (!bootstrap_file.empty()) {
      std::ofstream out(bootstrap_file + ".tmp");
      out << bootstrap << "\n";
      out.close();
      std::rename((bootstrap_file + ".tmp").c_str(), bootstrap_file.c_str());
    }
    std::cout << "bootstrap.servers=" << bootstrap << std::endl;
    runtime::wait_for_stop_signal();
    std::cout << "splitvote-dev-broker: stopping (in-memory data is gone)" << std::endl;
    return 0;
  });
}
