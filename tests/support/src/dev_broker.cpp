#include "splitvote/testing/dev_broker.hpp"

#include "splitvote/testing/environment.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace splitvote::testing {

dev_broker::dev_broker(const std::filesystem::path& dir, int partitions) {
  const auto file = dir / "bootstrap";
  process_ = std::make_unique<child_process>(
      binary("splitvote-dev-broker"),
      std::vector<std::string>{"--brokers", "3", "--partitions", std::to_string(partitions), "--bootstrap-file", file.string()},
      std::map<std::string, std::string>{}, dir / "dev-broker.log");
  if (!eventually([&] { return std::filesystem::exists(file); }, std::chrono::seconds(10)))
    throw std::runtime_error("dev broker did not start; see " + (dir / "dev-broker.log").string());
  std::ifstream in(file);
  std::getline(in, bootstrap_);
}

dev_broker::~dev_broker() {
  process_->signal(15);
  process_->wait(std::chrono::seconds(5));
}

}  // namespace splitvote::testing
