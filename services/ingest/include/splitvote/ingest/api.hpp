// The ingest REST API: polls, votes (real ballot + decoys to Kafka, 202 after the ack), results, probes.
#pragma once

#include "splitvote/ingest/answer_once.hpp"
#include "splitvote/ingest/recent_voters.hpp"
#include "splitvote/runtime/timers.hpp"

#include "splitvote/auth/jwt.hpp"
#include "splitvote/catalog/poll.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/envelope/seal.hpp"
#include "splitvote/http/router.hpp"
#include "splitvote/kafka/producer.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pollbook/submission_check.hpp"
#include "splitvote/privacy/estimate.hpp"

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace splitvote::ingest {

struct api_options {
  /// A vote Kafka has not acknowledged within this is answered 503 outcome-unknown; the
  /// producer keeps trying (no local message timeout), so it may still be counted.
  std::chrono::milliseconds answer_deadline{5000};
  std::string topic = "splitvote.votes";
  /// The stores' consumer groups: their positions committed to Kafka give the lag (the
  /// positions in their databases are sealed).
  std::string pollbook_group = "splitvote-pollbook";
  std::string ballotbox_group = "splitvote-ballotbox";
  std::string actor_secret;  // server secret for actor keys
  /// Key of the admin and voter token hashes (privacy::keyed_token_hash); the actor secret
  /// when not set apart (the hashes' labels keep the two uses apart).
  std::string token_key;
  /// Verifies the bearer JWTs of `jwt` polls; none: such polls cannot be created here.
  std::shared_ptr<const auth::jwt_verifier> jwt;
  /// A request whose work has not answered within this (a vote: not reached Kafka) is
  /// answered 503 + Retry-After; work that had not started by then never starts.
  std::chrono::milliseconds request_timeout{5000};
  /// Threads that run the routes' PostgreSQL and Kafka work (the I/O threads never wait).
  std::size_t worker_threads = 8;
  /// What one read of Kafka's metadata (the topic's watermarks and the stores' committed
  /// positions, for the lag in results) may take in all, however many round trips it makes.
  std::chrono::milliseconds kafka_read_budget{1000};
  std::chrono::milliseconds poll_cache_ttl{1000};
  /// Ready while the last dependency check (check_dependencies) passed within this.
  std::chrono::milliseconds readiness_max_age{3000};
  std::chrono::milliseconds release_interval{60000};      // before the second release; doubles after each
  std::chrono::milliseconds final_release_after{330000};  // the close's release waits this long after the close
  /// A reservation the pollbook was never seen to store is dropped after this.
  std::chrono::milliseconds reservation_max_age{std::chrono::minutes(10)};
  /// When both are set, each half of every envelope is sealed to its consumer.
  std::optional<envelope::public_key> pollbook_key;
  std::optional<envelope::public_key> ballotbox_key;  // at most one new noisy release per poll per interval
};

class api {
public:
  api(api_options options, pg::pool& catalog, pg::pool& pollbook, pg::pool& ballotbox, kafka::producer& producer);

  /// Registers every route of the API on `r`.
  void register_routes(http::router& r);

  /// Crypto-shredding: destroys the keys of polls closed more than `grace` ago, so their
  /// pollbook entries can no longer be tied to actor ids. Returns how many polls.
  int shred_expired_keys(std::chrono::seconds grace);

  /// Cover traffic: one cover envelope (decoy ballots, a random actor key, marked as cover
  /// inside the sealed halves) for each open poll that had a vote here within the last
  /// hour but none within `idle`. Returns how many were sent.
  int send_cover_envelopes(std::chrono::milliseconds idle);

  /// Reads the pollbook's committed positions and forgets the reserved actors it holds (their
  /// next vote is refused by the pollbook lookup from now on). Returns how many.
  std::size_t forget_stored_voters();
  /// Wipes the sealers' shared keys whose period is over (envelope::sealer::forget_expired).
  void forget_expired_seal_keys();

  /// Pings the three databases and Kafka (blocking: from a thread of its own, every second or
  /// so); /readyz reports the outcome without waiting on anything.
  void check_dependencies();

  /// Readiness is false from now on (first step of a drain).
  void begin_shutdown() { shutting_down_ = true; }
  void mark_started() { started_ = true; }

private:
  using answer_ptr = std::shared_ptr<answer_once>;
  using work = std::function<void(const http::request&, const http::params&, const answer_ptr&)>;
  /// A route handler that runs `w` on the worker threads, with the request deadline.
  http::handler offload(work w);

  void create_poll(const http::request& req, http::respond_fn respond);
  void get_poll(const std::string& id, http::respond_fn respond);
  void vote(const http::request& req, const std::string& id, const answer_ptr& answer);
  /// The rest of a vote once the pollbook has answered whether the actor already voted:
  /// reserve the actor, build and seal the envelope, hand it to Kafka.
  /// Asks the pollbook whether the actor voted, then sends the vote; asks again when a
  /// reservation was forgotten while the lookup ran (`attempt` counts those).
  void check_then_send(std::shared_ptr<const catalog::poll> p, const privacy::actor_key& key, std::uint32_t choice,
                       std::string request_id, answer_ptr answer, int attempt);
  void send_vote(const std::shared_ptr<const catalog::poll>& p, const privacy::actor_key& key, std::uint32_t choice,
                 bool stored, const std::string& request_id, const answer_ptr& answer);
  void results(const http::request& req, const std::string& id, http::respond_fn respond);
  void close(const http::request& req, const std::string& id, http::respond_fn respond);
  bool ready();
  struct released_counts;
  released_counts release_for(const catalog::poll& p, const privacy::tally& t, bool consistent);
  struct topic_positions {
    std::vector<std::int64_t> highs;                  // by partition; empty: not all read in time
    std::map<int, std::int64_t> pollbook, ballotbox;  // what each store's group committed
  };
  /// The topic's high watermarks and the stores' committed positions, read within
  /// kafka_read_budget (the ballotbox's only if asked).
  topic_positions read_positions(bool with_ballotbox);
  /// Both stores' positions for results: read at most once a second, by one request at a time;
  /// a request that comes while another reads takes the last answer (none at first) instead
  /// of waiting, so a slow or frozen Kafka costs one worker, not one per results request.
  topic_positions positions_for_results();

  /// The poll from the cache or the catalog; 404 problem if there is none.
  std::shared_ptr<const catalog::poll> poll_or_404(const std::string& id);
  /// 401 without a bearer token, 403 with the wrong one.
  void require_admin(const http::request& req, const catalog::poll& p) const;
  /// The key of the actor a vote is from, by the poll's voter_auth: the body's actor id
  /// (open), the voter's token, or a JWT. 400/401/403 problems otherwise.
  privacy::actor_key authenticate_voter(const http::request& req, const catalog::poll& p,
                                        const std::optional<std::string>& body_actor);

  api_options options_;
  pg::pool& catalog_;
  pg::pool& pollbook_;
  pg::pool& ballotbox_;
  kafka::producer& producer_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> started_{false};

  struct cached_poll {
    std::shared_ptr<const catalog::poll> poll;
    std::chrono::steady_clock::time_point loaded;
  };
  std::mutex cache_mutex_;
  std::mutex positions_read_mutex_;  // held while positions_for_results reads Kafka
  std::mutex positions_mutex_;       // guards the two below
  topic_positions positions_;
  std::chrono::steady_clock::time_point positions_at_{};
  std::unordered_map<std::string, cached_poll> cache_;

  std::atomic<std::chrono::steady_clock::rep> dependencies_ok_at_{0};  // steady_clock ticks; 0: never

  std::mutex activity_mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_vote_;  // poll id -> last vote produced here

  /// The envelope as it goes on the topic: halves sealed when keys are configured.
  /// The message for `env`: with both consumers' keys, each half padded (the ballot half to
  /// one length for every envelope of poll `p`) and sealed to its consumer.
  std::string seal_and_encode(envelope::envelope env, const catalog::poll& p) const;
  std::unique_ptr<envelope::sealer> pollbook_sealer_, ballotbox_sealer_;  // both or neither

  std::shared_ptr<recent_voters> recent_;
  runtime::timers deadlines_;  // answers votes Kafka has not acknowledged in time
  /// Batched "already voted?" lookups. Last: destroyed first, so its worker stops (answering
  /// what is still queued) while everything its continuations use is alive.
  std::unique_ptr<pollbook::submission_check> checks_;
  /// The worker threads. Last: joined first, while everything their work uses is alive.
  boost::asio::thread_pool workers_;
};

}  // namespace splitvote::ingest
