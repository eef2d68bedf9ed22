#include "splitvote/testing/polls.hpp"

#include "splitvote/testing/process.hpp"
#include "splitvote/testing/stack.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <thread>

namespace splitvote::testing {

created_poll create_poll(unsigned short port, const std::string& body) {
  http_client c(port);
  const auto r = c.post("/v1/polls", body);
  INFO(r.body);
  REQUIRE(r.status == 201);
  const auto o = r.json().as_object();
  created_poll p{std::string(o.at("id").as_string()), std::string(o.at("admin_token").as_string()), {}};
  CHECK(r.header("location") == "/v1/polls/" + p.id);
  if (const auto* tokens = o.if_contains("voter_tokens"))
    for (const auto& t : tokens->as_array())
      p.voter_tokens[std::string(t.at("actor_id").as_string())] = std::string(t.at("token").as_string());
  return p;
}

created_poll start_with_poll(stack& s, const std::string& body) {
  s.start_all();
  return create_poll(s.port(), body);
}

int cast_result::accepted() const {
  int n = 0;
  for (auto s : statuses) n += s == 202;
  return n;
}

std::string cast_result::others() const {
  std::map<unsigned, int> count;
  for (auto s : statuses)
    if (s != 202) ++count[s];
  std::string out;
  for (const auto& [status, n] : count)
    out += (out.empty() ? "" : ", ") + std::to_string(status) + " x" + std::to_string(n);
  return out.empty() ? "none" : out;
}

cast_result cast_votes(unsigned short port, const std::string& poll_id, const std::vector<vote>& votes, int connections,
                       const std::function<void(int)>& on_progress) {
  cast_result result;
  result.statuses.assign(votes.size(), 0);
  std::atomic<std::size_t> next{0};
  std::atomic<int> done{0};
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t)
    threads.emplace_back([&] {
      http_client c(port);
      for (std::size_t i = next++; i < votes.size(); i = next++) {
        const std::string body = R"({"actor_id":")" + votes[i].actor + R"(","choice":")" + votes[i].choice + R"("})";
        try {
          result.statuses[i] = c.post("/v1/polls/" + poll_id + "/votes", body).status;
        } catch (const std::exception&) {
          result.statuses[i] = 0;  // connection failed: no answer
        }
        const int d = ++done;
        if (on_progress) on_progress(d);
      }
    });
  for (auto& t : threads) t.join();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

cast_result cast_votes_fresh(unsigned short port, const std::string& poll_id, const std::vector<vote>& votes,
                             int threads, contract_record record) {
  cast_result result;
  result.statuses.assign(votes.size(), 0);
  std::atomic<std::size_t> next{0};
  const auto started = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> clients;
    for (int t = 0; t < threads; ++t)
      clients.emplace_back([&] {
        for (std::size_t i = next++; i < votes.size(); i = next++) {
          const std::string body = R"({"actor_id":")" + votes[i].actor + R"(","choice":")" + votes[i].choice + R"("})";
          try {
            result.statuses[i] = http_client(port, record)
                                     .request("POST", "/v1/polls/" + poll_id + "/votes", body,
                                              {{"Content-Type", "application/json"}, {"Connection", "close"}})
                                     .status;
          } catch (const std::exception&) {
            result.statuses[i] = 0;  // connection failed: no answer
          }
        }
      });
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

boost::json::object await_results(unsigned short port, const created_poll& poll,
                                  const std::function<bool(const boost::json::object&)>& done,
                                  std::chrono::seconds timeout) {
  http_client c(port);
  boost::json::object last;
  eventually(
      [&] {
        const auto r = c.get("/v1/polls/" + poll.id + "/results", {{"Authorization", "Bearer " + poll.admin_token}});
        if (r.status != 200) return false;
        last = r.json().as_object();
        return done(last);
      },
      timeout);
  return last;
}

double estimate_of(const boost::json::object& results, const std::string& choice) {
  for (const auto& c : results.at("choices").as_array())
    if (c.at("choice").as_string() == choice) return c.at("estimate").to_number<double>();
  FAIL("no choice " << choice << " in results");
  return 0;
}

}  // namespace splitvote::testing
