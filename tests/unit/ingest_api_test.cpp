// The ingest API in process: its routes over fakes of the catalog, the stores and the topic
// (ingest::api_parts), so authentication, the vote pipeline and the release rule run in
// milliseconds. The real parts are tested against PostgreSQL and the dev broker elsewhere.
#include "splitvote/envelope/actor_part.hpp"
#include "splitvote/envelope/ballot_list.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/ingest/api.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/privacy/actor_key.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using namespace splitvote;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

class fake_catalog final : public ingest::catalog_store {
public:
  std::mutex mutex;
  std::map<std::string, catalog::poll> polls;
  std::map<std::string, std::vector<catalog::eligible_actor>> eligible;
  std::map<std::string, std::vector<catalog::release>> releases;
  bool down = false;  // every call throws pg::unavailable, as the real one when PostgreSQL is gone

  void create_poll(const catalog::poll& p, const std::vector<catalog::eligible_actor>& e) override {
    std::lock_guard lock(guard());
    polls[p.id] = p;
    eligible[p.id] = e;
  }
  std::optional<catalog::poll> find_poll(const std::string& id) override {
    std::lock_guard lock(guard());
    const auto it = polls.find(id);
    return it == polls.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<catalog::poll> close_poll(const std::string& id) override {
    std::lock_guard lock(guard());
    auto& p = polls.at(id);
    if (!p.closed_at) p.closed_at = std::chrono::system_clock::now();
    return p;
  }
  std::optional<catalog::poll> replace_admin_token(const std::string& id, const std::array<std::byte, 32>& expected,
                                                   const std::array<std::byte, 32>& replacement) override {
    std::lock_guard lock(guard());
    auto& p = polls.at(id);
    if (p.admin_token_hash != expected) return std::nullopt;
    p.admin_token_hash = replacement;
    p.admin_token_scheme = catalog::token_scheme::hmac_sha256;
    return p;
  }
  bool is_eligible(const std::string& poll_id, const privacy::actor_key& key) override {
    std::lock_guard lock(guard());
    for (const auto& e : eligible[poll_id])
      if (e.key == key) return true;
    return false;
  }
  std::optional<privacy::actor_key> actor_for_token(const std::string& poll_id,
                                                    const std::array<std::byte, 32>& token_hash) override {
    std::lock_guard lock(guard());
    for (const auto& e : eligible[poll_id])
      if (e.token_hash == token_hash) return e.key;
    return std::nullopt;
  }
  std::optional<catalog::release> latest_release(const std::string& poll_id) override {
    std::lock_guard lock(guard());
    const auto& r = releases[poll_id];
    return r.empty() ? std::nullopt : std::optional(r.back());
  }
  bool record_release(const std::string& poll_id, const catalog::release& r) override {
    std::lock_guard lock(guard());
    auto& list = releases[poll_id];
    if (r.seq != static_cast<int>(list.size()) + 1) return false;
    list.push_back(r);
    return true;
  }
  int shred_keys(std::chrono::seconds) override { return 0; }
  bool reachable() override { return !down; }

private:
  std::mutex& guard() {
    if (down) throw pg::unavailable("the catalog is down");
    return mutex;
  }
};

/// Answers "voted?" at once, from what the test put in `voted`.
class fake_stores final : public ingest::store_reader {
public:
  std::mutex mutex;
  std::set<privacy::actor_key> voted;
  pollbook::participation part;
  privacy::tally counts;

