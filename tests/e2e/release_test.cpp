// End to end with the privacy defaults: noisy releases drawn once, reused, and limited by a budget.
#include "splitvote/pg/pool.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/process.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

using namespace splitvote::testing;
using svc = stack::service;

namespace {

std::vector<std::int64_t> released_counts(const boost::json::object& r) {
  std::vector<std::int64_t> out;
  for (const auto& c : r.at("choices").as_array()) out.push_back(c.at("released_count").as_int64());
  return out;
}

const boost::json::object& release_of(const boost::json::object& r) { return r.at("release").as_object(); }

std::vector<vote> voters(const std::string& prefix, int n) {
  std::vector<vote> v;
  for (int i = 0; i < n; ++i) v.push_back({prefix + std::to_string(i), i % 3 == 0 ? "yes" : "no"});
  return v;
}

bool stored(const boost::json::object& r, std::int64_t n) {
  return r.at("consistency").as_object().at("ballotbox_envelopes").as_int64() == n &&
         r.at("consistency").as_object().at("complete").as_bool();
}

/// Reads the results once both stores hold `n` of the poll's votes, waiting on the databases
/// themselves: a read of the results while the two stores agree on fewer (mixing writes
/// votes in crowds) would already be a release.
boost::json::object results_once_stored(const stack& s, const created_poll& poll, std::int64_t n) {
  auto pollbook = splitvote::pg::connect(s.main_dsn());
  auto ballotbox = splitvote::pg::connect(s.ballot_dsn());
  const auto count = [&](pqxx::connection& c, const std::string& sql) {
    pqxx::read_transaction tx(c);
    return tx.exec_params(sql, poll.id)[0][0].as<std::int64_t>();
  };
  REQUIRE(eventually(
      [&] {
        return count(*pollbook, "SELECT count(*) FROM pollbook.submissions WHERE poll_id = $1::uuid") == n &&
               count(*ballotbox,
                     "SELECT coalesce(sum(envelopes), 0) FROM ballotbox.envelope_counts WHERE poll_id = $1::uuid") == n;
      },
      std::chrono::seconds(30)));
  return await_results(s.port(), poll, [n](const auto& r) { return stored(r, n); });
}

}  // namespace

TEST_CASE("with the privacy defaults a release is drawn once, reused, and bounded by the budget", "[e2e][release]") {
  stack s("e2e-release");
  s.start_all();
  // Defaults (decoys, randomized response, Laplace noise) with a budget of two releases.
  const auto poll = create_poll(s.port(), R"({"title":"Defaults","choices":["yes","no"],
      "privacy":{"release_noise":{"mechanism":"discrete_laplace","epsilon":1,"budget":4}}})");
  REQUIRE(cast_votes(s.port(), poll.id, voters("a-", 300)).accepted() == 300);
  const auto first = results_once_stored(s, poll, 300);
  INFO(boost::json::serialize(first));
  REQUIRE(stored(first, 300));
  CHECK(release_of(first).at("seq").as_int64() == 1);
  CHECK(release_of(first).at("epsilon_spent").to_number<double>() == Approx(2));
  const auto& statement = first.at("privacy_statement").as_object();
  CHECK(statement.at("worst_case_posterior").to_number<double>() == Approx(1 - 0.1 + 0.1 / 2));
  CHECK(statement.at("odds_ratio_bound").to_number<double>() == Approx(19));
  // A third voted "yes", two thirds "no" (voters()): believing the released shares, a linked
  // ballot says more than at even odds, and the statement says so.
  const double at_shares = statement.at("posterior_at_released_shares").to_number<double>();
  CHECK(at_shares > 0.95);
  CHECK(at_shares <= 1);
  CHECK(statement.at("summary").as_string().find("at most 19") != boost::json::string::npos);
  CHECK(statement.at("release_mechanism").as_string() == "discrete_laplace");

  // Reading again does not draw new noise: the same release, the same counts.
  http_client c(s.port());
  for (int i = 0; i < 5; ++i) {
    const auto again = c.get("/v1/polls/" + poll.id + "/results", {{"Authorization", "Bearer " + poll.admin_token}})
                           .json()
                           .as_object();
    CHECK(release_of(again).at("seq").as_int64() == 1);
    CHECK(released_counts(again) == released_counts(first));
  }
  // The estimate is honest: its interval holds the truth (100 yes, 200 no).
  for (const auto& ch : first.at("choices").as_array()) {
    const double truth = ch.at("choice").as_string() == "yes" ? 100 : 200;
    const auto& ci = ch.at("ci95").as_array();
    CHECK(ci[0].to_number<double>() - 3 * ch.at("std_error").to_number<double>() <= truth);
    CHECK(ci[1].to_number<double>() + 3 * ch.at("std_error").to_number<double>() >= truth);
  }

  CHECK(release_of(first).at("kept_for_close").as_bool());  // the rest of the budget is the close's
  CHECK_FALSE(release_of(first).at("budget_exhausted").as_bool());

  // New votes while open: no second release, however often the page is read; the results stay
  // as released and say so.
  REQUIRE(cast_votes(s.port(), poll.id, voters("b-", 30)).accepted() == 30);
  const auto second = await_results(s.port(), poll, [](const auto& r) {
    return r.at("participation").as_object().at("unique_actors").as_int64() == 330 &&
           r.at("consistency").as_object().at("ballotbox_envelopes").as_int64() == 330 &&
           r.at("release").as_object().at("counts_changed_since").as_bool();
  });
  CHECK(release_of(second).at("seq").as_int64() == 1);
  CHECK(released_counts(second) == released_counts(first));
  CHECK(release_of(second).at("next_release_not_before").is_null());

  // The close draws the release that was kept (the tests' final_release_after_ms is 0): the
  // final tally is published with the whole budget.
  REQUIRE(c.request("POST", "/v1/polls/" + poll.id + "/close", "", {{"Authorization", "Bearer " + poll.admin_token}})
              .status == 200);
  const auto final_results = results_once_stored(s, poll, 330);
  INFO(boost::json::serialize(final_results));
  CHECK(release_of(final_results).at("seq").as_int64() == 2);
  CHECK(release_of(final_results).at("epsilon_spent").to_number<double>() == Approx(4));
  CHECK(release_of(final_results).at("budget_exhausted").as_bool());
  CHECK_FALSE(release_of(final_results).at("counts_changed_since").as_bool());
  // Reading again spends nothing more.
  const auto again =
      c.get("/v1/polls/" + poll.id + "/results", {{"Authorization", "Bearer " + poll.admin_token}}).json().as_object();
  CHECK(release_of(again).at("seq").as_int64() == 2);
  CHECK(released_counts(again) == released_counts(final_results));
}
