#include "splitvote/ingest/results.hpp"

#include "splitvote/ingest/requests.hpp"
#include "splitvote/ingest/views.hpp"
#include "splitvote/observability/log.hpp"
#include "splitvote/privacy/actor_key.hpp"
#include "splitvote/privacy/estimate.hpp"
#include "splitvote/privacy/release_rule.hpp"
#include "splitvote/random/random_source.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace splitvote::ingest {

namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

struct results_reader::released_counts {
  privacy::totals totals;  // N and n of the tally released
  std::vector<std::int64_t> released;
  std::optional<catalog::release> release;
  privacy::release_call next;  // what the rule says of the next release
  bool stale = false;          // the tally moved on since this release
  bool pending = false;        // no release yet (the stores have not agreed on a tally, or the only one is the close's)

  json::value describe() const {
    if (!release) return nullptr;
    return json::object{
        {"seq", release->seq},
        {"released_at", format_rfc3339(release->released_at)},
        {"epsilon_spent", release->epsilon_spent},
        {"budget_exhausted", next.budget_exhausted},
        {"kept_for_close", next.kept_for_close},
        {"next_release_not_before",
         next.next_not_before ? json::value(format_rfc3339(*next.next_not_before)) : json::value(nullptr)},
        {"counts_changed_since", stale}};
  }
};

namespace {

/// A keyed digest of a poll's tally (n and every C_j): tells whether the tally changed since
/// a release without keeping the exact counts where a pollbook thief can read them.
std::string tally_digest(const std::string& key, const std::string& poll_id, const privacy::tally& t) {
  std::string text = std::to_string(t.envelopes);
  for (const auto c : t.ballots_per_choice) text += "," + std::to_string(c);
  const auto d = privacy::keyed_token_hash(key, "tally/" + poll_id, text);
  return random::to_hex(d);
}

}  // namespace

results_reader::results_reader(results_options options, catalog_store& catalog, store_reader& stores,
                               envelope_sink& sink)
    : options_(std::move(options)), catalog_(catalog), stores_(stores), sink_(sink) {}

json::object results_reader::read(const catalog::poll& p) {
  const pollbook::participation part = stores_.participation(p.id);
  const privacy::tally t = stores_.tally(p.id, p.choices.size());
  // Lag: what the topic holds beyond the positions each store last committed to Kafka (every
  // kafka.commit_interval_ms; the envelopes mixing holds back count as not stored).
  json::object consistency{{"pollbook_submissions", part.submissions},
                           {"ballotbox_envelopes", t.envelopes},
                           {"stores_agree", part.submissions == t.envelopes}};
  if (const auto at = positions(); !at.highs.empty()) {
    std::int64_t pollbook_lag = 0, ballotbox_lag = 0;
    for (int i = 0; i < static_cast<int>(at.highs.size()); ++i) {
      const auto committed = [i](const std::map<int, std::int64_t>& m) {
        const auto it = m.find(i);
        return it == m.end() ? std::int64_t{0} : it->second;
      };
      pollbook_lag += std::max<std::int64_t>(0, at.highs[i] - committed(at.pollbook));
      ballotbox_lag += std::max<std::int64_t>(0, at.highs[i] - committed(at.ballotbox));
    }
    consistency["pollbook_lag"] = pollbook_lag;
    consistency["ballotbox_lag"] = ballotbox_lag;
    consistency["complete"] = pollbook_lag == 0 && ballotbox_lag == 0 && part.submissions == t.envelopes;
  } else {
    consistency["pollbook_lag"] = nullptr;
    consistency["ballotbox_lag"] = nullptr;
    consistency["complete"] = false;
  }
  // A release needs the two stores to agree on this poll, not an empty topic: with mixing
  // by count some other poll's votes are nearly always waiting for their crowd.
  const released_counts rel = release_for(p, t, part.submissions == t.envelopes);
  const auto est = privacy::estimate(rel.totals, rel.released, privacy::mechanism{p.privacy.rr.p, p.privacy.noise});

  json::array choices;
  for (std::size_t j = 0; j < p.choices.size(); ++j) {
    const auto& c = est.choices[j];
    if (rel.pending) {
      choices.push_back(json::object{{"choice", p.choices[j]},
                                     {"released_count", nullptr},
                                     {"estimate", nullptr},
                                     {"std_error", nullptr},
                                     {"ci95", nullptr},
                                     {"share", nullptr}});
      continue;
    }
    choices.push_back(json::object{{"choice", p.choices[j]},
                                   {"released_count", rel.released[j]},
                                   {"estimate", c.estimate},
                                   {"std_error", c.std_error},
                                   {"ci95", json::array{c.ci_low, c.ci_high}},
                                   {"share", c.share}});
  }
  json::object body{{"poll_id", p.id},
                    {"as_of", format_rfc3339(std::chrono::system_clock::now())},
                    {"closed", p.is_closed(std::chrono::system_clock::now())},
                    {"participation", json::object{{"eligible", p.eligible_count > 0 ? json::value(p.eligible_count)
                                                                                     : json::value(nullptr)},
                                                   {"unique_actors", part.unique_actors},
                                                   {"submissions", part.submissions},
                                                   {"duplicates", part.duplicates()}}},
                    {"choices", std::move(choices)},
                    {"mechanism",
                     [&] {
                       json::object mech = privacy_json(p.privacy);
                       mech["envelopes"] = rel.totals.envelopes;
                       mech["ballots"] = est.ballots;
                       mech["decoy_ballots"] = est.decoys;
                       return mech;
                     }()},
                    {"release", rel.describe()},
                    {"privacy_statement", privacy_statement(p.privacy, static_cast<std::uint32_t>(p.choices.size()),
                                                            [&] {
                                                              std::vector<double> shares;
                                                              if (!rel.pending)
                                                                for (const auto& c : est.choices)
                                                                  shares.push_back(c.share);
                                                              return shares;
                                                            }())},
                    {"consistency", std::move(consistency)}};
  return body;
}

