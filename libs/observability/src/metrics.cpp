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

prometheus::Family<prometheus::Counter>& counter_family(const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry());
}

prometheus::Family<prometheus::Gauge>& gauge_family(const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry());
}

prometheus::Family<prometheus::Histogram>& histogram_family(const std::string& name, const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry());
}

prometheus::Counter& counter(const std::string& name, const std::string& help) {
  return counter_family(name, help).Add({});
}

prometheus::Gauge& gauge(const std::string& name, const std::string& help) { return gauge_family(name, help).Add({}); }

prometheus::Histogram& latency_histogram(const std::string& name, const std::string& help) {
  return histogram_family(name, help).Add({}, latency_buckets());
}

}  // namespace splitvote::observability
