// HTTP requests and responses as the handlers see them (no Beast types), and problem+json errors.
#pragma once

#include <boost/json/value.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace splitvote::http {

struct request {
  std::string method;
  std::string target;  // as sent
  std::string path;    // target without the query
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;  // from X-Request-Id when valid, else generated

  /// Case-insensitive header lookup.
  std::optional<std::string_view> header(std::string_view name) const;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// A JSON response.
response json(unsigned status, const boost::json::value& body);

/// An RFC 9457 problem: {"type", "title", "status", "detail"} as application/problem+json.
/// `slug` names the problem type ("not-eligible" -> "/problems/not-eligible").
response problem(unsigned status, std::string_view slug, std::string_view title, std::string_view detail);

/// Thrown by a handler to answer with a problem: the router catches it, and answer_exception
/// for work that continues off the handler's stack.
struct problem_error : std::exception {
  problem_error(unsigned status, std::string slug, std::string title, std::string detail)
      : status(status), slug(std::move(slug)), title(std::move(title)), detail(std::move(detail)) {}
  const char* what() const noexcept override { return detail.c_str(); }
  /// Adds Retry-After (a 503 or 429: the client may try again after this long).
  problem_error& retry_after(std::chrono::seconds after = std::chrono::seconds(1)) {
    headers.emplace_back("Retry-After", std::to_string(after.count()));
    return *this;
  }
  unsigned status;
  std::string slug, title, detail;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// The problem response `e` stands for (its status, type, detail and extra headers).
response to_response(const problem_error& e);

/// What a request that failed with `failure` answers: a problem_error its problem; anything
/// else a 500 naming the request id, the exception logged (with `route`), never sent.
response answer_exception(std::exception_ptr failure, std::string_view request_id, std::string_view route);

/// Answers a request; callable once, from any thread.
using respond_fn = std::function<void(response)>;

}  // namespace splitvote::http
