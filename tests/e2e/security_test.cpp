// End to end: rate limits (429 + Retry-After), CORS, security headers and HTTPS against the real ingest.
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/raw_connection.hpp"
#include "splitvote/testing/recordings.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "splitvote/testing/jwt.hpp"

#include <catch2/catch.hpp>
#include <openssl/x509.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

using namespace splitvote::testing;
using namespace std::chrono_literals;
using svc = stack::service;

namespace {

const char* lunch = R"({"title":"Lunch","choices":["pizza","sushi"],"privacy":{"decoys":{"distribution":"none"},"randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})";

std::string vote_body(const std::string& actor) { return R"({"actor_id":")" + actor + R"(","choice":"pizza"})"; }

void check_problem(const http_response& r, unsigned status, const std::string& type) {
  INFO(r.status << " " << r.body);
  CHECK(r.status == status);
  CHECK(r.header("content-type") == "application/problem+json");
  CHECK(r.json().as_object().at("status").as_int64() == status);
  CHECK(r.json().as_object().at("type").as_string() == type);
}

/// The headers every answer carries, whatever its status.
void check_security_headers(const std::map<std::string, std::string>& h, bool tls = false) {
  const auto get = [&](const std::string& k) { auto it = h.find(k); return it == h.end() ? std::string() : it->second; };
  CHECK(get("x-content-type-options") == "nosniff");
  CHECK(get("referrer-policy") == "no-referrer");
  CHECK(get("x-frame-options") == "DENY");
  CHECK(get("content-security-policy").find("frame-ancestors 'none'") != std::string::npos);
  CHECK(get("cache-control") == "no-store");
  CHECK(get("strict-transport-security").empty() == !tls);
}

/// The headers of a raw response (names lower-cased).
std::map<std::string, std::string> raw_headers(const std::string& response) {
  std::map<std::string, std::string> out;
  std::size_t at = response.find("\r\n");
  while (at != std::string::npos && at + 2 < response.size()) {
    const auto end = response.find("\r\n", at + 2);
    const std::string line = response.substr(at + 2, end - at - 2);
    if (line.empty()) break;
    const auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[name] = line.substr(colon + 2);
    at = end;
  }
  return out;
}

}  // namespace

