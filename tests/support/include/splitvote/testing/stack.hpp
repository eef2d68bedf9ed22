// The whole system from real binaries for end-to-end tests: dev broker, two fresh databases, services.
#pragma once

#include "splitvote/testing/dev_broker.hpp"
#include "splitvote/testing/http_client.hpp"
#include "splitvote/testing/process.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace splitvote::testing {

struct stack_options {
  std::map<std::string, std::string> consumer_env;  // extra SPLITVOTE_ settings for both consumers
  std::map<std::string, std::string> ingest_env;    // extra SPLITVOTE_ settings for ingest
  /// Server URLs (postgresql://postgres@host:port) instead of the shared fixture's clusters,
  /// e.g. a test's own private_cluster.
  std::string main_server{}, ballot_server{};
};

class stack {
public:
  explicit stack(const std::string& name, stack_options options = {});
  ~stack();

  enum class service { ingest, pollbook, ballotbox };

  /// Starts pollbook, ballotbox and ingest (one instance each), ready to vote.
  void start_all() {
    start(service::pollbook);
    start(service::ballotbox);
    start(service::ingest);
  }
  /// start_all(), then waits until both consumers hold their partitions (they log
  /// "partitions_assigned"), so that faults and votes from here on meet live consumers; fails
  /// the test if either does not within 30 s.
  void start_all_assigned();

  /// Starts the service (instance 0 unless given) and, for ingest, waits until /readyz is 200
  /// (with SPLITVOTE_HTTP__TLS__CERTIFICATE_CHAIN set: until it logs "listening").
  child_process& start(service s, int instance = 0);
  /// Sends `sig` and waits for exit; returns the exit status (nullopt on timeout).
  std::optional<int> stop(service s, int instance = 0, int sig = 15,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));
  child_process* process(service s, int instance = 0);
  /// Waits until the instance's log contains `text` `times` times; false at the timeout.
  bool wait_for_log(service s, int instance, const std::string& text, int times = 1,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
  /// Stops the dev broker (its data is gone: it lives in memory).
  void stop_broker() { broker_.reset(); }
  /// A signal to the dev broker process (SIGSTOP freezes it, SIGCONT thaws it).
  void signal_broker(int sig) { broker_->signal(sig); }
  /// Fault injection into the dev broker (see dev_broker::inject).
  void inject(const std::string& command) { broker_->inject(command); }

  /// The HTTP port of an ingest instance (instance 0's is known from construction on, another's
  /// once it was started).
  unsigned short port(int instance = 0) const { return ports_.at(instance); }
  /// The port of a consumer instance's probes and /metrics (set when it was started).
  unsigned short probe_port(service s, int instance = 0) const { return probe_ports_.at({s, instance}); }
  const std::string& main_dsn() const { return main_dsn_; }
  const std::string& ballot_dsn() const { return ballot_dsn_; }
  const std::filesystem::path& dir() const { return dir_; }
  const std::string& bootstrap() const { return bootstrap_; }
  /// The hex actor key the pollbook stores for `actor` in `poll_id` (reads the poll's key).
  std::string actor_key_hex(const std::string& poll_id, const std::string& actor) const;

  /// The actor secret the stack's ingest uses (tests derive actor keys from it).
  static constexpr const char* actor_secret = "test-secret-0123456789abcdef";
  std::string all_logs() const;

private:
  std::string binary_for(service s) const;
  std::map<std::string, std::string> env_for(service s) const;

  stack_options options_;
  std::filesystem::path dir_;
  std::string main_dsn_, ballot_dsn_, bootstrap_;
  std::map<int, unsigned short> ports_;  // ingest instance -> its HTTP port
  std::unique_ptr<dev_broker> broker_;
  std::map<std::pair<service, int>, std::unique_ptr<child_process>> services_;
  std::map<std::pair<service, int>, unsigned short> probe_ports_;
};

}  // namespace splitvote::testing
