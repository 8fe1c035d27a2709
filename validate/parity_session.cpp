#include "validate/parity_session.hpp"

#include "schema/error.hpp"

namespace supra {
namespace {

PrecisionClass side_precision(const ParityModelInfo& m) {
  return m.storage_types.empty() ? PrecisionClass::F32 : weakest_precision(m.storage_types);
}

Tolerances tolerances_for(const ParitySetup& s) {
  const PrecisionClass c = s.precision ? *s.precision : default_tolerances(side_precision(s.a), side_precision(s.b)).basis;
  return apply_overrides(default_tolerances(c), s.overrides);
}

}  // namespace

ParitySession::ParitySession(ParitySetup setup) : setup_(std::move(setup)), tol_(tolerances_for(setup_)) {
  std::vector<int64_t> next = setup_.tokens.empty()
                                  ? std::vector<int64_t>(setup_.sequences_without_tokens * setup_.rows_per_sequence, -1)
                                  : next_tokens_for(setup_.tokens, setup_.rows_per_sequence);
  full_ = std::make_unique<LogitComparison>(std::move(next), setup_.vocab);
}

ParitySession::ParitySession(ParitySetup setup, const ParityBaseline& base)
    : setup_(std::move(setup)), tol_(tolerances_for(setup_)) {
  setup_.tokens = base.tokens;
  setup_.rows_per_sequence = base.rows_per_sequence;
  setup_.vocab = base.vocab;
  base_ = std::make_unique<BaselineComparison>(base);
}

void ParitySession::add_hidden(uint64_t layer, std::string substep, std::span<const float> a,
                               std::span<const float> b, uint64_t rows, uint64_t cols) {
  hidden_.push_back(hidden_step_error(layer, std::move(substep), a, b, rows, cols));
}

void ParitySession::add_hidden(uint64_t layer, std::string substep, std::span<const double> a,
                               std::span<const double> b, uint64_t rows, uint64_t cols) {
  hidden_.push_back(hidden_step_error(layer, std::move(substep), a, b, rows, cols));
}

void ParitySession::add_logit_row(std::span<const float> a, std::span<const float> b) {
  if (!full_) throw usage_error("usage.validate", "the reference is a baseline: add candidate rows only");
  full_->add_row(a, b);
  any_rows_ = true;
}

void ParitySession::add_logit_row(std::span<const double> a, std::span<const double> b) {
  if (!full_) throw usage_error("usage.validate", "the reference is a baseline: add candidate rows only");
  full_->add_row(a, b);
  any_rows_ = true;
}

void ParitySession::add_candidate_row(std::span<const float> b) {
  if (!base_) throw usage_error("usage.validate", "no baseline was given: add rows of both models");
  base_->add_row(b);
  any_rows_ = true;
}

void ParitySession::add_candidate_row(std::span<const double> b) {
  if (!base_) throw usage_error("usage.validate", "no baseline was given: add rows of both models");
  base_->add_row(b);
  any_rows_ = true;
}

ParityReport ParitySession::finish() {
  std::optional<LogitMetrics> logits;
  if (any_rows_) logits = full_ ? full_->finish() : base_->finish();
  return make_parity_report(setup_.a, setup_.b, std::move(logits), std::move(hidden_), tol_);
}

}  // namespace supra
