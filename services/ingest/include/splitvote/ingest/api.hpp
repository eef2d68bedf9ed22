// The ingest REST API: its route table, the poll cache, the worker threads and the probes.
#pragma once

#include "splitvote/auth/jwt.hpp"
#include "splitvote/catalog/poll.hpp"
#include "splitvote/envelope/seal.hpp"
#include "splitvote/http/router.hpp"
#include "splitvote/ingest/answer_once.hpp"
#include "splitvote/ingest/catalog_store.hpp"
#include "splitvote/ingest/envelope_sink.hpp"
#include "splitvote/ingest/results.hpp"
#include "splitvote/ingest/store_reader.hpp"
#include "splitvote/ingest/vote_sender.hpp"
#include "splitvote/ingest/voter_auth.hpp"

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

namespace splitvote::kafka {
class producer;
}
namespace splitvote::pg {
class pool;
}

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
  /// librdkafka settings (bootstrap.servers, security) of the clients that read those positions.
  std::map<std::string, std::string> kafka;
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
  std::optional<envelope::public_key> ballotbox_key;
};

/// What the API reads and writes, each behind its interface (real ones: catalog_in,
/// stores_in, topic_sink; tests give fakes).
struct api_parts {
  std::unique_ptr<catalog_store> catalog;
  std::unique_ptr<store_reader> stores;
  std::unique_ptr<envelope_sink> sink;
};

class api {
public:
  api(api_options options, api_parts parts);
  /// The real parts: the three databases' pools and the producer, which must outlive it.
  api(api_options options, pg::pool& catalog, pg::pool& pollbook, pg::pool& ballotbox, kafka::producer& producer);
  /// Stops the worker threads, then the store reader (its thread's continuations use the rest).
  ~api();
  api(const api&) = delete;
  api& operator=(const api&) = delete;

  /// Registers every route of the API on `r`.
  void register_routes(http::router& r);

  /// Crypto-shredding: destroys the keys of polls closed more than `grace` ago, so their
  /// pollbook entries can no longer be tied to actor ids. Returns how many polls.
  int shred_expired_keys(std::chrono::seconds grace);
  /// Cover traffic for polls idle this long (vote_sender::send_cover_envelopes).
  int send_cover_envelopes(std::chrono::milliseconds idle);
  /// Forgets the reserved actors the pollbook holds (vote_sender::forget_stored_voters).
  std::size_t forget_stored_voters() { return sender_.forget_stored_voters(); }
  /// Wipes the sealers' shared keys whose period is over.
  void forget_expired_seal_keys() { sender_.forget_expired_seal_keys(); }

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
  void vote(const http::request& req, const std::string& id, const answer_ptr& answer);
  void results(const http::request& req, const std::string& id, http::respond_fn respond);
  void close(const http::request& req, const std::string& id, http::respond_fn respond);
  /// A new admin token for the poll (the old one stops working at once), admin only.
  void rotate_admin_token(const http::request& req, const std::string& id, http::respond_fn respond);
  bool ready();

  /// The poll from the cache or the catalog; 404 problem if there is none.
  std::shared_ptr<const catalog::poll> poll_or_404(const std::string& id);
  void forget_cached(const std::string& id);
  /// The poll read anew from the catalog, after the request's admin token is checked against it.
  std::shared_ptr<const catalog::poll> admin_poll(const http::request& req, const std::string& id);

  api_options options_;
  api_parts parts_;  // destroyed last; ~api stops parts_.stores first
  voter_auth auth_;
  vote_sender sender_;
  results_reader results_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> started_{false};
  std::atomic<std::chrono::steady_clock::rep> dependencies_ok_at_{0};  // steady_clock ticks; 0: never

  struct cached_poll {
    std::shared_ptr<const catalog::poll> poll;
    std::chrono::steady_clock::time_point loaded;
  };
  std::mutex cache_mutex_;
  std::unordered_map<std::string, cached_poll> cache_;

  runtime::timers deadlines_;  // the request deadlines
  /// The worker threads. Last: joined first, while everything their work uses is alive.
  boost::asio::thread_pool workers_;
};

}  // namespace splitvote::ingest
