#include "splitvote/privacy/decoys.hpp"

#include "splitvote/privacy/names.hpp"

#include <cmath>
#include <stdexcept>

namespace splitvote::privacy {

void decoy_spec::validate() const {
  switch (distribution) {
    case decoy_distribution::none:
      return;
    case decoy_distribution::fixed:
      if (k > max_decoys) throw std::invalid_argument("decoys.k must be at most 64");
      return;
    case decoy_distribution::uniform:
      if (min > max) throw std::invalid_argument("decoys.min must not exceed decoys.max");
      if (max > max_decoys) throw std::invalid_argument("decoys.max must be at most 64");
      return;
    case decoy_distribution::poisson:
      if (!(mean > 0) || mean > max_mean) throw std::invalid_argument("decoys.mean must be in (0, 32]");
      if (cap > max_decoys) throw std::invalid_argument("decoys.cap must be at most 64");
      return;
  }
  throw std::invalid_argument("unknown decoy distribution");
}

double decoy_spec::expected_count() const {
  double e = 0;
  for (std::uint32_t k = 0; k <= max_decoys; ++k) e += k * decoy_count_probability(*this, k);
  return e;
}

std::uint32_t decoy_spec::max_count() const {
  switch (distribution) {
    case decoy_distribution::none:
      return 0;
    case decoy_distribution::fixed:
      return k;
    case decoy_distribution::uniform:
      return max;
    case decoy_distribution::poisson:
      return cap;
  }
  return 0;
}

decoy_spec default_decoys() {
  decoy_spec s;
  s.distribution = decoy_distribution::poisson;
  s.mean = 2;
  s.cap = 8;
  return s;
}

namespace {

constexpr name_table<decoy_distribution, 4> decoy_names{{{decoy_distribution::none, "none"},
                                                         {decoy_distribution::fixed, "fixed"},
                                                         {decoy_distribution::uniform, "uniform"},
                                                         {decoy_distribution::poisson, "poisson"}}};

}  // namespace

std::string to_string(decoy_distribution d) { return std::string(name_of(decoy_names, d)); }

decoy_distribution parse_decoy_distribution(const std::string& name) {
  return parse_named(decoy_names, name, "decoys.distribution");
}

namespace {
double poisson_pmf(double mean, std::uint32_t k) { return std::exp(k * std::log(mean) - mean - std::lgamma(k + 1.0)); }
}  // namespace

std::uint32_t draw_decoy_count(const decoy_spec& spec, random::random_source& rng) {
  switch (spec.distribution) {
    case decoy_distribution::none:
      return 0;
    case decoy_distribution::fixed:
      return spec.k;
    case decoy_distribution::uniform:
      return spec.min + static_cast<std::uint32_t>(rng.uniform(spec.max - spec.min + 1ull));
    case decoy_distribution::poisson: {
      // Inversion over the pmf; the tail beyond the cap is folded onto the cap.
      const double u = rng.unit();
      double cumulative = 0;
      for (std::uint32_t k = 0; k < spec.cap; ++k) {
        cumulative += poisson_pmf(spec.mean, k);
        if (u < cumulative) return k;
      }
      return spec.cap;
    }
  }
  throw std::logic_error("unknown decoy distribution");
}

double decoy_count_probability(const decoy_spec& spec, std::uint32_t k) {
  switch (spec.distribution) {
    case decoy_distribution::none:
      return k == 0 ? 1.0 : 0.0;
    case decoy_distribution::fixed:
      return k == spec.k ? 1.0 : 0.0;
    case decoy_distribution::uniform:
      return (k >= spec.min && k <= spec.max) ? 1.0 / (spec.max - spec.min + 1.0) : 0.0;
    case decoy_distribution::poisson: {
      if (k > spec.cap) return 0;
      if (k < spec.cap) return poisson_pmf(spec.mean, k);
      double below = 0;
      for (std::uint32_t j = 0; j < spec.cap; ++j) below += poisson_pmf(spec.mean, j);
      return std::max(0.0, 1.0 - below);
    }
  }
  return 0;
}

}  // namespace splitvote::privacy
