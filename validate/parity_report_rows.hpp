#pragma once
// The rows every human-readable rendering shows (terminal, Markdown, HTML),
// formatted once here so the three always say the same thing.
#include <string>
#include <vector>

#include "validate/parity_report.hpp"

namespace supra::report {

struct MetricRow {
  std::string metric, value, limit, check;  // check: "ok", "FAIL" or "" (no limit)
};
struct HiddenRow {
  std::string layer, substep, rel_l2, max_abs, check;
  bool first_divergence = false;
};

std::vector<MetricRow> metric_rows(const ParityReport& r);
std::vector<HiddenRow> hidden_rows(const ParityReport& r);

// "PASS (all 6 checks)" or "FAIL: kld_mean, top1"
std::string verdict_text(const ParityReport& r);
// "first divergence: layer 3 attn (rel L2 0.52, tolerance 0.022)", or "" when none
std::string divergence_text(const ParityReport& r);
// "BF16 98.1%, F32 1.9%" (largest first), or "logits" when the types are unknown
std::string storage_text(const ParityModelInfo& m);
// "128 positions (127 scored), vocabulary 32000, reference: full logits"
std::string positions_text(const ParityReport& r);

// 6 significant digits; "n/a" for NaN, "inf" for infinity.
std::string number(double v);

// Text for HTML or SVG (XML) content and attributes: & < > " ' as entities.
std::string markup_escape(const std::string& s);

}  // namespace supra::report
