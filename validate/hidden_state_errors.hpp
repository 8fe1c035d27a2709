#pragma once
// Layer by layer: how far B's hidden state is from A's after each sub-step
// (the engine names them: "embed", "attn", "mlp", ...), and the first step
// where the error jumps past the tolerance, which is where a conversion bug
// (a skipped q/k permutation, swapped layers, a dropped norm gain) lives.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace supra {

struct HiddenStepError {
  uint64_t layer = 0;
  std::string substep;
  uint64_t rows = 0, cols = 0;  // [T, D]
  double rel_l2 = 0;            // |B - A| / |A| over the whole [T, D] (inf if A is 0 and B is not)
  double max_abs = 0;           // max |B - A|
  uint64_t nonfinite = 0;       // NaN/inf values in A or B; rel_l2 is NaN when any
};

// The error of one step: a and b row-major [rows, cols].
HiddenStepError hidden_step_error(uint64_t layer, std::string substep, std::span<const float> a,
                                  std::span<const float> b, uint64_t rows, uint64_t cols);
HiddenStepError hidden_step_error(uint64_t layer, std::string substep, std::span<const double> a,
                                  std::span<const double> b, uint64_t rows, uint64_t cols);

// Index of the first step whose rel_l2 is not <= tolerance (NaN counts as past it).
std::optional<size_t> first_divergence(const std::vector<HiddenStepError>& steps, double tolerance);

// "layer 3 attn"
std::string step_label(const HiddenStepError& step);

}  // namespace supra
