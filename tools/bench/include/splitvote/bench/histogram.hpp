// A log-linear latency histogram (HdrHistogram's bucket layout, hand-written): 128 linear
// sub-buckets per power of two, so every recorded value is kept within 1/64 (1.6 %).
#pragma once

#include <cstdint>
#include <vector>

namespace splitvote::bench {

class histogram {
public:
  /// Values are in microseconds; anything above `highest` (default about 18 minutes) is clamped.
  explicit histogram(std::uint64_t highest = std::uint64_t{1} << 30);

  void record(std::uint64_t value);
  void merge(const histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  /// The highest value equivalent to the recorded value at quantile q in [0, 1] (as HdrHistogram
  /// reports it: the upper edge of the bucket, never under-reporting); the exact max for q = 1.
  std::uint64_t value_at(double q) const;

  /// Non-empty buckets as (upper edge, count), for the JSON results.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets() const;

private:
  static std::size_t index_of(std::uint64_t value);
  static std::uint64_t upper_edge(std::size_t index);

  std::uint64_t highest_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = UINT64_MAX;
};

}  // namespace splitvote::bench