  void has_voted(std::string, const privacy::actor_key& key, voted_fn done) override {
    bool found;
    {
      std::lock_guard lock(mutex);
      found = voted.contains(key);
    }
    done(nullptr, found);
  }
  pollbook::participation participation(const std::string&) override {
    std::lock_guard lock(mutex);
    return part;
  }
  privacy::tally tally(const std::string&, std::size_t choices) override {
    std::lock_guard lock(mutex);
    if (counts.ballots_per_choice.empty()) return {std::vector<std::int64_t>(choices, 0), 0};  // nothing stored yet
    return counts;
  }
  bool reachable() override { return true; }
};

/// Keeps what is sent; the test says when (and how) Kafka acknowledges.
class fake_sink final : public ingest::envelope_sink {
public:
  struct envelope_sent {
    std::string message;
    kafka::producer::headers headers;
    kafka::producer::delivery_handler on_delivery;
  };
  kafka::producer::enqueue refuse_with = kafka::producer::enqueue::queued;
  positions at;

  kafka::producer::enqueue send(std::string_view message, const kafka::producer::headers& headers,
                                kafka::producer::delivery_handler on_delivery) override {
    std::lock_guard lock(mutex_);
    if (refuse_with != kafka::producer::enqueue::queued) return refuse_with;
    sent_.push_back({std::string(message), headers, std::move(on_delivery)});
    arrived_.notify_all();
    return kafka::producer::enqueue::queued;
  }
  std::size_t queued() override { return 0; }
  bool reachable(std::chrono::milliseconds) override { return true; }
  positions read_positions(bool, std::chrono::milliseconds) override { return at; }

  /// The n-th envelope sent (0-based), once it is.
  envelope_sent await(std::size_t n) {
    std::unique_lock lock(mutex_);
    REQUIRE(arrived_.wait_for(lock, 5s, [&] { return sent_.size() > n; }));
    return sent_[n];
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return sent_.size();
  }
  /// Kafka's answer to the n-th envelope.
  void acknowledge(std::size_t n, kafka::producer::delivery d = {std::nullopt, false, 0, 7}) {
    await(n).on_delivery(d);
  }

private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<envelope_sent> sent_;
};

struct fixture {
  fake_catalog* catalog;
  fake_stores* stores;
  fake_sink* sink;
  http::router routes;
  std::unique_ptr<ingest::api> api;

  explicit fixture(ingest::api_options options = defaults()) {
    auto c = std::make_unique<fake_catalog>();
    auto s = std::make_unique<fake_stores>();
    auto k = std::make_unique<fake_sink>();
    catalog = c.get();
    stores = s.get();
    sink = k.get();
    api =
        std::make_unique<ingest::api>(std::move(options), ingest::api_parts{std::move(c), std::move(s), std::move(k)});
    api->register_routes(routes);
  }

  static ingest::api_options defaults() {
    ingest::api_options o;
    o.actor_secret = "actor-secret-of-the-test";
    o.token_key = "token-key-of-the-test";
    o.worker_threads = 2;
    o.release_interval = std::chrono::hours(1);
    return o;
  }

  /// Sends a request; its answer comes later (the routes work on the worker threads).
  std::future<http::response> start(const std::string& method, const std::string& path, const std::string& body = {},
                                    const std::string& bearer = {}) {
    http::request req;
    req.method = method;
    req.target = req.path = path;
    req.body = body;
    req.request_id = "test-request";
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    if (!bearer.empty()) req.headers.emplace_back("Authorization", "Bearer " + bearer);
    auto answer = std::make_shared<std::promise<http::response>>();
    auto future = answer->get_future();
    routes.dispatch(req, routes.find(method, path), [answer](http::response r) { answer->set_value(std::move(r)); });
    return future;
  }
  static http::response answer_of(std::future<http::response>& f) {
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    return f.get();
  }
  http::response call(const std::string& method, const std::string& path, const std::string& body = {},
                      const std::string& bearer = {}) {
    auto f = start(method, path, body, bearer);
    return answer_of(f);
  }

