#include "splitvote/observability/metrics.hpp"

#include <prometheus/text_serializer.h>

namespace splitvote::observability {

prometheus::Registry& registry() {
  static auto r = std::make_shared<prometheus::Registry>();
  return *r;
}

std::string render_metrics() { return prometheus::TextSerializer{}.Serialize(registry().Collect()); }

prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace splitvote::observability