TEST_CASE("rate limits per client address, per poll and on poll creation answer 429 with Retry-After", "[e2e][rate-limits]") {
  stack s("e2e-rate-limits", {{}, {{"SPLITVOTE_HTTP__RATE_LIMIT__CLIENT_PER_SECOND", "1"},
                                   {"SPLITVOTE_HTTP__RATE_LIMIT__CLIENT_BURST", "40"},
                                   {"SPLITVOTE_HTTP__RATE_LIMIT__POLL_VOTES_PER_SECOND", "1"},
                                   {"SPLITVOTE_HTTP__RATE_LIMIT__POLL_VOTES_BURST", "3"},
                                   {"SPLITVOTE_HTTP__RATE_LIMIT__CREATIONS_PER_MINUTE", "1"},
                                   {"SPLITVOTE_HTTP__RATE_LIMIT__CREATIONS_BURST", "2"},
                                   {"SPLITVOTE_HTTP__TRUSTED_PROXIES", "127.0.0.1, ::1"}}});
  s.start_all();
  http_client c(s.port());

  // Creation: two at once from this address, the third must wait a minute.
  const auto a = create_poll(s.port(), lunch);
  const auto b = create_poll(s.port(), lunch);
  const auto third = c.post("/v1/polls", lunch);
  check_problem(third, 429, "/problems/rate-limited");
  CHECK(std::stoi(third.header("retry-after")) >= 55);
  CHECK(std::stoi(third.header("retry-after")) <= 60);

  // Votes: three at once into poll a, the fourth is refused before it is looked at; poll b has
  // its own bucket; the refused actor was never reserved, so the retry counts.
  const std::string votes_a = "/v1/polls/" + a.id + "/votes";
  for (int i = 0; i < 3; ++i) CHECK(c.post(votes_a, vote_body("v" + std::to_string(i))).status == 202);
  const auto refused = c.post(votes_a, vote_body("v3"));
  check_problem(refused, 429, "/problems/rate-limited");
  CHECK(refused.header("retry-after") == "1");
  CHECK(c.post("/v1/polls/" + b.id + "/votes", vote_body("v3")).status == 202);
  std::this_thread::sleep_for(1100ms);
  CHECK(c.post(votes_a, vote_body("v3")).status == 202);

  // Per client: a client behind the trusted proxy (127.0.0.1) is known by X-Forwarded-For.
  const std::map<std::string, std::string> from_x{{"X-Forwarded-For", "198.51.100.7"}};
  http_response last;
  int allowed = 0;
  for (int i = 0; i < 200; ++i) {
    last = c.get("/v1/polls/" + a.id, from_x);
    if (last.status != 200) break;
    ++allowed;
  }
  check_problem(last, 429, "/problems/rate-limited");
  CHECK(allowed >= 40);
  CHECK(allowed <= 45);  // the burst, plus what a second of the test refilled
  CHECK(last.header("retry-after") == "1");
  // Probes and metrics are never limited; another forwarded client and the proxy itself have
  // their own buckets; "client, proxy" chains name the client left of the trusted hops.
  CHECK(c.get("/livez", from_x).status == 200);
  CHECK(c.get("/readyz", from_x).status == 200);
  CHECK(c.get("/v1/polls/" + a.id, {{"X-Forwarded-For", "198.51.100.8"}}).status == 200);
  CHECK(c.get("/v1/polls/" + a.id).status == 200);
  CHECK(c.get("/v1/polls/" + a.id, {{"X-Forwarded-For", "198.51.100.7, 127.0.0.1"}}).status == 429);

  CHECK(metric(s.port(), R"(splitvote_http_rate_limited_total{scope="poll_creations"})") == 1);
  CHECK(metric(s.port(), R"(splitvote_http_rate_limited_total{scope="poll_votes"})") == 1);
  CHECK(metric(s.port(), R"(splitvote_http_rate_limited_total{scope="client"})") == 2);
  CHECK(metric(s.port(), R"(splitvote_http_requests_total{method="GET",route="/v1/polls/{id}",status="429"})") == 2);
  CHECK(s.process(svc::ingest)->running());
}

TEST_CASE("without trusted proxies X-Forwarded-For is ignored: a client cannot pose as many", "[e2e][rate-limits]") {
  stack s("e2e-rate-limits-spoof", {{}, {{"SPLITVOTE_HTTP__RATE_LIMIT__CLIENT_PER_SECOND", "1"},
                                         {"SPLITVOTE_HTTP__RATE_LIMIT__CLIENT_BURST", "10"}}});
  s.start_all();
  http_client c(s.port());
  int allowed = 0;
  http_response last;
  for (int i = 0; i < 100; ++i) {
    last = c.get("/v1/polls/00000000-0000-4000-8000-000000000000", {{"X-Forwarded-For", "203.0.113." + std::to_string(i)}});
    if (last.status == 429) break;
    ++allowed;
  }
  check_problem(last, 429, "/problems/rate-limited");
  CHECK(allowed >= 10);
  CHECK(allowed <= 13);
  CHECK(c.get("/metrics").status == 200);  // exempt
}

