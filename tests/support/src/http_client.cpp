#include "splitvote/testing/http_client.hpp"

#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/recordings.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace splitvote::testing {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

boost::json::value http_response::json() const { return boost::json::parse(body); }

std::string http_response::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

/// Appends every exchange to $SPLITVOTE_RESPONSES, for the OpenAPI contract check.
void record(const std::string& method, const std::string& target, const http_response& r) {
  static const std::string path = setting("SPLITVOTE_RESPONSES", SPLITVOTE_RESPONSES);
  boost::json::object line{{"method", method},
                           {"target", target},
                           {"status", r.status},
                           {"content_type", r.header("content-type")},
                           {"retry_after", r.header("retry-after")},
                           {"body", r.body}};
  append_line(path, boost::json::serialize(line));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// For the log scan (security.logs): what the request gives away before it is sent, the
/// credentials of its Authorization header and, for a vote, the actor and its choice. Sent is
/// enough: a vote the server refuses may still end up in its log.
void record_request_secrets(const std::string& method, const std::string& target, const std::string& body,
                            const std::map<std::string, std::string>& headers) {
  for (const auto& [name, value] : headers) {
    if (!beast::iequals(name, "authorization")) continue;
    const auto blank = value.find(' ');  // "Bearer <token>": the token; without a scheme, all of it
    record_secret(blank == std::string::npos ? value : value.substr(blank + 1));
  }
  if (method != "POST" || !ends_with(target.substr(0, target.find('?')), "/votes")) return;
  boost::system::error_code ec;
  const auto v = boost::json::parse(body, ec);
  const auto* o = ec ? nullptr : v.if_object();
  const auto* actor = o ? o->if_contains("actor_id") : nullptr;
  const auto* choice = o ? o->if_contains("choice") : nullptr;
  if (actor && choice && actor->is_string() && choice->is_string())
    record_vote(actor->get_string(), choice->get_string());
}

/// The tokens a 201 hands out: a new poll's admin_token and each voter_tokens[].token.
void record_response_secrets(const http_response& r) {
  if (r.status != 201) return;
  boost::system::error_code ec;
  const auto v = boost::json::parse(r.body, ec);
  const auto* o = ec ? nullptr : v.if_object();
  if (!o) return;
  if (const auto* t = o->if_contains("admin_token"); t && t->is_string()) record_secret(t->get_string());
  if (const auto* tokens = o->if_contains("voter_tokens"); tokens && tokens->is_array())
    for (const auto& item : tokens->get_array())
      if (const auto* t = item.is_object() ? item.get_object().if_contains("token") : nullptr; t && t->is_string())
        record_secret(t->get_string());
}

}  // namespace

struct http_client::impl {
  unsigned short port;
  contract_record recorded;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void connect() {
    stream.emplace(ioc);
    stream->connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    buffer.clear();
  }
};

http_client::http_client(unsigned short port, contract_record record) : impl_(std::make_unique<impl>()) {
  impl_->port = port;
  impl_->recorded = record;
}
http_client::~http_client() = default;

http_response http_client::request(const std::string& method, const std::string& target, const std::string& body,
                                   const std::map<std::string, std::string>& headers) {
  record_request_secrets(method, target, body, headers);
  for (int attempt = 0;; ++attempt) {
    try {
      if (!impl_->stream) impl_->connect();
      bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
      req.set(bhttp::field::host, "127.0.0.1");
      for (const auto& [k, v] : headers) req.set(k, v);
      if (!body.empty() || method == "POST") req.body() = body;
      req.prepare_payload();
      impl_->stream->expires_after(std::chrono::seconds(30));
      bhttp::write(*impl_->stream, req);
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      bhttp::read(*impl_->stream, impl_->buffer, parser);
      const auto& res = parser.get();
      http_response out;
      out.status = res.result_int();
      for (const auto& f : res) {
        std::string name(f.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        out.headers[name] = std::string(f.value());
      }
      out.body = res.body();
      if (!res.keep_alive()) impl_->stream.reset();
      if (impl_->recorded == contract_record::yes) record(method, target, out);
      record_response_secrets(out);
      return out;
    } catch (const boost::system::system_error&) {
      // A keep-alive connection the server closed in between: one retry on a fresh one.
      impl_->stream.reset();
      if (attempt >= 1) throw;
    }
  }
}

std::string http_client::raw(unsigned short port, const std::string& bytes, int timeout_ms) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  net::write(stream, net::buffer(bytes));
  std::string out;
  char buf[4096];
  for (;;) {
    beast::error_code ec;
    const std::size_t n = stream.read_some(net::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

double metric(unsigned short port, const std::string& series) {
  const auto body = http_client(port).get("/metrics").body;
  for (std::size_t at = body.find(series + " "); at != std::string::npos; at = body.find(series + " ", at + 1))
    if (at == 0 || body[at - 1] == '\n') return std::stod(body.substr(at + series.size() + 1));
  return -1;
}

}  // namespace splitvote::testing
