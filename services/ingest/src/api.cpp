#include "splitvote/ingest/api.hpp"

#include "splitvote/ballotbox/queries.hpp"
#include "splitvote/catalog/polls.hpp"
#include "splitvote/envelope/actor_part.hpp"
#include "splitvote/envelope/ballot_list.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/ingest/answer_once.hpp"
#include "splitvote/ingest/problems.hpp"
#include "splitvote/ingest/requests.hpp"
#include "splitvote/observability/log.hpp"
#include "splitvote/observability/metrics.hpp"
#include "splitvote/pollbook/queries.hpp"
#include "splitvote/privacy/ballot_plan.hpp"
#include "splitvote/privacy/estimate.hpp"
#include "splitvote/privacy/randomized_response.hpp"
#include "splitvote/privacy/release_rule.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <iomanip>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <utility>

namespace splitvote::ingest {

namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

namespace {

random::random_source& rng() {
  thread_local auto source = random::system_source();
  return *source;
}

struct vote_metrics {
  prometheus::Histogram& produce_seconds = prometheus::BuildHistogram()
                                               .Name("splitvote_produce_seconds")
                                               .Help("Time from produce to delivery report")
                                               .Register(observability::registry())
                                               .Add({}, observability::latency_buckets());
  prometheus::Family<prometheus::Counter>& produce_results = prometheus::BuildCounter()
                                                                 .Name("splitvote_produce_total")
                                                                 .Help("Envelopes produced, by outcome")
                                                                 .Register(observability::registry());
  prometheus::Gauge& queue = prometheus::BuildGauge()
                                 .Name("splitvote_producer_queue_messages")
                                 .Help("Messages librdkafka holds: queued, in flight, or reported but not yet handled")
                                 .Register(observability::registry())
                                 .Add({});
  prometheus::Gauge& reserved =
      prometheus::BuildGauge()
          .Name("splitvote_reserved_voters")
          .Help("Actors whose vote this instance sent and the pollbook was not yet seen to hold")
          .Register(observability::registry())
          .Add({});
  prometheus::Counter& ballots = prometheus::BuildCounter()
                                     .Name("splitvote_ballots_produced_total")
                                     .Help("Ballots (real and decoy) produced")
                                     .Register(observability::registry())
                                     .Add({});
  prometheus::Counter& timeouts =
      prometheus::BuildCounter()
          .Name("splitvote_request_timeouts_total")
          .Help("Requests answered 503 at http.request_timeout_ms because PostgreSQL or Kafka was too slow")
          .Register(observability::registry())
          .Add({});
  prometheus::Counter& bytes = prometheus::BuildCounter()
                                   .Name("splitvote_produced_bytes_total")
                                   .Help("Bytes of delivered vote envelopes (value and headers)")
                                   .Register(observability::registry())
                                   .Add({});
};

prometheus::Family<prometheus::Counter>& jwt_rejections() {
  static auto& family = prometheus::BuildCounter()
                            .Name("splitvote_jwt_rejections_total")
                            .Help("Bearer JWTs of votes refused, by reason")
                            .Register(observability::registry());
  return family;
}

vote_metrics& metrics() {
  static vote_metrics m;
  return m;
}

json::object decoys_json(const privacy::decoy_spec& d) {
  json::object o{{"distribution", privacy::to_string(d.distribution)}};
  switch (d.distribution) {
    case privacy::decoy_distribution::none:
      break;
    case privacy::decoy_distribution::fixed:
      o["k"] = d.k;
      break;
    case privacy::decoy_distribution::uniform:
      o["min"] = d.min;
      o["max"] = d.max;
      break;
    case privacy::decoy_distribution::poisson:
      o["mean"] = d.mean;
      o["cap"] = d.cap;
      break;
  }
  o["expected_per_vote"] = d.expected_count();
  return o;
}

json::object privacy_json(const privacy::policy& policy) {
  json::object noise{{"mechanism", privacy::to_string(policy.noise.mechanism)}};
  if (policy.noise.mechanism != privacy::noise_mechanism::none) {
    noise["epsilon"] = policy.noise.epsilon;
    if (policy.noise.mechanism == privacy::noise_mechanism::discrete_gaussian) noise["delta"] = policy.noise.delta;
    noise["budget"] = policy.budget;
    noise["cost_per_release"] = policy.release_cost();
  }
  return {{"decoys", decoys_json(policy.decoys)},
          {"randomized_response", json::object{{"p", policy.rr.p}}},
          {"release_noise", std::move(noise)}};
}

json::object poll_json(const catalog::poll& p) {
  json::array choices;
  for (const auto& c : p.choices) choices.emplace_back(c);
  json::object o{{"id", p.id},
                 {"title", p.title},
                 {"choices", std::move(choices)},
                 {"restricted", p.eligible_count > 0},
                 {"eligible", p.eligible_count},
                 {"privacy", privacy_json(p.privacy)},
                 {"voter_auth", json::object{{"mode", catalog::to_string(p.voter_auth)}}},
                 {"results_visibility", catalog::to_string(p.results_visibility)},
                 {"created_at", format_rfc3339(p.created_at)},
                 {"closed", p.is_closed(std::chrono::system_clock::now())}};
  o["closes_at"] = p.closes_at ? json::value(format_rfc3339(*p.closes_at)) : json::value(nullptr);
  o["closed_at"] = p.closed_at ? json::value(format_rfc3339(*p.closed_at)) : json::value(nullptr);
  return o;
}

/// What the ballot half tells the ballotbox about decoys of its own: the poll's m when its
/// creator chose decoys (a crowd that did not form then gets decoys uniform over m), else 0.
std::uint32_t store_decoys_over(const catalog::poll& p) {
  return p.privacy.decoys.distribution == privacy::decoy_distribution::none
             ? 0
             : static_cast<std::uint32_t>(p.choices.size());
}

/// What a linked ballot tells: e^ε_rr bounds how far it moves anyone's odds; the posterior at
/// the released shares (`shares`, empty while no release is out) is what it gives an attacker
/// who believes them, which says more than 1 − p + p/m when they are skewed.
json::object privacy_statement(const privacy::policy& policy, std::uint32_t m, const std::vector<double>& shares) {
  const double eps_rr = policy.rr.epsilon(m);
  const auto finite_or_null = [](double v) { return std::isfinite(v) ? json::value(v) : json::value(nullptr); };
  std::optional<double> at_shares;
  for (const double share : shares) at_shares = std::max(at_shares.value_or(0.0), policy.rr.posterior(share, m));
  json::object o{{"randomized_response_p", policy.rr.p},
                 {"epsilon_rr", finite_or_null(eps_rr)},
                 {"odds_ratio_bound", finite_or_null(policy.rr.odds_ratio_bound(m))},
                 {"worst_case_posterior", policy.rr.worst_case_posterior(m)},
                 {"posterior_at_released_shares", at_shares ? json::value(*at_shares) : json::value(nullptr)},
                 {"decoys", decoys_json(policy.decoys)},
                 {"release_mechanism", privacy::to_string(policy.noise.mechanism)}};
  if (policy.noise.mechanism != privacy::noise_mechanism::none) {
    o["release_epsilon_per_count"] = policy.noise.epsilon;
    o["release_cost"] = policy.release_cost();
    o["release_budget"] = policy.budget;
    if (policy.noise.mechanism == privacy::noise_mechanism::discrete_gaussian) o["release_delta"] = policy.noise.delta;
  }
  const auto percent = [](double v) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(1) << 100 * v << "%";
    return out.str();
  };
  if (policy.rr.p == 0) {
    o["summary"] = "Randomized response is off: a stored ballot linked to you would show your vote.";
  } else {
    std::ostringstream odds;
    odds << std::setprecision(3) << policy.rr.odds_ratio_bound(m);
    std::string text =
        "If one of your stored ballots were linked to you, it would multiply an attacker's odds on your vote by at "
        "most " +
        odds.str() + ": from even odds, at most " + percent(policy.rr.worst_case_posterior(m)) + " sure";
    if (at_shares && *at_shares >= 0.999)
      text += "; the shares released here already say how nearly everyone voted, and a link adds little to them";
    else if (at_shares)
      text += "; believing the shares released here, at most " + percent(*at_shares) + " sure";
    o["summary"] = text + ".";
  }
  return o;
}

}  // namespace

