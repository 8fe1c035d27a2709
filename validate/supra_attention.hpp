#pragma once
// SUPRA's decayed linear attention (../shared/reference/supra-layer.md, the
// authors' LinearAttn): the feature MLP on q and k, qk norm, RoPE after the
// MLP, per-head decayed sums without softmax or denominator, GroupNorm per
// head. Three forms of the same layer, one signature, explicit state in and
// out (as flash-linear-attention's naive_* trio):
//   parallel:  o_t = sum_{s<=t} g^(t-s) (q_t . k_s) c v_s  +  g^t q_t S   (the T x T decay matrix)
//   chunked:   the same inside chunks of C rows, the state carried between them (O(T C))
//   recurrent: S' = S + c k_t^T v_t;  o_t = q_t S';  S <- g S'          (one token at a time)
// with g = exp(-lambda_h), c = 1/sqrt(qk_dim), S the authors' stored state
// (already decayed once). Sums and the state are double whatever S is.
#include <cstdint>
#include <span>
#include <vector>

#include "validate/run_state.hpp"
#include "validate/tensor.hpp"
#include "validate/threads.hpp"

namespace supra::validate {

class Model;

enum class SupraForm { Parallel, Chunked, Recurrent };

inline constexpr uint64_t kSupraChunk = 64;  // rows per chunk of the chunked form

// A linear layer's state: per query head h, rows [h * qk_dim, (h + 1) * qk_dim)
// of `sums` ([heads * qk_dim, v_dim]) hold that head's decayed k^T v sums.
struct SupraState {
  Mat<double> sums;
  uint64_t len = 0;  // positions seen
  void clear() {
    sums.resize(0, 0);
    len = 0;
  }
};

// lambda_h of every head as the authors' get_slope_tensor makes it (float32).
std::vector<double> supra_decay_rates(const ModelSpec& spec);

// q, k: [T, heads * qk_dim] (features, RoPE applied, k repeated to `heads`);
// v: [T, kv_heads * v_dim] (query head h reads kv head h / (heads / kv_heads)).
// `state` is read and advanced by T positions; out = [T, heads * v_dim]
// before the GroupNorm. Any form gives the same result to rounding.
template <class S>
void supra_linear_attention(SupraForm form, const Mat<S>& q, const Mat<S>& k, const Mat<S>& v, uint64_t heads,
                            uint64_t kv_heads, uint64_t qk_dim, uint64_t v_dim, std::span<const double> lambda,
                            SupraState& state, Mat<S>& out, ThreadPool& pool, uint64_t chunk = kSupraChunk);

// The whole token mixer of a linear layer, behind mix_tokens: reads s.q,
// s.k, s.v (projected), writes s.att [T, heads * v_dim] (GroupNorm applied).
template <class S>
void supra_mix_tokens(const Model& model, uint64_t layer, RunState<S>& s, SupraState& state, ThreadPool& pool);

}  // namespace supra::validate
