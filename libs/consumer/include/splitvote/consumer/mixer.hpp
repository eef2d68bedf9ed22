// Mixing by count: a store holds each poll's envelopes until a randomized number of real ones wait.
#pragma once

#include "splitvote/random/random_source.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace splitvote::consumer {

/// A message as the mixer sees it: where it sits on the topic and whom it concerns. The
/// payload is the caller's (`T`): the mixer only decides when it may be written.
struct mix_key {
  int partition = 0;
  std::int64_t offset = 0;
  std::string poll_id;  // empty: a message that did not decode (nothing to hide, due at once)
  bool real = false;    // a vote; cover envelopes ride along but do not count
};

struct mix_settings {
  /// A poll's envelopes are due once `k` real ones wait, k drawn uniformly in
  /// [min_real, max_real] afresh for each batch of each poll (min_real = max_real = 1:
  /// mixing off, every vote due on arrival).
  std::size_t min_real = 5;
  std::size_t max_real = 15;
  /// ... or once the oldest of them has waited a time drawn uniformly in
  /// [max_wait / 2, max_wait] (so a quiet poll is still stored, and two stores holding the
  /// same envelopes do not time out together).
  std::chrono::milliseconds max_wait{300000};
  /// When a poll is due by count, each of its envelopes stays for the next batch with this
  /// probability (a pool mix on top of the threshold), though at least min_real of its votes
  /// are written. Both stores receive the topic in one order: without it their batches are
  /// runs of that order, and a thief who lines up the pollbook's crowd with the ballotbox's
  /// rows at the same ranks has that crowd's ballots. Kept envelopes still leave by max_wait,
  /// timed from the oldest. 0: every waiting envelope is written.
  double retain = 0.5;
};

template <typename T>
class mixer {
public:
  using clock = std::chrono::steady_clock;

  mixer(mix_settings s, random::random_source& rng) : settings_(s), rng_(rng) {
    if (settings_.min_real < 1 || settings_.max_real < settings_.min_real)
      throw std::invalid_argument("mixing: need 1 <= min_real <= max_real");
    if (!(settings_.retain >= 0 && settings_.retain < 1)) throw std::invalid_argument("mixing: need 0 <= retain < 1");
  }

  /// Holds `item`; returns whether its poll is now due by count (take_due finds it).
  bool add(const mix_key& key, T item, clock::time_point now) {
    ++held_;
    auto [it, fresh] = groups_.try_emplace(key.poll_id);
    group& g = it->second;
    if (fresh) {
      g.first = now;
      // Mixing off (k = 1), or nothing to hide: due at once, covers included.
      g.need = key.poll_id.empty() || settings_.max_real == 1 ? 0 : draw_need();
      g.wait = draw_wait();
    }
    g.real += key.real;
    g.offsets.emplace(key.partition, key.offset);
    g.items.push_back({key, std::move(item), now});
    return g.need == 0 || g.real >= g.need;
  }

  /// Takes out what is due: a group that waited long enough, or one without a crowd to
  /// wait for (mixing off, undecodable), leaves whole; a group with enough real envelopes
  /// leaves but for the ones `retain` keeps back (see mix_settings). Groups of covers alone
  /// wait for a vote or their time.
  /// `mark_short(item, missing)` is called on one vote of each group that leaves by its wait
  /// with fewer than min_real votes (a crowd that did not form), `missing` votes short.
  std::vector<T> take_due(clock::time_point now, const std::function<void(T&, std::size_t)>& mark_short = {}) {
    std::vector<T> out;
    for (auto it = groups_.begin(); it != groups_.end();) {
      group& g = it->second;
      const bool whole = g.need == 0 || now - g.first >= g.wait;
      if (g.items.empty() || !(whole || g.real >= g.need)) {
        ++it;
        continue;
      }
      if (whole || settings_.retain == 0) {
        if (g.need != 0 && g.real < settings_.min_real && g.real > 0 && mark_short) {
          const auto vote = std::find_if(g.items.begin(), g.items.end(), [](const entry& e) { return e.key.real; });
          mark_short(vote->item, settings_.min_real - g.real);
        }
        for (auto& e : g.items) out.push_back(std::move(e.item));
        held_ -= g.items.size();
        it = groups_.erase(it);
        continue;
      }
      write_part(g, out);
      it = g.items.empty() ? groups_.erase(it) : std::next(it);
    }
    return out;
  }