/// The counts a results read shows: the raw tally without release noise, else the poll's
/// current release, drawn anew only when the tally changed and the budget allows.
struct api::released_counts {
  privacy::totals totals;  // N and n of the tally released
  std::vector<std::int64_t> released;
  std::optional<catalog::release> release;
  privacy::release_call next;  // what the rule says of the next release
  bool stale = false;          // the tally moved on since this release
  bool pending = false;        // no release yet (the stores have not agreed on a tally, or the only one is the close's)

  json::value describe() const {
    if (!release) return nullptr;
    return json::object{
        {"seq", release->seq},
        {"released_at", format_rfc3339(release->released_at)},
        {"epsilon_spent", release->epsilon_spent},
        {"budget_exhausted", next.budget_exhausted},
        {"kept_for_close", next.kept_for_close},
        {"next_release_not_before",
         next.next_not_before ? json::value(format_rfc3339(*next.next_not_before)) : json::value(nullptr)},
        {"counts_changed_since", stale}};
  }
};

namespace {

/// A keyed digest of a poll's tally (n and every C_j): tells whether the tally changed since
/// a release without keeping the exact counts where a pollbook thief can read them.
std::string tally_digest(const std::string& key, const std::string& poll_id, const privacy::tally& t) {
  std::string text = std::to_string(t.envelopes);
  for (const auto c : t.ballots_per_choice) text += "," + std::to_string(c);
  const auto d = privacy::keyed_token_hash(key, "tally/" + poll_id, text);
  return random::to_hex(d);
}

}  // namespace