envelope_sink::positions results_reader::positions() {
  {
    std::lock_guard lock(positions_mutex_);
    if (clock_type::now() - positions_at_ < std::chrono::seconds(1)) return positions_;
  }
  std::unique_lock reading(positions_read_mutex_, std::try_to_lock);
  if (!reading) {
    std::lock_guard lock(positions_mutex_);
    return positions_;
  }
  auto fresh = sink_.read_positions(true, options_.kafka_read_budget);
  std::lock_guard lock(positions_mutex_);
  positions_ = fresh;
  positions_at_ = clock_type::now();
  return fresh;
}

results_reader::released_counts results_reader::release_for(const catalog::poll& p, const privacy::tally& t,
                                                            bool consistent) {
  released_counts out{privacy::totals_of(t), t.ballots_per_choice, std::nullopt, {}};
  if (p.privacy.noise.mechanism == privacy::noise_mechanism::none) return out;
  const std::string digest = tally_digest(options_.token_key, p.id, t);
  const privacy::release_pacing pacing{p.privacy.release_cost(), p.privacy.budget, options_.release_interval,
                                       options_.final_release_after};
  const auto now = std::chrono::system_clock::now();
  std::optional<catalog::time_point> closed_at = p.closed_at;
  if (!closed_at && p.closes_at && *p.closes_at <= now) closed_at = p.closes_at;
  for (;;) {
    const auto latest = catalog_.latest_release(p.id);
    const privacy::release_history history{latest ? latest->seq : 0, latest ? latest->epsilon_spent : 0,
                                           latest ? std::optional(latest->released_at) : std::nullopt};
    const bool changed = !latest || latest->tally_digest != digest;
    // Nothing stored yet (mixing holds a quiet poll's first votes for their crowd): no release
    // is spent on an empty tally.
    const bool agreed = consistent && t.envelopes > 0;
    const auto call = privacy::decide_release(pacing, history, {changed, agreed, closed_at, now});
    if (!call.draw) {
      if (!latest) return released_counts{out.totals, out.released, std::nullopt, call, false, true};
      return released_counts{{latest->ballots, latest->envelopes}, latest->released, latest, call, changed, false};
    }
    catalog::release next;
    next.seq = history.releases + 1;
    next.envelopes = t.envelopes;
    next.ballots = out.totals.ballots;
    next.tally_digest = digest;
    next.released = t.ballots_per_choice;
    for (auto& count : next.released) count += p.privacy.noise.sample(random::thread_source());  // drawn once, stored
    next.epsilon_spent = history.spent + p.privacy.release_cost();
    next.released_at = now;
    if (catalog_.record_release(p.id, next)) {
      observability::log_info("release", {{"poll_id", p.id}, {"seq", next.seq}, {"epsilon_spent", next.epsilon_spent}});
      const auto after = privacy::decide_release(pacing, {next.seq, next.epsilon_spent, next.released_at},
                                                 {false, agreed, closed_at, now});
      return released_counts{out.totals, next.released, next, after, false, false};
    }
    // Another reader stored this seq first: use theirs.
  }
}

}  // namespace splitvote::ingest