  struct created {
    std::string id, admin_token;
    json::object body;
  };
  created create(const std::string& body) {
    const auto r = call("POST", "/v1/polls", body);
    INFO(r.body);
    REQUIRE(r.status == 201);
    auto o = json::parse(r.body).as_object();
    return {std::string(o.at("id").as_string()), std::string(o.at("admin_token").as_string()), o};
  }
  /// A vote Kafka acknowledges as the `n`-th envelope: its answer.
  http::response vote_acknowledged(const std::string& poll, const std::string& body, std::size_t n,
                                   const std::string& bearer = {}) {
    auto f = start("POST", "/v1/polls/" + poll + "/votes", body, bearer);
    sink->acknowledge(n);
    return answer_of(f);
  }
  privacy::actor_key key_of(const std::string& poll, const std::string& actor) {
    return privacy::derive_actor_key("actor-secret-of-the-test", catalog->find_poll(poll)->actor_key_salt(), actor);
  }
};

std::string problem_type(const http::response& r) {
  if (r.content_type != "application/problem+json") return "not a problem: " + r.body;
  return std::string(json::parse(r.body).at("type").as_string());
}

bool has_header(const http::response& r, const std::string& name) {
  return std::any_of(r.headers.begin(), r.headers.end(), [&](const auto& h) { return h.first == name; });
}

const char* const exact_poll =
    R"({"title":"Lunch","choices":["pizza","sushi"],"privacy":{"decoys":{"distribution":"none"},
        "randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})";

}  // namespace

TEST_CASE("a vote is answered 202 only once Kafka has its envelope, which holds the actor's key and the choice",
          "[ingest-api]") {
  fixture f;
  const auto poll =
      f.create(R"({"title":"Lunch","choices":["pizza","sushi","salad"],"privacy":{"decoys":{"distribution":"fixed",
                   "k":2},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})");
  auto answer = f.start("POST", "/v1/polls/" + poll.id + "/votes", R"({"actor_id":"alice","choice":"sushi"})");
  const auto sent = f.sink->await(0);
  CHECK(answer.wait_for(100ms) == std::future_status::timeout);  // not before the ack
  f.sink->acknowledge(0);
  const auto r = fixture::answer_of(answer);
  CHECK(r.status == 202);

  const auto env = envelope::decode(sent.message.data(), sent.message.size());
  CHECK(env.poll_id == poll.id);
  CHECK(env.sealed == envelope::sealing::none);  // no seal keys in this fixture
  CHECK(envelope::decode_actor_part(env.actor_part).actor_key == f.key_of(poll.id, "alice"));
  const auto ballots = envelope::decode_ballot_list(env.ballot_list).ballots;
  REQUIRE(ballots.size() == 3);  // the real one and k = 2 decoys
  CHECK(std::count_if(ballots.begin(), ballots.end(), [](const auto& b) { return b.choice == 1; }) >= 1);
  CHECK(sent.headers == kafka::producer::headers{{"x-request-id", "test-request"}});
}

TEST_CASE("an actor votes once: reserved while on its way, refused once the pollbook holds it", "[ingest-api]") {
  fixture f;
  const auto poll = f.create(exact_poll);
  const std::string vote = R"({"actor_id":"alice","choice":"pizza"})";
  CHECK(f.vote_acknowledged(poll.id, vote, 0).status == 202);

  SECTION("again here, before the pollbook has it: the reservation refuses it, nothing is sent") {
    CHECK(problem_type(f.call("POST", "/v1/polls/" + poll.id + "/votes", vote)) == "/problems/already-voted");
    CHECK(f.sink->count() == 1);
  }
  SECTION("once the pollbook holds it and the reservation is forgotten: the lookup refuses it") {
    f.stores->voted.insert(f.key_of(poll.id, "alice"));
    f.sink->at = {{10}, {{0, 10}}, {}};  // the pollbook's group is past the vote's offset (7)
    CHECK(f.api->forget_stored_voters() == 1);
    CHECK(problem_type(f.call("POST", "/v1/polls/" + poll.id + "/votes", vote)) == "/problems/already-voted");
    CHECK(f.sink->count() == 1);
  }
  SECTION("another actor is not held up") {
    CHECK(f.vote_acknowledged(poll.id, R"({"actor_id":"bob","choice":"sushi"})", 1).status == 202);
  }
}

