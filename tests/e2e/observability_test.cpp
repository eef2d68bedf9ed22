// End to end with the real binaries and a real Prometheus: every service's exposition passes
// `promtool check metrics`, and Prometheus scrapes the stack and answers a query with the votes cast.
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace splitvote::testing;
using svc = stack::service;

namespace {

/// The full path of a program on PATH (or in /usr/bin); empty when there is none.
std::string program(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/bin";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = std::filesystem::path(dir) / name;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

/// Runs `exe args...` to completion; returns its exit status and output.
std::pair<int, std::string> run(const std::string& exe, std::vector<std::string> args,
                                const std::filesystem::path& log) {
  child_process p(exe, std::move(args), {}, log);
  const auto status = p.wait(std::chrono::seconds(60));
  REQUIRE(status);
  return {*status, read_file(log)};
}

/// The value of an instant-vector query's single sample, or nullopt while there is none.
std::optional<double> query_value(unsigned short prometheus_port, const std::string& promql) {
  std::string encoded;
  for (unsigned char c : promql) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      encoded += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      encoded += buf;
    }
  }
  const auto r = http_client(prometheus_port, contract_record::no).get("/api/v1/query?query=" + encoded);
  if (r.status != 200) return std::nullopt;
  const auto body = boost::json::parse(r.body).as_object();
  if (body.at("status").as_string() != "success") return std::nullopt;
  const auto& result = body.at("data").as_object().at("result").as_array();
  if (result.size() != 1) return std::nullopt;
  return std::stod(std::string(result[0].as_object().at("value").as_array()[1].as_string()));
}

}  // namespace

TEST_CASE("promtool accepts every service's metrics and a real Prometheus scrapes the stack", "[e2e][observability]") {
  const auto promtool = program("promtool");
  const auto prometheus = program("prometheus");
  INFO("promtool and prometheus come with Debian's prometheus package: run script/bootstrap");
  REQUIRE(!promtool.empty());
  REQUIRE(!prometheus.empty());

  stack s("e2e-observability");
  const auto poll = start_with_poll(s, R"({"title":"Lunch","choices":["pizza","sushi"]})");
  std::vector<vote> votes;
  for (int i = 0; i < 40; ++i) votes.push_back({"observed-" + std::to_string(i), i % 4 ? "pizza" : "sushi"});
  REQUIRE(cast_votes(s.port(), poll.id, votes).accepted() == 40);
  await_results(s.port(), poll, [](const boost::json::object& r) {
    return r.at("consistency").as_object().at("complete").as_bool() &&
           r.at("participation").as_object().at("unique_actors").as_int64() == 40;
  });

  SECTION("promtool check metrics: the exposition of ingest, pollbook and ballotbox lints clean") {
    const std::vector<std::pair<std::string, unsigned short>> targets{
        {"ingest", s.port()}, {"pollbook", s.probe_port(svc::pollbook)}, {"ballotbox", s.probe_port(svc::ballotbox)}};
    for (const auto& [name, port] : targets) {
      const auto exposition = http_client(port).get("/metrics");
      REQUIRE(exposition.status == 200);
      REQUIRE(exposition.body.find("# TYPE splitvote_") != std::string::npos);
      const auto file = s.dir() / (name + ".metrics");
      std::ofstream(file) << exposition.body;
      // promtool reads the exposition on stdin and lints it; any finding is a non-zero exit.
      const auto [status, output] = run("/bin/sh", {"-c", "\"$0\" check metrics < \"$1\"", promtool, file.string()},
                                        s.dir() / (name + ".promtool.log"));
      INFO(name << ": " << output);
      CHECK(status == 0);
      CHECK(output.find("error") == std::string::npos);
    }
  }

  SECTION("Prometheus scrapes all three services and a query returns the votes cast") {
    const auto port = free_port();
    const auto config = s.dir() / "prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n"
                          << "  - job_name: ingest\n    static_configs: [{targets: ['127.0.0.1:" << s.port() << "']}]\n"
                          << "  - job_name: pollbook\n    static_configs: [{targets: ['127.0.0.1:"
                          << s.probe_port(svc::pollbook) << "']}]\n"
                          << "  - job_name: ballotbox\n    static_configs: [{targets: ['127.0.0.1:"
                          << s.probe_port(svc::ballotbox) << "']}]\n";
    child_process server(prometheus,
                         {"--config.file=" + config.string(), "--storage.tsdb.path=" + (s.dir() / "tsdb").string(),
                          "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
                         {}, s.dir() / "prometheus.log");
    REQUIRE(eventually(
        [&] {
          try {
            return http_client(port, contract_record::no).get("/-/ready").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        std::chrono::seconds(30)));

    INFO(read_file(s.dir() / "prometheus.log"));
    // Every target up.
    CHECK(eventually([&] { return query_value(port, "sum(up)") == 3.0; }, std::chrono::seconds(30)));
    // The votes route's 202s as ingest counted them, and the envelopes each consumer stored.
    CHECK(eventually(
        [&] {
          return query_value(
                     port, R"(sum(splitvote_http_requests_total{route="/v1/polls/{id}/votes",status="202"}))") == 40.0;
        },
        std::chrono::seconds(30)));
    CHECK(eventually(
        [&] { return query_value(port, R"(sum(splitvote_consumer_envelopes_total{job="pollbook"}))") == 40.0; },
        std::chrono::seconds(30)));
    CHECK(eventually(
        [&] { return query_value(port, R"(sum(splitvote_consumer_envelopes_total{job="ballotbox"}))") == 40.0; },
        std::chrono::seconds(30)));
    // A histogram is queryable as one: the vote route's p99 exists and is a latency.
    const auto p99 = query_value(
        port,
        R"(histogram_quantile(0.99, sum by (le) (splitvote_http_request_duration_seconds_bucket{route="/v1/polls/{id}/votes"})))");
    REQUIRE(p99);
    CHECK(*p99 > 0.0);
    CHECK(*p99 < 10.0);
    server.signal(15);
    CHECK(server.wait(std::chrono::seconds(30)) == 0);
  }
}