TEST_CASE("bad proxy, CORS, TLS and JWT settings stop ingest at start with status 2 and the key's name", "[e2e][rate-limits]") {
  const auto dir = temp_dir("e2e-bad-abuse-config");
  const std::map<std::string, std::string> base{{"SPLITVOTE_CATALOG__DSN", "postgresql://nobody@127.0.0.1:1/x"},
                                                {"SPLITVOTE_POLLBOOK__DSN", "postgresql://nobody@127.0.0.1:1/x"},
                                                {"SPLITVOTE_BALLOTBOX__DSN", "postgresql://nobody@127.0.0.1:1/x"},
                                                {"SPLITVOTE_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1"},
                                                {"SPLITVOTE_PRIVACY__ACTOR_SECRET", stack::actor_secret}};
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases{
      {{{"SPLITVOTE_HTTP__TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"}}, "http.trusted_proxies: 'proxy.internal'"},
      {{{"SPLITVOTE_HTTP__CORS__ALLOWED_ORIGINS", "*"}}, "http.cors.allowed_origins: '*'"},
      {{{"SPLITVOTE_HTTP__TLS__CERTIFICATE_CHAIN", (dir / "cert.pem").string()}}, "http.tls: set both"},
      {{{"SPLITVOTE_HTTP__RATE_LIMIT__CLIENT_PER_SECOND", "-1"}}, "http.rate_limit.client_per_second"},
      {{{"SPLITVOTE_AUTH__JWT__ALGORITHMS", "none"}, {"SPLITVOTE_AUTH__JWT__ISSUER", "i"}, {"SPLITVOTE_AUTH__JWT__AUDIENCE", "a"}},
       "auth.jwt: "},
      {{{"SPLITVOTE_AUTH__JWT__ALGORITHMS", "RS256"}, {"SPLITVOTE_AUTH__JWT__ISSUER", "i"}, {"SPLITVOTE_AUTH__JWT__AUDIENCE", "a"}},
       "auth.jwt: "},  // RS256 without a JWKS
      {{{"SPLITVOTE_AUTH__JWT__ALGORITHMS", "HS256"}, {"SPLITVOTE_AUTH__JWT__HS256_SECRET", "short"},
        {"SPLITVOTE_AUTH__JWT__ISSUER", "i"}, {"SPLITVOTE_AUTH__JWT__AUDIENCE", "a"}},
       "auth.jwt: "},
      {{{"SPLITVOTE_AUTH__JWT__ALGORITHMS", "RS256"}, {"SPLITVOTE_AUTH__JWT__JWKS_FILE", (dir / "missing.json").string()}},
       "auth.jwt.jwks_file: cannot read"},
  };
  int n = 0;
  for (const auto& [extra, message] : cases) {
    auto env = base;
    for (const auto& [k, v] : extra) env[k] = v;
    const auto log = dir / ("ingest-" + std::to_string(n++) + ".log");
    child_process ingest(binary("splitvote-ingest"), {}, env, log);
    INFO(message);
    CHECK(ingest.wait(10s) == 2);
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(text);
    CHECK(text.find(message) != std::string::npos);
  }
}

