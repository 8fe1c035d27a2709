// The terminal table and the Markdown report.
#include <fmt/format.h>

#include <algorithm>

#include "validate/parity_report.hpp"
#include "validate/parity_report_rows.hpp"

namespace supra {
namespace {

// Display width of UTF-8 text (Δ, ±, ≤ count once).
size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad(const std::string& s, size_t w, bool right = false) {
  const std::string fill(w > width(s) ? w - width(s) : 0, ' ');
  return right ? fill + s : s + fill;
}

// Aligned columns, two spaces apart; `right[i]` right-aligns column i.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right) {
  std::vector<size_t> w(rows.front().size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  std::string out;
  for (size_t k = 0; k < rows.size(); ++k) {
    std::string line;
    for (size_t i = 0; i < rows[k].size(); ++i) line += (i ? "  " : "") + pad(rows[k][i], w[i], right[i] && k > 0);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string md_cell(std::string s) {
  for (size_t at = s.find('|'); at != std::string::npos; at = s.find('|', at + 2)) s.replace(at, 1, "\\|");
  return s;
}

}  // namespace

std::string render_parity_terminal(const ParityReport& r) {
  std::string out = "supra validate\n";
  out += fmt::format("  A (reference):  {}  [{}]\n", r.a.name, report::storage_text(r.a));
  out += fmt::format("  B (candidate):  {}  [{}]\n", r.b.name, report::storage_text(r.b));
  out += fmt::format("  compared:       {}\n", report::positions_text(r));
  out += fmt::format("  tolerances:     {} defaults, as overridden by --tol-*\n\n",
                     precision_class_name(r.tolerances.basis));
  std::vector<std::vector<std::string>> rows = {{"metric", "value", "limit", "check"}};
  for (const auto& m : report::metric_rows(r)) rows.push_back({m.metric, m.value, m.limit, m.check});
  out += table(rows, {false, true, false, false});
  if (!r.hidden.empty()) {
    std::vector<std::vector<std::string>> h = {{"layer", "sub-step", "rel L2", "max abs", "check", ""}};
    for (const auto& s : report::hidden_rows(r))
      h.push_back({s.layer, s.substep, s.rel_l2, s.max_abs, s.check, s.first_divergence ? "<- first divergence" : ""});
    out += "\nhidden states (tolerance " + report::number(r.tolerances.hidden_rel_l2) + ")\n";
    out += table(h, {true, false, true, true, false, false});
  }
  out += "\nverdict: " + report::verdict_text(r) + "\n";
  if (r.verdict.first_divergence) out += report::divergence_text(r) + "\n";
  return out;
}

std::string render_parity_markdown(const ParityReport& r) {
  std::string out = fmt::format("### supra validate: `{}` vs `{}`: **{}**\n\n", md_cell(r.a.name), md_cell(r.b.name),
                                r.verdict.passed ? "PASS" : "FAIL");
  out += fmt::format("- A (reference): `{}` ({})\n", md_cell(r.a.name), report::storage_text(r.a));
  out += fmt::format("- B (candidate): `{}` ({})\n", md_cell(r.b.name), report::storage_text(r.b));
  out += fmt::format("- compared: {}\n", report::positions_text(r));
  out += fmt::format("- tolerances: {} defaults, as overridden by `--tol-*`\n", precision_class_name(r.tolerances.basis));
  out += "- verdict: " + md_cell(report::verdict_text(r)) + "\n";
  if (r.verdict.first_divergence) out += "- " + report::divergence_text(r) + "\n";
  out += "\n";
  out += "| metric | value | limit | check |\n|---|--:|---|---|\n";
  for (const auto& m : report::metric_rows(r))
    out += fmt::format("| {} | {} | {} | {} |\n", md_cell(m.metric), md_cell(m.value), md_cell(m.limit),
                       m.check == "FAIL" ? "**FAIL**" : m.check);
  if (!r.hidden.empty()) {
    out += fmt::format("\nHidden states, relative L2 error per layer and sub-step (tolerance {}):\n\n",
                       report::number(r.tolerances.hidden_rel_l2));
    out += "| layer | sub-step | rel L2 | max abs | check |\n|--:|---|--:|--:|---|\n";
    for (const auto& s : report::hidden_rows(r)) {
      const std::string b = s.first_divergence ? "**" : "";
      out += fmt::format("| {0}{1}{0} | {0}{2}{0} | {0}{3}{0} | {0}{4}{0} | {5} |\n", b, s.layer, md_cell(s.substep),
                         s.rel_l2, s.max_abs, s.first_divergence ? "**FAIL: first divergence**" : s.check);
    }
  }
  return out;
}

}  // namespace supra
