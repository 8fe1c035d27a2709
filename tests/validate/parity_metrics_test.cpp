// The logit metrics against straightforward double-precision references
// written here (naive softmax, sums, a sort-based percentile), on random
// logits small enough for the naive formulas to be exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "schema/error.hpp"
#include "validate/parity_metrics.hpp"
#include "validate/row_distribution.hpp"
#include "validate/summary_stats.hpp"

namespace supra {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> gaussian(size_t n, double sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(0, sigma);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

std::vector<double> naive_probs(const double* z, size_t v) {
  std::vector<double> p(v);
  double sum = 0;
  for (size_t i = 0; i < v; ++i) sum += std::exp(z[i]);
  for (size_t i = 0; i < v; ++i) p[i] = std::exp(z[i]) / sum;
  return p;
}

size_t naive_argmax(const double* z, size_t v) { return size_t(std::max_element(z, z + v) - z); }

std::vector<size_t> naive_top5(const double* z, size_t v) {
  std::vector<size_t> ids(v);
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](size_t a, size_t b) { return z[a] > z[b]; });
  ids.resize(5);
  return ids;
}

// Linear interpolation at p * (n - 1), written from its definition.
double naive_percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double pos = p * double(v.size() - 1);
  const double lo = std::floor(pos), hi = std::ceil(pos);
  return v[size_t(lo)] + (pos - lo) * (v[size_t(hi)] - v[size_t(lo)]);
}

TEST(SummaryStats, PercentilesMatchNumpyLinear) {
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 0.5), 2.5);  // numpy.percentile([1,2,3,4], 50)
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 0.9), 3.7);  // numpy.percentile([1,2,3,4], 90)
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 1.0), 4);
  EXPECT_DOUBLE_EQ(percentile_of_sorted(v, 0.0), 1);
  const auto q = quantiles_of(std::vector<double>{5, 1, 3});
  EXPECT_DOUBLE_EQ(quantile_at(q, "median"), 3);
  EXPECT_DOUBLE_EQ(quantile_at(q, "max"), 5);
  EXPECT_TRUE(std::isnan(quantile_at(quantiles_of(std::vector<double>{1, kNaN}), "median")));
}

TEST(SummaryStats, StandardErrorIsLlamaPerplexitys) {
  std::vector<double> v(20);
  for (size_t i = 0; i < v.size(); ++i) v[i] = double(i * i % 7);
  const double n = double(v.size());
  double s = 0, s2 = 0;
  for (double x : v) s += x, s2 += x * x;
  const double mean = s / n, expected = std::sqrt((s2 / n - mean * mean) / (n - 1));
  const auto m = mean_with_error(v);
  EXPECT_NEAR(m.mean, mean, 1e-15);
  EXPECT_NEAR(m.error, expected, 1e-12);
  EXPECT_EQ(mean_with_error(std::vector<double>(10, 1.0)).error, 0);  // n <= 10: no error given
}

TEST(RowDistribution, LogSoftmaxIsStableForHugeLogits) {
  const std::vector<double> z = {1e4, 1e4 - 1, -1e4};
  std::vector<double> lp(3);
  log_softmax(z, lp);
  const double expected0 = -std::log1p(std::exp(-1.0));
  EXPECT_NEAR(lp[0], expected0, 1e-12);
  EXPECT_NEAR(lp[1], -1 + expected0, 1e-12);
  EXPECT_NEAR(lp[2], -2e4 + expected0, 1e-8);
  const std::vector<double> masked = {0, -INFINITY};
  log_softmax(masked, lp);
  EXPECT_EQ(lp[0], 0);
  EXPECT_EQ(lp[1], -INFINITY);
}

TEST(RowDistribution, TopKBreaksTiesByLowerId) {
  const std::vector<double> z = {1, 3, 3, kNaN, 2};
  EXPECT_EQ(top_k_ids(z, 3), (std::vector<uint32_t>{1, 2, 4}));
  EXPECT_EQ(top_k_ids(z, 9).size(), 5u);
}