TEST_CASE("CORS answers only configured origins; every answer carries the security headers", "[e2e][cors]") {
  stack s("e2e-cors", {{}, {{"SPLITVOTE_HTTP__CORS__ALLOWED_ORIGINS", "https://app.example,http://localhost:5173"},
                            {"SPLITVOTE_HTTP__CORS__MAX_AGE_S", "300"},
                            {"SPLITVOTE_HTTP__MAX_CONNECTIONS_PER_ADDRESS", "4"}}});
  s.start_all();
  const auto poll = create_poll(s.port(), lunch);
  const std::string votes = "/v1/polls/" + poll.id + "/votes";

  {
    http_client c(s.port());
    const std::map<std::string, std::string> preflight{{"Origin", "https://app.example"},
                                                       {"Access-Control-Request-Method", "POST"},
                                                       {"Access-Control-Request-Headers", "content-type"}};
    const auto ok = c.request("OPTIONS", votes, {}, preflight);
    CHECK(ok.status == 204);
    CHECK(ok.header("access-control-allow-origin") == "https://app.example");
    CHECK(ok.header("access-control-allow-methods") == "POST");
    CHECK(ok.header("access-control-allow-headers").find("Content-Type") != std::string::npos);
    CHECK(ok.header("access-control-max-age") == "300");
    CHECK(ok.header("vary") == "Origin");
    CHECK(ok.body.empty());
    check_security_headers(ok.headers);

    auto evil = preflight;
    evil["Origin"] = "https://evil.example";
    const auto refused = c.request("OPTIONS", votes, {}, evil);
    check_problem(refused, 403, "/problems/cors-refused");
    CHECK(refused.header("access-control-allow-origin").empty());
    CHECK(refused.header("vary") == "Origin");
    auto wrong_method = preflight;
    wrong_method["Access-Control-Request-Method"] = "DELETE";
    CHECK(c.request("OPTIONS", votes, {}, wrong_method).status == 403);
    CHECK(c.request("OPTIONS", "/v1/polls/" + poll.id, {}, {{"Origin", "http://localhost:5173"}, {"Access-Control-Request-Method", "GET"}})
              .header("access-control-allow-origin") == "http://localhost:5173");
    // Not a preflight: what the resource allows.
    const auto plain = c.request("OPTIONS", votes, {}, {});
    CHECK(plain.status == 204);
    CHECK(plain.header("allow") == "POST, OPTIONS");
    CHECK(plain.header("access-control-allow-origin").empty());
    CHECK(c.request("OPTIONS", "/v1/nothing", {}, preflight).status == 404);

    // Actual requests: the allowed origin is named, another is not (its page cannot read the answer).
    const auto mine = c.request("POST", votes, vote_body("c1"), {{"Content-Type", "application/json"}, {"Origin", "https://app.example"}});
    CHECK(mine.status == 202);
    CHECK(mine.header("access-control-allow-origin") == "https://app.example");
    CHECK(mine.header("access-control-expose-headers").find("Retry-After") != std::string::npos);
    CHECK(mine.header("vary") == "Origin");
    const auto theirs = c.request("GET", "/v1/polls/" + poll.id, {}, {{"Origin", "https://evil.example"}});
    CHECK(theirs.status == 200);
    CHECK(theirs.header("access-control-allow-origin").empty());
    CHECK(c.get("/v1/polls/" + poll.id).header("access-control-allow-origin").empty());

    // Security headers on answers of every kind.
    for (const auto& r : {mine, theirs, c.post("/v1/polls", lunch), c.post(votes, "{"), c.post(votes, vote_body("c1")),
                          c.get("/v1/polls/00000000-0000-4000-8000-000000000000"), c.request("DELETE", votes, {}, {}),
                          c.get("/nowhere"), c.get("/livez"), c.get("/readyz"), c.get("/metrics"),
                          c.get("/v1/polls/" + poll.id + "/results")}) {
      INFO(r.status << " " << r.body.substr(0, 200));
      check_security_headers(r.headers);
    }
  }
  // ... and on what the server answers before any handler: malformed HTTP, headers too large.
  for (const std::string& bytes : {std::string("GARBAGE\r\n\r\n"),
                                  "GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n"}) {
    raw_connection raw(s.port());
    raw.send(bytes);
    REQUIRE(raw.read_until_closed(5s));
    INFO(raw.received().substr(0, 300));
    CHECK((raw.received().starts_with("HTTP/1.1 400") || raw.received().starts_with("HTTP/1.1 431")));
    check_security_headers(raw_headers(raw.received()));
  }

  {  // http.max_connections_per_address: a fifth connection from 127.0.0.1 gets 429 and is closed
    std::vector<std::unique_ptr<raw_connection>> held;
    REQUIRE(eventually([&] {  // connections above may still be closing
      auto conn = std::make_unique<raw_connection>(s.port());
      conn->send("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
      if (!conn->read_until("\r\n\r\n", 5s) || !conn->received().starts_with("HTTP/1.1 200")) return false;
      held.push_back(std::move(conn));
      return held.size() == 4;
    }, 10s));
    raw_connection extra(s.port());
    extra.send("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(extra.read_until_closed(5s));
    INFO(extra.received());
    CHECK(extra.received().starts_with("HTTP/1.1 429"));
    CHECK(extra.received().find("/problems/rate-limited") != std::string::npos);
    CHECK(extra.received().find("Retry-After: 1") != std::string::npos);
    held.pop_back();
    CHECK(eventually([&] { return http_client(s.port()).get("/livez").status == 200; }, 10s));
  }
  CHECK(s.process(svc::ingest)->running());
}

namespace {
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace bhttp = boost::beast::http;

/// A self-signed EC certificate for localhost/127.0.0.1 with the given common name.
void make_certificate(const std::filesystem::path& cert, const std::filesystem::path& key, const std::string& cn) {
  const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=" + cn +
                          " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" + key.string() + "' -out '" +
                          cert.string() + "' 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  // For security.logs: no log may quote the private key (each base64 line of the PEM).
  std::ifstream pem(key);
  for (std::string line; std::getline(pem, line);)
    if (line.rfind("-----", 0) != 0) record_secret(line);
}

/// One keep-alive HTTPS connection that trusts only `ca`.
class tls_connection {
public:
  /// `configure` may narrow the client's protocol versions and ciphers (to check refusals).
  tls_connection(unsigned short port, const std::filesystem::path& ca,
                 const std::function<void(SSL_CTX*)>& configure = {}) {
    ctx_.load_verify_file(ca.string());
    ctx_.set_verify_mode(ssl::verify_peer);
    if (configure) configure(ctx_.native_handle());
    stream_ = std::make_unique<ssl::stream<net::ip::tcp::socket>>(ioc_, ctx_);
    stream_->set_verify_callback(ssl::host_name_verification("localhost"));
    stream_->lowest_layer().connect({net::ip::make_address("127.0.0.1"), port});
    stream_->handshake(ssl::stream_base::client);
  }
  bhttp::response<bhttp::string_body> get(const std::string& target) {
    bhttp::request<bhttp::empty_body> req(bhttp::verb::get, target, 11);
    req.set(bhttp::field::host, "localhost");
    bhttp::write(*stream_, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(*stream_, buffer_, res);
    return res;
  }
  /// The common name of the certificate the server presented.
  std::string peer_common_name() {
    X509* cert = SSL_get1_peer_certificate(stream_->native_handle());
    if (!cert) return {};
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
    X509_free(cert);
    return name;
  }
  std::string protocol() { return SSL_get_version(stream_->native_handle()); }

private:
  net::io_context ioc_;
  ssl::context ctx_{ssl::context::tls_client};
  std::unique_ptr<ssl::stream<net::ip::tcp::socket>> stream_;
  boost::beast::flat_buffer buffer_;
};

std::map<std::string, std::string> lowered(const bhttp::response<bhttp::string_body>& res) {
  std::map<std::string, std::string> out;
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[name] = std::string(f.value());
  }
  return out;
}
}  // namespace

TEST_CASE("ingest serves HTTPS (TLS 1.2+, modern suites) and SIGHUP loads a new certificate for new connections", "[e2e][tls]") {
  const auto dir = temp_dir("e2e-tls-certs");
  const auto cert = dir / "cert.pem", key = dir / "key.pem";
  const auto first_ca = dir / "first.pem", second_ca = dir / "second.pem";
  make_certificate(cert, key, "splitvote-test-1");
  std::filesystem::copy_file(cert, first_ca, std::filesystem::copy_options::overwrite_existing);

  stack s("e2e-tls", {{}, {{"SPLITVOTE_HTTP__TLS__CERTIFICATE_CHAIN", cert.string()},
                           {"SPLITVOTE_HTTP__TLS__PRIVATE_KEY", key.string()}}});
  s.start_all();

  tls_connection held(s.port(), first_ca);
  CHECK(held.peer_common_name() == "splitvote-test-1");
  const auto live = held.get("/livez");
  CHECK(live.result_int() == 200);
  check_security_headers(lowered(live), /*tls=*/true);
  CHECK(eventually([&] { return held.get("/readyz").result_int() == 200; }, 15s));

  // TLS 1.1, and TLS 1.2 without an AEAD suite, are refused.
  CHECK_THROWS(tls_connection(s.port(), first_ca, [](SSL_CTX* c) {
    SSL_CTX_set_security_level(c, 0);
    SSL_CTX_set_min_proto_version(c, TLS1_1_VERSION);
    SSL_CTX_set_max_proto_version(c, TLS1_1_VERSION);
  }));
  CHECK_THROWS(tls_connection(s.port(), first_ca, [](SSL_CTX* c) {
    SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(c, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384");
  }));
  {
    tls_connection twelve(s.port(), first_ca, [](SSL_CTX* c) { SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION); });
    CHECK(twelve.protocol() == "TLSv1.2");
    CHECK(twelve.get("/livez").result_int() == 200);
  }
  // Plain HTTP on the TLS port gets no HTTP answer.
  {
    raw_connection plain(s.port());
    plain.send("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
    plain.read_until_closed(5s);
    CHECK(plain.received().find("HTTP/1.1 200") == std::string::npos);
  }

  // A new certificate in place (written aside, then renamed over the old), then SIGHUP.
  make_certificate(dir / "cert.new", dir / "key.new", "splitvote-test-2");
  std::filesystem::copy_file(dir / "cert.new", second_ca, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(dir / "key.new", key);
  std::filesystem::rename(dir / "cert.new", cert);
  s.process(svc::ingest)->signal(SIGHUP);
  REQUIRE(s.wait_for_log(svc::ingest, 0, "tls_reloaded", 1, 10s));
  {
    tls_connection fresh(s.port(), second_ca);
    CHECK(fresh.peer_common_name() == "splitvote-test-2");
    CHECK(fresh.get("/livez").result_int() == 200);
  }
  CHECK_THROWS(tls_connection(s.port(), first_ca));  // the old certificate is no longer served
  // The connection opened before the reload was not dropped.
  CHECK(held.get("/livez").result_int() == 200);
  CHECK(held.peer_common_name() == "splitvote-test-1");

  // A broken file on SIGHUP: logged, and the last good certificate stays.
  std::ofstream(cert, std::ios::trunc) << "not a certificate\n";
  s.process(svc::ingest)->signal(SIGHUP);
  REQUIRE(s.wait_for_log(svc::ingest, 0, "tls_reload_failed", 1, 10s));
  tls_connection after(s.port(), second_ca);
  CHECK(after.peer_common_name() == "splitvote-test-2");
  CHECK(after.get("/livez").result_int() == 200);
  CHECK(s.process(svc::ingest)->running());
}

TEST_CASE("jwt polls: the identity provider's token names the actor; forged, expired and misaddressed tokens are 401",
          "[e2e][jwt-votes]") {
  const auto dir = temp_dir("e2e-jwt");
  const rsa_key idp, stranger;
  {
    std::ofstream(dir / "jwks.json") << jwks({idp.jwk("k1")});
  }
  stack s("e2e-jwt", {{}, {{"SPLITVOTE_AUTH__JWT__ALGORITHMS", "RS256"},
                           {"SPLITVOTE_AUTH__JWT__JWKS_FILE", (dir / "jwks.json").string()},
                           {"SPLITVOTE_AUTH__JWT__ISSUER", "https://idp.test"},
                           {"SPLITVOTE_AUTH__JWT__AUDIENCE", "splitvote"},
                           {"SPLITVOTE_AUTH__JWT__LEEWAY_S", "30"},
                           {"SPLITVOTE_AUTH__JWT__MAX_TOKEN_BYTES", "4096"}}});
  s.start_all();
  const auto open_to_all = create_poll(s.port(), R"({"title":"J","choices":["yes","no"],"voter_auth":{"mode":"jwt"},
      "privacy":{"decoys":{"distribution":"none"}}})");
  const auto listed = create_poll(s.port(), R"({"title":"JL","choices":["yes","no"],"eligible_actors":["ann"],"voter_auth":{"mode":"jwt"}})");
  CHECK(listed.voter_tokens.empty());  // the identity provider authenticates: no tokens of ours

  const long now = static_cast<long>(std::time(nullptr));
  const auto claims = [&](const std::string& sub, long exp_offset = 600, const std::string& aud = "\"splitvote\"",
                          const std::string& iss = "https://idp.test", const std::string& extra = "") {
    return R"({"sub":")" + sub + R"(","iss":")" + iss + R"(","aud":)" + aud + R"(,"exp":)" + std::to_string(now + exp_offset) +
           extra + "}";
  };
  const std::string rs = R"({"alg":"RS256","kid":"k1","typ":"JWT"})";
  const auto vote = [&](const created_poll& p, const std::string& token, const std::string& body = R"({"choice":"yes"})") {
    http_client c(s.port());
    return c.request("POST", "/v1/polls/" + p.id + "/votes", body,
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
  };
  const auto refused = [&](const std::string& token, const std::string& reason) {
    const auto r = vote(open_to_all, token);
    INFO(reason << ": " << r.body);
    CHECK(r.status == 401);
    CHECK(r.header("www-authenticate") == "Bearer error=\"invalid_token\"");
    CHECK(r.body.find("(" + reason + ")") != std::string::npos);
  };

  SECTION("the attacks") {
    const std::string body = claims("mallory");
    refused(make_jwt(R"({"alg":"none","typ":"JWT"})", body, nullptr), "algorithm");
    refused(make_jwt(R"({"alg":"none"})", body, nullptr) + "c2lnbmF0dXJl", "algorithm");  // with a signature after all
    // HS256 keyed with the provider's public key, which anyone may have: the classic confusion.
    refused(make_jwt(R"({"alg":"HS256","kid":"k1"})", body, nullptr, idp.public_pem()), "algorithm");
    refused(make_jwt(rs, claims("mallory", -3600), &idp), "expired");
    refused(make_jwt(rs, claims("mallory", 600, "\"another-service\""), &idp), "audience");
    refused(make_jwt(rs, claims("mallory", 600, "[\"a\",\"b\"]"), &idp), "audience");
    refused(make_jwt(rs, claims("mallory", 600, "\"splitvote\"", "https://evil.test"), &idp), "issuer");
    refused(make_jwt(rs, claims("mallory", 600, "\"splitvote\"", "https://idp.test", R"(,"nbf":)" + std::to_string(now + 3600)), &idp),
            "not-yet-valid");
    refused(make_jwt(rs, body, &stranger), "signature");  // signed by another key, claiming the provider's kid
    auto flipped = make_jwt(rs, body, &idp);
    flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
    refused(flipped, "signature");
    refused(make_jwt(rs, claims("mallory", 600, "\"splitvote\"", "https://idp.test", R"(,"pad":")" + std::string(5000, 'p') + "\""), &idp),
            "oversize");
    refused("not.a.jwt", "malformed");
    CHECK(vote(open_to_all, "", R"({"choice":"yes"})").status == 401);
    CHECK(metric(s.port(), R"(splitvote_jwt_rejections_total{reason="algorithm"})") == 3);
    CHECK(metric(s.port(), R"(splitvote_jwt_rejections_total{reason="signature"})") == 2);
  }

  SECTION("a valid token votes once; a replay is 409; the body may not name another actor") {
    const auto ann = make_jwt(rs, claims("ann"), &idp);
    CHECK(vote(open_to_all, ann, R"({"actor_id":"bob","choice":"yes"})").status == 403);
    CHECK(vote(open_to_all, ann).status == 202);
    CHECK(vote(open_to_all, ann).status == 409);
    CHECK(vote(open_to_all, make_jwt(rs, claims("ann", 900), &idp)).status == 409);  // a fresh token of the same actor
    // Within the 30 s leeway an expired token still counts.
    CHECK(vote(open_to_all, make_jwt(rs, claims("cid", -10), &idp)).status == 202);
    // On a poll with a list, the JWT's actor must be on it.
    const auto zed = vote(listed, make_jwt(rs, claims("zed"), &idp));
    CHECK(zed.status == 403);
    CHECK(zed.body.find("not-eligible") != std::string::npos);
    CHECK(vote(listed, make_jwt(rs, claims("ann"), &idp)).status == 202);
    const auto results = await_results(s.port(), open_to_all, [](const auto& r) {
      return r.at("participation").at("unique_actors").as_int64() == 2 && r.at("consistency").at("complete").as_bool();
    });
    CHECK(results.at("participation").at("submissions").as_int64() == 2);
  }
}
