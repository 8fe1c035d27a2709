#pragma once
// The parity report of `supra validate`, in four renderings: a terminal
// table (fits 100 columns), JSON for scripts, Markdown for a pull request and
// a self-contained HTML page with an SVG plot of the error per layer (no
// script, no font, no external URL).
//
// JSON (keys are stable; fractions are 0..1, not %; NaN and inf are null):
//   schema            "supra.validate/1"
//   passed            bool
//   failed_checks     [check names]
//   model_a, model_b  {name, precision, storage_types: {type: elements}}
//   tolerances        {basis, kld_mean, kld_p99, kld_max, logit_rel_l2, hidden_rel_l2, top1_min, ppl_log_ratio}
//   logits            null, or {positions, scored, vocab, reference: "logits"|"baseline", baseline_top_k,
//                     ppl_a, ppl_b, ppl_ratio, ln_ppl_ratio: {value, error}, nll_correlation,
//                     kld: {mean, error, max, p99.9, p99, p95, p90, p75, median, p25, p10, p5, p1, p0.1, min},
//                     delta_p: {the same keys, plus rms, rms_error}, same_top1: {value, error},
//                     top5_overlap, max_abs_logit_error, rel_l2_logit_error, nonfinite_a, nonfinite_b}
//   hidden            [{layer, substep, rows, cols, rel_l2, max_abs, nonfinite, passed}]
//   first_divergence  null, or {index, layer, substep, rel_l2, max_abs}
//   checks            [{name, label, value, limit, comparison: "<="|">=", passed, where}]
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "validate/hidden_state_errors.hpp"
#include "validate/parity_metrics.hpp"
#include "validate/parity_verdict.hpp"
#include "validate/tolerances.hpp"

namespace supra {

struct ParityModelInfo {
  std::string name;  // what the user gave: a path
  std::map<std::string, uint64_t> storage_types;  // elements per storage type; empty for logits files
};

struct ParityReport {
  ParityModelInfo a, b;
  std::optional<LogitMetrics> logits;
  std::vector<HiddenStepError> hidden;
  Tolerances tolerances;
  ParityVerdict verdict;
};

// Judges `logits` and `hidden` against `tol` and bundles everything.
ParityReport make_parity_report(ParityModelInfo a, ParityModelInfo b, std::optional<LogitMetrics> logits,
                                std::vector<HiddenStepError> hidden, const Tolerances& tol);

nlohmann::ordered_json parity_report_json(const ParityReport& r);
std::string render_parity_terminal(const ParityReport& r);
std::string render_parity_markdown(const ParityReport& r);
std::string render_parity_html(const ParityReport& r);

// The plot alone: relative error per step on a log scale, the tolerance as a
// dashed line, the first divergence marked. An <svg> element for inline HTML.
std::string render_error_plot_svg(const std::vector<HiddenStepError>& steps, double tolerance,
                                  std::optional<size_t> first_divergence);

}  // namespace supra
