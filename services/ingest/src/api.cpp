#include "splitvote/ingest/api.hpp"

#include "splitvote/ingest/failures.hpp"
#include "splitvote/ingest/problems.hpp"
#include "splitvote/ingest/requests.hpp"
#include "splitvote/ingest/views.hpp"
#include "splitvote/observability/log.hpp"
#include "splitvote/observability/metrics.hpp"
#include "splitvote/random/random_source.hpp"
#include "splitvote/runtime/build_info.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <utility>
#include <vector>

namespace splitvote::ingest {

namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

namespace {

prometheus::Counter& timeouts() {
  static auto& counter = observability::counter(
      "splitvote_request_timeouts_total",
      "Requests answered 503 at http.request_timeout_ms because PostgreSQL or Kafka was too slow");
  return counter;
}

}  // namespace

api::api(api_options options, api_parts parts)
    : options_(std::move(options)),
      parts_(std::move(parts)),
      auth_({options_.actor_secret, options_.token_key, options_.jwt}, *parts_.catalog),
      sender_({options_.answer_deadline, options_.reservation_max_age, options_.kafka_read_budget,
               options_.pollbook_key, options_.ballotbox_key},
              *parts_.stores, *parts_.sink),
      results_(
          {options_.token_key, options_.release_interval, options_.final_release_after, options_.kafka_read_budget},
          *parts_.catalog, *parts_.stores, *parts_.sink),
      workers_(options_.worker_threads) {}

api::api(api_options options, pg::pool& catalog, pg::pool& pollbook, pg::pool& ballotbox, kafka::producer& producer)
    : api(options, api_parts{catalog_in(catalog), stores_in(pollbook, ballotbox),
                             topic_sink(producer, options.kafka, options.topic, options.pollbook_group,
                                        options.ballotbox_group)}) {}

api::~api() {
  workers_.join();
  // The reader answers the lookups still queued (its continuations use the sender and the
  // deadlines, destroyed next), then stops.
  parts_.stores.reset();
}

http::handler api::offload(work w) {
  return [this, w = std::make_shared<const work>(std::move(w))](const http::request& q, const http::params& p,
                                                                http::respond_fn f) {
    auto answer = std::make_shared<answer_once>(std::move(f));
    // Work that has not finished (or, for a vote, not reached Kafka) in time is answered 503
    // here; work that had not started by then never starts.
    deadlines_.after(options_.request_timeout, [answer] {
      const auto respond = answer->take_uncommitted();
      if (!respond) return;
      timeouts().Increment();
      respond(http::to_response(problems::timeout()));
    });
    boost::asio::post(workers_, [w, q, p, answer] {
      if (answer->answered()) return;
      answer_failures(answer_once::responder(answer), q.request_id, "worker", [&] { (*w)(q, p, answer); });
    });
  };
}

void api::register_routes(http::router& r) {
  using http::params;
  using http::request;
  using http::respond_fn;
  // The routes that read or write PostgreSQL or talk to Kafka run on the worker threads: the
  // I/O threads never wait on either, so probes and /metrics answer while one is stalled.
  r.add("POST", "/v1/polls", offload([this](const request& q, const params&, const answer_ptr& a) {
          create_poll(q, answer_once::responder(a));
        }),
        4 * 1024 * 1024);
  r.add("GET", "/v1/polls/{id}", offload([this](const request&, const params& p, const answer_ptr& a) {
          answer_once::responder(a)(http::json(200, poll_json(*poll_or_404(p[0]))));
        }));
  r.add("POST", "/v1/polls/{id}/votes",
        offload([this](const request& q, const params& p, const answer_ptr& a) { vote(q, p[0], a); }), 4 * 1024);
  r.add("GET", "/v1/polls/{id}/results", offload([this](const request& q, const params& p, const answer_ptr& a) {
          results(q, p[0], answer_once::responder(a));
        }));
  r.add("POST", "/v1/polls/{id}/close", offload([this](const request& q, const params& p, const answer_ptr& a) {
          close(q, p[0], answer_once::responder(a));
        }),
        4 * 1024);
  r.add("POST", "/v1/polls/{id}/admin-token", offload([this](const request& q, const params& p, const answer_ptr& a) {
          rotate_admin_token(q, p[0], answer_once::responder(a));
        }),
        4 * 1024);
  r.add("GET", "/livez", [](const request&, const params&, respond_fn f) { f(http::json(200, {{"status", "live"}})); });
  r.add("GET", "/v1/build-info", [](const request&, const params&, respond_fn f) {
    const auto& build = runtime::build();
    f(http::json(200, {{"service", "splitvote-ingest"}, {"version", build.version}, {"commit", build.commit}}));
  });
  r.add("GET", "/startupz", [this](const request&, const params&, respond_fn f) {
    f(started_ ? http::json(200, {{"status", "started"}}) : http::to_response(problems::starting()));
  });
  r.add("GET", "/readyz", [this](const request&, const params&, respond_fn f) {
    if (ready()) return f(http::json(200, {{"status", "ready"}}));
    f(http::to_response(problems::not_ready(shutting_down_ ? "shutting down" : "PostgreSQL or Kafka is unreachable")));
  });
  r.add("GET", "/metrics", [this](const request&, const params&, respond_fn f) {
    sender_.update_gauges();  // read when scraped
    http::response res;
    res.content_type = "text/plain; version=0.0.4";
    res.body = observability::render_metrics();
    f(std::move(res));
  });
}

void api::check_dependencies() {
  const bool ok = parts_.catalog->reachable() && parts_.stores->reachable() &&
                  parts_.sink->reachable(std::chrono::milliseconds(500));
  dependencies_ok_at_ = ok ? clock_type::now().time_since_epoch().count() : 0;
}

bool api::ready() {
  if (shutting_down_ || !started_) return false;
  // A check that hangs (a frozen database) leaves the last success to age out.
  const auto ok_at = dependencies_ok_at_.load();
  return ok_at != 0 &&
         clock_type::now() - clock_type::time_point(clock_type::duration(ok_at)) < options_.readiness_max_age;
}

namespace {

/// A new admin or voter token: 256 random bits, hex.
std::string new_token() {
  auto& rng = random::thread_source();
  return random::to_hex(random::random_id(rng)) + random::to_hex(random::random_id(rng));
}

}  // namespace

std::shared_ptr<const catalog::poll> api::poll_or_404(const std::string& id) {
  if (!random::is_uuid_text(id)) throw problems::poll_not_found(id);
  {
    std::lock_guard lock(cache_mutex_);
    if (auto it = cache_.find(id);
        it != cache_.end() && clock_type::now() - it->second.loaded < options_.poll_cache_ttl)
      return it->second.poll;
  }
  auto found = parts_.catalog->find_poll(id);
  if (!found) throw problems::poll_not_found(id);
  auto p = std::make_shared<const catalog::poll>(std::move(*found));
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[id] = cached_poll{p, clock_type::now()};
  return p;
}

void api::forget_cached(const std::string& id) {
  std::lock_guard lock(cache_mutex_);
  cache_.erase(id);
}

std::shared_ptr<const catalog::poll> api::admin_poll(const http::request& req, const std::string& id) {
  // Read anew, not from the cache: a rotated admin token stops working on every instance at
  // once, not only after their caches expire.
  forget_cached(id);
  auto p = poll_or_404(id);
  auth_.require_admin(req, *p);
  return p;
}

void api::create_poll(const http::request& req, http::respond_fn respond) {
  require_json(req.header("Content-Type"));
  const poll_request r = parse_poll_request(req.body);
  auto& rng = random::thread_source();
  catalog::poll p;
  p.id = random::to_uuid_text(random::random_id(rng));
  p.title = r.title;
  p.choices = r.choices;
  p.privacy = r.privacy;
  p.closes_at = r.closes_at;
  p.created_at = std::chrono::system_clock::now();
  p.voter_auth = r.voter_auth;
  p.results_visibility = r.results_visibility;
  if (p.voter_auth == catalog::voter_auth::jwt && !auth_.verifies_jwt()) throw problems::jwt_unavailable_for_creation();
  const std::string admin_token = new_token();
  p.admin_token_scheme = catalog::token_scheme::hmac_sha256;
  p.admin_token_hash = auth_.admin_token_hash(p, admin_token);
  p.key_hex = new_token();
  std::vector<catalog::eligible_actor> eligible;
  json::array voter_tokens;  // shown once, here; stored only as keyed hashes
  eligible.reserve(r.eligible_actors.size());
  for (const auto& a : r.eligible_actors) {
    catalog::eligible_actor e{auth_.actor_key(p, a), std::nullopt};
    if (p.voter_auth == catalog::voter_auth::tokens) {
      const std::string token = new_token();
      e.token_hash = auth_.voter_token_hash(p, token);
      voter_tokens.push_back(json::object{{"actor_id", a}, {"token", token}});
    }
    eligible.push_back(e);
  }
  p.eligible_count = static_cast<std::int64_t>(eligible.size());
  parts_.catalog->create_poll(p, eligible);
  observability::log_info("poll_created", {{"request_id", req.request_id},
                                           {"poll_id", p.id},
                                           {"choices", p.choices.size()},
                                           {"eligible", p.eligible_count},
                                           {"voter_auth", catalog::to_string(p.voter_auth)}});
  json::object body = poll_json(p);
  body["admin_token"] = admin_token;
  if (p.voter_auth == catalog::voter_auth::tokens) body["voter_tokens"] = std::move(voter_tokens);
  http::response res = http::json(201, body);
  res.headers.emplace_back("Location", "/v1/polls/" + p.id);
  respond(std::move(res));
}

void api::vote(const http::request& req, const std::string& id, const answer_ptr& answer) {
  require_json(req.header("Content-Type"));
  const vote_request v = parse_vote_request(req.body);
  const auto p = poll_or_404(id);
  if (p->is_closed(std::chrono::system_clock::now())) throw problems::poll_closed();
  const privacy::actor_key key = auth_.authenticate_voter(req, *p, v.actor_id);
  const auto choice_it = std::find(p->choices.begin(), p->choices.end(), v.choice);
  if (choice_it == p->choices.end()) throw problems::unknown_choice();
  sender_.send(p, key, static_cast<std::uint32_t>(choice_it - p->choices.begin()), req.request_id, answer);
}

void api::results(const http::request& req, const std::string& id, http::respond_fn respond) {
  auto p = poll_or_404(id);
  // Before the close: the admin token, always. After it: as the poll says. The results are
  // then read for the poll as the admin check read it from the catalog, not the cached copy.
  if (!(p->is_closed(std::chrono::system_clock::now()) &&
        p->results_visibility == catalog::results_visibility::open_to_all))
    p = admin_poll(req, id);
  respond(http::json(200, results_.read(*p)));
}

void api::close(const http::request& req, const std::string& id, http::respond_fn respond) {
  admin_poll(req, id);
  const auto closed = parts_.catalog->close_poll(id);
  forget_cached(id);
  observability::log_info("poll_closed", {{"request_id", req.request_id}, {"poll_id", id}});
  respond(http::json(200, poll_json(*closed)));
}

void api::rotate_admin_token(const http::request& req, const std::string& id, http::respond_fn respond) {
  const auto p = admin_poll(req, id);
  const std::string token = new_token();
  const auto rotated = parts_.catalog->replace_admin_token(id, p->admin_token_hash, auth_.admin_token_hash(*p, token));
  forget_cached(id);
  // Another rotation came between this one's check and its write: the token this request
  // showed is no longer the poll's.
  if (!rotated) throw problems::forbidden("the admin token was replaced by another request meanwhile");
  observability::log_info("admin_token_rotated", {{"request_id", req.request_id}, {"poll_id", id}});
  respond(http::json(200, {{"poll_id", id}, {"admin_token", token}}));
}

int api::send_cover_envelopes(std::chrono::milliseconds idle) {
  return sender_.send_cover_envelopes(idle, [this](const std::string& id) { return poll_or_404(id); });
}

int api::shred_expired_keys(std::chrono::seconds grace) {
  const int shredded = parts_.catalog->shred_keys(grace);
  if (shredded > 0) {
    std::lock_guard lock(cache_mutex_);
    cache_.clear();
    observability::log_info("keys_shredded", {{"polls", shredded}});
  }
  return shredded;
}

}  // namespace splitvote::ingest
