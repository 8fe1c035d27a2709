#include "validate/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "schema/error.hpp"
#include "validate/gemm.hpp"
#include "validate/weights.hpp"

namespace supra::validate {

namespace {

constexpr uint64_t kPanelBytes = 512 * 1024;  // a widened panel stays in L2
constexpr uint64_t kMinPanels = 8;            // enough tasks for the threads of small matrices
constexpr uint64_t kPanelAlign = 16;

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

void check_linear_shapes(const TensorSource& w, const TensorSource* b, uint64_t in_cols) {
  const TensorInfo& info = w.info();
  if (info.shape.size() != 2 || info.shape[1] != in_cols)
    throw bad_input("forward.shape", {{}, info.name, {}},
                    "expected a weight [out, " + std::to_string(in_cols) + "], found " + info.shape_string());
  if (b && b->info().numel() != info.shape[0])
    throw bad_input("forward.shape", {{}, b->name(), {}},
                    "expected a bias of " + std::to_string(info.shape[0]) + " values, found " +
                        b->info().shape_string());
}

}  // namespace

uint64_t panel_rows(uint64_t out, uint64_t in, size_t scalar_bytes) {
  const uint64_t by_bytes = std::max<uint64_t>(kPanelAlign, kPanelBytes / (in * scalar_bytes) / kPanelAlign * kPanelAlign);
  const uint64_t by_count = ceil_div(ceil_div(out, kMinPanels), kPanelAlign) * kPanelAlign;
  return std::max<uint64_t>(1, std::min({out, by_bytes, by_count}));
}

template <class S>
void linear(const Mat<S>& x, const TensorSource& w, const TensorSource* b, Mat<S>& y, ThreadPool& pool) {
  check_linear_shapes(w, b, uint64_t(x.cols()));
  const uint64_t out = w.info().shape[0], in = w.info().shape[1];
  y.resize(x.rows(), Eigen::Index(out));
  const std::vector<S> bias = b ? read_vector<S>(*b) : std::vector<S>{};
  const uint64_t rows_per_panel = panel_rows(out, in, sizeof(S));
  pool.run(ceil_div(out, rows_per_panel), [&](size_t p) {
    const uint64_t r0 = p * rows_per_panel, rows = std::min(rows_per_panel, out - r0);
    const S* panel = mapped_rows<S>(w, r0);
    if (!panel) {
      thread_local Mat<S> widened;
      widened.resize(Eigen::Index(rows), Eigen::Index(in));
      read_rows(w, r0, rows, widened.data());
      panel = widened.data();
    }
    gemm_xwt<S>(x.data(), x.cols(), x.rows(), int64_t(in), panel, int64_t(in), int64_t(rows), y.data() + r0, y.cols());
    if (b)
      y.middleCols(Eigen::Index(r0), Eigen::Index(rows)).rowwise() +=
          Eigen::Map<const Eigen::Matrix<S, 1, Eigen::Dynamic>>(bias.data() + r0, Eigen::Index(rows));
  });
}

template <class S>
void rms_norm(const Mat<S>& x, std::span<const S> g, double eps, Mat<S>& out) {
  out.resize(x.rows(), x.cols());
  const Eigen::Index d = x.cols();
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    double sum_sq = 0;
    for (Eigen::Index i = 0; i < d; ++i) sum_sq += double(x(t, i)) * double(x(t, i));
    const double r = 1.0 / std::sqrt(sum_sq / double(d) + eps);
    for (Eigen::Index i = 0; i < d; ++i) out(t, i) = S(double(x(t, i)) * r * double(g[size_t(i)]));
  }
}

template <class S>
void layer_norm(const Mat<S>& x, std::span<const S> g, std::span<const S> b, double eps, Mat<S>& out) {
  out.resize(x.rows(), x.cols());
  const Eigen::Index d = x.cols();
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    double sum = 0;
    for (Eigen::Index i = 0; i < d; ++i) sum += double(x(t, i));
    const double mean = sum / double(d);
    double sum_sq = 0;  // two passes: the variance of large-mean rows keeps its digits
    for (Eigen::Index i = 0; i < d; ++i) sum_sq += (double(x(t, i)) - mean) * (double(x(t, i)) - mean);
    const double r = 1.0 / std::sqrt(sum_sq / double(d) + eps);
    for (Eigen::Index i = 0; i < d; ++i) {
      const double bias = b.empty() ? 0.0 : double(b[size_t(i)]);
      out(t, i) = S((double(x(t, i)) - mean) * r * double(g[size_t(i)]) + bias);
    }
  }
}