TEST_CASE("what Kafka says decides whether the actor may try again", "[ingest-api]") {
  fixture f;
  const auto poll = f.create(exact_poll);
  const std::string path = "/v1/polls/" + poll.id + "/votes";
  const std::string vote = R"({"actor_id":"alice","choice":"pizza"})";

  SECTION("a full queue: 503 + Retry-After, nothing sent, the actor may try again") {
    f.sink->refuse_with = kafka::producer::enqueue::queue_full;
    const auto r = f.call("POST", path, vote);
    CHECK(r.status == 503);
    CHECK(has_header(r, "Retry-After"));
    CHECK(r.body.find("queue_max") == std::string::npos);  // the operator's hint goes to the log only
    f.sink->refuse_with = kafka::producer::enqueue::queued;
    CHECK(f.vote_acknowledged(poll.id, vote, 0).status == 202);
  }
  SECTION("failed for certain: 503, the actor may try again") {
    auto answer = f.start("POST", path, vote);
    f.sink->acknowledge(0, {"broker said no", false, -1, -1});
    CHECK(problem_type(fixture::answer_of(answer)) == "/problems/unavailable");
    CHECK(f.vote_acknowledged(poll.id, vote, 1).status == 202);
  }
  SECTION("failed after it may have been written: outcome unknown, and a retry is refused") {
    auto answer = f.start("POST", path, vote);
    f.sink->acknowledge(0, {"timed out in flight", true, -1, -1});
    CHECK(problem_type(fixture::answer_of(answer)) == "/problems/outcome-unknown");
    CHECK(problem_type(f.call("POST", path, vote)) == "/problems/already-voted");
  }
}

TEST_CASE("no acknowledgement by the answer deadline: outcome unknown, and a late one is not answered twice",
          "[ingest-api]") {
  auto options = fixture::defaults();
  options.answer_deadline = 50ms;
  fixture f(options);
  const auto poll = f.create(exact_poll);
  auto answer = f.start("POST", "/v1/polls/" + poll.id + "/votes", R"({"actor_id":"alice","choice":"pizza"})");
  const auto r = fixture::answer_of(answer);
  CHECK(problem_type(r) == "/problems/outcome-unknown");
  CHECK(has_header(r, "Retry-After"));
  f.sink->acknowledge(0);  // late: nobody left to answer, and nothing breaks
  CHECK(problem_type(f.call("POST", "/v1/polls/" + poll.id + "/votes", R"({"actor_id":"alice","choice":"pizza"})")) ==
        "/problems/already-voted");
}

