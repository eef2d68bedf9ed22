// The fault suite: the real binaries, a bounded stream of votes, one fault per case, then the
// invariant: every 202 is stored exactly once in the pollbook and once as an envelope in the
// ballotbox, nothing answered otherwise is counted, and ballots equal envelopes plus decoys.
#include "splitvote/kafka/client.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <functional>
#include <iostream>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

using namespace splitvote;
using namespace splitvote::testing;
using svc = stack::service;
using namespace std::chrono_literals;

namespace {

/// What the client learnt about one vote.
enum class answer {
  accepted,  // 202: must be counted exactly once
  unknown,   // no answer, or 503 outcome-unknown: counted at most once
  refused,   // any other answer: must not be counted
};

struct ledger {
  std::vector<vote> votes;
  std::vector<answer> answers;
  std::map<unsigned, int> statuses;     // status -> count (0: no answer)
  std::map<std::string, int> problems;  // "status type" -> count, for the answers other than 202
  std::vector<double> latency;          // seconds from sending to the answer (or the failure)
  int without_retry_after = 0;          // 503s and 429s that did not say when to retry
  double seconds = 0;
  int count(answer a) const { return static_cast<int>(std::count(answers.begin(), answers.end(), a)); }
  std::string summary() const {
    std::string out;
    for (const auto& [status, n] : statuses)
      out += (out.empty() ? "" : ", ") + (status ? std::to_string(status) : std::string("no answer")) + " x" +
             std::to_string(n);
    for (const auto& [problem, n] : problems) out += "; " + problem + " x" + std::to_string(n);
    return out + "; " + std::to_string(seconds) + " s";
  }
};

/// Sends one vote per actor over `connections` keep-alive connections, reopening a
/// connection that failed; `on_progress(done)` runs on the sending thread after each vote,
/// and each connection pauses `pace` between its votes.
ledger stream(unsigned short port, const std::string& poll_id, int n, int connections,
              const std::function<void(int)>& on_progress = {}, std::chrono::milliseconds pace = 0ms) {
  ledger l;
  for (int i = 0; i < n; ++i) l.votes.push_back({"fault-voter-" + std::to_string(i), i % 3 == 0 ? "green" : "red"});
  l.answers.assign(l.votes.size(), answer::unknown);
  l.latency.assign(l.votes.size(), 0);
  std::atomic<int> without_retry_after{0};
  std::vector<unsigned> status(l.votes.size(), 0);
  std::vector<std::string> problem(l.votes.size());
  const auto started = std::chrono::steady_clock::now();
  std::atomic<std::size_t> next{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t)
    threads.emplace_back([&] {
      std::unique_ptr<http_client> c;
      for (std::size_t i = next++; i < l.votes.size(); i = next++) {
        const std::string body =
            R"({"actor_id":")" + l.votes[i].actor + R"(","choice":")" + l.votes[i].choice + R"("})";
        const auto sent = std::chrono::steady_clock::now();
        const auto took = [&] {
          l.latency[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
        };
        try {
          if (!c) c = std::make_unique<http_client>(port);
          const auto r = c->post("/v1/polls/" + poll_id + "/votes", body);
          took();
          status[i] = r.status;
          if ((r.status == 503 || r.status == 429) && r.header("retry-after").empty()) ++without_retry_after;
          const bool unknown = r.status == 503 && r.body.find("outcome-unknown") != std::string::npos;
          l.answers[i] = r.status == 202 ? answer::accepted : unknown ? answer::unknown : answer::refused;
          if (r.status != 202) {
            try {
              problem[i] = std::to_string(r.status) + " " + std::string(r.json().at("type").as_string());
            } catch (const std::exception&) {
              problem[i] = std::to_string(r.status) + " (no problem body)";
            }
          }
          if (r.header("connection") == "close") c.reset();
        } catch (const std::exception&) {
          took();
          c.reset();  // no answer: the vote may or may not have gone out
          std::this_thread::sleep_for(20ms);
        }
        const int d = ++done;
        if (on_progress) on_progress(d);
        if (pace > 0ms) std::this_thread::sleep_for(pace);
      }
    });
  for (auto& t : threads) t.join();
  for (auto s : status) ++l.statuses[s];
  l.without_retry_after = without_retry_after;
  for (const auto& p : problem)
    if (!p.empty()) ++l.problems[p];
  l.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return l;
}

/// Messages in the votes topic: the sum of the partitions' high watermarks (the idempotent
/// producer writes each accepted vote once; nothing else writes to a test's own broker).
std::int64_t topic_messages(const stack& s) {
  const kafka::client c({{"bootstrap.servers", s.bootstrap()}});
  std::int64_t total = 0;
  try {
    for (int partition = 0; partition < 6; ++partition)
      total += c.high_watermark("splitvote.votes", partition, std::chrono::seconds(10));
  } catch (const kafka::error&) {
    return -1;
  }
  return total;
}

/// Waits until both consumers have read to the end of the topic and the stores agree, then
/// checks the invariant against the ledger and the decoys per envelope (fixed k). Returns
/// how many unanswered votes were counted.
int check_invariant(const stack& s, const created_poll& poll, const ledger& l, int k, const std::string& name) {
  const int accepted = l.count(answer::accepted);
  const auto r = await_results(
      s.port(), poll,
      [&](const boost::json::object& r) {
        const auto& c = r.at("consistency").as_object();
        return c.at("complete").as_bool();  // both consumers at the end of the topic, stores agree
      },
      120s);
  REQUIRE(r.at("consistency").as_object().at("complete").as_bool());

  std::map<std::string, int> stored;  // actor key -> rows
  int submissions = 0;
  {
    auto c = pg::connect(s.main_dsn());
    pqxx::read_transaction tx(*c);
    for (const auto& row : tx.exec_params("SELECT encode(actor_key, 'hex'), count(*) FROM pollbook.submissions"
                                          " WHERE poll_id = $1::uuid GROUP BY 1",
                                          poll.id)) {
      stored[row[0].as<std::string>()] = row[1].as<int>();
      submissions += row[1].as<int>();
    }
  }
  std::int64_t envelopes = 0, ballots = 0;
  {
    auto c = pg::connect(s.ballot_dsn());
    pqxx::read_transaction tx(*c);
    envelopes =
        tx.exec_params("SELECT coalesce(sum(envelopes), 0) FROM ballotbox.envelope_counts WHERE poll_id = $1::uuid",
                       poll.id)[0][0]
            .as<std::int64_t>();
    ballots = tx.exec_params("SELECT count(*) FROM ballotbox.ballots WHERE poll_id = $1::uuid", poll.id)[0][0]
                  .as<std::int64_t>();
  }
  int lost = 0, doubled = 0, counted_refused = 0, unknown_counted = 0;
  std::set<std::string> known;
  for (std::size_t i = 0; i < l.votes.size(); ++i) {
    const auto key = s.actor_key_hex(poll.id, l.votes[i].actor);
    known.insert(key);
    const int rows = stored.count(key) ? stored.at(key) : 0;
    doubled += rows > 1;
    switch (l.answers[i]) {
      case answer::accepted:
        lost += rows == 0;
        break;
      case answer::unknown:
        unknown_counted += rows == 1;
        break;
      case answer::refused:
        counted_refused += rows > 0;
        break;
    }
  }
  const auto in_topic = topic_messages(s);
  int strangers = 0;
  for (const auto& [key, rows] : stored) strangers += !known.count(key);
  std::cout << "faults, " << name << ": " << l.votes.size() << " votes (" << l.summary() << "); stored " << submissions
            << " submissions, " << envelopes << " envelopes, " << ballots << " ballots; 202s lost " << lost
            << ", doubled " << doubled << ", refused but counted " << counted_refused << ", unanswered and counted "
            << unknown_counted << " of " << l.count(answer::unknown) << "; messages in the topic " << in_topic << "\n";
  CHECK(lost == 0);
  CHECK(doubled == 0);
  CHECK(counted_refused == 0);
  CHECK(strangers == 0);
  CHECK(submissions == accepted + unknown_counted);
  CHECK(in_topic == submissions);   // each stored vote once on the topic, none left unread
  CHECK(envelopes == submissions);  // each stored vote once as an envelope
  // Each envelope's 1 + k ballots, plus the ballotbox's own decoys for crowds that did not
  // form by mixing's wait (mixing.min_real − votes of such a crowd, times 1 + k each): never
  // fewer, and in whole envelopes' worth.
  CHECK(ballots >= envelopes * (1 + k));
  CHECK((ballots - envelopes * (1 + k)) % (1 + k) == 0);
  return unknown_counted;
}

constexpr const char* fixed_decoys_poll = R"({"title":"Faults","choices":["red","green"],
    "privacy":{"decoys":{"distribution":"fixed","k":1},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})";

/// Ingest settings for the cases that inject broker faults. The dev broker (librdkafka 2.0.2's
/// mock cluster) checks an idempotent producer's sequence numbers only when the producer is
/// transactional, so with several requests in flight it accepts a batch after an earlier one
/// failed, where a real broker answers OUT_OF_ORDER_SEQUENCE_NUMBER. librdkafka takes that
/// success as proof the earlier batch was written too ("implicitly acked by subsequent batch
/// success") and reports it delivered: a 202 for a vote the dev broker never stored (seen in
/// 2 of 12 runs of [broker-errors] with 5 in flight, each time right after IMPLICITACK in the
/// producer's debug log). With one request in flight there is no later batch to vouch for an
/// earlier one, so these cases test our retries, not the mock's missing check.
/// docs/reliability.md has the log lines; production keeps librdkafka's default (5).
std::map<std::string, std::string> one_in_flight(std::map<std::string, std::string> env = {}) {
  env["SPLITVOTE_KAFKA__RDKAFKA__MAX__IN__FLIGHT"] = "1";
  return env;
}

/// A command for the dev broker at a point of a stream: once `at` votes are done, wait `pause`
/// (every connection waits with it), then send `command` (see dev_broker::inject).
struct injection {
  int at;
  std::string command;
  std::chrono::milliseconds pause = 0ms;
};

/// An on_progress for stream() that makes the injections, one at a time.
std::function<void(int)> injecting(stack& s, std::vector<injection> plan) {
  auto faults = std::make_shared<std::mutex>();
  return [&s, faults, plan = std::move(plan)](int done) {
    std::lock_guard lock(*faults);
    for (const auto& i : plan)
      if (done == i.at) {
        std::this_thread::sleep_for(i.pause);
        s.inject(i.command);
      }
  };
}

bool ready(unsigned short port) {  // /readyz answers 200
  try {
    return http_client(port).get("/readyz").status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

/// Starts a stopped fixture cluster again whatever happens in the test.
struct restart_on_exit {
  std::string which;
  bool down = false;
  void stop() {
    pg_server_stop(which);
    down = true;
  }
  void start() {
    pg_server_start(which);
    down = false;
  }
  ~restart_on_exit() {
    if (down) pg_server_start(which);
  }
};

/// Asks each of `paths` on a fresh connection every 100 ms from a thread of its own, while it
/// lives: how long the slowest answer took, and every status seen (0: no answer).
class prober {
public:
  prober(unsigned short port, std::vector<std::string> paths, std::map<std::string, std::string> headers = {})
      : thread_([this, port, paths = std::move(paths), headers = std::move(headers)](std::stop_token stop) {
          while (!stop.stop_requested()) {
            for (const auto& path : paths) {
              const auto sent = std::chrono::steady_clock::now();
              unsigned status = 0;
              std::string retry_after;
              try {
                const auto r = http_client(port).get(path, headers);
                status = r.status;
                retry_after = r.header("retry-after");
              } catch (const std::exception&) {
              }
              const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
              std::lock_guard lock(mutex_);
              slowest_[path] = std::max(slowest_[path], took);
              ++statuses_[path][status];
              if (status == 503 && retry_after.empty()) ++without_retry_after_;
            }
            std::this_thread::sleep_for(100ms);
          }
        }) {}
  /// Stops asking; what was seen stays readable.
  void stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }
  double slowest(const std::string& path) {
    std::lock_guard lock(mutex_);
    return slowest_[path];
  }
  std::map<unsigned, int> statuses(const std::string& path) {
    std::lock_guard lock(mutex_);
    return statuses_[path];
  }
  int without_retry_after() {
    std::lock_guard lock(mutex_);
    return without_retry_after_;
  }

private:
  std::mutex mutex_;
  std::map<std::string, double> slowest_;
  std::map<std::string, std::map<unsigned, int>> statuses_;
  int without_retry_after_ = 0;
  std::jthread thread_;  // last: it starts once the rest exists
};

std::string describe(const std::map<unsigned, int>& statuses) {
  std::string out;
  for (const auto& [status, n] : statuses)
    out += (out.empty() ? "" : ", ") + std::to_string(status) + " x" + std::to_string(n);
  return out;
}

double slowest(const ledger& l) {
  return l.latency.empty() ? 0 : *std::max_element(l.latency.begin(), l.latency.end());
}

/// A freeze case's run: 1,200 votes on 4 keep-alive connections, 10 ms apart; at vote 300
/// `freeze()`, then the probers `start_probes` makes ask while readiness turns 503 (within 4 s)
/// and for `hold` more, then they stop and `thaw()`. The probers' findings stay readable.
struct frozen_run {
  ledger l;
  bool saw_unready = false;
  std::list<prober> probes;  // the first one asks for the probes and /metrics
};

void stream_through_freeze(const stack& s, const created_poll& poll, frozen_run& run,
                           const std::function<void()>& freeze, const std::function<void()>& thaw,
                           const std::function<void(std::list<prober>&)>& start_probes,
                           std::chrono::milliseconds hold) {
  std::jthread fault;
  std::mutex faults;
  run.l = stream(
      s.port(), poll.id, 1200, 4,
      [&](int done) {
        std::lock_guard lock(faults);
        if (done == 300)
          fault = std::jthread([&] {
            freeze();
            start_probes(run.probes);
            run.saw_unready = eventually([&] { return !ready(s.port()); }, 4s);
            std::this_thread::sleep_for(hold);
            for (auto& p : run.probes) p.stop();
            thaw();
          });
      },
      10ms);
  if (fault.joinable()) fault.join();
  REQUIRE_FALSE(run.probes.empty());
}

/// What every freeze must leave true: the probes on the I/O threads answered within 1 s, 200
/// from /livez throughout, readiness 503 during it, every vote answered (none left hanging) by
/// `deadline` (+1.5 s for a loaded machine) with Retry-After on each 503, and afterwards the
/// invariant.
void check_freeze(stack& s, const created_poll& poll, frozen_run& run, double deadline, const std::string& name) {
  auto& probes = run.probes.front();
  std::cout << "faults, " << name << ": slowest vote answer " << slowest(run.l) << " s; /livez "
            << probes.slowest("/livez") << " s (" << describe(probes.statuses("/livez")) << "), /metrics "
            << probes.slowest("/metrics") << " s, /readyz " << probes.slowest("/readyz") << " s ("
            << describe(probes.statuses("/readyz")) << ")\n";
  CHECK(probes.slowest("/livez") < 1.0);
  CHECK(probes.slowest("/metrics") < 1.0);
  CHECK(probes.slowest("/readyz") < 1.0);
  CHECK(probes.statuses("/livez") == std::map<unsigned, int>{{200, probes.statuses("/livez")[200]}});
  CHECK(run.saw_unready);
  CHECK(probes.without_retry_after() == 0);
  CHECK(run.l.statuses.count(503));
  CHECK(run.l.without_retry_after == 0);
  CHECK(run.l.statuses.count(0) == 0);
  CHECK(slowest(run.l) < deadline + 1.5);
  CHECK(eventually([&] { return ready(s.port()); }, 15s));
  check_invariant(s, poll, run.l, 1, name);
  for (auto who : {svc::ingest, svc::pollbook, svc::ballotbox}) CHECK(s.process(who)->running());
}

}  // namespace

TEST_CASE("kill -9 of one of two instances of each consumer mid-stream: the survivor takes over",
          "[faults][kill-one-of-two]") {
  stack s("faults-kill", {{{"SPLITVOTE_BATCH__MAX", "200"}, {"SPLITVOTE_BATCH__MAX_DELAY_MS", "300"}}, {}});
  s.start(svc::pollbook, 0);
  s.start(svc::pollbook, 1);
  s.start(svc::ballotbox, 0);
  s.start(svc::ballotbox, 1);
  s.start(svc::ingest);
  for (auto who : {svc::pollbook, svc::ballotbox})
    for (int i : {0, 1}) REQUIRE(s.wait_for_log(who, i, "partitions_assigned"));
  const auto poll = create_poll(s.port(), fixed_decoys_poll);
  std::mutex faults;
  const auto l = stream(s.port(), poll.id, 1500, 4, [&](int done) {
    std::lock_guard lock(faults);
    // Each kill lands after the victim has committed a batch and while it holds more.
    if (done == 400) {
      CHECK(s.wait_for_log(svc::pollbook, 1, "batch_committed"));
      s.process(svc::pollbook, 1)->signal(SIGKILL);
    }
    if (done == 800) {
      CHECK(s.wait_for_log(svc::ballotbox, 1, "batch_committed"));
      s.process(svc::ballotbox, 1)->signal(SIGKILL);
    }
  });
  CHECK(l.count(answer::accepted) == 1500);
  check_invariant(s, poll, l, 1, "kill -9 of one of two pollbooks and one of two ballotboxes");
  // The survivors were given the victims' partitions.
  CHECK(s.wait_for_log(svc::pollbook, 0, "partitions_assigned", 2, 1s));
  CHECK(s.wait_for_log(svc::ballotbox, 0, "partitions_assigned", 2, 1s));
}

TEST_CASE("PostgreSQL stopped and restarted mid-stream: consumers wait and resume, readiness follows",
          "[faults][pg-restart]") {
  stack s("faults-pg");
  s.start_all_assigned();
  const auto poll = create_poll(s.port(), fixed_decoys_poll);
  restart_on_exit main{"main"}, ballot{"ballot"};
  // The outages run beside the stream (votes keep coming while a cluster is down).
  std::atomic<bool> saw_unready = false, saw_ready_again = false, pollbook_unready = false,
                    pollbook_ready_again = false;
  std::jthread outage;
  std::mutex faults;
  const auto l = stream(
      s.port(), poll.id, 1500, 4,
      [&](int done) {
        std::lock_guard lock(faults);
        if (done == 300)
          outage = std::jthread([&] {
            // Catalog and pollbook down: votes are refused (503), ingest reports not ready.
            main.stop();
            saw_unready = eventually([&] { return !ready(s.port()); }, 10s);
            pollbook_unready = eventually([&] { return !ready(s.probe_port(svc::pollbook)); }, 10s);
            std::this_thread::sleep_for(2s);
            main.start();
            saw_ready_again = eventually([&] { return ready(s.port()); }, 30s);
            pollbook_ready_again = eventually([&] { return ready(s.probe_port(svc::pollbook)); }, 30s);
            // Then the ballotbox's cluster: votes still flow to Kafka, its consumer waits.
            ballot.stop();
            std::this_thread::sleep_for(3s);
            ballot.start();
          });
      },
      20ms);  // about 200 votes/s: the stream outlasts both outages
  if (outage.joinable()) outage.join();
  CHECK(saw_unready);
  CHECK(saw_ready_again);
  CHECK(pollbook_unready);  // the consumer's own readiness follows its database too
  CHECK(pollbook_ready_again);
  CHECK(l.statuses.count(503));  // votes while the pollbook's cluster was down
  CHECK(l.count(answer::accepted) > 500);
  CHECK(s.wait_for_log(svc::pollbook, 0, "database_retry"));
  CHECK(s.wait_for_log(svc::ballotbox, 0, "database_retry"));
  check_invariant(s, poll, l, 1, "PostgreSQL (each cluster) stopped and restarted");
  CHECK(s.process(svc::pollbook)->running());
  CHECK(s.process(svc::ballotbox)->running());
}

TEST_CASE("injected produce and fetch errors: retried, nothing lost or doubled", "[faults][broker-errors]") {
  // Serialised retries behind 40 injected produce errors can take longer than the default
  // 5 s answer deadline: a vote is still accepted, just later.
  stack s("faults-broker", {{}, one_in_flight({{"SPLITVOTE_KAFKA__DELIVERY_TIMEOUT_MS", "30000"}})});
  s.start_all_assigned();
  const auto poll = create_poll(s.port(), fixed_decoys_poll);
  const std::vector<injection> plan{
      {300, "errors 0 30 19"},  // Produce: NOT_ENOUGH_REPLICAS (retriable)
      {700, "errors 1 30 6"},   // Fetch: NOT_LEADER_OR_FOLLOWER
      {1100, "errors 0 10 7"},  // Produce: REQUEST_TIMED_OUT
      // OffsetCommit: NOT_COORDINATOR. The consumers' offsets live in PostgreSQL beside the rows; Kafka's copy is
      // advisory, so a failed commit must cost nothing.
      {1200, "errors 8 20 16"},
  };
  const auto l = stream(s.port(), poll.id, 1500, 4, injecting(s, plan));
  CHECK(l.count(answer::accepted) == 1500);
  check_invariant(s, poll, l, 1, "30 produce, 30 fetch, 10 produce-timeout and 20 offset-commit errors injected");
}

// A broker down while batches are in flight, then injected errors. Before one_in_flight()
// this case lost 1-3 of 1,500 202s in 3 of 7 runs (the mock's missing sequence check above).
TEST_CASE("a broker down and back, then injected errors", "[faults][broker-down]") {
  stack s("faults-broker-down", {{}, one_in_flight()});
  s.start_all_assigned();
  const auto poll = create_poll(s.port(), fixed_decoys_poll);
  const std::vector<injection> plan{
      {200, "down 2"},    // the leader of a third of the partitions
      {300, "up 2", 2s},  // after a 2 s pause of the stream: shorter than the delivery timeout (5 s)
      {600, "errors 0 30 19"}, {900, "errors 1 30 6"}, {1100, "errors 0 10 7"},
  };
  const auto l = stream(s.port(), poll.id, 1500, 4, injecting(s, plan));
  check_invariant(s, poll, l, 1, "broker down 2 s and back, then injected errors");
}

// The whole cluster goes down, not one broker: librdkafka's partitioner steers keyless
// messages away from partitions it sees unavailable, so with one broker down the case
// depended on what was queued for it at that moment (CI once saw nothing: 800 x 202 in
// 0.72 s, no vote delayed, nothing tested).
TEST_CASE("the brokers down longer than the delivery timeout: votes fail cleanly, none counted twice",
          "[faults][broker-long]") {
  stack s("faults-broker-long", {{}, one_in_flight({{"SPLITVOTE_KAFKA__DELIVERY_TIMEOUT_MS", "2000"}})});
  s.start_all_assigned();
  const auto poll = create_poll(s.port(), fixed_decoys_poll);
  std::jthread outage;  // the brokers come back beside the stream
  std::mutex faults;
  bool down = false;
  const auto l = stream(
      s.port(), poll.id, 800, 4,
      [&](int done) {
        std::lock_guard lock(faults);
        if (done == 200) {
          // Down before the next vote of this connection is sent: that vote, and every vote sent
          // in the next 3 s, has no broker to go to.
          for (int broker : {1, 2, 3}) s.inject("down " + std::to_string(broker));
          down = true;
          outage = std::jthread([&] {
            std::this_thread::sleep_for(3s);
            for (int broker : {1, 2, 3}) s.inject("up " + std::to_string(broker));
          });
        }
      },
      2ms);  // about 1,000 votes/s at most: the stream outlasts the down commands
  if (outage.joinable()) outage.join();
  REQUIRE(down);
  // Votes sent while no broker was up were not acknowledged within 2 s: 503 outcome-unknown.
  CHECK(l.problems.count("503 /problems/outcome-unknown"));
  CHECK(l.count(answer::unknown) >= 4);  // at least the next vote of each connection
  CHECK(l.count(answer::accepted) > 400);
  // The producer kept them: each was stored once after the brokers came back.
  CHECK(check_invariant(s, poll, l, 1, "all brokers down 3 s with a 2 s delivery timeout") == l.count(answer::unknown));
}

TEST_CASE("the consumers' database sessions killed mid-batch: commits fail, nothing lost or doubled",
          "[faults][commit-errors]") {
  stack s("faults-commit", {{{"SPLITVOTE_BATCH__MAX", "100"}, {"SPLITVOTE_BATCH__MAX_DELAY_MS", "50"}}, {}});
  s.start_all_assigned();
  const auto poll = create_poll(s.port(), fixed_decoys_poll);
  const auto terminate = [](const std::string& dsn, const char* role) {
    auto c = pg::connect(dsn);
    pqxx::nontransaction tx(*c);
    // This stack's database only: the clusters are shared with the tests beside it (ctest -j),
    // whose consumers connect with the same role (seen: e2e.malformed's consumers killed at start).
    return tx
        .exec_params(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE usename = $1 AND datname = current_database()",
            role)[0][0]
        .as<int>();
  };
  std::mutex faults;
  int killed = 0;
  const auto l = stream(s.port(), poll.id, 1500, 4, [&](int done) {
    std::lock_guard lock(faults);
    if (done % 150 == 0) {
      killed += terminate(s.main_dsn(), "splitvote_pollbook");
      killed += terminate(s.ballot_dsn(), "splitvote_ballotbox");
    }
  });
  std::cout << "faults, commit errors: " << killed << " consumer sessions terminated\n";
  // Sessions killed while a consumer is still reconnecting are not there to kill: 9–12 of
  // 20 attempts in the runs so far. At least a few must have hit, or nothing was tested.
  CHECK(killed >= 5);
  CHECK(l.count(answer::accepted) == 1500);
  check_invariant(s, poll, l, 1, "consumer sessions terminated every 150 votes");
}

TEST_CASE("SIGTERM to ingest under load: no 202 lost, and it exits in time", "[faults][ingest-sigterm]") {
  stack s("faults-ingest-term");
  s.start_all_assigned();
  const auto poll = create_poll(s.port(), fixed_decoys_poll);
  std::optional<int> exit_status;
  double exit_seconds = 0;
  std::thread terminator;
  std::mutex faults;
  const auto l = stream(s.port(), poll.id, 1200, 8, [&](int done) {
    std::lock_guard lock(faults);
    if (done == 500)
      terminator = std::thread([&] {
        const auto started = std::chrono::steady_clock::now();
        exit_status = s.stop(svc::ingest, 0, SIGTERM, 30s);
        exit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      });
  });
  terminator.join();
  std::cout << "faults, ingest SIGTERM under load: exit status " << exit_status.value_or(-1) << " after "
            << exit_seconds << " s\n";
  REQUIRE(exit_status == 0);
  CHECK(l.count(answer::accepted) >= 500);
  // The drain ended because every request in flight was answered, not at its timeout.
  CHECK(s.wait_for_log(svc::ingest, 0, R"("idle":true,"flushed":true)", 1, 1s));
  s.start(svc::ingest);  // a new instance to read the results
  // Whatever was handed to Kafka was answered: no vote is counted without its answer.
  CHECK(check_invariant(s, poll, l, 1, "ingest SIGTERM at vote 500 of 1200") == 0);
}

TEST_CASE("kill -9 of ingest while Kafka is slow to acknowledge: no 202 lost", "[faults][ingest-kill]") {
  stack s("faults-ingest-kill");
  s.start_all_assigned();
  const auto poll = create_poll(s.port(), fixed_decoys_poll);
  std::mutex faults;
  const auto l = stream(s.port(), poll.id, 1200, 8, [&](int done) {
    std::lock_guard lock(faults);
    // Every broker answers 300 ms late: each connection's vote is in flight when the kill
    // lands, and whatever ingest said 202 to before Kafka's ack would die with it.
    if (done == 300)
      for (int broker : {1, 2, 3}) s.inject("rtt " + std::to_string(broker) + " 300");
    if (done == 500) s.process(svc::ingest)->signal(SIGKILL);
  });
  for (int broker : {1, 2, 3}) s.inject("rtt " + std::to_string(broker) + " 0");
  CHECK(l.count(answer::accepted) >= 300);
  CHECK(l.count(answer::unknown) >= 8);  // at least the vote each connection had in flight
  s.start(svc::ingest);                  // a new instance to read the results
  // A 202 only after the ack: every 202 is stored; the votes cut off may or may not be.
  check_invariant(s, poll, l, 1, "kill -9 of ingest at vote 500 of 1200, brokers answering after 300 ms");
}

TEST_CASE("SIGTERM to a consumer in the middle of a rebalance: it exits in time", "[faults][consumer-sigterm]") {
  stack s("faults-consumer-term");
  s.start_all_assigned();
  const auto poll = create_poll(s.port(), fixed_decoys_poll);
  std::mutex faults;
  std::map<std::string, double> exit_seconds;
  std::map<std::string, std::optional<int>> exit_status;
  const auto l = stream(s.port(), poll.id, 1200, 4, [&](int done) {
    std::lock_guard lock(faults);
    for (auto [at, who, name] :
         {std::tuple{300, svc::pollbook, "pollbook"}, std::tuple{700, svc::ballotbox, "ballotbox"}}) {
      if (done != at) continue;
      // A second instance joins: the group rebalances, and the first is told to stop meanwhile.
      s.start(who, 1);
      REQUIRE(s.wait_for_log(who, 0, "partitions_revoked"));
      const auto started = std::chrono::steady_clock::now();
      exit_status[name] = s.stop(who, 0, SIGTERM, 30s);
      exit_seconds[name] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }
  });
  for (const auto& [name, status] : exit_status) {
    std::cout << "faults, SIGTERM to the " << name << " during a rebalance: exit status " << status.value_or(-1)
              << " after " << exit_seconds[name] << " s\n";
    CHECK(status == 0);
  }
  CHECK(l.count(answer::accepted) == 1200);
  check_invariant(s, poll, l, 1, "SIGTERM to each consumer during a rebalance");
}

TEST_CASE("start-up and shutdown of each service, measured", "[faults][lifecycle]") {
  stack s("faults-lifecycle");
  using clock = std::chrono::steady_clock;
  const auto seconds_since = [](clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
  };
  for (int round = 0; round < 3; ++round) {
    // Consumers: process start to partitions assigned (ready to read); ingest: to /readyz 200.
    std::map<std::string, double> start, stop;
    for (auto [who, name] : {std::pair{svc::pollbook, "pollbook"}, std::pair{svc::ballotbox, "ballotbox"}}) {
      const auto t = clock::now();
      s.start(who);
      REQUIRE(s.wait_for_log(who, 0, "partitions_assigned", round + 1, 30s));
      start[name] = seconds_since(t);
    }
    const auto t = clock::now();
    s.start(svc::ingest);  // returns once /readyz answers 200
    start["ingest"] = seconds_since(t);
    // SIGTERM to exit, idle: ingest first, then the consumers (they drain the topic).
    for (auto [who, name] : {std::pair{svc::ingest, "ingest"}, std::pair{svc::pollbook, "pollbook"},
                             std::pair{svc::ballotbox, "ballotbox"}}) {
      const auto t0 = clock::now();
      CHECK(s.stop(who, 0, SIGTERM, 30s) == 0);
      stop[name] = seconds_since(t0);
    }
    for (const auto& name : {"ingest", "pollbook", "ballotbox"})
      std::cout << "lifecycle, round " << round + 1 << ": " << name << " start to ready " << start[name] * 1000
                << " ms, SIGTERM to exit " << stop[name] * 1000 << " ms\n";
  }
}

// A frozen PostgreSQL (SIGSTOP: connections open, nothing answers, not even a cancel) on a
// cluster of the test's own, so the other tests on the shared fixture go on undisturbed.
TEST_CASE("PostgreSQL frozen mid-stream, then thawed: probes answer, votes get 503 in time, nothing lost",
          "[faults][pg-freeze]") {
  private_cluster main("freeze-main"), ballot("freeze-ballot");
  stack_options options;
  options.main_server = main.url();
  options.ballot_server = ballot.url();
  options.ingest_env = {{"SPLITVOTE_HTTP__REQUEST_TIMEOUT_MS", "1000"}, {"SPLITVOTE_DB__STATEMENT_TIMEOUT_MS", "500"}};
  stack s("faults-pg-freeze", options);
  s.start_all_assigned();
  const auto poll = create_poll(s.port(), fixed_decoys_poll);
  frozen_run run;
  stream_through_freeze(
      s, poll, run, [&] { main.freeze(), ballot.freeze(); }, [&] { ballot.thaw(), main.thaw(); },
      [&](std::list<prober>& probes) {
        probes.emplace_back(s.port(), std::vector<std::string>{"/livez", "/metrics", "/readyz"});
      },
      1s);
  // Votes during the freeze: 503 timeout by the request deadline (1 s); the rest went through.
  CHECK(run.l.problems.count("503 /problems/timeout"));
  CHECK(run.l.count(answer::accepted) > 900);
  check_freeze(s, poll, run, 1.0, "PostgreSQL frozen");
}

TEST_CASE(
    "the dev broker frozen mid-stream, then thawed: probes and results answer, votes get 503 in time, nothing lost",
    "[faults][broker-freeze]") {
  stack s("faults-broker-freeze", {{},
                                   one_in_flight({{"SPLITVOTE_KAFKA__DELIVERY_TIMEOUT_MS", "2000"},
                                                  {"SPLITVOTE_HTTP__REQUEST_TIMEOUT_MS", "1000"}})});
  s.start_all_assigned();
  const auto poll = create_poll(s.port(), fixed_decoys_poll);
  const std::string results = "/v1/polls/" + poll.id + "/results";
  const std::map<std::string, std::string> admin{{"Authorization", "Bearer " + poll.admin_token}};
  frozen_run run;
  stream_through_freeze(
      s, poll, run, [&] { s.signal_broker(SIGSTOP); }, [&] { s.signal_broker(SIGCONT); },
      [&](std::list<prober>& probes) {
        probes.emplace_back(s.port(), std::vector<std::string>{"/livez", "/metrics", "/readyz", results}, admin);
        // Four open result pages besides (the web UI asks every 3 s per tab; these every 100 ms).
        for (int tab = 0; tab < 4; ++tab) probes.emplace_back(s.port(), std::vector<std::string>{results}, admin);
      },
      3s);  // longer than the delivery deadline
  auto& probes = run.probes.front();
  std::cout << "faults, broker frozen: results " << probes.slowest(results) << " s ("
            << describe(probes.statuses(results)) << ")\n";
  // Results answer from the databases, without the lag Kafka could not tell in time.
  CHECK(probes.slowest(results) < 2.0);
  CHECK(probes.statuses(results) == std::map<unsigned, int>{{200, probes.statuses(results)[200]}});
  // Votes during the freeze: 503 outcome-unknown with Retry-After at the delivery deadline (2 s).
  CHECK(run.l.problems.count("503 /problems/outcome-unknown"));
  check_freeze(s, poll, run, 2.0, "the dev broker frozen");
}
