#pragma once
// The gap uptraining has to close: at initialization, how far each linear
// attention head of a linearized model is from the softmax head it replaces.
// Both see the same input (the softmax model's own residual stream at that
// layer, normed), so the number isolates one layer's attention and does not
// compound with the error of the layers before it (`supra validate` shows
// the compounded drift).
//
// Per layer l and query head h, over every row of every sequence:
//   head_error[h] = ||o_lin - o_soft||_F / ||o_soft||_F
// with o_soft = softmax(q k^T / sqrt(d)) v of head h and o_lin the SUPRA
// head output (feature MLP, decayed sums, GroupNorm), both before out_proj;
// and out_error the same ratio of the whole layer after out_proj (what is
// added to the residual stream).
#include <cstdint>
#include <vector>

#include "validate/evaluate.hpp"
#include "validate/inputs.hpp"
#include "validate/model.hpp"

namespace supra::validate {

struct LayerGap {
  uint64_t layer = 0;
  bool linear = false;             // false: the layer kept softmax attention (no gap)
  std::vector<double> head_error;  // one per query head (empty for a softmax layer)
  double out_error = 0;            // after out_proj
};

struct AttentionGap {
  std::vector<LayerGap> layers;
  uint64_t rows = 0;  // token positions the errors are taken over
};

// `softmax_model` is the source, `linear_model` its linearization (same
// layers, widths and heads). Throws bad_input when they do not match.
AttentionGap attention_gap(const Model& softmax_model, const Model& linear_model, const TokenBatch& tokens,
                           Precision precision, int threads);

}  // namespace supra::validate
