// The per-layer error plot: plain SVG elements (no script, no font, no URL),
// so the HTML report shows it anywhere, offline.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "validate/parity_report.hpp"
#include "validate/parity_report_rows.hpp"

namespace supra {
namespace {

constexpr double kWidth = 820, kHeight = 340, kLeft = 70, kRight = 150, kTop = 20, kBottom = 50;
constexpr const char* kPalette[] = {"#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

std::string escape(const std::string& s) { return report::markup_escape(s); }

// Decades shown on the y axis: from below the smallest positive value to above the largest.
std::pair<int, int> decade_range(const std::vector<HiddenStepError>& steps, double tol) {
  double lo = INFINITY, hi = -INFINITY;
  auto see = [&](double v) {
    if (v > 0 && std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  };
  for (const auto& s : steps) see(s.rel_l2);
  see(tol);
  if (!std::isfinite(lo)) return {-16, 0};
  int a = int(std::floor(std::log10(lo))), b = int(std::ceil(std::log10(hi)));
  if (b <= a) b = a + 1;
  return {a, b};
}

struct Axes {
  int lo, hi;
  size_t n;
  double x(size_t i) const {
    const double w = kWidth - kLeft - kRight;
    return n < 2 ? kLeft + w / 2 : kLeft + w * double(i) / double(n - 1);
  }
  // Zero sits on the bottom edge, NaN and inf on the top edge.
  double y(double v) const {
    const double h = kHeight - kTop - kBottom;
    const double d = !(v > 0) ? (std::isnan(v) ? hi : lo) : std::isinf(v) ? hi : std::clamp(std::log10(v), double(lo), double(hi));
    return kTop + h * (double(hi) - d) / double(hi - lo);
  }
};

std::string axes_svg(const Axes& ax, const std::vector<HiddenStepError>& steps) {
  std::string s;
  for (int d = ax.lo; d <= ax.hi; ++d)
    s += fmt::format(
        "<line class=\"grid\" x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" font-size=\"11\" text-anchor=\"end\">1e{5}</text>\n",
        kLeft, kWidth - kRight, ax.y(std::pow(10.0, d)), kLeft - 6, ax.y(std::pow(10.0, d)) + 4, d);
  const size_t layers = steps.empty() ? 0 : steps.back().layer + 1;
  const size_t every = std::max<size_t>(1, (layers + 19) / 20);
  for (size_t i = 0; i < steps.size(); ++i)
    if ((i == 0 || steps[i].layer != steps[i - 1].layer) && steps[i].layer % every == 0)
      s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n", ax.x(i),
                       kHeight - kBottom + 16, steps[i].layer);
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">layer</text>\n",
                   (kLeft + kWidth - kRight) / 2, kHeight - 10);
  s += fmt::format("<text x=\"14\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 {})\">"
                   "relative L2 error</text>\n", (kTop + kHeight - kBottom) / 2, (kTop + kHeight - kBottom) / 2);
  return s;
}

}  // namespace

std::string render_error_plot_svg(const std::vector<HiddenStepError>& steps, double tol,
                                  std::optional<size_t> first) {
  const auto [lo, hi] = decade_range(steps, tol);
  const Axes ax{lo, hi, steps.size()};
  std::string s = fmt::format(
      "<svg id=\"error-plot\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" "
      "aria-label=\"relative error per layer and sub-step, log scale\">\n",
      kWidth, kHeight);
  s += axes_svg(ax, steps);
  if (tol > 0 && std::isfinite(tol))
    s += fmt::format("<line class=\"tolerance\" x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#d62728\" "
                     "stroke-dasharray=\"6 4\"/><text x=\"{3}\" y=\"{4:.1f}\" font-size=\"11\" fill=\"#d62728\">"
                     "tolerance {5}</text>\n",
                     kLeft, kWidth - kRight, ax.y(tol), kWidth - kRight + 6, ax.y(tol) + 4, report::number(tol));
  std::string points;
  for (size_t i = 0; i < steps.size(); ++i) points += fmt::format("{}{:.1f},{:.1f}", i ? " " : "", ax.x(i), ax.y(steps[i].rel_l2));
  s += fmt::format("<polyline class=\"error-line\" points=\"{}\" fill=\"none\" stroke=\"#555\" stroke-width=\"1\"/>\n",
                   points);
  std::map<std::string, const char*> colors;
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto& st = steps[i];
    auto [it, added] = colors.emplace(st.substep, kPalette[colors.size() % std::size(kPalette)]);
    s += fmt::format("<circle class=\"step\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"><title>{}: {}</title></circle>\n",
                     ax.x(i), ax.y(st.rel_l2), it->second, escape(step_label(st)), report::number(st.rel_l2));
  }
  if (first) {
    const double x = ax.x(*first), y = ax.y(steps[*first].rel_l2);
    s += fmt::format("<circle class=\"first-divergence\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"7\" fill=\"none\" "
                     "stroke=\"#d62728\" stroke-width=\"2\"/><text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" "
                     "fill=\"#d62728\">first divergence: {}</text>\n",
                     x, y, x + 9, std::max(kTop + 10, y - 9), escape(step_label(steps[*first])));
  }
  double ly = kTop + 40;
  for (const auto& [name, color] : colors) {
    s += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>\n",
                     kWidth - kRight + 12, ly, color, kWidth - kRight + 22, ly + 4, escape(name));
    ly += 16;
  }
  return s + "</svg>\n";
}

}  // namespace supra
