#include "control.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace splitvote::dev_broker {

namespace {

void check(rd_kafka_resp_err_t err) {
  if (err) throw std::invalid_argument(rd_kafka_err2str(err));
}

}  // namespace

std::string apply(rd_kafka_mock_cluster_t* cluster, const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  const auto number = [&](const char* what) {
    long long v;
    if (!(in >> v)) throw std::invalid_argument(std::string("expected ") + what);
    return v;
  };
  std::string what;
  if (verb == "down" || verb == "up") {
    const auto broker = static_cast<int32_t>(number("a broker id"));
    check(verb == "down" ? rd_kafka_mock_broker_set_down(cluster, broker)
                         : rd_kafka_mock_broker_set_up(cluster, broker));
    what = "broker " + std::to_string(broker) + (verb == "down" ? " down" : " up");
  } else if (verb == "leader") {
    std::string topic;
    if (!(in >> topic)) throw std::invalid_argument("expected a topic");
    const auto partition = static_cast<int32_t>(number("a partition"));
    const auto broker = static_cast<int32_t>(number("a broker id"));
    check(rd_kafka_mock_partition_set_leader(cluster, topic.c_str(), partition, broker));
    what = topic + "/" + std::to_string(partition) + " led by broker " + std::to_string(broker);
  } else if (verb == "errors") {
    const auto api = static_cast<int16_t>(number("an API key"));
    const auto count = static_cast<std::size_t>(number("a count"));
    const auto code = static_cast<rd_kafka_resp_err_t>(number("an error code"));
    if (count == 0 || count > 100000) throw std::invalid_argument("count out of range");
    std::vector<rd_kafka_resp_err_t> errors(count, code);
    rd_kafka_mock_push_request_errors_array(cluster, api, errors.size(), errors.data());
    what = std::to_string(count) + " x " + rd_kafka_err2name(code) + " on API " + std::to_string(api);
  } else if (verb == "rtt") {
    const auto broker = static_cast<int32_t>(number("a broker id"));
    const auto ms = static_cast<int>(number("milliseconds"));
    check(rd_kafka_mock_broker_set_rtt(cluster, broker, ms));
    what = "broker " + std::to_string(broker) + " answers after " + std::to_string(ms) + " ms";
  } else {
    throw std::invalid_argument("unknown command '" + verb + "' (down, up, leader, errors, rtt)");
  }
  std::string rest;
  if (in >> rest) throw std::invalid_argument("unexpected '" + rest + "'");
  return what;
}

control_channel::control_channel(rd_kafka_mock_cluster_t* cluster, std::filesystem::path path)
    : path_(std::move(path)) {
  std::filesystem::remove(path_);
  if (::mkfifo(path_.c_str(), 0600) != 0)
    throw std::system_error(errno, std::generic_category(), "mkfifo " + path_.string());
  // Read and write: the FIFO never reports end-of-file between writers, and opening does not block.
  fd_ = ::open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open " + path_.string());
  reader_ = std::jthread([this, cluster](std::stop_token stop) {
    std::string pending;
    char buf[512];
    while (!stop.stop_requested()) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const auto n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) continue;
      pending.append(buf, static_cast<std::size_t>(n));
      for (auto eol = pending.find('\n'); eol != std::string::npos; eol = pending.find('\n')) {
        const std::string line = pending.substr(0, eol);
        pending.erase(0, eol + 1);
        if (line.empty()) continue;
        try {
          const auto what = apply(cluster, line);
          std::cout << "control: ok: " << line << " (" << what << ")" << std::endl;
        } catch (const std::exception& e) {
          std::cout << "control: error: " << line << " (" << e.what() << ")" << std::endl;
        }
      }
    }
  });
}

control_channel::~control_channel() {
  reader_.request_stop();
  if (reader_.joinable()) reader_.join();
  ::close(fd_);
  std::filesystem::remove(path_);
}

}  // namespace splitvote::dev_broker