TEST_CASE("voters are who the poll says: open with a list, voting tokens, JWT without a verifier", "[ingest-api]") {
  fixture f;
  SECTION("open with eligible actors: the body's actor must be on the list") {
    const auto poll =
        f.create(R"({"title":"t","choices":["a","b"],"eligible_actors":["alice"],"voter_auth":{"mode":"open"}})");
    const std::string path = "/v1/polls/" + poll.id + "/votes";
    CHECK(problem_type(f.call("POST", path, R"({"actor_id":"mallory","choice":"a"})")) == "/problems/not-eligible");
    CHECK(problem_type(f.call("POST", path, R"({"choice":"a"})")) == "/problems/invalid-request");
    CHECK(f.vote_acknowledged(poll.id, R"({"actor_id":"alice","choice":"a"})", 0).status == 202);
  }
  SECTION("tokens: each eligible actor's token, and only theirs") {
    const auto poll = f.create(R"({"title":"t","choices":["a","b"],"eligible_actors":["alice","bob"]})");
    std::map<std::string, std::string> token;
    for (const auto& t : poll.body.at("voter_tokens").as_array())
      token[std::string(t.at("actor_id").as_string())] = std::string(t.at("token").as_string());
    REQUIRE(token.size() == 2);
    CHECK(f.catalog->eligible[poll.id].size() == 2);
    for (const auto& e : f.catalog->eligible[poll.id]) CHECK(e.token_hash);  // stored as hashes only
    const std::string path = "/v1/polls/" + poll.id + "/votes";
    const std::string vote = R"({"choice":"b"})";
    const auto no_token = f.call("POST", path, vote);
    CHECK(problem_type(no_token) == "/problems/unauthorized");
    CHECK(has_header(no_token, "WWW-Authenticate"));
    CHECK(problem_type(f.call("POST", path, vote, "not-a-token")) == "/problems/forbidden");
    CHECK(problem_type(f.call("POST", path, R"({"actor_id":"bob","choice":"b"})", token["alice"])) ==
          "/problems/actor-mismatch");
    CHECK(f.vote_acknowledged(poll.id, vote, 0, token["alice"]).status == 202);
    const auto sent = f.sink->await(0);
    const auto env = envelope::decode(sent.message.data(), sent.message.size());
    CHECK(envelope::decode_actor_part(env.actor_part).actor_key == f.key_of(poll.id, "alice"));
  }
  SECTION("jwt on an instance without a verifier: 422 at creation") {
    const auto r = f.call("POST", "/v1/polls", R"({"title":"t","choices":["a","b"],"voter_auth":{"mode":"jwt"}})");
    CHECK(r.status == 422);
    CHECK(problem_type(r) == "/problems/jwt-unavailable");
  }
}

TEST_CASE("the admin token guards results before the close, and closing", "[ingest-api]") {
  fixture f;
  const auto poll = f.create(exact_poll);
  const std::string results = "/v1/polls/" + poll.id + "/results";
  CHECK(problem_type(f.call("GET", results)) == "/problems/unauthorized");
  CHECK(problem_type(f.call("GET", results, {}, "wrong")) == "/problems/forbidden");
  CHECK(f.call("GET", results, {}, poll.admin_token).status == 200);
  CHECK(problem_type(f.call("POST", "/v1/polls/" + poll.id + "/close", {}, "wrong")) == "/problems/forbidden");
  CHECK(f.call("POST", "/v1/polls/" + poll.id + "/close", {}, poll.admin_token).status == 200);
  CHECK(problem_type(f.call("POST", "/v1/polls/" + poll.id + "/votes", R"({"actor_id":"a","choice":"pizza"})")) ==
        "/problems/poll-closed");
}

TEST_CASE("a rotated admin token replaces the old one at once, and a rotation that lost a race is refused",
          "[ingest-api]") {
  fixture f;
  const auto poll = f.create(exact_poll);
  const std::string results = "/v1/polls/" + poll.id + "/results", rotate = "/v1/polls/" + poll.id + "/admin-token";
  CHECK(f.call("GET", results, {}, poll.admin_token).status == 200);  // the poll is in the cache now
  CHECK(problem_type(f.call("POST", rotate)) == "/problems/unauthorized");
  CHECK(problem_type(f.call("POST", rotate, {}, "wrong")) == "/problems/forbidden");
  const auto r = f.call("POST", rotate, {}, poll.admin_token);
  REQUIRE(r.status == 200);
  const auto fresh = std::string(json::parse(r.body).at("admin_token").as_string());
  CHECK(fresh.size() == 64);
  CHECK(fresh != poll.admin_token);
  CHECK(json::parse(r.body).at("poll_id").as_string() == poll.id);
  CHECK(problem_type(f.call("GET", results, {}, poll.admin_token)) == "/problems/forbidden");
  CHECK(problem_type(f.call("POST", rotate, {}, poll.admin_token)) == "/problems/forbidden");
  CHECK(f.call("GET", results, {}, fresh).status == 200);

  // Another instance rotated meanwhile: the catalog no longer holds the hash this one checked.
  // The admin check reads the catalog anew, so the token is refused before any write.
  {
    std::lock_guard lock(f.catalog->mutex);
    f.catalog->polls.at(poll.id).admin_token_hash[0] ^= std::byte{1};
  }
  CHECK(problem_type(f.call("POST", rotate, {}, fresh)) == "/problems/forbidden");
  CHECK(problem_type(f.call("GET", results, {}, fresh)) == "/problems/forbidden");
}

