#include "validate/parity_report_rows.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

namespace supra::report {
namespace {

std::string pct(double v) { return std::isfinite(v) ? fmt::format("{:.3f} %", 100 * v) : number(v); }
std::string with_error(double v, double e) { return number(v) + " ± " + number(e); }
std::string pct_with_error(double v, double e) {
  return std::isfinite(v) ? fmt::format("{:.3f} ± {:.3f} %", 100 * v, 100 * e) : number(v);
}

const ParityCheck* find_check(const ParityReport& r, const std::string& name) {
  for (const auto& c : r.verdict.checks)
    if (c.name == name) return &c;
  return nullptr;
}

// A row whose limit and check columns come from the check `name`, if there is one.
MetricRow row(const ParityReport& r, std::string metric, std::string value, const std::string& check = {},
              bool percent = false) {
  MetricRow m{std::move(metric), std::move(value), "", ""};
  if (const ParityCheck* c = check.empty() ? nullptr : find_check(r, check)) {
    const std::string limit = percent ? pct(c->limit) : number(c->limit);
    m.limit = (c->at_most ? "<= " : ">= ") + limit;
    m.check = c->passed ? "ok" : "FAIL";
  }
  return m;
}

// KLD or Δp quantile label: "max KLD", "99.9% KLD", "median KLD".
std::string level_label(const QuantileLevel& l, const std::string& what) {
  if (l.key == "max" || l.key == "min" || l.key == "median") return std::string(l.key) + " " + what;
  return fmt::format("{:g}% {}", l.fraction * 100, what);
}

void ppl_rows(const ParityReport& r, const LogitMetrics& m, std::vector<MetricRow>& rows) {
  if (!m.scored) return;
  rows.push_back(row(r, "PPL(A)", with_error(m.ppl_a, m.ppl_a_error)));
  rows.push_back(row(r, "PPL(B)", with_error(m.ppl_b, m.ppl_b_error)));
  rows.push_back(row(r, "PPL(B)/PPL(A)", with_error(m.ppl_ratio, m.ppl_ratio_error)));
  rows.push_back(row(r, "ln(PPL(B)/PPL(A))", with_error(m.ln_ppl_ratio, m.ln_ppl_ratio_error), "ppl_ratio"));
  rows.back().limit = rows.back().limit.empty() ? "" : "|x| " + rows.back().limit;
  rows.push_back(row(r, "Cor(ln PPL(A), ln PPL(B))", pct(m.nll_correlation)));
}

}  // namespace

std::string number(double v) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.6g}", v);
}

std::vector<MetricRow> metric_rows(const ParityReport& r) {
  std::vector<MetricRow> rows;
  if (const ParityCheck* c = find_check(r, "finite"))
    rows.push_back(row(r, "non-finite values", number(c->value), "finite"));
  if (!r.logits) return rows;
  const LogitMetrics& m = *r.logits;
  ppl_rows(r, m, rows);
  rows.push_back(row(r, "mean KLD", with_error(m.kld.mean, m.kld.error), "kld_mean"));
  for (size_t i = 0; i < kQuantileLevels.size(); ++i) {
    const auto& l = kQuantileLevels[i];
    const std::string check = l.key == "p99" ? "kld_p99" : l.key == "max" ? "kld_max" : "";
    rows.push_back(row(r, level_label(l, "KLD"), number(m.kld.quantiles[i]), check));
  }
  if (m.scored) {
    rows.push_back(row(r, "mean Δp", pct_with_error(m.delta_p.mean, m.delta_p.error)));
    for (size_t i = 0; i < kQuantileLevels.size(); ++i)
      rows.push_back(row(r, level_label(kQuantileLevels[i], "Δp"), pct(m.delta_p.quantiles[i])));
    rows.push_back(row(r, "RMS Δp", pct_with_error(m.rms_delta_p, m.rms_delta_p_error)));
  }
  rows.push_back(row(r, "same top-1", pct_with_error(m.same_top1, m.same_top1_error), "top1", true));
  rows.push_back(row(r, "top-5 overlap", pct(m.top5_overlap)));
  if (m.max_abs_logit_error) rows.push_back(row(r, "max abs logit error", number(*m.max_abs_logit_error)));
  if (m.rel_l2_logit_error)
    rows.push_back(row(r, "rel L2 logit error", number(*m.rel_l2_logit_error), "logit_rel_l2"));
  return rows;
}

std::vector<HiddenRow> hidden_rows(const ParityReport& r) {
  std::vector<HiddenRow> rows;
  for (size_t i = 0; i < r.hidden.size(); ++i) {
    const auto& s = r.hidden[i];
    const bool ok = s.rel_l2 <= r.tolerances.hidden_rel_l2;
    rows.push_back({std::to_string(s.layer), s.substep, number(s.rel_l2), number(s.max_abs), ok ? "ok" : "FAIL",
                    r.verdict.first_divergence == i});
  }
  return rows;
}

std::string verdict_text(const ParityReport& r) {
  if (r.verdict.passed) return fmt::format("PASS (all {} checks)", r.verdict.checks.size());
  return "FAIL: " + fmt::format("{}", fmt::join(r.verdict.failed(), ", "));
}

std::string divergence_text(const ParityReport& r) {
  if (!r.verdict.first_divergence) return "";
  const auto& s = r.hidden[*r.verdict.first_divergence];
  return fmt::format("first divergence: {} (rel L2 {}, tolerance {})", step_label(s), number(s.rel_l2),
                     number(r.tolerances.hidden_rel_l2));
}

std::string storage_text(const ParityModelInfo& m) {
  if (m.storage_types.empty()) return "logits";
  std::vector<std::pair<std::string, uint64_t>> types(m.storage_types.begin(), m.storage_types.end());
  std::stable_sort(types.begin(), types.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  double total = 0;
  for (const auto& [_, n] : types) total += double(n);
  std::vector<std::string> parts;
  for (const auto& [t, n] : types) parts.push_back(fmt::format("{} {:.1f}%", t, total > 0 ? 100 * double(n) / total : 0));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string positions_text(const ParityReport& r) {
  if (!r.logits) return "no logits compared";
  const auto& m = *r.logits;
  const std::string ref = m.baseline_top_k ? fmt::format("top-{} baseline", m.baseline_top_k) : "full logits";
  return fmt::format("{} positions ({} scored), vocabulary {}, reference: {}", m.positions, m.scored, m.vocab, ref);
}

std::string markup_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace supra::report
