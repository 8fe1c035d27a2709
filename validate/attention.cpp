#include "validate/attention.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "validate/gemm.hpp"
#include "validate/kernels.hpp"

namespace supra::validate {

namespace {

constexpr uint64_t kQueryBlock = 64;  // query rows per task: bounds the score matrix

// In place: row[i] = softmax(row * scale)[i] over the first `visible`
// entries, 0 after them (the causal mask). Max and sum in double.
template <class S>
void masked_softmax_row(S* row, uint64_t visible, uint64_t n, double scale) {
  thread_local std::vector<double> e;
  e.resize(visible);
  double max = -INFINITY;
  for (uint64_t i = 0; i < visible; ++i) max = std::max(max, double(row[i]) * scale);
  double sum = 0;
  for (uint64_t i = 0; i < visible; ++i) sum += e[i] = std::exp(double(row[i]) * scale - max);
  for (uint64_t i = 0; i < visible; ++i) row[i] = S(e[i] / sum);
  std::fill(row + visible, row + n, S(0));
}

}  // namespace

template <class S>
void KvCache<S>::append(const Mat<S>& k_new, const Mat<S>& v_new) {
  const Eigen::Index n = k_new.rows(), cols = k_new.cols();
  if (len == 0 && k.cols() != cols) {
    k.resize(0, cols);
    v.resize(0, cols);
  }
  if (k.cols() != cols || v_new.cols() != cols || v_new.rows() != n)
    throw std::logic_error("KvCache::append: rows of another width");
  if (Eigen::Index(len) + n > k.rows()) {
    const Eigen::Index capacity = std::max<Eigen::Index>({Eigen::Index(len) + n, 2 * k.rows(), 16});
    k.conservativeResize(capacity, cols);
    v.conservativeResize(capacity, cols);
  }
  k.middleRows(Eigen::Index(len), n) = k_new;
  v.middleRows(Eigen::Index(len), n) = v_new;
  len += uint64_t(n);
}

template <class S>
void causal_attention(const Mat<S>& q, const KvCache<S>& cache, uint64_t heads, uint64_t kv_heads, uint64_t head_dim,
                      uint64_t start, Mat<S>& out, ThreadPool& pool) {
  const uint64_t tokens = uint64_t(q.rows()), q_dim = heads * head_dim, kv_dim = kv_heads * head_dim;
  if (uint64_t(q.cols()) != q_dim || uint64_t(cache.k.cols()) != kv_dim || cache.len < start + tokens)
    throw std::logic_error("causal_attention: shapes do not match the cache");
  const uint64_t group = heads / kv_heads;
  const uint64_t blocks = (tokens + kQueryBlock - 1) / kQueryBlock;
  const double scale = 1.0 / std::sqrt(double(head_dim));
  const auto hd = int64_t(head_dim);
  out.resize(Eigen::Index(tokens), Eigen::Index(q_dim));
  pool.run(heads * blocks, [&](size_t task) {
    const uint64_t h = task / blocks, t0 = (task % blocks) * kQueryBlock;
    const uint64_t rows = std::min(kQueryBlock, tokens - t0), g = h / group;
    const uint64_t keys = start + t0 + rows;  // keys the block's last query sees
    const S* qh = q.data() + t0 * q_dim + h * head_dim;  // [rows, head_dim], row stride q_dim
    const S* kg = cache.k.data() + g * head_dim;         // [keys, head_dim], row stride kv_dim
    const S* vg = cache.v.data() + g * head_dim;
    thread_local Mat<S> scores;
    scores.resize(Eigen::Index(rows), Eigen::Index(keys));
    gemm_xwt<S>(qh, q_dim, rows, hd, kg, kv_dim, keys, scores.data(), keys);
    for (uint64_t r = 0; r < rows; ++r)
      masked_softmax_row(scores.row(Eigen::Index(r)).data(), start + t0 + r + 1, keys, scale);
    gemm_xw<S>(scores.data(), keys, rows, keys, vg, kv_dim, hd, out.data() + t0 * q_dim + h * head_dim, q_dim);
  });
}

template <class S>
void mix_tokens(const Model& model, uint64_t layer, RunState<S>& s, LayerState<S>& state, ThreadPool& pool) {
  const ModelSpec& spec = model.spec();
  switch (model.attention_kind(layer)) {
    case AttentionKind::Softmax:
      if (spec.positions == PositionKind::Rope) {
        apply_rope(s.q, spec.heads, spec.head_dim, s.rope_cos, s.rope_sin);
        apply_rope(s.k, spec.kv_heads, spec.head_dim, s.rope_cos, s.rope_sin);
      }
      if (state.kv.len != s.start_pos)
        throw std::logic_error("mix_tokens: layer " + std::to_string(layer) + " cache holds " +
                               std::to_string(state.kv.len) + " positions, the step starts at " +
                               std::to_string(s.start_pos));
      state.kv.append(s.k, s.v);
      causal_attention(s.q, state.kv, spec.heads, spec.kv_heads, spec.head_dim, s.start_pos, s.att, pool);
      return;
    case AttentionKind::SupraLinear:
      supra_mix_tokens(model, layer, s, state.supra, pool);
      return;
  }
  throw std::logic_error("mix_tokens: unknown attention kind");
}

#define SUPRA_ATTENTION(S)                                                                                  \
  template struct KvCache<S>;                                                                               \
  template void causal_attention<S>(const Mat<S>&, const KvCache<S>&, uint64_t, uint64_t, uint64_t, uint64_t, \
                                    Mat<S>&, ThreadPool&);                                                  \
  template void mix_tokens<S>(const Model&, uint64_t, RunState<S>&, LayerState<S>&, ThreadPool&);
SUPRA_ATTENTION(float)
SUPRA_ATTENTION(double)
#undef SUPRA_ATTENTION

}  // namespace supra::validate
