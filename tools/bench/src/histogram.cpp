#include "splitvote/bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace splitvote::bench {

namespace {
constexpr unsigned sub_bucket_bits = 7;  // 128 sub-buckets
constexpr std::uint64_t half = std::uint64_t{1} << (sub_bucket_bits - 1);
}  // namespace

histogram::histogram(std::uint64_t highest) : highest_(highest), counts_(index_of(highest) + 1, 0) {}

std::size_t histogram::index_of(std::uint64_t value) {
  // Bucket b >= 1 holds [64 << b, 128 << b) in 64 steps of 1 << b; bucket 0 holds [0, 128).
  const int msb = value == 0 ? 0 : 63 - std::countl_zero(value);
  const unsigned b = msb < static_cast<int>(sub_bucket_bits) ? 0 : static_cast<unsigned>(msb) - (sub_bucket_bits - 1);
  return static_cast<std::size_t>(b * half + (value >> b));
}

std::uint64_t histogram::upper_edge(std::size_t index) {
  const std::uint64_t i = index;
  const std::uint64_t b = i < 2 * half ? 0 : i / half - 1;
  const std::uint64_t sub = i - b * half;
  return ((sub + 1) << b) - 1;
}

void histogram::record(std::uint64_t value) {
  value = std::min(value, highest_);
  ++counts_[index_of(value)];
  ++count_;
  sum_ += value;
  max_ = std::max(max_, value);
  min_ = std::min(min_, value);
}

void histogram::merge(const histogram& other) {
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (std::size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

std::uint64_t histogram::value_at(double q) const {
  if (count_ == 0) return 0;
  if (q >= 1.0) return max_;
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(upper_edge(i), max_);
  }
  return max_;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> histogram::buckets() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (std::size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i]) out.emplace_back(upper_edge(i), counts_[i]);
  return out;
}

}  // namespace splitvote::bench