struct Reference {
  double ppl_a, ppl_b, kld_mean, kld_max, kld_p99, dp_rms, dp_median, same_top1, top5, max_abs, rel_l2;
};

// Every metric computed the plain way, independent of parity_metrics.cpp.
Reference reference(const std::vector<double>& a, const std::vector<double>& b, const std::vector<int64_t>& next,
                    size_t v) {
  const size_t rows = next.size();
  Reference r{};
  std::vector<double> klds, dps;
  double nll_a = 0, nll_b = 0, same = 0, top5 = 0, d2 = 0, a2 = 0;
  size_t scored = 0;
  for (size_t t = 0; t < rows; ++t) {
    const auto pa = naive_probs(&a[t * v], v), pb = naive_probs(&b[t * v], v);
    double kl = 0;
    for (size_t i = 0; i < v; ++i) kl += pa[i] * std::log(pa[i] / pb[i]);
    klds.push_back(kl);
    same += naive_argmax(&a[t * v], v) == naive_argmax(&b[t * v], v);
    const auto ta = naive_top5(&a[t * v], v), tb = naive_top5(&b[t * v], v);
    for (size_t id : ta) top5 += std::count(tb.begin(), tb.end(), id);
    if (next[t] >= 0) {
      nll_a -= std::log(pa[size_t(next[t])]);
      nll_b -= std::log(pb[size_t(next[t])]);
      dps.push_back(pb[size_t(next[t])] - pa[size_t(next[t])]);
      ++scored;
    }
    for (size_t i = 0; i < v; ++i) {
      const double d = b[t * v + i] - a[t * v + i];
      r.max_abs = std::max(r.max_abs, std::fabs(d));
      d2 += d * d, a2 += a[t * v + i] * a[t * v + i];
    }
  }
  r.ppl_a = std::exp(nll_a / double(scored));
  r.ppl_b = std::exp(nll_b / double(scored));
  r.kld_mean = std::accumulate(klds.begin(), klds.end(), 0.0) / double(rows);
  r.kld_max = *std::max_element(klds.begin(), klds.end());
  r.kld_p99 = naive_percentile(klds, 0.99);
  double dp2 = 0;
  for (double d : dps) dp2 += d * d;
  r.dp_rms = std::sqrt(dp2 / double(dps.size()));
  r.dp_median = naive_percentile(dps, 0.5);
  r.same_top1 = same / double(rows);
  r.top5 = top5 / double(rows * 5);
  r.rel_l2 = std::sqrt(d2 / a2);
  return r;
}

TEST(ParityMetrics, MatchesPlainReferenceOnRandomLogits) {
  const size_t rows = 40, v = 50;
  const auto a = gaussian(rows * v, 2.0, 1);
  auto b = a;
  const auto noise = gaussian(rows * v, 0.3, 2);
  for (size_t i = 0; i < b.size(); ++i) b[i] += noise[i];
  std::vector<int64_t> next(rows);
  for (size_t t = 0; t < rows; ++t) next[t] = t + 1 < rows ? int64_t((t * 7 + 3) % v) : -1;
  const LogitMetrics m = compare_logits(std::span<const double>(a), std::span<const double>(b), next, v);
  const Reference r = reference(a, b, next, v);
  EXPECT_EQ(m.positions, rows);
  EXPECT_EQ(m.scored, rows - 1);
  EXPECT_NEAR(m.ppl_a, r.ppl_a, 1e-9 * r.ppl_a);
  EXPECT_NEAR(m.ppl_b, r.ppl_b, 1e-9 * r.ppl_b);
  EXPECT_NEAR(m.ppl_ratio, r.ppl_b / r.ppl_a, 1e-9);
  EXPECT_NEAR(m.kld.mean, r.kld_mean, 1e-12);
  EXPECT_NEAR(quantile_at(m.kld.quantiles, "max"), r.kld_max, 1e-12);
  EXPECT_NEAR(quantile_at(m.kld.quantiles, "p99"), r.kld_p99, 1e-12);
  EXPECT_NEAR(m.rms_delta_p, r.dp_rms, 1e-12);
  EXPECT_NEAR(quantile_at(m.delta_p.quantiles, "median"), r.dp_median, 1e-12);
  EXPECT_DOUBLE_EQ(m.same_top1, r.same_top1);
  EXPECT_DOUBLE_EQ(m.top5_overlap, r.top5);
  EXPECT_NEAR(*m.max_abs_logit_error, r.max_abs, 1e-15);
  EXPECT_NEAR(*m.rel_l2_logit_error, r.rel_l2, 1e-12);
  EXPECT_GT(m.kld.mean, 0.01);  // the noise is large enough to matter
  EXPECT_LT(m.same_top1, 1.0);
}

