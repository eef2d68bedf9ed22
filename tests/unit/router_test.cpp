#include "splitvote/http/router.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

using namespace splitvote::http;

namespace {
response run(const router& r, const std::string& method, const std::string& path) {
  request req;
  req.method = method;
  req.path = path;
  req.request_id = "test";
  response out;
  r.dispatch(req, r.find(method, path), [&](response res) { out = std::move(res); });
  return out;
}
}  // namespace

TEST_CASE("routes match patterns and errors become problems", "[unit]") {
  router r;
  r.add("GET", "/v1/polls/{id}", [](const request&, const params& p, respond_fn f) { f(json(200, {{"id", p[0]}})); });
  r.add("POST", "/v1/polls/{id}/votes", [](const request&, const params&, respond_fn) {
    throw problem_error(422, "unknown-choice", "Unknown choice", "no such choice");
  });
  r.add("GET", "/boom", [](const request&, const params&, respond_fn) { throw std::runtime_error("secret detail"); });

  CHECK(run(r, "GET", "/v1/polls/abc").body == R"({"id":"abc"})");

  const auto unprocessable = run(r, "POST", "/v1/polls/abc/votes");
  CHECK(unprocessable.status == 422);
  CHECK(unprocessable.content_type == "application/problem+json");
  const auto body = boost::json::parse(unprocessable.body).as_object();
  CHECK(body.at("type").as_string() == "/problems/unknown-choice");
  CHECK(body.at("status").as_int64() == 422);

  CHECK(run(r, "GET", "/nothing/here").status == 404);
  const auto wrong_method = run(r, "DELETE", "/v1/polls/abc");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.headers.at(0).first == "Allow");

  const auto failed = run(r, "GET", "/boom");
  CHECK(failed.status == 500);
  CHECK(failed.body.find("secret detail") == std::string::npos);  // internals never leak
}