api::released_counts api::release_for(const catalog::poll& p, const privacy::tally& t, bool consistent) {
  released_counts out{privacy::totals_of(t), t.ballots_per_choice, std::nullopt, {}};
  if (p.privacy.noise.mechanism == privacy::noise_mechanism::none) return out;
  const std::string digest = tally_digest(options_.token_key, p.id, t);
  const privacy::release_pacing pacing{p.privacy.release_cost(), p.privacy.budget, options_.release_interval,
                                       options_.final_release_after};
  const auto now = std::chrono::system_clock::now();
  std::optional<catalog::time_point> closed_at = p.closed_at;
  if (!closed_at && p.closes_at && *p.closes_at <= now) closed_at = p.closes_at;
  auto c = catalog_.acquire();
  for (;;) {
    const auto latest = catalog::latest_release(*c, p.id);
    const privacy::release_history history{latest ? latest->seq : 0, latest ? latest->epsilon_spent : 0,
                                           latest ? std::optional(latest->released_at) : std::nullopt};
    const bool changed = !latest || latest->tally_digest != digest;
    // Nothing stored yet (mixing holds a quiet poll's first votes for their crowd): no release
    // is spent on an empty tally.
    const bool agreed = consistent && t.envelopes > 0;
    const auto call = privacy::decide_release(pacing, history, {changed, agreed, closed_at, now});
    if (!call.draw) {
      if (!latest) return released_counts{out.totals, out.released, std::nullopt, call, false, true};
      return released_counts{{latest->ballots, latest->envelopes}, latest->released, latest, call, changed, false};
    }
    catalog::release next;
    next.seq = history.releases + 1;
    next.envelopes = t.envelopes;
    next.ballots = out.totals.ballots;
    next.tally_digest = digest;
    next.released = t.ballots_per_choice;
    for (auto& count : next.released) count += p.privacy.noise.sample(rng());  // drawn once, stored
    next.epsilon_spent = history.spent + p.privacy.release_cost();
    next.released_at = now;
    if (catalog::record_release(*c, p.id, next)) {
      observability::log_info("release", {{"poll_id", p.id}, {"seq", next.seq}, {"epsilon_spent", next.epsilon_spent}});
      const auto after = privacy::decide_release(pacing, {next.seq, next.epsilon_spent, next.released_at},
                                                 {false, agreed, closed_at, now});
      return released_counts{out.totals, next.released, next, after, false, false};
    }
    // Another reader stored this seq first: use theirs.
  }
}

api::api(api_options options, pg::pool& catalog, pg::pool& pollbook, pg::pool& ballotbox, kafka::producer& producer)
    : options_(std::move(options)),
      catalog_(catalog),
      pollbook_(pollbook),
      ballotbox_(ballotbox),
      producer_(producer),
      recent_(std::make_shared<recent_voters>(options_.reservation_max_age)),
      checks_(std::make_unique<pollbook::submission_check>(pollbook)),
      workers_(options_.worker_threads) {
  if (options_.pollbook_key && options_.ballotbox_key) {
    pollbook_sealer_ = std::make_unique<envelope::sealer>(*options_.pollbook_key);
    ballotbox_sealer_ = std::make_unique<envelope::sealer>(*options_.ballotbox_key);
  }
}

namespace {

/// A database that cannot be reached is a 503 with Retry-After, whatever route hit it: runs
/// `f`, turning those failures into the problem to answer.
template <class F>
void translate_database_errors(F&& f) {
  try {
    f();
  } catch (const pg::unavailable&) {
    throw problems::unavailable("the database is unavailable; try again");
  } catch (const pqxx::broken_connection&) {
    throw problems::unavailable("the database connection was lost; try again");
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() != "57014") throw;  // query_canceled: db.statement_timeout_ms ran out
    throw problems::unavailable("the database did not answer in time; try again");
  }
}

/// For work that continues off the handler's stack (after an asynchronous lookup): answers
/// what the router would have answered had `f` thrown in the handler.
template <class F>
void answer_failures(const http::respond_fn& respond, const std::string& request_id, std::string_view step, F&& f) {
  try {
    try {
      translate_database_errors(std::forward<F>(f));
    } catch (const pollbook::submission_check::stopped&) {
      throw problems::unavailable("shutting down; the vote was not counted, try again");
    }
  } catch (...) {
    respond(http::answer_exception(std::current_exception(), request_id, step));
  }
}

}  // namespace

