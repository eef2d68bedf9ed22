// The process's Prometheus registry and its text exposition for /metrics.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace splitvote::observability {

/// One registry per process.
prometheus::Registry& registry();

/// The registry in Prometheus text format.
std::string render_metrics();

/// Latency buckets in seconds, 0.5 ms to 10 s.
prometheus::Histogram::BucketBoundaries latency_buckets();

/// Families and unlabelled metrics registered in registry(): one line per metric where it is
/// declared. A name registered twice returns the same family (prometheus-cpp's rule).
prometheus::Family<prometheus::Counter>& counter_family(const std::string& name, const std::string& help);
prometheus::Family<prometheus::Gauge>& gauge_family(const std::string& name, const std::string& help);
prometheus::Family<prometheus::Histogram>& histogram_family(const std::string& name, const std::string& help);
prometheus::Counter& counter(const std::string& name, const std::string& help);
prometheus::Gauge& gauge(const std::string& name, const std::string& help);
/// An unlabelled histogram with latency_buckets().
prometheus::Histogram& latency_histogram(const std::string& name, const std::string& help);

}  // namespace splitvote::observability
