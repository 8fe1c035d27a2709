#include "validate/baseline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "schema/error.hpp"
#include "validate/row_distribution.hpp"

namespace supra {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Sum of exp(logp) over the ids not in `ids`, in double (`mark` is scratch of vocab size, left all 0).
double mass_outside(std::span<const double> logp, std::span<const int32_t> ids, std::vector<uint8_t>& mark) {
  for (int32_t id : ids) mark[size_t(id)] = 1;
  double sum = 0;
  for (size_t i = 0; i < logp.size(); ++i)
    if (!mark[i]) sum += std::exp(logp[i]);
  for (int32_t id : ids) mark[size_t(id)] = 0;
  return sum;
}

void widen(std::span<const float> in, std::vector<double>& out) {
  if (in.size() != out.size())
    throw bad_input("validate.logits_shape", {}, fmt::format("a row of {} logits, expected {}", in.size(), out.size()));
  std::copy(in.begin(), in.end(), out.begin());
}

void check_row(size_t got, size_t vocab, uint64_t row, uint64_t rows) {
  if (row >= rows) throw bad_input("validate.logits_shape", {}, fmt::format("more rows than the {} expected", rows));
  if (got != vocab)
    throw bad_input("validate.logits_shape", {}, fmt::format("row {} has {} logits, expected {}", row, got, vocab));
}

}  // namespace

std::vector<int64_t> ParityBaseline::next_tokens() const { return next_tokens_for(tokens, rows_per_sequence); }

BaselineBuilder::BaselineBuilder(TokenSequences tokens, uint64_t rows_per_sequence, uint64_t vocab, uint32_t top_k)
    : wide_(vocab), logp_(vocab) {
  if (top_k < 1 || top_k > vocab)
    throw usage_error("usage.top_k", fmt::format("--top-k {} must be between 1 and the vocabulary ({})", top_k, vocab));
  b_.tokens = std::move(tokens);
  b_.rows_per_sequence = rows_per_sequence;
  b_.vocab = vocab;
  b_.top_k = top_k;
  next_ = b_.next_tokens();
  for (int64_t id : next_)
    if (id >= int64_t(vocab))
      throw bad_input("validate.tokens", {}, fmt::format("token id {} is outside the vocabulary of {}", id, vocab));
}

void BaselineBuilder::add_row(std::span<const double> logits) {
  const uint64_t row = b_.positions();
  check_row(logits.size(), b_.vocab, row, next_.size());
  log_softmax(logits, logp_);
  const auto top = top_k_ids(logits, b_.top_k);
  for (uint32_t id : top) {
    b_.top_ids.push_back(int32_t(id));
    b_.top_logprobs.push_back(logp_[id]);
  }
  std::vector<uint8_t> mark(b_.vocab, 0);
  const std::span<const int32_t> ids(b_.top_ids.data() + row * b_.top_k, b_.top_k);
  b_.tail_logmass.push_back(std::log(mass_outside(logp_, ids, mark)));
  b_.next_logprob.push_back(next_[row] >= 0 ? logp_[size_t(next_[row])] : kNaN);
}

void BaselineBuilder::add_row(std::span<const float> logits) {
  widen(logits, wide_);
  add_row(std::span<const double>(wide_));
}

ParityBaseline BaselineBuilder::finish() {
  if (b_.positions() != next_.size())
    throw bad_input("validate.logits_shape", {}, fmt::format("{} rows for {} positions", b_.positions(), next_.size()));
  return std::move(b_);
}

BaselineComparison::BaselineComparison(const ParityBaseline& base)
    : base_(base), next_(base.next_tokens()), wide_(base.vocab), logp_(base.vocab) {}

void BaselineComparison::add_row(std::span<const double> logits) {
  const uint64_t row = records_.size();
  check_row(logits.size(), base_.vocab, row, next_.size());
  for (double z : logits) nonfinite_ += !is_usable_logit(z);
  log_softmax(logits, logp_);
  const uint32_t k = base_.top_k;
  const std::span<const int32_t> ids(base_.top_ids.data() + row * k, k);
  const std::span<const double> la(base_.top_logprobs.data() + row * k, k);
  PositionRecord rec;
  // The coarsened KL divergence of baseline.hpp.
  for (uint32_t j = 0; j < k; ++j) {
    const double pa = std::exp(la[j]);
    if (pa > 0) rec.kld += pa * (la[j] - logp_[size_t(ids[j])]);
  }
  const double tail_a = std::exp(base_.tail_logmass[row]);
  if (tail_a > 0) {
    std::vector<uint8_t> mark(base_.vocab, 0);
    rec.kld += tail_a * (base_.tail_logmass[row] - std::log(mass_outside(logp_, ids, mark)));
  }
  const auto top_b = top_k_ids(logits, 5);
  rec.same_top1 = uint32_t(ids[0]) == top_b[0];
  for (uint32_t j = 0; j < std::min<uint32_t>(5, k); ++j)
    rec.top5_common += std::find(top_b.begin(), top_b.end(), uint32_t(ids[j])) != top_b.end();
  if (const int64_t next = next_[row]; next >= 0) {
    rec.scored = true;
    rec.nll_a = -base_.next_logprob[row];
    rec.nll_b = -logp_[size_t(next)];
    rec.delta_p = std::exp(logp_[size_t(next)]) - std::exp(base_.next_logprob[row]);
  }
  records_.push_back(rec);
}

void BaselineComparison::add_row(std::span<const float> logits) {
  widen(logits, wide_);
  add_row(std::span<const double>(wide_));
}

LogitMetrics BaselineComparison::finish() const {
  if (records_.size() != next_.size())
    throw bad_input("validate.logits_shape", {},
                    fmt::format("{} rows of logits for the baseline's {} positions", records_.size(), next_.size()));
  LogitMetrics m = summarize_positions(records_, nullptr, base_.vocab);
  m.baseline_top_k = base_.top_k;
  m.nonfinite_b = nonfinite_;
  return m;
}

}  // namespace supra
