// The self-contained HTML report: inline CSS and SVG, nothing loaded from
// anywhere (no script, no font file, no URL), so it opens offline and can be
// attached to a pull request or a CI artifact as one file.
#include <fmt/format.h>

#include "validate/parity_report.hpp"
#include "validate/parity_report_rows.hpp"

namespace supra {
namespace {

std::string escape(const std::string& s) { return report::markup_escape(s); }

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:60em}"
    "table{border-collapse:collapse;margin:1em 0}th,td{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#1a7f37}.fail{color:#b00020;font-weight:bold}"
    "tr.first td{background:#fde8e8;font-weight:bold}.verdict{font-size:1.2em;padding:.4em .8em;display:inline-block}"
    ".verdict.pass{background:#e6f4ea}.verdict.fail{background:#fde8e8}";

std::string check_cell(const std::string& check) {
  if (check.empty()) return "<td></td>";
  return fmt::format("<td class=\"{}\">{}</td>", check == "ok" ? "ok" : "fail", check);
}

std::string metrics_table(const ParityReport& r) {
  std::string s = "<table id=\"metrics\"><tr><th>metric</th><th>value</th><th>limit</th><th>check</th></tr>\n";
  for (const auto& m : report::metric_rows(r))
    s += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td>{}</tr>\n", escape(m.metric), escape(m.value),
                     escape(m.limit), check_cell(m.check));
  return s + "</table>\n";
}

std::string hidden_table(const ParityReport& r) {
  std::string s =
      "<table id=\"hidden\"><tr><th>layer</th><th>sub-step</th><th>rel L2</th><th>max abs</th><th>check</th></tr>\n";
  for (const auto& h : report::hidden_rows(r))
    s += fmt::format("<tr{}><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{}</tr>\n",
                     h.first_divergence ? " class=\"first\"" : "", h.layer, escape(h.substep), h.rel_l2, h.max_abs,
                     check_cell(h.first_divergence ? "FAIL: first divergence" : h.check));
  return s + "</table>\n";
}

}  // namespace

std::string render_parity_html(const ParityReport& r) {
  const std::string verdict = report::verdict_text(r);
  const std::string title = fmt::format("supra validate: {} vs {}: {}", r.a.name, r.b.name, r.verdict.passed ? "PASS" : "FAIL");
  std::string s = fmt::format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>"
                              "<style>{}</style></head>\n<body>\n<h1>{}</h1>\n",
                              escape(title), kStyle, escape(title));
  s += fmt::format("<p class=\"verdict {}\">{}</p>\n", r.verdict.passed ? "pass" : "fail", escape(verdict));
  if (r.verdict.first_divergence) s += "<p class=\"divergence\">" + escape(report::divergence_text(r)) + "</p>\n";
  s += fmt::format("<ul><li>A (reference): <code>{}</code> ({})</li><li>B (candidate): <code>{}</code> ({})</li>"
                   "<li>compared: {}</li><li>tolerances: {} defaults, as overridden by --tol-*</li></ul>\n",
                   escape(r.a.name), escape(report::storage_text(r.a)), escape(r.b.name),
                   escape(report::storage_text(r.b)), escape(report::positions_text(r)),
                   precision_class_name(r.tolerances.basis));
  s += "<h2>Metrics</h2>\n" + metrics_table(r);
  if (!r.hidden.empty()) {
    s += "<h2>Hidden states, layer by layer</h2>\n";
    s += render_error_plot_svg(r.hidden, r.tolerances.hidden_rel_l2, r.verdict.first_divergence);
    s += hidden_table(r);
  }
  return s + "</body></html>\n";
}

}  // namespace supra
