#include "splitvote/testing/dev_broker.hpp"

#include "splitvote/testing/environment.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace splitvote::testing {

dev_broker::dev_broker(const std::filesystem::path& dir, int partitions)
    : control_(dir / "dev-broker.control"), log_(dir / "dev-broker.log") {
  const auto file = dir / "bootstrap";
  process_ = std::make_unique<child_process>(
      binary("splitvote-dev-broker"),
      std::vector<std::string>{"--brokers", "3", "--partitions", std::to_string(partitions), "--bootstrap-file",
                               file.string(), "--control", control_.string()},
      std::map<std::string, std::string>{}, log_);
  if (!eventually([&] { return std::filesystem::exists(file); }, std::chrono::seconds(10)))
    throw std::runtime_error("dev broker did not start; see " + (dir / "dev-broker.log").string());
  std::ifstream in(file);
  std::getline(in, bootstrap_);
}

void dev_broker::inject(const std::string& command) {
  {
    std::ofstream fifo(control_);
    fifo << command << "\n";
  }
  ++commands_;
  std::string answer;
  const bool answered = eventually(
      [&] {
        std::ifstream in(log_);
        int seen = 0;
        for (std::string line; std::getline(in, line);)
          if (line.rfind("control: ", 0) == 0 && ++seen == commands_) answer = line;
        return !answer.empty();
      },
      std::chrono::seconds(10));
  if (!answered) throw std::runtime_error("dev broker did not answer '" + command + "'");
  if (answer.rfind("control: ok: ", 0) != 0) throw std::runtime_error("dev broker refused: " + answer);
}

dev_broker::~dev_broker() {
  process_->signal(15);
  process_->wait(std::chrono::seconds(5));
}

}  // namespace splitvote::testing
