// Maps method + path patterns ("/v1/polls/{id}") to handlers; the one place errors become problems.
#pragma once

#include "splitvote/http/message.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace splitvote::http {

/// Path parameters in pattern order.
using params = std::vector<std::string>;
using handler = std::function<void(const request&, const params&, respond_fn)>;

class router {
public:
  /// `body_limit`: requests with a larger body get 413 before the handler runs.
  void add(std::string method, std::string pattern, handler h, std::size_t body_limit = 0);

  struct match {
    const handler* h = nullptr;
    std::string pattern;  // the route's pattern, for metrics and logs
    params values;
    std::size_t body_limit = 0;
    std::vector<std::string> allowed;  // when the path matched but the method did not
  };
  match find(const std::string& method, const std::string& path) const;

  /// The largest body any route accepts (at least `floor`).
  std::size_t max_body_limit(std::size_t floor) const;

  /// Runs the matched handler, turning 404/405, problem_error and any other exception into
  /// a problem response. Never throws.
  void dispatch(const request& req, const match& m, respond_fn respond) const;

private:
  struct route {
    std::string method;
    std::vector<std::string> segments;
    std::string pattern;
    handler h;
    std::size_t body_limit;
  };
  std::vector<route> routes_;
};

}  // namespace splitvote::http
