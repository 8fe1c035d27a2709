#include "validate/parity_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "schema/error.hpp"
#include "validate/row_distribution.hpp"

namespace supra {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// sum_i pA_i (log pA_i - log pB_i); a token A gives no mass adds nothing.
double kl_divergence(std::span<const double> log_a, std::span<const double> log_b) {
  double sum = 0;
  for (size_t i = 0; i < log_a.size(); ++i) {
    const double pa = std::exp(log_a[i]);
    if (pa == 0) continue;
    sum += pa * (log_a[i] - log_b[i]);
  }
  return sum;
}

uint8_t common_count(const std::vector<uint32_t>& x, const std::vector<uint32_t>& y) {
  uint8_t n = 0;
  for (uint32_t id : x) n += std::find(y.begin(), y.end(), id) != y.end();
  return n;
}

double pearson(std::span<const double> x, std::span<const double> y) {
  if (x.size() < 2) return kNaN;
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i], my += y[i];
  mx /= double(x.size()), my /= double(y.size());
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : kNaN;
}

DistributionSummary summarize(std::span<const double> values) {
  const MeanWithError m = mean_with_error(values);
  return {m.mean, m.error, quantiles_of(values)};
}

void summarize_tokens(const std::vector<PositionRecord>& records, LogitMetrics& m) {
  std::vector<double> nll_a, nll_b, ratio, dp, dp2;
  for (const auto& r : records) {
    if (!r.scored) continue;
    nll_a.push_back(r.nll_a);
    nll_b.push_back(r.nll_b);
    ratio.push_back(r.nll_b - r.nll_a);
    dp.push_back(r.delta_p);
    dp2.push_back(r.delta_p * r.delta_p);
  }
  m.scored = nll_a.size();
  const MeanWithError a = mean_with_error(nll_a), b = mean_with_error(nll_b), lr = mean_with_error(ratio);
  m.ppl_a = std::exp(a.mean), m.ppl_a_error = m.ppl_a * a.error;
  m.ppl_b = std::exp(b.mean), m.ppl_b_error = m.ppl_b * b.error;
  // The error of mean(nll_b - nll_a) is llama-perplexity's sqrt(ua^2 + ub^2 - 2 cov).
  m.ln_ppl_ratio = lr.mean, m.ln_ppl_ratio_error = lr.error;
  m.ppl_ratio = std::exp(lr.mean), m.ppl_ratio_error = m.ppl_ratio * lr.error;
  m.nll_correlation = pearson(nll_a, nll_b);
  m.delta_p = summarize(dp);
  const MeanWithError mse = mean_with_error(dp2);
  m.rms_delta_p = std::sqrt(mse.mean);
  m.rms_delta_p_error = m.rms_delta_p > 0 ? 0.5 / m.rms_delta_p * mse.error : 0;
}

}  // namespace

std::vector<int64_t> next_tokens_for(const TokenSequences& tokens, uint64_t rows_per_sequence) {
  std::vector<int64_t> next;
  for (size_t s = 0; s < tokens.size(); ++s) {
    const auto& seq = tokens[s];
    if (seq.size() != rows_per_sequence && seq.size() != rows_per_sequence + 1)
      throw bad_input("validate.tokens", {},
                      fmt::format("sequence {} has {} tokens for {} rows of logits (need {} or {})", s, seq.size(),
                                  rows_per_sequence, rows_per_sequence, rows_per_sequence + 1));
    for (uint64_t t = 0; t < rows_per_sequence; ++t) next.push_back(t + 1 < seq.size() ? seq[t + 1] : -1);
  }
  return next;
}

LogitMetrics summarize_positions(const std::vector<PositionRecord>& records, const LogitErrorSums* errors,
                                 uint64_t vocab) {
  LogitMetrics m;
  m.positions = records.size();
  m.vocab = vocab;
  std::vector<double> kld;
  double same = 0, common = 0;
  for (const auto& r : records) {
    kld.push_back(r.kld);
    same += r.same_top1;
    common += r.top5_common;
  }
  m.kld = summarize(kld);
  const double n = double(records.size());
  m.same_top1 = records.empty() ? kNaN : same / n;
  m.same_top1_error = n > 1 ? std::sqrt(m.same_top1 * (1 - m.same_top1) / (n - 1)) : 0;
  m.top5_overlap = records.empty() ? kNaN : common / (n * double(std::min<uint64_t>(5, vocab)));
  summarize_tokens(records, m);
  if (errors) {
    m.max_abs_logit_error = errors->max_abs;
    m.rel_l2_logit_error = errors->sum_sq_ref > 0 ? std::sqrt(errors->sum_sq_diff / errors->sum_sq_ref)
                           : errors->sum_sq_diff == 0 ? 0.0
                                                      : std::numeric_limits<double>::infinity();
  }
  return m;
}

