#include "validate/hidden_state_errors.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "schema/error.hpp"

namespace supra {
namespace {

template <typename T>
HiddenStepError step_error(uint64_t layer, std::string substep, std::span<const T> a, std::span<const T> b,
                           uint64_t rows, uint64_t cols) {
  if (a.size() != rows * cols || b.size() != rows * cols)
    throw bad_input("validate.hidden_shape", {},
                    fmt::format("layer {} {}: hidden states of {} and {} values for [{}, {}]", layer, substep,
                                a.size(), b.size(), rows, cols));
  HiddenStepError e{layer, std::move(substep), rows, cols, 0, 0, 0};
  double diff2 = 0, ref2 = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], y = b[i];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      ++e.nonfinite;
      continue;
    }
    const double d = y - x;
    diff2 += d * d;
    ref2 += x * x;
    e.max_abs = std::max(e.max_abs, std::fabs(d));
  }
  if (e.nonfinite)
    e.rel_l2 = std::numeric_limits<double>::quiet_NaN();
  else
    e.rel_l2 = ref2 > 0 ? std::sqrt(diff2 / ref2) : diff2 == 0 ? 0 : std::numeric_limits<double>::infinity();
  return e;
}

}  // namespace

HiddenStepError hidden_step_error(uint64_t layer, std::string substep, std::span<const float> a,
                                  std::span<const float> b, uint64_t rows, uint64_t cols) {
  return step_error(layer, std::move(substep), a, b, rows, cols);
}

HiddenStepError hidden_step_error(uint64_t layer, std::string substep, std::span<const double> a,
                                  std::span<const double> b, uint64_t rows, uint64_t cols) {
  return step_error(layer, std::move(substep), a, b, rows, cols);
}

std::optional<size_t> first_divergence(const std::vector<HiddenStepError>& steps, double tolerance) {
  for (size_t i = 0; i < steps.size(); ++i)
    if (!(steps[i].rel_l2 <= tolerance)) return i;
  return std::nullopt;
}

std::string step_label(const HiddenStepError& step) { return fmt::format("layer {} {}", step.layer, step.substep); }

}  // namespace supra