std::vector<double> rope_inv_freq(const ModelSpec& spec, std::span<const double> freq_factors) {
  const uint64_t dim = spec.rotary_dim();
  std::vector<double> inv(dim / 2);
  for (uint64_t i = 0; i < inv.size(); ++i) inv[i] = 1.0 / std::pow(spec.rope_theta, double(2 * i) / double(dim));
  const RopeScaling& rs = spec.rope_scaling;
  switch (rs.kind) {
    case RopeScalingKind::None: break;
    case RopeScalingKind::Linear:
      for (double& f : inv) f /= rs.factor;
      break;
    case RopeScalingKind::Llama3: {
      // transformers' _compute_llama3_parameters: long wavelengths are slowed
      // by `factor`, short ones kept, the band between interpolated.
      const double old_len = double(rs.original_max_position_embeddings);
      const double low_freq_wavelen = old_len / rs.low_freq_factor;
      const double high_freq_wavelen = old_len / rs.high_freq_factor;
      for (double& f : inv) {
        const double wavelen = 2 * std::numbers::pi / f;
        if (wavelen > low_freq_wavelen) {
          f /= rs.factor;
        } else if (!(wavelen < high_freq_wavelen)) {
          const double smooth = (old_len / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
          f = (1 - smooth) * f / rs.factor + smooth * f;
        }
      }
      break;
    }
  }
  if (!freq_factors.empty()) {
    if (freq_factors.size() != inv.size())
      throw bad_input("forward.rope_freqs", {{}, "rope_freqs.weight", {}},
                      "expected " + std::to_string(inv.size()) + " frequency factors, found " +
                          std::to_string(freq_factors.size()));
    for (size_t i = 0; i < inv.size(); ++i) inv[i] /= freq_factors[i];
  }
  return inv;
}

template <class S>
void rope_tables(std::span<const double> inv_freq, uint64_t start, uint64_t tokens, Mat<S>& cos, Mat<S>& sin) {
  const auto half = Eigen::Index(inv_freq.size());
  cos.resize(Eigen::Index(tokens), half);
  sin.resize(Eigen::Index(tokens), half);
  for (uint64_t t = 0; t < tokens; ++t)
    for (Eigen::Index i = 0; i < half; ++i) {
      const double angle = double(start + t) * inv_freq[size_t(i)];
      cos(Eigen::Index(t), i) = S(std::cos(angle));
      sin(Eigen::Index(t), i) = S(std::sin(angle));
    }
}

template <class S>
void apply_rope(Mat<S>& x, uint64_t heads, uint64_t head_dim, const Mat<S>& cos, const Mat<S>& sin) {
  const Eigen::Index half = cos.cols();
  for (Eigen::Index t = 0; t < x.rows(); ++t)
    for (uint64_t h = 0; h < heads; ++h) {
      S* row = x.row(t).data() + h * head_dim;
      for (Eigen::Index i = 0; i < half; ++i) {
        const double a = row[i], b = row[i + half], c = cos(t, i), s = sin(t, i);
        row[i] = S(a * c - b * s);
        row[i + half] = S(b * c + a * s);
      }
    }
}

template <class S>
void swiglu(Mat<S>& gate, const Mat<S>& up) {
  S* g = gate.data();
  const S* u = up.data();
  for (Eigen::Index i = 0; i < gate.size(); ++i) {
    const double v = g[i];
    g[i] = S(v / (1.0 + std::exp(-v)) * double(u[i]));
  }
}

template <class S>
void gelu(Mat<S>& x, bool tanh_approximation) {
  S* p = x.data();
  const double k = std::sqrt(2.0 / std::numbers::pi);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double v = p[i];
    p[i] = S(tanh_approximation ? 0.5 * v * (1.0 + std::tanh(k * (v + 0.044715 * v * v * v)))
                                : 0.5 * v * (1.0 + std::erf(v / std::numbers::sqrt2)));
  }
}

template <class S>
void add_bias(Mat<S>& x, std::span<const S> b) {
  x.rowwise() += Eigen::Map<const Eigen::Matrix<S, 1, Eigen::Dynamic>>(b.data(), Eigen::Index(b.size()));
}

#define SUPRA_KERNELS(S)                                                                                   \
  template void linear<S>(const Mat<S>&, const TensorSource&, const TensorSource*, Mat<S>&, ThreadPool&); \
  template void rms_norm<S>(const Mat<S>&, std::span<const S>, double, Mat<S>&);                          \
  template void layer_norm<S>(const Mat<S>&, std::span<const S>, std::span<const S>, double, Mat<S>&);    \
  template void rope_tables<S>(std::span<const double>, uint64_t, uint64_t, Mat<S>&, Mat<S>&);             \
  template void apply_rope<S>(Mat<S>&, uint64_t, uint64_t, const Mat<S>&, const Mat<S>&);                 \
  template void swiglu<S>(Mat<S>&, const Mat<S>&);                                                         \
  template void gelu<S>(Mat<S>&, bool);                                                                    \
  template void add_bias<S>(Mat<S>&, std::span<const S>);
SUPRA_KERNELS(float)
SUPRA_KERNELS(double)
#undef SUPRA_KERNELS

}  // namespace supra::validate
