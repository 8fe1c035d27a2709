#pragma once
// Activations of one forward step over T tokens (llama2.c's RunState), kept
// apart from the weights and from the per-layer decode state. Buffers are
// sized by resize() and reused by every layer and every step of the same T,
// so decoding one token at a time allocates nothing after the first token.
#include <cstdint>

#include "schema/model_spec.hpp"
#include "validate/tensor.hpp"

namespace supra::validate {

template <class S>
struct RunState {
  uint64_t start_pos = 0;  // absolute position of row 0
  Mat<S> x;                // [T, hidden] the residual stream
  Mat<S> xb;               // [T, hidden] the normed input of a sub-step
  Mat<S> mlp_in;           // [T, hidden] parallel residual: the MLP's normed input, taken before attention
  Mat<S> q, k, v;          // [T, q_dim], [T, kv_dim], [T, kv_dim]
  Mat<S> att;              // [T, q_dim] mixed tokens, before the output projection
  Mat<S> proj;             // [T, hidden] a sub-step's output, before the residual add
  Mat<S> hb, hb2;          // [T, ffn] MLP hidden (gate, up)
  Mat<S> rope_cos, rope_sin;  // [T, rotary_dim / 2] for positions start_pos...
  // SUPRA linear layers: q / k features [T, heads | kv_heads * qk_dim], k repeated to heads, qk-norm scratch.
  Mat<S> feat_q, feat_k, feat_k_rep, feat_scratch;
  Mat<S> logits;           // [rows asked for, vocab]

  uint64_t tokens() const { return uint64_t(x.rows()); }
};

}  // namespace supra::validate
