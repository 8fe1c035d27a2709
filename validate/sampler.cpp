#include "validate/sampler.hpp"

#include <algorithm>
#include <cmath>

#include "schema/error.hpp"

namespace supra::validate {

namespace {

// Scales the kept probabilities to sum to 1 (a filter dropped some).
void renormalize(std::vector<std::pair<uint32_t, double>>& kept) {
  double total = 0;
  for (const auto& [id, p] : kept) total += p;
  for (auto& [id, p] : kept) p /= total;
}

}  // namespace

std::vector<std::pair<uint32_t, double>> sampling_support(std::span<const double> logits, const SamplingOptions& o) {
  std::vector<std::pair<uint32_t, double>> kept;
  kept.reserve(logits.size());
  double top = -INFINITY;
  for (const double z : logits)
    if (z > top) top = z;
  for (size_t i = 0; i < logits.size(); ++i)
    if (std::isfinite(logits[i])) kept.emplace_back(uint32_t(i), std::exp((logits[i] - top) / o.temperature));
  if (kept.empty()) throw Error(ErrorKind::Internal, "sample.logits", {}, "every logit is -inf or NaN: nothing to sample");
  std::stable_sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  renormalize(kept);
  if (o.top_k > 0 && kept.size() > o.top_k) {
    kept.resize(o.top_k);
    renormalize(kept);
  }
  if (o.top_p < 1.0) {
    // Keep each token while the mass of the more probable ones is still below top_p.
    double before = 0;
    size_t n = 0;
    while (n < kept.size() && before < o.top_p) before += kept[n++].second;
    kept.resize(std::max<size_t>(n, 1));
    renormalize(kept);
  }
  return kept;
}

Sampler::Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {
  if (!(options.temperature > 0) || !std::isfinite(options.temperature))
    throw usage_error("usage.sampling", "--temperature must be > 0 to sample (0 is greedy decoding)");
  if (!(options.top_p > 0 && options.top_p <= 1))
    throw usage_error("usage.sampling", "--top-p must be in (0, 1]");
}

uint32_t Sampler::next(std::span<const double> logits) {
  const auto support = sampling_support(logits, options_);
  // 53 random bits -> u uniform in [0, 1); the first token whose cumulative mass exceeds u.
  const double u = double(rng_() >> 11) * 0x1.0p-53;
  double cumulative = 0;
  for (const auto& [id, p] : support) {
    cumulative += p;
    if (u < cumulative) return id;
  }
  return support.back().first;  // u within rounding of 1
}

}  // namespace supra::validate
