#pragma once
// The statistics llama-perplexity prints, defined the same way so that our
// numbers and a llama.cpp `--kl-divergence` run can be read side by side.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace supra {

// Value at `fraction` of the sorted values, interpolated linearly between the
// closest ranks at fraction * (n - 1): numpy's default percentile and
// llama-perplexity's `percentile`. fraction 0.5 is llama-perplexity's median
// (the mean of the two middle values when n is even). NaN for no values.
double percentile_of_sorted(std::span<const double> sorted, double fraction);

// A mean and its standard error as llama-perplexity computes them:
// sqrt(population variance / (n - 1)), and 0 when n <= 10 (too few to say).
struct MeanWithError {
  double mean = 0;
  double error = 0;
};
MeanWithError mean_with_error(std::span<const double> values);

// The fixed percentile levels every distribution in a report shows (KLD, Δp),
// llama-perplexity's set plus the quartiles. Max and min are levels 1 and 0.
struct QuantileLevel {
  std::string_view key;  // stable JSON key: "max", "p99.9", "median", "min"
  double fraction;
};
inline constexpr std::array<QuantileLevel, 13> kQuantileLevels = {{
    {"max", 1.0}, {"p99.9", 0.999}, {"p99", 0.99}, {"p95", 0.95}, {"p90", 0.90}, {"p75", 0.75},
    {"median", 0.5}, {"p25", 0.25}, {"p10", 0.10}, {"p5", 0.05}, {"p1", 0.01}, {"p0.1", 0.001},
    {"min", 0.0},
}};
using Quantiles = std::array<double, kQuantileLevels.size()>;

// Every level of kQuantileLevels of `values` (sorted inside); all NaN if any value is.
Quantiles quantiles_of(std::span<const double> values);
// The value at one level by key; throws std::out_of_range for an unknown key.
double quantile_at(const Quantiles& q, std::string_view key);

}  // namespace supra
