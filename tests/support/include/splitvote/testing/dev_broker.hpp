// The dev broker binary as a child process, for tests that need Kafka.
#pragma once

#include "splitvote/testing/process.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace splitvote::testing {

class dev_broker {
public:
  /// Starts splitvote-dev-broker (3 brokers, topic splitvote.votes) logging into `dir`.
  explicit dev_broker(const std::filesystem::path& dir, int partitions = 6);
  ~dev_broker();
  const std::string& bootstrap() const { return bootstrap_; }
  void signal(int sig) { process_->signal(sig); }
  /// Sends a fault-injection command (see splitvote-dev-broker --help) and waits until the
  /// broker has applied it; throws if it refused it.
  void inject(const std::string& command);

private:
  std::unique_ptr<child_process> process_;
  std::string bootstrap_;
  std::filesystem::path control_, log_;
  int commands_ = 0;
};

}  // namespace splitvote::testing
