// The top-k baseline: the coarsened KLD equals a plain computation of KL
// over {top-k ids, "the rest"}, never exceeds the full KLD, equals it when k
// covers the vocabulary; the .npz round trip keeps every array.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "converters/format.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"
#include "validate/baseline.hpp"

namespace supra {
namespace {

struct Logits {
  size_t rows, vocab;
  std::vector<double> a, b;
};

Logits make_logits(size_t rows, size_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(0, 2.5), n(0, 0.4);
  Logits l{rows, vocab, std::vector<double>(rows * vocab), std::vector<double>(rows * vocab)};
  for (size_t i = 0; i < l.a.size(); ++i) l.a[i] = d(rng), l.b[i] = l.a[i] + n(rng);
  return l;
}

std::vector<double> probs(const double* z, size_t v) {
  double s = 0;
  std::vector<double> p(v);
  for (size_t i = 0; i < v; ++i) s += std::exp(z[i]);
  for (size_t i = 0; i < v; ++i) p[i] = std::exp(z[i]) / s;
  return p;
}

ParityBaseline build(const Logits& l, const TokenSequences& tokens, uint32_t k) {
  BaselineBuilder builder(tokens, l.rows, l.vocab, k);
  for (size_t r = 0; r < l.rows; ++r) builder.add_row(std::span<const double>(&l.a[r * l.vocab], l.vocab));
  return builder.finish();
}

LogitMetrics compare(const ParityBaseline& base, const Logits& l) {
  BaselineComparison c(base);
  for (size_t r = 0; r < l.rows; ++r) c.add_row(std::span<const double>(&l.b[r * l.vocab], l.vocab));
  return c.finish();
}

TokenSequences tokens_for(size_t rows, size_t vocab) {
  TokenSequences t(1);
  for (size_t i = 0; i <= rows; ++i) t[0].push_back(int64_t((i * 13 + 1) % vocab));
  return t;
}

TEST(Baseline, CoarsenedKldMatchesPlainComputation) {
  const Logits l = make_logits(30, 64, 3);
  const auto tokens = tokens_for(l.rows, l.vocab);
  const uint32_t k = 8;
  const LogitMetrics m = compare(build(l, tokens, k), l);
  const LogitMetrics full = compare_logits(std::span<const double>(l.a), std::span<const double>(l.b),
                                           next_tokens_for(tokens, l.rows), l.vocab);
  double coarse = 0, exact = 0;
  for (size_t r = 0; r < l.rows; ++r) {
    const auto pa = probs(&l.a[r * l.vocab], l.vocab), pb = probs(&l.b[r * l.vocab], l.vocab);
    std::vector<size_t> ids(l.vocab);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = i;
    std::sort(ids.begin(), ids.end(), [&](size_t x, size_t y) { return pa[x] > pa[y]; });
    double ta = 1, tb = 1, kl = 0;
    for (size_t j = 0; j < k; ++j) {
      kl += pa[ids[j]] * std::log(pa[ids[j]] / pb[ids[j]]);
      ta -= pa[ids[j]], tb -= pb[ids[j]];
    }
    coarse += kl + ta * std::log(ta / tb);
    for (size_t i = 0; i < l.vocab; ++i) exact += pa[i] * std::log(pa[i] / pb[i]);
  }
  EXPECT_NEAR(m.kld.mean, coarse / double(l.rows), 1e-10);
  EXPECT_NEAR(full.kld.mean, exact / double(l.rows), 1e-12);
  EXPECT_LE(m.kld.mean, full.kld.mean + 1e-15);
  EXPECT_GT(m.kld.mean, 0.3 * full.kld.mean);
  // Everything but KLD and the raw-logit errors is exact.
  EXPECT_EQ(m.baseline_top_k, k);
  EXPECT_FALSE(m.rel_l2_logit_error.has_value());
  EXPECT_NEAR(m.ppl_a, full.ppl_a, 1e-9 * full.ppl_a);
  EXPECT_NEAR(m.ppl_b, full.ppl_b, 1e-9 * full.ppl_b);
  EXPECT_NEAR(m.rms_delta_p, full.rms_delta_p, 1e-12);
  EXPECT_EQ(m.same_top1, full.same_top1);
  EXPECT_EQ(m.top5_overlap, full.top5_overlap);
}

TEST(Baseline, FullTopKIsExact) {
  const Logits l = make_logits(10, 16, 4);
  const auto tokens = tokens_for(l.rows, l.vocab);
  const LogitMetrics m = compare(build(l, tokens, 16), l);
  const LogitMetrics full = compare_logits(std::span<const double>(l.a), std::span<const double>(l.b),
                                           next_tokens_for(tokens, l.rows), l.vocab);
  EXPECT_NEAR(m.kld.mean, full.kld.mean, 1e-12);
  EXPECT_NEAR(quantile_at(m.kld.quantiles, "max"), quantile_at(full.kld.quantiles, "max"), 1e-12);
}

TEST(Baseline, NpzRoundTripKeepsEveryArray) {
  test::TempDir dir;
  const Logits l = make_logits(6, 40, 5);
  const auto tokens = tokens_for(l.rows, l.vocab);
  const ParityBaseline b = build(l, tokens, 32);
  write_baseline(b, dir / "base.npz", false);
  EXPECT_THROW(write_baseline(b, dir / "base.npz", false), Error);  // exists, no --force
  const ParityBaseline r = read_baseline(dir / "base.npz");
  EXPECT_EQ(r.tokens, b.tokens);
  EXPECT_EQ(r.vocab, b.vocab);
  EXPECT_EQ(r.top_k, 32u);
  EXPECT_EQ(r.rows_per_sequence, l.rows);
  EXPECT_EQ(r.top_ids, b.top_ids);
  EXPECT_EQ(r.top_logprobs, b.top_logprobs);
  EXPECT_EQ(r.tail_logmass, b.tail_logmass);
  ASSERT_EQ(r.next_logprob.size(), b.next_logprob.size());
  for (size_t i = 0; i < r.next_logprob.size(); ++i) EXPECT_EQ(r.next_logprob[i], b.next_logprob[i]);
}

TEST(Baseline, ForeignNpzIsRefusedByName) {
  test::TempDir dir;
  Checkpoint c;
  c.tensors = {test::make_tensor("tokens", DType::I64, {1, 4})};
  write_checkpoint(*find_format("numpy"), c, dir / "x.npz", {});
  try {
    read_baseline(dir / "x.npz");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "validate.baseline");
    EXPECT_EQ(e.where().tensor, "format_version");
  }
}

}  // namespace
}  // namespace supra
