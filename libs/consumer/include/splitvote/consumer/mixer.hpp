// Mixing by count: a store holds each poll's envelopes until a randomized number of real ones wait.
#pragma once

#include "splitvote/random/random_source.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <limits>
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
};

template <typename T>
class mixer {
public:
  using clock = std::chrono::steady_clock;

  mixer(mix_settings s, random::random_source& rng) : settings_(s), rng_(rng) {
    if (settings_.min_real < 1 || settings_.max_real < settings_.min_real)
      throw std::invalid_argument("mixing: need 1 <= min_real <= max_real");
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
    g.items.push_back({key, std::move(item)});
    return g.need == 0 || g.real >= g.need;
  }

  /// Takes out every group that is due: enough real envelopes, or waited long enough.
  /// Groups of covers alone wait for a vote or their time; undecodable messages are due
  /// at once.
  std::vector<T> take_due(clock::time_point now) {
    std::vector<T> out;
    for (auto it = groups_.begin(); it != groups_.end();) {
      group& g = it->second;
      const bool due = !g.items.empty() &&
                       ((g.need == 0) || (g.real >= g.need) || (now - g.first >= g.wait));
      if (!due) {
        ++it;
        continue;
      }
      for (auto& e : g.items) out.push_back(std::move(e.item));
      held_ -= g.items.size();
      it = groups_.erase(it);
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
  };
  struct group {
    std::vector<entry> items;
    std::set<std::pair<int, std::int64_t>> offsets;  // (partition, offset) of each item
    std::size_t real = 0;
    std::size_t need = 0;  // real envelopes that make the group due (0: due at once)
    clock::duration wait{};
    clock::time_point first{};
  };

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