TEST_CASE("results: a noisy release is drawn once the stores agree, kept while the pace says so", "[ingest-api]") {
  auto options = fixture::defaults();
  SECTION("one release per interval") {}
  SECTION("no wait between releases") { options.release_interval = 0ms; }
  fixture f(options);
  const auto poll = f.create(R"({"title":"t","choices":["a","b"],"privacy":{"decoys":{"distribution":"none"},
      "randomized_response":{"p":0},"release_noise":{"mechanism":"discrete_laplace","epsilon":1,"budget":10}}})");
  const std::string path = "/v1/polls/" + poll.id + "/results";
  const auto read = [&] {
    const auto r = f.call("GET", path, {}, poll.admin_token);
    REQUIRE(r.status == 200);
    return json::parse(r.body).as_object();
  };
  f.sink->at = {{5}, {{0, 5}}, {{0, 4}}};

  // The stores disagree (one envelope still on its way): nothing is released yet.
  f.stores->part = {5, 5};
  f.stores->counts = {{3, 1}, 4};
  auto body = read();
  CHECK(body.at("release").is_null());
  CHECK(body.at("choices").as_array().at(0).at("released_count").is_null());
  CHECK(body.at("consistency").at("ballotbox_lag") == 1);
  CHECK(body.at("consistency").at("complete") == false);
  CHECK(f.catalog->releases[poll.id].empty());

  // They agree: the first release is drawn and stored.
  f.stores->counts = {{3, 2}, 5};
  body = read();
  CHECK(body.at("release").at("seq") == 1);
  REQUIRE(f.catalog->releases[poll.id].size() == 1);
  const auto first = f.catalog->releases[poll.id][0].released;
  CHECK(body.at("choices").as_array().at(0).at("released_count") == first[0]);

  // The same tally again: the same release, however often it is read.
  CHECK(read().at("release").at("seq") == 1);
  CHECK(f.catalog->releases[poll.id].size() == 1);

  // A new vote moved the tally: drawn anew only if the pace allows.
  f.stores->part = {6, 6};
  f.stores->counts = {{4, 2}, 6};
  body = read();
  if (options.release_interval > 0ms) {
    CHECK(body.at("release").at("seq") == 1);
    CHECK(body.at("release").at("counts_changed_since") == true);
    CHECK(body.at("release").at("next_release_not_before").is_string());
  } else {
    CHECK(body.at("release").at("seq") == 2);
    CHECK(f.catalog->releases[poll.id].size() == 2);
  }
  const double spent = body.at("release").at("epsilon_spent").as_double();
  CHECK(spent <= 10);
}

TEST_CASE("a catalog that cannot be reached is 503 + Retry-After on every route that needs it", "[ingest-api]") {
  fixture f;
  const auto poll = f.create(exact_poll);
  CHECK(f.call("GET", "/v1/polls/" + poll.id).status == 200);  // now in the poll cache
  f.catalog->down = true;
  for (const auto& [method, path, body] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"POST", "/v1/polls", exact_poll},
           {"GET", "/v1/polls/00000000-0000-4000-8000-000000000000", ""},
       }) {
    const auto r = f.call(method, path, body);
    CHECK(problem_type(r) == "/problems/unavailable");
    CHECK(has_header(r, "Retry-After"));
  }
  // The poll cache answers what it holds while the catalog is away.
  CHECK(f.call("GET", "/v1/polls/" + poll.id).status == 200);
  f.api->check_dependencies();
  f.api->mark_started();
  CHECK(f.call("GET", "/readyz").status == 503);
}
