#pragma once
// Token mixing: causal softmax attention over a KV cache, and the seam
// (mix_tokens) through which every attention kind is reached. The per-layer
// state is the cache, so one code path serves a whole prompt (T rows at
// once) and token-by-token decoding (T = 1, the cache holds the past).
#include <cstdint>

#include "validate/model.hpp"
#include "validate/run_state.hpp"
#include "validate/supra_attention.hpp"
#include "validate/threads.hpp"

namespace supra::validate {

// Keys and values of every position seen so far, RoPE already applied to k.
template <class S>
struct KvCache {
  Mat<S> k, v;       // [capacity, kv_dim]; rows [0, len) are filled
  uint64_t len = 0;

  void append(const Mat<S>& k_new, const Mat<S>& v_new);
  void clear() { len = 0; }
};

// What a layer carries from one step to the next. A new attention kind adds
// its state here (SUPRA: the decayed k^T v sums per head).
template <class S>
struct LayerState {
  KvCache<S> kv;
  SupraState supra;  // SUPRA linear layers: per-head decayed k^T v sums (constant size)

  void clear() {
    kv.clear();
    supra.clear();
  }
};

// torch: softmax(q_h @ k_g.T / sqrt(head_dim) + causal_mask) @ v_g for every
// query head h, g = h / (heads / kv_heads) (HF repeat_kv). q [T, heads *
// head_dim] at positions start.., the cache already holding those T rows;
// out is resized to [T, heads * head_dim]. A task is one (head, block of
// query rows): the split depends only on the shapes.
template <class S>
void causal_attention(const Mat<S>& q, const KvCache<S>& cache, uint64_t heads, uint64_t kv_heads, uint64_t head_dim,
                      uint64_t start, Mat<S>& out, ThreadPool& pool);

// The seam. Layer `layer`'s token mixer: reads s.q, s.k, s.v (projected,
// biases added) and the RoPE tables, updates `state`, writes s.att.
template <class S>
void mix_tokens(const Model& model, uint64_t layer, RunState<S>& s, LayerState<S>& state, ThreadPool& pool);

}  // namespace supra::validate
