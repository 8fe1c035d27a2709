#include "validate/row_distribution.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace supra {

void log_softmax(std::span<const double> logits, std::span<double> out) {
  double max = -std::numeric_limits<double>::infinity();
  for (double z : logits) max = std::max(max, z);
  if (!std::isfinite(max)) {
    std::fill(out.begin(), out.end(), std::numeric_limits<double>::quiet_NaN());
    return;
  }
  double sum = 0;
  for (double z : logits) sum += std::exp(z - max);
  const double shift = max + std::log(sum);
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - shift;
}

std::vector<uint32_t> top_k_ids(std::span<const double> values, size_t k) {
  k = std::min(k, values.size());
  auto key = [&](uint32_t i) { return std::isnan(values[i]) ? -std::numeric_limits<double>::infinity() : values[i]; };
  std::vector<uint32_t> ids(values.size());
  std::iota(ids.begin(), ids.end(), 0u);
  auto before = [&](uint32_t a, uint32_t b) {
    const double ka = key(a), kb = key(b);
    return ka > kb || (ka == kb && a < b);
  };
  std::partial_sort(ids.begin(), ids.begin() + std::ptrdiff_t(k), ids.end(), before);
  ids.resize(k);
  return ids;
}

bool is_usable_logit(double v) { return std::isfinite(v) || v == -std::numeric_limits<double>::infinity(); }

}  // namespace supra