TEST(ParityMetrics, IdenticalAndShiftedLogits) {
  const size_t rows = 12, v = 30;
  const auto a = gaussian(rows * v, 3.0, 5);
  std::vector<int64_t> next(rows, 4);
  LogitMetrics same = compare_logits(std::span<const double>(a), std::span<const double>(a), next, v);
  EXPECT_EQ(same.kld.mean, 0);
  EXPECT_EQ(same.same_top1, 1);
  EXPECT_EQ(same.top5_overlap, 1);
  EXPECT_EQ(*same.rel_l2_logit_error, 0);
  EXPECT_EQ(same.ppl_ratio, 1);
  // A constant shift leaves every distribution alone but not the raw logits.
  auto shifted = a;
  for (double& z : shifted) z += 5;
  LogitMetrics m = compare_logits(std::span<const double>(a), std::span<const double>(shifted), next, v);
  EXPECT_LT(std::fabs(m.kld.mean), 1e-14);
  EXPECT_EQ(m.same_top1, 1);
  EXPECT_NEAR(*m.max_abs_logit_error, 5, 1e-12);
  EXPECT_GT(*m.rel_l2_logit_error, 0.5);
}

TEST(ParityMetrics, FloatRowsAndNonFiniteCounts) {
  const size_t v = 8;
  std::vector<float> a = {1, 2, 3, 4, 5, 6, 7, 8}, b = a;
  b[2] = NAN;
  b[5] = INFINITY;
  LogitComparison c({-1}, v);
  c.add_row(std::span<const float>(a), std::span<const float>(b));
  const LogitMetrics m = c.finish();
  EXPECT_EQ(m.nonfinite_a, 0u);
  EXPECT_EQ(m.nonfinite_b, 2u);
  EXPECT_TRUE(std::isnan(m.kld.mean));
  EXPECT_EQ(m.scored, 0u);
  EXPECT_TRUE(std::isnan(m.ppl_a));
}

TEST(ParityMetrics, NextTokensAndBadInput) {
  EXPECT_EQ(next_tokens_for({{5, 6, 7}}, 3), (std::vector<int64_t>{6, 7, -1}));
  EXPECT_EQ(next_tokens_for({{5, 6, 7}}, 2), (std::vector<int64_t>{6, 7}));
  EXPECT_EQ(next_tokens_for({{1, 2}, {3, 4}}, 2), (std::vector<int64_t>{2, -1, 4, -1}));
  EXPECT_THROW(next_tokens_for({{1, 2, 3, 4}}, 2), Error);
  EXPECT_THROW(LogitComparison({9}, 5), Error);  // id outside the vocabulary
  LogitComparison c({-1}, 4);
  const std::vector<double> row(3, 0.0);
  EXPECT_THROW(c.add_row(std::span<const double>(row), std::span<const double>(row)), Error);
  EXPECT_THROW(c.finish(), Error);  // no row added
}

}  // namespace
}  // namespace supra
