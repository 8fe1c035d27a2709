#include "validate/parity_report.hpp"

#include <cmath>

namespace supra {
namespace {

using json = nlohmann::ordered_json;

// NaN and inf are not JSON: null.
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json value_error(double v, double e) { return {{"value", num(v)}, {"error", num(e)}}; }

json distribution(const DistributionSummary& d) {
  json j = {{"mean", num(d.mean)}, {"error", num(d.error)}};
  for (size_t i = 0; i < kQuantileLevels.size(); ++i) j[std::string(kQuantileLevels[i].key)] = num(d.quantiles[i]);
  return j;
}

json optional_number(const std::optional<double>& v) { return v ? num(*v) : json(nullptr); }

json logits_json(const LogitMetrics& m) {
  json dp = distribution(m.delta_p);
  dp["rms"] = num(m.rms_delta_p);
  dp["rms_error"] = num(m.rms_delta_p_error);
  return {{"positions", m.positions},
          {"scored", m.scored},
          {"vocab", m.vocab},
          {"reference", m.baseline_top_k ? "baseline" : "logits"},
          {"baseline_top_k", m.baseline_top_k},
          {"ppl_a", value_error(m.ppl_a, m.ppl_a_error)},
          {"ppl_b", value_error(m.ppl_b, m.ppl_b_error)},
          {"ppl_ratio", value_error(m.ppl_ratio, m.ppl_ratio_error)},
          {"ln_ppl_ratio", value_error(m.ln_ppl_ratio, m.ln_ppl_ratio_error)},
          {"nll_correlation", num(m.nll_correlation)},
          {"kld", distribution(m.kld)},
          {"delta_p", dp},
          {"same_top1", value_error(m.same_top1, m.same_top1_error)},
          {"top5_overlap", num(m.top5_overlap)},
          {"max_abs_logit_error", optional_number(m.max_abs_logit_error)},
          {"rel_l2_logit_error", optional_number(m.rel_l2_logit_error)},
          {"nonfinite_a", m.nonfinite_a},
          {"nonfinite_b", m.nonfinite_b}};
}

json model_json(const ParityModelInfo& m) {
  json types = json::object();
  for (const auto& [t, n] : m.storage_types) types[t] = n;
  json precision = nullptr;
  if (!m.storage_types.empty()) precision = std::string(precision_class_name(weakest_precision(m.storage_types)));
  return {{"name", m.name}, {"precision", precision}, {"storage_types", types}};
}

json tolerances_json(const Tolerances& t) {
  return {{"basis", std::string(precision_class_name(t.basis))},
          {"kld_mean", num(t.kld_mean)},
          {"kld_p99", num(t.kld_p99)},
          {"kld_max", num(t.kld_max)},
          {"logit_rel_l2", num(t.logit_rel_l2)},
          {"hidden_rel_l2", num(t.hidden_rel_l2)},
          {"top1_min", num(t.top1_min)},
          {"ppl_log_ratio", num(t.ppl_log_ratio)}};
}

json hidden_json(const ParityReport& r) {
  json steps = json::array();
  for (const auto& s : r.hidden)
    steps.push_back({{"layer", s.layer},
                     {"substep", s.substep},
                     {"rows", s.rows},
                     {"cols", s.cols},
                     {"rel_l2", num(s.rel_l2)},
                     {"max_abs", num(s.max_abs)},
                     {"nonfinite", s.nonfinite},
                     {"passed", s.rel_l2 <= r.tolerances.hidden_rel_l2}});
  return steps;
}

json checks_json(const ParityVerdict& v) {
  json checks = json::array();
  for (const auto& c : v.checks)
    checks.push_back({{"name", c.name},
                      {"label", c.label},
                      {"value", num(c.value)},
                      {"limit", num(c.limit)},
                      {"comparison", c.at_most ? "<=" : ">="},
                      {"passed", c.passed},
                      {"where", c.where}});
  return checks;
}

}  // namespace

ParityReport make_parity_report(ParityModelInfo a, ParityModelInfo b, std::optional<LogitMetrics> logits,
                                std::vector<HiddenStepError> hidden, const Tolerances& tol) {
  ParityReport r{std::move(a), std::move(b), std::move(logits), std::move(hidden), tol, {}};
  r.verdict = judge_parity(r.logits ? &*r.logits : nullptr, r.hidden, tol);
  return r;
}

nlohmann::ordered_json parity_report_json(const ParityReport& r) {
  json first = nullptr;
  if (r.verdict.first_divergence) {
    const auto& s = r.hidden[*r.verdict.first_divergence];
    first = {{"index", *r.verdict.first_divergence}, {"layer", s.layer}, {"substep", s.substep},
             {"rel_l2", num(s.rel_l2)}, {"max_abs", num(s.max_abs)}};
  }
  return {{"schema", "supra.validate/1"},
          {"passed", r.verdict.passed},
          {"failed_checks", r.verdict.failed()},
          {"model_a", model_json(r.a)},
          {"model_b", model_json(r.b)},
          {"tolerances", tolerances_json(r.tolerances)},
          {"logits", r.logits ? logits_json(*r.logits) : json(nullptr)},
          {"hidden", hidden_json(r)},
          {"first_divergence", first},
          {"checks", checks_json(r.verdict)}};
}

}  // namespace supra
