#include "validate/supra_attention.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "schema/error.hpp"
#include "validate/attention.hpp"
#include "validate/kernels.hpp"
#include "validate/model.hpp"
#include "validate/weights.hpp"

namespace supra::validate {

namespace {

constexpr double kGroupNormEps = 1e-5;  // nn.GroupNorm's default, not the model's norm_eps

// One head's view of the inputs: row t of q/k starts at q + t * q_stride.
template <class S>
struct HeadRows {
  const S *q, *k, *v;
  uint64_t qk_stride, v_stride;
  S* out;
  uint64_t out_stride;
  uint64_t dqk, dv;
};

// Rows [r0, r1) of one head with the state `sh` ([dqk, dv], row-major) as it
// stands before r0; the decay matrix inside the block, the state across it.
// Leaves `sh` as it stands after r1. In double, as Eigen products.
template <class S>
void head_block(const HeadRows<S>& h, uint64_t r0, uint64_t r1, double lambda, double scale, double* sh) {
  using MatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto n = Eigen::Index(r1 - r0), dqk = Eigen::Index(h.dqk), dv = Eigen::Index(h.dv);
  using Strided = Eigen::Map<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>>;
  const MatD q = Strided(h.q + r0 * h.qk_stride, n, dqk, Eigen::OuterStride<>(Eigen::Index(h.qk_stride))).template cast<double>();
  const MatD k = Strided(h.k + r0 * h.qk_stride, n, dqk, Eigen::OuterStride<>(Eigen::Index(h.qk_stride))).template cast<double>();
  const MatD v = Strided(h.v + r0 * h.v_stride, n, dv, Eigen::OuterStride<>(Eigen::Index(h.v_stride))).template cast<double>();
  Eigen::Map<MatD> state(sh, dqk, dv);
  // torch: scores = (q @ (k * qk_scale).T) * decay_mask, decay_mask[t, s] = exp(-lambda (t - s)) for s <= t
  MatD scores = (q * k.transpose()) * scale;
  std::vector<double> decay(static_cast<size_t>(n));
  for (Eigen::Index d = 0; d < n; ++d) decay[size_t(d)] = std::exp(-lambda * double(d));
  for (Eigen::Index t = 0; t < n; ++t)
    for (Eigen::Index s = 0; s < n; ++s) scores(t, s) = s <= t ? scores(t, s) * decay[size_t(t - s)] : 0.0;
  // out = scores @ v  +  exp(-lambda (t - r0)) * q_t @ S   (what came before the block)
  MatD out = scores * v;
  const MatD carried = q * state;
  for (Eigen::Index t = 0; t < n; ++t) out.row(t) += decay[size_t(t)] * carried.row(t);
  Eigen::Map<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>> dst(
      h.out + r0 * h.out_stride, n, dv, Eigen::OuterStride<>(Eigen::Index(h.out_stride)));
  dst = out.cast<S>();
  // S <- exp(-lambda n) S + sum_s exp(-lambda (r1 - s)) qk_scale k_s^T v_s
  MatD kw = k;
  for (Eigen::Index s = 0; s < n; ++s) kw.row(s) *= std::exp(-lambda * double(n - s)) * scale;
  state = std::exp(-lambda * double(n)) * state + kw.transpose() * v;
}

// torch (the authors' recurrent_forward, one token at a time):
//   s_n = s + (k.T * qk_scale) @ v;  out = q @ s_n;  s = gamma * s_n
template <class S>
void head_recurrent(const HeadRows<S>& h, uint64_t tokens, double lambda, double scale, double* sh) {
  const uint64_t dqk = h.dqk, dv = h.dv;
  const double gamma = std::exp(-lambda);
  for (uint64_t t = 0; t < tokens; ++t) {
    const S *qt = h.q + t * h.qk_stride, *kt = h.k + t * h.qk_stride, *vt = h.v + t * h.v_stride;
    for (uint64_t i = 0; i < dqk; ++i) {
      const double ki = scale * double(kt[i]);
      for (uint64_t j = 0; j < dv; ++j) sh[i * dv + j] += ki * double(vt[j]);
    }
    for (uint64_t j = 0; j < dv; ++j) {
      double o = 0;
      for (uint64_t i = 0; i < dqk; ++i) o += double(qt[i]) * sh[i * dv + j];
      h.out[t * h.out_stride + j] = S(o);
    }
    for (uint64_t x = 0; x < dqk * dv; ++x) sh[x] *= gamma;
  }
}

// torch: nn.GroupNorm(num_groups=heads, affine=False, eps=1e-5) over each token's [heads * dv].
template <class S>
void group_norm_heads(Mat<S>& x, uint64_t heads, uint64_t dv) {
  for (Eigen::Index t = 0; t < x.rows(); ++t)
    for (uint64_t h = 0; h < heads; ++h) {
      S* row = x.row(t).data() + h * dv;
      double mean = 0, var = 0;
      for (uint64_t j = 0; j < dv; ++j) mean += double(row[j]);
      mean /= double(dv);
      for (uint64_t j = 0; j < dv; ++j) var += (double(row[j]) - mean) * (double(row[j]) - mean);
      const double inv = 1.0 / std::sqrt(var / double(dv) + kGroupNormEps);
      for (uint64_t j = 0; j < dv; ++j) row[j] = S((double(row[j]) - mean) * inv);
    }
}

template <class S>
void relu(Mat<S>& x) {
  x = x.cwiseMax(S(0));
}

}  // namespace

std::vector<double> supra_decay_rates(const ModelSpec& spec) {
  const uint64_t heads = spec.heads;
  std::vector<double> lambda(heads, 0.0);
  if (!spec.supra) return lambda;
  switch (spec.supra->decay) {
    case SupraDecay::None:
      break;
    case SupraDecay::Retnet:  // torch (float32): -log(1 - exp2(-5 - h))
      for (uint64_t h = 0; h < heads; ++h) {
        const float gamma = 1.0f - std::exp2(-5.0f - float(h));
        lambda[h] = double(-std::log(gamma));
      }
      break;
    case SupraDecay::Lightning: {  // python floats, then torch.tensor(..., float32): start * ratio^h
      const double ratio = std::pow(2.0, -std::pow(2.0, -(std::log2(double(heads)) - 3)));
      const double start = spec.supra->decay_start.value_or(ratio);
      for (uint64_t h = 0; h < heads; ++h) lambda[h] = double(float(start * std::pow(ratio, double(h))));
      break;
    }
  }
  return lambda;
}

template <class S>
void supra_linear_attention(SupraForm form, const Mat<S>& q, const Mat<S>& k, const Mat<S>& v, uint64_t heads,
                            uint64_t kv_heads, uint64_t qk_dim, uint64_t v_dim, std::span<const double> lambda,
                            SupraState& state, Mat<S>& out, ThreadPool& pool, uint64_t chunk) {
  const uint64_t tokens = uint64_t(q.rows());
  if (uint64_t(q.cols()) != heads * qk_dim || k.cols() != q.cols() || uint64_t(v.cols()) != kv_heads * v_dim ||
      k.rows() != q.rows() || v.rows() != q.rows() || lambda.size() != heads || chunk == 0)
    throw std::logic_error("supra_linear_attention: shapes do not match");
  if (state.sums.rows() == 0) state.sums = Mat<double>::Zero(Eigen::Index(heads * qk_dim), Eigen::Index(v_dim));
  out.resize(Eigen::Index(tokens), Eigen::Index(heads * v_dim));
  const uint64_t group = heads / kv_heads;
  const double scale = 1.0 / std::sqrt(double(qk_dim));
  pool.run(heads, [&](size_t h) {
    const HeadRows<S> rows{q.data() + h * qk_dim, k.data() + h * qk_dim, v.data() + (h / group) * v_dim,
                           heads * qk_dim, kv_heads * v_dim, out.data() + h * v_dim, heads * v_dim, qk_dim, v_dim};
    double* sh = state.sums.data() + h * qk_dim * v_dim;
    if (form == SupraForm::Recurrent) {
      head_recurrent(rows, tokens, lambda[h], scale, sh);
      return;
    }
    const uint64_t step = form == SupraForm::Parallel ? std::max<uint64_t>(tokens, 1) : chunk;
    for (uint64_t r0 = 0; r0 < tokens; r0 += step) head_block(rows, r0, std::min(tokens, r0 + step), lambda[h], scale, sh);
  });
  state.len += tokens;
}

template <class S>
void supra_mix_tokens(const Model& model, uint64_t layer, RunState<S>& s, SupraState& state, ThreadPool& pool) {
  const ModelSpec& spec = model.spec();
  const SupraSpec& sp = *spec.supra;
  const LayerWeights& w = model.layer(layer);
  const uint64_t heads = spec.heads, kv_heads = spec.kv_heads, dqk = sp.qk_dim, dv = spec.head_dim;
  if (state.len != s.start_pos)
    throw std::logic_error("supra_mix_tokens: layer " + std::to_string(layer) + " state holds " +
                           std::to_string(state.len) + " positions, the step starts at " + std::to_string(s.start_pos));
  // torch: q = relu(_totrain_embed(q)); k = relu(_totrain_embed_kv(k)) (or _totrain_embed without GQA)
  linear(s.q, *w.feature_q, w.feature_q_bias.get(), s.feat_q, pool);
  linear(s.k, *w.feature_k, w.feature_k_bias.get(), s.feat_k, pool);
  relu(s.feat_q);
  relu(s.feat_k);
  // torch: keys = repeat_kv(keys, n_heads // n_heads_kv)
  const uint64_t group = heads / kv_heads;
  s.feat_k_rep.resize(s.feat_q.rows(), s.feat_q.cols());
  for (uint64_t h = 0; h < heads; ++h)
    s.feat_k_rep.middleCols(Eigen::Index(h * dqk), Eigen::Index(dqk)) =
        s.feat_k.middleCols(Eigen::Index((h / group) * dqk), Eigen::Index(dqk));
  if (sp.qk_norm) {
    // torch: _totrain_q_norm(q.view(T, H * dqk)), _totrain_k_norm(k.view(T, H * dqk)) with the model's norm class
    for (auto [x, gain] : {std::pair<Mat<S>*, const TensorPtr*>{&s.feat_q, &w.feature_q_norm}, {&s.feat_k_rep, &w.feature_k_norm}}) {
      const std::vector<S> g = read_vector<S>(**gain);
      if (spec.norm == NormKind::RmsNorm) rms_norm<S>(*x, g, spec.norm_eps, s.feat_scratch);
      else layer_norm<S>(*x, g, {}, spec.norm_eps, s.feat_scratch);
      x->swap(s.feat_scratch);
    }
  }
  // RoPE after the feature MLP, on H heads of width dqk (= head_dim: ModelSpec::check).
  apply_rope(s.feat_q, heads, dqk, s.rope_cos, s.rope_sin);
  apply_rope(s.feat_k_rep, heads, dqk, s.rope_cos, s.rope_sin);
  supra_linear_attention(model.supra_form, s.feat_q, s.feat_k_rep, s.v, heads, kv_heads, dqk, dv,
                         std::span<const double>(model.supra_decay), state, s.att, pool);
  group_norm_heads(s.att, heads, dv);
}

#define SUPRA_LINEAR(S)                                                                                          \
  template void supra_linear_attention<S>(SupraForm, const Mat<S>&, const Mat<S>&, const Mat<S>&, uint64_t,       \
                                          uint64_t, uint64_t, uint64_t, std::span<const double>, SupraState&,    \
                                          Mat<S>&, ThreadPool&, uint64_t);                                       \
  template void supra_mix_tokens<S>(const Model&, uint64_t, RunState<S>&, SupraState&, ThreadPool&);
SUPRA_LINEAR(float)
SUPRA_LINEAR(double)
#undef SUPRA_LINEAR

}  // namespace supra::validate
