#include "splitvote/ingest/views.hpp"

#include "splitvote/catalog/access.hpp"
#include "splitvote/ingest/requests.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <optional>
#include <sstream>
#include <string>

namespace splitvote::ingest {

namespace json = boost::json;

namespace {

json::object decoys_json(const privacy::decoy_spec& d) {
  json::object o{{"distribution", privacy::to_string(d.distribution)}};
  switch (d.distribution) {
    case privacy::decoy_distribution::none:
      break;
    case privacy::decoy_distribution::fixed:
      o["k"] = d.k;
      break;
    case privacy::decoy_distribution::uniform:
      o["min"] = d.min;
      o["max"] = d.max;
      break;
    case privacy::decoy_distribution::poisson:
      o["mean"] = d.mean;
      o["cap"] = d.cap;
      break;
  }
  o["expected_per_vote"] = d.expected_count();
  return o;
}

}  // namespace

json::object privacy_json(const privacy::policy& policy) {
  json::object noise{{"mechanism", privacy::to_string(policy.noise.mechanism)}};
  if (policy.noise.mechanism != privacy::noise_mechanism::none) {
    noise["epsilon"] = policy.noise.epsilon;
    if (policy.noise.mechanism == privacy::noise_mechanism::discrete_gaussian) noise["delta"] = policy.noise.delta;
    noise["budget"] = policy.budget;
    noise["cost_per_release"] = policy.release_cost();
  }
  return {{"decoys", decoys_json(policy.decoys)},
          {"randomized_response", json::object{{"p", policy.rr.p}}},
          {"release_noise", std::move(noise)}};
}

json::object poll_json(const catalog::poll& p) {
  json::array choices;
  for (const auto& c : p.choices) choices.emplace_back(c);
  json::object o{{"id", p.id},
                 {"title", p.title},
                 {"choices", std::move(choices)},
                 {"restricted", p.eligible_count > 0},
                 {"eligible", p.eligible_count},
                 {"privacy", privacy_json(p.privacy)},
                 {"voter_auth", json::object{{"mode", catalog::to_string(p.voter_auth)}}},
                 {"results_visibility", catalog::to_string(p.results_visibility)},
                 {"created_at", format_rfc3339(p.created_at)},
                 {"closed", p.is_closed(std::chrono::system_clock::now())}};
  o["closes_at"] = p.closes_at ? json::value(format_rfc3339(*p.closes_at)) : json::value(nullptr);
  o["closed_at"] = p.closed_at ? json::value(format_rfc3339(*p.closed_at)) : json::value(nullptr);
  return o;
}

json::object privacy_statement(const privacy::policy& policy, std::uint32_t m, const std::vector<double>& shares) {
  const double eps_rr = policy.rr.epsilon(m);
  const auto finite_or_null = [](double v) { return std::isfinite(v) ? json::value(v) : json::value(nullptr); };
  std::optional<double> at_shares;
  for (const double share : shares) at_shares = std::max(at_shares.value_or(0.0), policy.rr.posterior(share, m));
  json::object o{{"randomized_response_p", policy.rr.p},
                 {"epsilon_rr", finite_or_null(eps_rr)},
                 {"odds_ratio_bound", finite_or_null(policy.rr.odds_ratio_bound(m))},
                 {"worst_case_posterior", policy.rr.worst_case_posterior(m)},
                 {"posterior_at_released_shares", at_shares ? json::value(*at_shares) : json::value(nullptr)},
                 {"decoys", decoys_json(policy.decoys)},
                 {"release_mechanism", privacy::to_string(policy.noise.mechanism)}};
  if (policy.noise.mechanism != privacy::noise_mechanism::none) {
    o["release_epsilon_per_count"] = policy.noise.epsilon;
    o["release_cost"] = policy.release_cost();
    o["release_budget"] = policy.budget;
    if (policy.noise.mechanism == privacy::noise_mechanism::discrete_gaussian) o["release_delta"] = policy.noise.delta;
  }
  const auto percent = [](double v) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(1) << 100 * v << "%";
    return out.str();
  };
  if (policy.rr.p == 0) {
    o["summary"] = "Randomized response is off: a stored ballot linked to you would show your vote.";
  } else {
    std::ostringstream odds;
    odds << std::setprecision(3) << policy.rr.odds_ratio_bound(m);
    std::string text =
        "If one of your stored ballots were linked to you, it would multiply an attacker's odds on your vote by at "
        "most " +
        odds.str() + ": from even odds, at most " + percent(policy.rr.worst_case_posterior(m)) + " sure";
    if (at_shares && *at_shares >= 0.999)
      text += "; the shares released here already say how nearly everyone voted, and a link adds little to them";
    else if (at_shares)
      text += "; believing the shares released here, at most " + percent(*at_shares) + " sure";
    o["summary"] = text + ".";
  }
  return o;
}

}  // namespace splitvote::ingest