  /// Forgets everything held (partitions revoked, or positions reloaded after a fence):
  /// the next owner re-reads it from the stored position.
  void clear() {
    groups_.clear();
    held_ = 0;
  }

  /// The offsets still held in `partition`: the stored position keeps them unwritten.
  std::vector<std::int64_t> held_offsets(int partition) const {
    std::vector<std::int64_t> out;
    for (const auto& [poll, g] : groups_)
      for (auto it = g.offsets.lower_bound({partition, std::numeric_limits<std::int64_t>::min()});
           it != g.offsets.end() && it->first == partition; ++it)
        out.push_back(it->second);
    return out;
  }

  std::size_t held() const { return held_; }
  std::size_t polls() const { return groups_.size(); }

private:
  struct entry {
    mix_key key;
    T item;
    clock::time_point arrived;
  };
  struct group {
    std::vector<entry> items;
    std::set<std::pair<int, std::int64_t>> offsets;  // (partition, offset) of each item
    std::size_t real = 0;
    std::size_t need = 0;  // real envelopes that make the group due (0: due at once)
    clock::duration wait{};
    clock::time_point first{};
  };

  /// Writes a due group but for what the coin keeps back: each envelope stays with
  /// probability `retain`, then kept votes are drawn out again until min_real are written.
  /// What stays needs a fresh k of new votes, and times out from the oldest of it.
  void write_part(group& g, std::vector<T>& out) {
    std::vector<bool> keep(g.items.size());
    std::vector<std::size_t> kept_votes;
    std::size_t written_votes = 0;
    for (std::size_t i = 0; i < g.items.size(); ++i) {
      keep[i] = coin_keeps();
      if (!g.items[i].key.real) continue;
      if (keep[i])
        kept_votes.push_back(i);
      else
        ++written_votes;
    }
    while (written_votes < settings_.min_real && !kept_votes.empty()) {
      const auto pick = static_cast<std::size_t>(rng_.uniform(kept_votes.size()));
      keep[kept_votes[pick]] = false;
      kept_votes[pick] = kept_votes.back();
      kept_votes.pop_back();
      ++written_votes;
    }
    std::vector<entry> stay;
    for (std::size_t i = 0; i < g.items.size(); ++i) {
      auto& e = g.items[i];
      if (keep[i]) {
        stay.push_back(std::move(e));
        continue;
      }
      g.offsets.erase({e.key.partition, e.key.offset});
      out.push_back(std::move(e.item));
      --held_;
    }
    g.items = std::move(stay);
    g.real = kept_votes.size();
    g.need = g.real + draw_need();
    g.wait = draw_wait();
    if (!g.items.empty())
      g.first = std::min_element(g.items.begin(), g.items.end(), [](const entry& a, const entry& b) {
                  return a.arrived < b.arrived;
                })->arrived;
  }

  bool coin_keeps() {
    constexpr std::uint64_t scale = std::uint64_t{1} << 32;
    return static_cast<double>(rng_.uniform(scale)) < settings_.retain * static_cast<double>(scale);
  }

  std::size_t draw_need() {
    return settings_.min_real + static_cast<std::size_t>(rng_.uniform(settings_.max_real - settings_.min_real + 1));
  }
  clock::duration draw_wait() {
    const auto half = settings_.max_wait / 2;
    const auto spread = static_cast<std::uint64_t>((settings_.max_wait - half).count()) + 1;
    return half + std::chrono::milliseconds(static_cast<std::int64_t>(rng_.uniform(spread)));
  }

  mix_settings settings_;
  random::random_source& rng_;
  std::map<std::string, group> groups_;
  std::size_t held_ = 0;
};

}  // namespace splitvote::consumer
