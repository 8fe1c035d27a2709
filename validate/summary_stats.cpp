#include "validate/summary_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace supra {

double percentile_of_sorted(std::span<const double> sorted, double fraction) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (fraction <= 0) return sorted.front();
  if (fraction >= 1) return sorted.back();
  const double at = fraction * double(sorted.size() - 1);
  const size_t lo = size_t(at);
  const double w = at - double(lo);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return (1 - w) * sorted[lo] + w * sorted[hi];
}

MeanWithError mean_with_error(std::span<const double> values) {
  MeanWithError r;
  if (values.empty()) return {std::numeric_limits<double>::quiet_NaN(), 0};
  const double n = double(values.size());
  double sum = 0;
  for (double v : values) sum += v;
  r.mean = sum / n;
  // Two passes: the variance of tiny KLDs would vanish in sum2/n - mean^2.
  double var = 0;
  for (double v : values) var += (v - r.mean) * (v - r.mean);
  var /= n;
  r.error = values.size() > 10 && var > 0 ? std::sqrt(var / (n - 1)) : 0;
  return r;
}

Quantiles quantiles_of(std::span<const double> values) {
  Quantiles q{};
  if (std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); })) {
    q.fill(std::numeric_limits<double>::quiet_NaN());  // a NaN has no rank
    return q;
  }
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < kQuantileLevels.size(); ++i) q[i] = percentile_of_sorted(sorted, kQuantileLevels[i].fraction);
  return q;
}

double quantile_at(const Quantiles& q, std::string_view key) {
  for (size_t i = 0; i < kQuantileLevels.size(); ++i)
    if (kQuantileLevels[i].key == key) return q[i];
  throw std::out_of_range("no quantile level '" + std::string(key) + "'");
}

}  // namespace supra
