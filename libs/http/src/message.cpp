#include "splitvote/http/message.hpp"

#include "splitvote/observability/log.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>

namespace splitvote::http {

std::optional<std::string_view> request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return v;
  }
  return std::nullopt;
}

response json(unsigned status, const boost::json::value& body) {
  response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

response problem(unsigned status, std::string_view slug, std::string_view title, std::string_view detail) {
  response r =
      json(status,
           boost::json::object{
               {"type", "/problems/" + std::string(slug)}, {"title", title}, {"status", status}, {"detail", detail}});
  r.content_type = "application/problem+json";
  return r;
}

response to_response(const problem_error& e) {
  response r = problem(e.status, e.slug, e.title, e.detail);
  for (const auto& h : e.headers) r.headers.push_back(h);
  return r;
}

response answer_exception(std::exception_ptr failure, std::string_view request_id, std::string_view route) {
  try {
    std::rethrow_exception(failure);
  } catch (const problem_error& e) {
    return to_response(e);
  } catch (const std::exception& e) {
    observability::log_error("handler_failed", {{"request_id", request_id}, {"route", route}, {"error", e.what()}});
  } catch (...) {
    observability::log_error("handler_failed",
                             {{"request_id", request_id}, {"route", route}, {"error", "unknown exception"}});
  }
  return problem(500, "internal", "Internal error", "the request failed; see request id " + std::string(request_id));
}

}  // namespace splitvote::http
