#include "splitvote/testing/answers.hpp"

#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/raw_connection.hpp"

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <cctype>

namespace splitvote::testing {

const char* const exact_lunch_poll =
    R"({"title":"Lunch","choices":["pizza","sushi","salad"],"privacy":{"decoys":{"distribution":"none"},)"
    R"("randomized_response":{"p":0},"release_noise":{"mechanism":"none"}}})";

std::string vote_body(const std::string& actor, const std::string& choice) {
  return R"({"actor_id":")" + actor + R"(","choice":")" + choice + R"("})";
}

void check_problem(const http_response& r, unsigned status, const std::string& type) {
  INFO(r.status << " " << r.body);
  CHECK(r.status == status);
  CHECK(r.header("content-type") == "application/problem+json");
  const auto body = r.json().as_object();
  CHECK(body.at("status").as_int64() == status);
  CHECK(!body.at("detail").as_string().empty());
  CHECK(body.at("type").as_string().starts_with("/problems/"));
  if (!type.empty()) CHECK(body.at("type").as_string() == type);
}

std::string problem_type(const http_response& r) {
  if (r.header("content-type") != "application/problem+json") return "(not a problem: " + r.body.substr(0, 80) + ")";
  return std::string(r.json().as_object().at("type").as_string());
}

bool settled(const boost::json::object& results, std::int64_t n) {
  const auto& part = results.at("participation").as_object();
  const auto& cons = results.at("consistency").as_object();
  return part.at("unique_actors").as_int64() == n && cons.at("ballotbox_envelopes").as_int64() == n &&
         cons.at("complete").as_bool();
}

void check_counts(const boost::json::object& results, std::int64_t pizza, std::int64_t sushi, std::int64_t salad) {
  INFO(boost::json::serialize(results));
  const auto& part = results.at("participation").as_object();
  CHECK(part.at("unique_actors").as_int64() == pizza + sushi + salad);
  CHECK(part.at("submissions").as_int64() == pizza + sushi + salad);
  CHECK(part.at("duplicates").as_int64() == 0);
  CHECK(estimate_of(results, "pizza") == pizza);
  CHECK(estimate_of(results, "sushi") == sushi);
  CHECK(estimate_of(results, "salad") == salad);
}

void check_connection_refused(unsigned short port, unsigned status, const std::string& type) {
  raw_connection extra(port);
  extra.send(livez_request);
  CHECK(extra.read_until_closed(std::chrono::seconds(5)));
  INFO(extra.received());
  CHECK(extra.received().starts_with("HTTP/1.1 " + std::to_string(status)));
  CHECK(extra.received().find(type) != std::string::npos);
  CHECK(extra.received().find("Retry-After: 1") != std::string::npos);
}

void check_security_headers(const std::map<std::string, std::string>& headers, bool tls) {
  const auto get = [&](const std::string& k) {
    const auto it = headers.find(k);
    return it == headers.end() ? std::string() : it->second;
  };
  CHECK(get("x-content-type-options") == "nosniff");
  CHECK(get("referrer-policy") == "no-referrer");
  CHECK(get("x-frame-options") == "DENY");
  CHECK(get("content-security-policy").find("frame-ancestors 'none'") != std::string::npos);
  CHECK(get("cache-control") == "no-store");
  CHECK(get("strict-transport-security").empty() == !tls);
}

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

}  // namespace splitvote::testing
