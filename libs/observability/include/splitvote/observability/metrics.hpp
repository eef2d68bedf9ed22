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

}  // namespace splitvote::observability
