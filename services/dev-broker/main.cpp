// splitvote-dev-broker: the embedded Kafka for local runs and tests (librdkafka's mock cluster).
// It speaks the Kafka protocol on loopback; in memory only: its data dies with it.
#include "splitvote/kafka/native.hpp"
#include "splitvote/runtime/program.hpp"
#include "splitvote/runtime/signals.hpp"
#include "src/control.hpp"
#include "src/relay.hpp"

#include <librdkafka/rdkafka_mock.h>

#include <chrono>
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
         "                            [--listen PORT]\n"
         "       splitvote-dev-broker --mirror HOST:PORT\n"
         "Prints 'bootstrap.servers=HOST:PORT,...' when ready; stops on SIGINT/SIGTERM.\n"
         "--control: a FIFO for fault injection, one command per line (for tests):\n"
         "  down B | up B | leader TOPIC PARTITION B | errors API_KEY COUNT ERROR_CODE | rtt B MS\n"
         "In containers (the mock cluster listens on 127.0.0.1 and names its brokers so):\n"
         "--listen PORT: also serve the brokers on this machine's other addresses, each on its own\n"
         "  port, and PORT there as the bootstrap (broker 1); clients use THIS-HOST:PORT.\n"
         "--mirror HOST:PORT: in a client's container, beside the client: reads the brokers from\n"
         "  HOST:PORT (a --listen dev broker) and serves each on 127.0.0.1, forwarded to HOST.\n";
  return 2;
}

/// The brokers a --listen dev broker at `bootstrap` names (their loopback ports), from Kafka
/// metadata; retried until it answers or a stop signal arrives (then empty).
std::vector<unsigned short> mirrored_ports(const std::string& bootstrap) {
  auto handle =
      kafka::make_handle(RD_KAFKA_PRODUCER, kafka::make_conf({{"bootstrap.servers", bootstrap}, {"log_level", "0"}}));
  for (;;) {
    const rd_kafka_metadata_t* raw = nullptr;
    if (rd_kafka_metadata(handle.get(), 0, nullptr, &raw, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const kafka::metadata_ptr metadata(raw);
      std::vector<unsigned short> ports;
      for (int i = 0; i < metadata->broker_cnt; ++i)
        ports.push_back(static_cast<unsigned short>(metadata->brokers[i].port));
      if (!ports.empty()) return ports;
    }
    std::cerr << "splitvote-dev-broker: mirror: no metadata from " << bootstrap << " yet" << std::endl;
    if (runtime::stop_signal_within(std::chrono::seconds(1))) return {};
  }
}

/// --mirror: 127.0.0.1:P forwarded to HOST:P for every broker port P the metadata names.
int mirror(const std::string& bootstrap) {
  return runtime::run_main("splitvote-dev-broker", [&] {
    const auto ports = mirrored_ports(bootstrap);
    if (ports.empty()) return 0;
    const auto host = dev_broker::resolve(bootstrap).address();
    dev_broker::relays relays;
    for (const auto port : ports) relays.add({boost::asio::ip::address_v4::loopback(), port}, {host, port});
    relays.start();
    std::cout << "splitvote-dev-broker: mirroring " << ports.size() << " brokers of " << bootstrap << " on 127.0.0.1"
              << std::endl;
    runtime::wait_for_stop_signal();
    return 0;
  });
}

}  // namespace

int main(int argc, char** argv) {
  runtime::block_stop_signals();
  int brokers = 3, partitions = 6, listen = 0;
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
      else if (arg == "--listen")
        listen = std::stoi(value);
      else if (arg == "--mirror")
        return argc == 3 ? mirror(value) : usage();
      else
        return usage();
    } catch (const std::exception&) {
      return usage();
    }
  }
  if (brokers < 1 || partitions < 1 || listen < 0 || listen > 65535) return usage();
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
    dev_broker::relays relays;
    if (listen) {
      const auto ports = dev_broker::broker_ports(bootstrap);
      const auto loopback = boost::asio::ip::address_v4::loopback();
      for (const auto& address : dev_broker::external_addresses()) {
        relays.add({address, static_cast<unsigned short>(listen)}, {loopback, ports.front()});
        for (const auto port : ports) relays.add({address, port}, {loopback, port});
        std::cout << "splitvote-dev-broker: listening on " << address << ":" << listen << std::endl;
      }
      relays.start();
    }
    std::cout << "bootstrap.servers=" << bootstrap << std::endl;
    runtime::wait_for_stop_signal();
    std::cout << "splitvote-dev-broker: stopping (in-memory data is gone)" << std::endl;
    return 0;
  });
}
