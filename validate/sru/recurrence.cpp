// The elementwise SRU recurrence and LayerNorm (sru.md sections 2.6-2.7).
#include <cmath>

#include "validate/sru/forward.hpp"

namespace supra::validate::sru {

namespace {
// cpp:229: sigmoid in float with expf.
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
}  // namespace

void layer_norm_rows(Mat<float>& x, const std::vector<float>& w, const std::vector<float>& b) {
  // nn.LayerNorm: biased variance, eps 1e-5, affine; statistics in double.
  const int64_t n = x.cols();
  for (int64_t t = 0; t < x.rows(); ++t) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i) mean += x(t, i);
    mean /= double(n);
    for (int64_t i = 0; i < n; ++i) var += (x(t, i) - mean) * (x(t, i) - mean);
    const double inv = 1.0 / std::sqrt(var / double(n) + 1e-5);
    for (int64_t i = 0; i < n; ++i) x(t, i) = float((x(t, i) - mean) * inv * w[size_t(i)] + b[size_t(i)]);
  }
}

Mat<float> recurrence(const Config& config, const Layer& layer, const Mat<float>& u, const Mat<float>& residual,
                      std::vector<float>& c) {
  const uint64_t d = config.hidden_size, D = config.directions(), O = config.output_size(), k = layer.k;
  const int64_t T = u.rows();
  const bool skip = config.kind == supra::sru::Kind::Srupp || config.has_skip_term;
  // scale_x only with rescale and k == 3 (sru/ops.py:188-194).
  const float s = config.rescale && k == 3 ? layer.scale_x : 1.0f;
  Mat<float> h(T, int64_t(O));
  for (uint64_t dir = 0; dir < D; ++dir) {
    for (uint64_t j = 0; j < d; ++j) {
      const uint64_t unit = dir * d + j;
      // weight_c / bias are gate-major halves view(2, D, d); U rows are per-unit interleaved view(D, d, k).
      const float vf = layer.v[unit], vr = layer.v[O + unit], bf = layer.b[unit], br = layer.b[O + unit];
      float cc = c[unit];
      for (int64_t step = 0; step < T; ++step) {
        const int64_t t = dir == 0 ? step : T - 1 - step;
        const float* ut = u.data() + t * u.cols() + int64_t(unit * k);
        const float f = sigmoid(ut[1] + vf * cc + bf);
        const float r = sigmoid(ut[2] + vr * cc + br);
        cc = (cc - ut[0]) * f + ut[0];
        const float g = config.use_tanh ? std::tanh(cc) : cc;
        const float x = !skip ? 0.0f : k == 3 ? residual(t, int64_t(unit)) * s : ut[3];
        h(t, int64_t(unit)) = (g - x) * r + x;
      }
      c[unit] = cc;
    }
  }
  return h;
}

}  // namespace supra::validate::sru
