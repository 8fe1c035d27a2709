#pragma once
// Pass or fail, check by check: every metric with a limit in Tolerances is a
// named check, and the verdict lists each one that failed.
#include <optional>
#include <string>
#include <vector>

#include "validate/hidden_state_errors.hpp"
#include "validate/parity_metrics.hpp"
#include "validate/tolerances.hpp"

namespace supra {

struct ParityCheck {
  std::string name;   // stable id: finite, kld_mean, kld_p99, kld_max, top1, logit_rel_l2, ppl_ratio, hidden_rel_l2
  std::string label;  // for people: "mean KLD"
  double value = 0;
  double limit = 0;
  bool at_most = true;  // value <= limit (else value >= limit)
  bool passed = false;
  std::string where;    // hidden_rel_l2: the step it is about ("layer 3 attn")
};

struct ParityVerdict {
  bool passed = true;
  std::vector<ParityCheck> checks;
  std::optional<size_t> first_divergence;  // index into the hidden steps
  std::vector<std::string> failed() const;  // names of the failed checks, in check order
};

// `logits` may be null (hidden states only); limits that are +inf are not checked;
// a NaN value fails its check. ppl_ratio is checked on |ln(PPL_B / PPL_A)|
// when a position was scored; logit_rel_l2 when full reference logits were given.
ParityVerdict judge_parity(const LogitMetrics* logits, const std::vector<HiddenStepError>& hidden,
                           const Tolerances& tol);

}  // namespace supra