LogitComparison::LogitComparison(std::vector<int64_t> next_tokens, uint64_t vocab)
    : next_(std::move(next_tokens)), vocab_(vocab), wide_a_(vocab), wide_b_(vocab), log_a_(vocab), log_b_(vocab) {
  if (vocab == 0) throw bad_input("validate.logits_shape", {}, "logits with a vocabulary of 0");
  for (size_t r = 0; r < next_.size(); ++r)
    if (next_[r] < -1 || next_[r] >= int64_t(vocab))
      throw bad_input("validate.tokens", {},
                      fmt::format("token id {} (after row {}) is outside the vocabulary of {}", next_[r], r, vocab));
  records_.reserve(next_.size());
}

void LogitComparison::add_row(std::span<const double> a, std::span<const double> b) {
  const uint64_t row = records_.size();
  if (row >= next_.size())
    throw bad_input("validate.logits_shape", {}, fmt::format("more rows of logits than the {} expected", next_.size()));
  if (a.size() != vocab_ || b.size() != vocab_)
    throw bad_input("validate.logits_shape", {},
                    fmt::format("row {} has {} and {} logits, expected {}", row, a.size(), b.size(), vocab_));
  for (size_t i = 0; i < vocab_; ++i) {
    const bool ua = is_usable_logit(a[i]), ub = is_usable_logit(b[i]);
    nonfinite_a_ += !ua, nonfinite_b_ += !ub;
    if (!ua || !ub || a[i] == b[i]) continue;  // equal -inf (both masked) differ by nothing
    const double d = std::fabs(b[i] - a[i]);
    errors_.max_abs = std::max(errors_.max_abs, d);
    errors_.sum_sq_diff += d * d;
  }
  for (size_t i = 0; i < vocab_; ++i)
    if (std::isfinite(a[i])) errors_.sum_sq_ref += a[i] * a[i];
  log_softmax(a, log_a_);
  log_softmax(b, log_b_);
  PositionRecord rec;
  rec.kld = kl_divergence(log_a_, log_b_);
  const auto top_a = top_k_ids(a, 5), top_b = top_k_ids(b, 5);
  rec.same_top1 = top_a[0] == top_b[0];
  rec.top5_common = common_count(top_a, top_b);
  if (const int64_t next = next_[row]; next >= 0) {
    rec.scored = true;
    rec.nll_a = -log_a_[size_t(next)];
    rec.nll_b = -log_b_[size_t(next)];
    rec.delta_p = std::exp(log_b_[size_t(next)]) - std::exp(log_a_[size_t(next)]);
  }
  records_.push_back(rec);
}

void LogitComparison::add_row(std::span<const float> a, std::span<const float> b) {
  if (a.size() != vocab_ || b.size() != vocab_)
    throw bad_input("validate.logits_shape", {},
                    fmt::format("row {} has {} and {} logits, expected {}", records_.size(), a.size(), b.size(), vocab_));
  std::copy(a.begin(), a.end(), wide_a_.begin());
  std::copy(b.begin(), b.end(), wide_b_.begin());
  add_row(std::span<const double>(wide_a_), std::span<const double>(wide_b_));
}

LogitMetrics LogitComparison::finish() const {
  if (records_.size() != next_.size())
    throw bad_input("validate.logits_shape", {},
                    fmt::format("{} rows of logits for {} positions", records_.size(), next_.size()));
  LogitMetrics m = summarize_positions(records_, &errors_, vocab_);
  m.nonfinite_a = nonfinite_a_, m.nonfinite_b = nonfinite_b_;
  return m;
}

namespace {
template <typename T>
LogitMetrics compare_all(std::span<const T> a, std::span<const T> b, std::vector<int64_t> next, uint64_t vocab) {
  const size_t rows = next.size();
  if (a.size() != rows * vocab || b.size() != rows * vocab)
    throw bad_input("validate.logits_shape", {},
                    fmt::format("logits of {} and {} values for [{}, {}]", a.size(), b.size(), rows, vocab));
  LogitComparison c(std::move(next), vocab);
  for (size_t r = 0; r < rows; ++r) c.add_row(a.subspan(r * vocab, vocab), b.subspan(r * vocab, vocab));
  return c.finish();
}
}  // namespace

LogitMetrics compare_logits(std::span<const float> a, std::span<const float> b, std::vector<int64_t> next_tokens,
                            uint64_t vocab) {
  return compare_all(a, b, std::move(next_tokens), vocab);
}
LogitMetrics compare_logits(std::span<const double> a, std::span<const double> b,
                            std::vector<int64_t> next_tokens, uint64_t vocab) {
  return compare_all(a, b, std::move(next_tokens), vocab);
}

}  // namespace supra