http::handler api::offload(work w) {
  return [this, w = std::make_shared<const work>(std::move(w))](const http::request& q, const http::params& p,
                                                                http::respond_fn f) {
    auto answer = std::make_shared<answer_once>(std::move(f));
    // Work that has not finished (or, for a vote, not reached Kafka) in time is answered 503
    // here; work that had not started by then never starts.
    deadlines_.after(options_.request_timeout, [answer] {
      const auto respond = answer->take_uncommitted();
      if (!respond) return;
      metrics().timeouts.Increment();
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
          get_poll(p[0], answer_once::responder(a));
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
  r.add("GET", "/livez", [](const request&, const params&, respond_fn f) { f(http::json(200, {{"status", "live"}})); });
  r.add("GET", "/startupz", [this](const request&, const params&, respond_fn f) {
    f(started_ ? http::json(200, {{"status", "started"}}) : http::to_response(problems::starting()));
  });
  r.add("GET", "/readyz", [this](const request&, const params&, respond_fn f) {
    if (ready()) return f(http::json(200, {{"status", "ready"}}));
    f(http::to_response(problems::not_ready(shutting_down_ ? "shutting down" : "PostgreSQL or Kafka is unreachable")));
  });
  r.add("GET", "/metrics", [this](const request&, const params&, respond_fn f) {
    metrics().queue.Set(static_cast<double>(producer_.queued()));  // read when scraped
    metrics().reserved.Set(static_cast<double>(recent_->size()));
    http::response res;
    res.content_type = "text/plain; version=0.0.4";
    res.body = observability::render_metrics();
    f(std::move(res));
  });
}

void api::check_dependencies() {
  const bool ok =
      catalog_.ping() && pollbook_.ping() && ballotbox_.ping() && producer_.reachable(std::chrono::milliseconds(500));
  dependencies_ok_at_ = ok ? clock_type::now().time_since_epoch().count() : 0;
}

bool api::ready() {
  if (shutting_down_ || !started_) return false;
  // A check that hangs (a frozen database) leaves the last success to age out.
  const auto ok_at = dependencies_ok_at_.load();
  return ok_at != 0 &&
         clock_type::now() - clock_type::time_point(clock_type::duration(ok_at)) < options_.readiness_max_age;
}

std::shared_ptr<const catalog::poll> api::poll_or_404(const std::string& id) {
  if (!random::is_uuid_text(id)) throw problems::poll_not_found(id);
  {
    std::lock_guard lock(cache_mutex_);
    if (auto it = cache_.find(id);
        it != cache_.end() && clock_type::now() - it->second.loaded < options_.poll_cache_ttl)
      return it->second.poll;
  }
  std::optional<catalog::poll> found;
  {
    auto c = catalog_.acquire();
    found = catalog::find_poll(*c, id);
  }
  if (!found) throw problems::poll_not_found(id);
  auto p = std::make_shared<const catalog::poll>(std::move(*found));
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[id] = cached_poll{p, clock_type::now()};
  return p;
}

namespace {

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), if any.
std::optional<std::string_view> bearer_token(const http::request& req) {
  const auto auth = req.header("Authorization");
  if (!auth || auth->size() <= 7) return std::nullopt;
  const std::string_view v = *auth;
  if (!std::equal(v.begin(), v.begin() + 7, "bearer ",
                  [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
    return std::nullopt;
  return v.substr(7);
}

}  // namespace

void api::require_admin(const http::request& req, const catalog::poll& p) const {
  const auto token = bearer_token(req);
  if (!token) throw problems::unauthorized("send the poll's admin token as 'Authorization: Bearer <token>'");
  const auto digest = p.admin_token_scheme == catalog::token_scheme::sha256
                          ? privacy::token_hash(*token)
                          : privacy::keyed_token_hash(options_.token_key, "admin/" + p.id, *token);
  if (!privacy::equal_digest(digest, p.admin_token_hash))
    throw problems::forbidden("this token is not the poll's admin token");
}

privacy::actor_key api::authenticate_voter(const http::request& req, const catalog::poll& p,
                                           const std::optional<std::string>& body_actor) {
  const auto key_of = [&](std::string_view actor) {
    return privacy::derive_actor_key(options_.actor_secret, p.actor_key_salt(), actor);
  };
  const auto check_eligible = [&](const privacy::actor_key& key) {
    if (p.eligible_count == 0) return;
    auto c = catalog_.acquire();
    if (!catalog::is_eligible(*c, p.id, key)) throw problems::not_eligible();
  };
  switch (p.voter_auth) {
    case catalog::voter_auth::open: {
      if (!body_actor) throw problems::invalid_request("actor_id is required");
      const auto key = key_of(*body_actor);
      check_eligible(key);
      return key;
    }
    case catalog::voter_auth::tokens: {
      const auto token = bearer_token(req);
      if (!token)
        throw problems::unauthorized("this poll's votes carry the voter's token as 'Authorization: Bearer <token>'");
      std::optional<privacy::actor_key> key;
      {
        auto c = catalog_.acquire();
        key =
            catalog::actor_for_token(*c, p.id, privacy::keyed_token_hash(options_.token_key, "voter/" + p.id, *token));
      }
      if (!key) throw problems::forbidden("this token is not a voting token of this poll");
      if (body_actor && !privacy::equal_digest(key_of(*body_actor), *key))
        throw problems::actor_mismatch("the body's actor_id is not the actor this token belongs to");
      return *key;
    }
    case catalog::voter_auth::jwt: {
      if (!options_.jwt) {
        static std::atomic<bool> hinted{false};  // a configuration mismatch: once is enough
        if (!hinted.exchange(true))
          observability::log_warn("jwt_unavailable",
                                  {{"poll_id", p.id}, {"hint", "this instance has no auth.jwt.* configured"}});
        throw problems::jwt_unavailable_for_vote();
      }
      const auto token = bearer_token(req);
      if (!token)
        throw problems::unauthorized(
            "this poll's votes carry a JWT from the identity provider as 'Authorization: Bearer <jwt>'");
      std::string actor;
      try {
        actor = options_.jwt->verify(*token, std::chrono::system_clock::now());
      } catch (const auth::jwt_rejection& e) {
        jwt_rejections().Add({{"reason", e.reason}}).Increment();
        throw problems::invalid_token(e.reason);
      }
      if (body_actor && *body_actor != actor)
        throw problems::actor_mismatch("the body's actor_id is not the actor the JWT names");
      const auto key = key_of(actor);
      check_eligible(key);
      return key;
    }
  }
  throw std::logic_error("unknown voter_auth");
}

void api::create_poll(const http::request& req, http::respond_fn respond) {
  require_json(req.header("Content-Type"));
  const poll_request r = parse_poll_request(req.body);
  catalog::poll p;
  p.id = random::to_uuid_text(random::random_id(rng()));
  p.title = r.title;
  p.choices = r.choices;
  p.privacy = r.privacy;
  p.closes_at = r.closes_at;
  p.created_at = std::chrono::system_clock::now();
  p.voter_auth = r.voter_auth;
  p.results_visibility = r.results_visibility;
  if (p.voter_auth == catalog::voter_auth::jwt && !options_.jwt) throw problems::jwt_unavailable_for_creation();
  const auto new_token = [] {
    return random::to_hex(random::random_id(rng())) + random::to_hex(random::random_id(rng()));
  };  // 256 bits
  const std::string admin_token = new_token();
  p.admin_token_scheme = catalog::token_scheme::hmac_sha256;
  p.admin_token_hash = privacy::keyed_token_hash(options_.token_key, "admin/" + p.id, admin_token);
  p.key_hex = new_token();
  std::vector<catalog::eligible_actor> eligible;
  json::array voter_tokens;  // shown once, here; stored only as keyed hashes
  eligible.reserve(r.eligible_actors.size());
  for (const auto& a : r.eligible_actors) {
    catalog::eligible_actor e{privacy::derive_actor_key(options_.actor_secret, p.actor_key_salt(), a), std::nullopt};
    if (p.voter_auth == catalog::voter_auth::tokens) {
      const std::string token = new_token();
      e.token_hash = privacy::keyed_token_hash(options_.token_key, "voter/" + p.id, token);
      voter_tokens.push_back(json::object{{"actor_id", a}, {"token", token}});
    }
    eligible.push_back(e);
  }
  p.eligible_count = static_cast<std::int64_t>(eligible.size());
  {
    auto c = catalog_.acquire();
    catalog::create_poll(*c, p, eligible);
  }
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

void api::get_poll(const std::string& id, http::respond_fn respond) {
  respond(http::json(200, poll_json(*poll_or_404(id))));
}

void api::vote(const http::request& req, const std::string& id, const answer_ptr& answer) {
  require_json(req.header("Content-Type"));
  const vote_request v = parse_vote_request(req.body);
  const auto p = poll_or_404(id);
  if (p->is_closed(std::chrono::system_clock::now())) throw problems::poll_closed();
  const privacy::actor_key key = authenticate_voter(req, *p, v.actor_id);
  const auto choice_it = std::find(p->choices.begin(), p->choices.end(), v.choice);
  if (choice_it == p->choices.end()) throw problems::unknown_choice();
  const auto choice = static_cast<std::uint32_t>(choice_it - p->choices.begin());
  check_then_send(p, key, choice, req.request_id, answer, 0);
}

void api::check_then_send(std::shared_ptr<const catalog::poll> p, const privacy::actor_key& key, std::uint32_t choice,
                          std::string request_id, answer_ptr answer, int attempt) {
  // The pollbook lookup is batched with other votes' on the checker's thread; the vote goes
  // on from there. A connection may be gone by then: answering is safe regardless.
  const auto asked = recent_voters::clock::now();
  checks_->submit(p->id, key,
                  [this, p, key, choice, answer, request_id, asked, attempt](std::exception_ptr error, bool stored) {
                    answer_failures(answer_once::responder(answer), request_id, "vote after the pollbook lookup", [&] {
                      if (error) std::rethrow_exception(error);
                      if (!stored && !recent_->lookup_current(asked)) {
                        // The reservations forgot a vote the pollbook stored after this lookup began: the
                        // lookup may have missed it, so ask again (from the checker's thread; it batches).
                        if (attempt < 3) return check_then_send(p, key, choice, request_id, answer, attempt + 1);
                        throw problems::unavailable("the vote could not be checked; it was not counted, try again");
                      }
                      send_vote(p, key, choice, stored, request_id, answer);
                    });
                  });
}

void api::send_vote(const std::shared_ptr<const catalog::poll>& p, const privacy::actor_key& key, std::uint32_t choice,
                    bool stored, const std::string& request_id, const answer_ptr& answer) {
  if (stored) throw problems::already_voted();
  // The point of no return: past it the vote goes to Kafka and only its delivery (or the
  // delivery deadline) answers. The request deadline answered first: the client was told the
  // vote was not counted, so it is not sent.
  if (!answer->commit()) return;
  if (!recent_->reserve(key)) throw problems::already_voted();

  envelope::actor_part actor{key, random::random_id(rng())};
  // Randomized response happens here, before anything about the choice leaves this function.
  const auto m = static_cast<std::uint32_t>(p->choices.size());
  const auto submitted = privacy::apply_randomized_response(choice, m, p->privacy.rr, rng());
  const auto ballots = envelope::make_ballots(privacy::plan_ballots(submitted, m, p->privacy.decoys, rng()), rng());
  const std::string message =
      seal_and_encode({p->id, envelope::encode(actor), envelope::encode(ballots, false, store_decoys_over(*p)),
                       envelope::sealing::none},
                      *p);
  const auto started = clock_type::now();
  const std::size_t ballot_count = ballots.size();
  const kafka::producer::headers headers{{"x-request-id", request_id}};
  std::size_t message_bytes = message.size();
  for (const auto& [name, value] : headers) message_bytes += name.size() + value.size();
  auto recent = recent_;
  // Answered once: by the delivery report, or by the deadline if Kafka is slower. librdkafka
  // has no message timeout of its own here: a timeout would fail a message that may still be
  // written, and makes the idempotent producer bump its epoch (docs/reliability.md). So it
  // keeps trying, and the client hears "outcome unknown" at the deadline.
  const auto outcome = producer_.produce(
      options_.topic, message, headers,
      [recent, key, started, ballot_count, message_bytes, answer, request_id,
       poll_id = p->id](const kafka::producer::delivery& d) {
        metrics().produce_seconds.Observe(std::chrono::duration<double>(clock_type::now() - started).count());
        const auto respond = answer->take();
        const bool late = !respond;
        if (d.error) {
          metrics().produce_results.Add({{"outcome", d.possibly_persisted ? "unknown" : "failed"}}).Increment();
          observability::log_warn("produce_failed", {{"request_id", request_id},
                                                     {"error", *d.error},
                                                     {"possibly_persisted", d.possibly_persisted},
                                                     {"after_deadline", late}});
          if (late) return;  // the client was told the outcome is unknown; the actor stays reserved
          // The broker may have it: a retry could count twice, so the actor stays reserved
          // (a retry gets 409) and the answer says the outcome is unknown.
          if (d.possibly_persisted) return respond(http::to_response(problems::outcome_unknown()));
          recent->release(key);
          return respond(http::to_response(
              problems::unavailable("the vote could not be recorded; it was not counted, try again")));
        }
        recent->delivered(key, d.partition, d.offset);
        metrics().produce_results.Add({{"outcome", late ? "delivered_after_deadline" : "delivered"}}).Increment();
        metrics().ballots.Increment(static_cast<double>(ballot_count));
        metrics().bytes.Increment(static_cast<double>(message_bytes));
        if (!late) respond(http::json(202, {{"status", "accepted"}, {"poll_id", poll_id}}));
      });
  if (outcome != kafka::producer::enqueue::queued) {
    // Nothing reached librdkafka: the actor is free to try again, here or elsewhere.
    recent_->release(key);
    const bool full = outcome == kafka::producer::enqueue::queue_full;
    metrics().produce_results.Add({{"outcome", full ? "queue_full" : "failed"}}).Increment();
    // The operator's hint goes to the log (once; the metric counts them all), the client
    // hears only that it may try again.
    static std::atomic<bool> hinted{false};
    if (full && !hinted.exchange(true))
      observability::log_warn(
          "producer_queue_full",
          {{"request_id", request_id}, {"hint", "raise kafka.queue_max_messages / kafka.queue_max_kbytes"}});
    throw problems::unavailable(full ? "the vote queue is full; the vote was not counted, try again"
                                     : "Kafka refused the vote; it was not counted, try again");
  }
  {
    std::lock_guard lock(activity_mutex_);
    last_vote_[p->id] = clock_type::now();
  }
  deadlines_.after(options_.answer_deadline, [answer] {
    const auto respond = answer->take();
    if (!respond) return;
    metrics().produce_results.Add({{"outcome", "unknown"}}).Increment();
    respond(http::to_response(problems::outcome_unknown()));
  });
}

void api::results(const http::request& req, const std::string& id, http::respond_fn respond) {
  const auto p = poll_or_404(id);
  // Before the close: the admin token, always. After it: as the poll says.
  if (!(p->is_closed(std::chrono::system_clock::now()) &&
        p->results_visibility == catalog::results_visibility::open_to_all))
    require_admin(req, *p);
  pollbook::participation part;
  {
    auto c = pollbook_.acquire();
    pg::snapshot_read tx(*c);
    part = pollbook::count_participation(tx, p->id);
  }
  privacy::tally t;
  {
    auto c = ballotbox_.acquire();
    pg::snapshot_read tx(*c);  // C_j and n from one snapshot
    t = ballotbox::count_ballots(tx, p->id, p->choices.size());
  }
  // Lag: what the topic holds beyond the positions each store last committed to Kafka (every
  // kafka.commit_interval_ms; the envelopes mixing holds back count as not stored).
  json::object consistency{{"pollbook_submissions", part.submissions},
                           {"ballotbox_envelopes", t.envelopes},
                           {"stores_agree", part.submissions == t.envelopes}};
  if (const auto at = positions_for_results(); !at.highs.empty()) {
    std::int64_t pollbook_lag = 0, ballotbox_lag = 0;
    for (int i = 0; i < static_cast<int>(at.highs.size()); ++i) {
      const auto committed = [i](const std::map<int, std::int64_t>& m) {
        const auto it = m.find(i);
        return it == m.end() ? std::int64_t{0} : it->second;
      };
      pollbook_lag += std::max<std::int64_t>(0, at.highs[i] - committed(at.pollbook));
      ballotbox_lag += std::max<std::int64_t>(0, at.highs[i] - committed(at.ballotbox));
    }
    consistency["pollbook_lag"] = pollbook_lag;
    consistency["ballotbox_lag"] = ballotbox_lag;
    consistency["complete"] = pollbook_lag == 0 && ballotbox_lag == 0 && part.submissions == t.envelopes;
  } else {
    consistency["pollbook_lag"] = nullptr;
    consistency["ballotbox_lag"] = nullptr;
    consistency["complete"] = false;
  }
  // A release needs the two stores to agree on this poll, not an empty topic: with mixing
  // by count some other poll's votes are nearly always waiting for their crowd.
  const released_counts rel = release_for(*p, t, part.submissions == t.envelopes);
  const auto est = privacy::estimate(rel.totals, rel.released, privacy::mechanism{p->privacy.rr.p, p->privacy.noise});

  json::array choices;
  for (std::size_t j = 0; j < p->choices.size(); ++j) {
    const auto& c = est.choices[j];
    if (rel.pending) {
      choices.push_back(json::object{{"choice", p->choices[j]},
                                     {"released_count", nullptr},
                                     {"estimate", nullptr},
                                     {"std_error", nullptr},
                                     {"ci95", nullptr},
                                     {"share", nullptr}});
      continue;
    }
    choices.push_back(json::object{{"choice", p->choices[j]},
                                   {"released_count", rel.released[j]},
                                   {"estimate", c.estimate},
                                   {"std_error", c.std_error},
                                   {"ci95", json::array{c.ci_low, c.ci_high}},
                                   {"share", c.share}});
  }
  json::object body{{"poll_id", p->id},
                    {"as_of", format_rfc3339(std::chrono::system_clock::now())},
                    {"closed", p->is_closed(std::chrono::system_clock::now())},
                    {"participation", json::object{{"eligible", p->eligible_count > 0 ? json::value(p->eligible_count)
                                                                                      : json::value(nullptr)},
                                                   {"unique_actors", part.unique_actors},
                                                   {"submissions", part.submissions},
                                                   {"duplicates", part.duplicates()}}},
                    {"choices", std::move(choices)},
                    {"mechanism",
                     [&] {
                       json::object mech = privacy_json(p->privacy);
                       mech["envelopes"] = rel.totals.envelopes;
                       mech["ballots"] = est.ballots;
                       mech["decoy_ballots"] = est.decoys;
                       return mech;
                     }()},
                    {"release", rel.describe()},
                    {"privacy_statement", privacy_statement(p->privacy, static_cast<std::uint32_t>(p->choices.size()),
                                                            [&] {
                                                              std::vector<double> shares;
                                                              if (!rel.pending)
                                                                for (const auto& c : est.choices)
                                                                  shares.push_back(c.share);
                                                              return shares;
                                                            }())},
                    {"consistency", std::move(consistency)}};
  respond(http::json(200, body));
}

std::string api::seal_and_encode(envelope::envelope env, const catalog::poll& p) const {
  if (pollbook_sealer_ && ballotbox_sealer_) {
    const auto block =
        envelope::ballot_half_block(1 + p.privacy.decoys.max_count(), static_cast<std::uint32_t>(p.choices.size()));
    env.actor_part = pollbook_sealer_->seal(envelope::pad(env.actor_part, 1));
    env.ballot_list = ballotbox_sealer_->seal(envelope::pad(env.ballot_list, block));
    env.sealed = envelope::sealing::shared_key_padded;
  }
  return envelope::encode(env);
}

int api::send_cover_envelopes(std::chrono::milliseconds idle) {
  std::vector<std::string> due;
  {
    std::lock_guard lock(activity_mutex_);
    const auto now = clock_type::now();
    for (auto it = last_vote_.begin(); it != last_vote_.end();) {
      if (now - it->second > std::chrono::hours(1)) {
        it = last_vote_.erase(it);
        continue;
      }
      if (now - it->second >= idle) due.push_back(it->first);
      ++it;
    }
  }
  int sent = 0;
  for (const auto& id : due) {
    const auto p = poll_or_404(id);
    if (p->is_closed(std::chrono::system_clock::now())) continue;
    // Shaped like a vote: a random actor key and the same number of ballots a vote brings.
    envelope::actor_part actor;
    rng().fill(actor.actor_key);
    actor.entry_id = random::random_id(rng());
    actor.cover = true;
    const auto m = static_cast<std::uint32_t>(p->choices.size());
    const auto choices =
        privacy::plan_ballots(static_cast<std::uint32_t>(rng().uniform(m)), m, p->privacy.decoys, rng());
    const std::string message =
        seal_and_encode({p->id, envelope::encode(actor),
                         envelope::encode(envelope::make_ballots(choices, rng()), true, store_decoys_over(*p)),
                         envelope::sealing::none},
                        *p);
    // The same header as a vote's (a request id of the shape ingest generates) and the same
    // metric outcomes: neither the topic's headers nor /metrics tell a cover from a vote.
    const kafka::producer::headers headers{{"x-request-id", random::to_hex(random::random_id(rng()))}};
    if (producer_.produce(options_.topic, message, headers, [](const kafka::producer::delivery& d) {
          metrics().produce_results.Add({{"outcome", d.error ? "failed" : "delivered"}}).Increment();
        }) == kafka::producer::enqueue::queued)
      ++sent;
  }
  return sent;
}

int api::shred_expired_keys(std::chrono::seconds grace) {
  auto c = catalog_.acquire();
  const int shredded = catalog::shred_keys(*c, grace);
  if (shredded > 0) {
    catalog::rewrite_poll_keys(*c);
    std::lock_guard lock(cache_mutex_);
    cache_.clear();
    observability::log_info("keys_shredded", {{"polls", shredded}});
  }
  return shredded;
}

void api::forget_expired_seal_keys() {
  if (pollbook_sealer_) pollbook_sealer_->forget_expired();
  if (ballotbox_sealer_) ballotbox_sealer_->forget_expired();
}

std::size_t api::forget_stored_voters() {
  const auto at = read_positions(false);
  if (at.highs.empty()) return recent_->forget_expired(recent_voters::clock::now());
  return recent_->forget_stored(at.pollbook, recent_voters::clock::now());
}

api::topic_positions api::positions_for_results() {
  {
    std::lock_guard lock(positions_mutex_);
    if (clock_type::now() - positions_at_ < std::chrono::seconds(1)) return positions_;
  }
  std::unique_lock reading(positions_read_mutex_, std::try_to_lock);
  if (!reading) {
    std::lock_guard lock(positions_mutex_);
    return positions_;
  }
  auto fresh = read_positions(true);
  std::lock_guard lock(positions_mutex_);
  positions_ = fresh;
  positions_at_ = clock_type::now();
  return fresh;
}

api::topic_positions api::read_positions(bool with_ballotbox) {
  topic_positions out;
  const auto deadline = clock_type::now() + options_.kafka_read_budget;
  const auto left = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()));
  };
  try {
    const int partitions = producer_.partition_count(options_.topic, left());
    for (int i = 0; i < partitions; ++i) out.highs.push_back(producer_.high_watermark(options_.topic, i, left()));
    out.pollbook = producer_.committed_offsets(options_.pollbook_group, options_.topic, partitions, left());
    if (with_ballotbox)
      out.ballotbox = producer_.committed_offsets(options_.ballotbox_group, options_.topic, partitions, left());
  } catch (const kafka::error&) {
    return {};  // none rather than some: a partial lag would look complete
  }
  return out;
}

void api::close(const http::request& req, const std::string& id, http::respond_fn respond) {
  const auto p = poll_or_404(id);
  require_admin(req, *p);
  std::optional<catalog::poll> closed;
  {
    auto c = catalog_.acquire();
    closed = catalog::close_poll(*c, id);
  }
  {
    std::lock_guard lock(cache_mutex_);
    cache_.erase(id);
  }
  observability::log_info("poll_closed", {{"request_id", req.request_id}, {"poll_id", id}});
  respond(http::json(200, poll_json(*closed)));
}

}  // namespace splitvote::ingest
