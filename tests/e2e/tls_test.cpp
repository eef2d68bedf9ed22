// End to end: HTTPS (TLS 1.2+, modern suites) and a certificate reloaded on SIGHUP.
#include "splitvote/testing/answers.hpp"
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

#include <openssl/x509.h>
#include <catch2/catch.hpp>

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
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace bhttp = boost::beast::http;

/// A self-signed EC certificate for localhost/127.0.0.1 with the given common name.
void make_certificate(const std::filesystem::path& cert, const std::filesystem::path& key, const std::string& cn) {
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=" + cn +
      " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" + key.string() + "' -out '" + cert.string() +
      "' 2>/dev/null";
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

TEST_CASE("ingest serves HTTPS (TLS 1.2+, modern suites) and SIGHUP loads a new certificate for new connections",
          "[e2e][tls]") {
  const auto dir = temp_dir("e2e-tls-certs");
  const auto cert = dir / "cert.pem", key = dir / "key.pem";
  const auto first_ca = dir / "first.pem", second_ca = dir / "second.pem";
  make_certificate(cert, key, "splitvote-test-1");
  std::filesystem::copy_file(cert, first_ca, std::filesystem::copy_options::overwrite_existing);

  stack s("e2e-tls", {{},
                      {{"SPLITVOTE_HTTP__TLS__CERTIFICATE_CHAIN", cert.string()},
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
    plain.send(livez_request);
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
