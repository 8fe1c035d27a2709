#include "validate/parity_verdict.hpp"

#include <cmath>

namespace supra {
namespace {

void add(ParityVerdict& v, std::string name, std::string label, double value, double limit, bool at_most,
         std::string where = {}) {
  if (std::isinf(limit) && limit > 0) return;  // no limit set
  const bool ok = at_most ? value <= limit : value >= limit;  // false for NaN
  v.checks.push_back({std::move(name), std::move(label), value, limit, at_most, ok, std::move(where)});
  v.passed = v.passed && ok;
}

void judge_logits(ParityVerdict& v, const LogitMetrics& m, const Tolerances& t) {
  add(v, "kld_mean", "mean KLD", m.kld.mean, t.kld_mean, true);
  add(v, "kld_p99", "99% KLD", quantile_at(m.kld.quantiles, "p99"), t.kld_p99, true);
  add(v, "kld_max", "max KLD", quantile_at(m.kld.quantiles, "max"), t.kld_max, true);
  add(v, "top1", "same top-1", m.same_top1, t.top1_min, false);
  if (m.rel_l2_logit_error) add(v, "logit_rel_l2", "rel L2 logit error", *m.rel_l2_logit_error, t.logit_rel_l2, true);
  if (m.scored) add(v, "ppl_ratio", "|ln PPL(B)/PPL(A)|", std::fabs(m.ln_ppl_ratio), t.ppl_log_ratio, true);
}

}  // namespace

std::vector<std::string> ParityVerdict::failed() const {
  std::vector<std::string> names;
  for (const auto& c : checks)
    if (!c.passed) names.push_back(c.name);
  return names;
}

ParityVerdict judge_parity(const LogitMetrics* logits, const std::vector<HiddenStepError>& hidden,
                           const Tolerances& tol) {
  ParityVerdict v;
  uint64_t nonfinite = logits ? logits->nonfinite_a + logits->nonfinite_b : 0;
  for (const auto& s : hidden) nonfinite += s.nonfinite;
  add(v, "finite", "non-finite values", double(nonfinite), 0, true);
  if (logits) judge_logits(v, *logits, tol);
  if (!hidden.empty()) {
    v.first_divergence = first_divergence(hidden, tol.hidden_rel_l2);
    if (v.first_divergence) {
      const auto& s = hidden[*v.first_divergence];
      add(v, "hidden_rel_l2", "hidden-state rel L2", s.rel_l2, tol.hidden_rel_l2, true, step_label(s));
    } else {
      double worst = 0;
      size_t at = 0;
      for (size_t i = 0; i < hidden.size(); ++i)
        if (hidden[i].rel_l2 > worst) worst = hidden[i].rel_l2, at = i;
      add(v, "hidden_rel_l2", "hidden-state rel L2", worst, tol.hidden_rel_l2, true, step_label(hidden[at]));
    }
  }
  return v;
}

}  // namespace supra
