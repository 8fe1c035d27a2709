#pragma once
// The SRU / SRU++ forward pass (../shared/reference/sru.md sections 2-5), one
// sequence at a time, in three forms that agree to rounding:
//   whole sequence    rnn_forward / lm_logits with segment 0 (causal mask for LMs)
//   segment-wise      lm_logits with segment S: train_enwik8.py's eval_model
//                     (mask with same_length, c carried, memory = the layer
//                     inputs of the previous segment, replaced not accumulated)
//   token by token    DecodeState + decode_step: c per layer, the attention
//                     keys/values of the previous segment's inputs and of the
//                     current segment (constant size with a segment).
#include <cstdint>
#include <vector>

#include "validate/sru/model.hpp"

namespace supra::validate::sru {

// The additive attention mask of train_enwik8.py's set_mask(S, same_length),
// sliced at [m:m+T, :m+T]: query at global index i (memory rows first) and
// key j get -10000 if j > i, or if same_length and j < i - window.
struct AttentionMask {
  bool causal = false;    // no mask at all for bare (non-LM) modules
  uint64_t window = 0;    // S when same_length; 0: none
  float at(uint64_t query, uint64_t key) const;
};

// Per layer state carried between calls.
struct CarriedState {
  std::vector<std::vector<float>> c;  // [layers][O], zeros to start
  std::vector<Mat<float>> memory;     // [layers] raw inputs of the previous call (empty: none)
};
CarriedState initial_state(const Model& model);

// The RNN stack on input rows [T, input_size] -> last layer's h [T, O].
// `state` (optional) gives c0 and the attention memory and receives the
// last c and this call's layer inputs (saved_inputs).
Mat<float> rnn_forward(const Model& model, const Mat<float>& input, const AttentionMask& mask,
                       CarriedState* state);

// LM logits [T, V] of one token sequence. segment 0: whole sequence with a
// causal mask; else segment-wise as eval_model (same_length from the config).
Mat<float> lm_logits(const Model& model, const std::vector<uint32_t>& tokens, uint64_t segment, bool same_length);

// Token-by-token decoding state (LMs, not bidirectional).
struct DecodeState {
  uint64_t segment = 0;  // 0: one unbounded segment (whole-sequence attention)
  bool same_length = true;
  uint64_t in_segment = 0;  // tokens of the current segment seen so far
  std::vector<std::vector<float>> c;
  std::vector<Mat<float>> memory_kv;   // [m, 2P] per attention layer
  std::vector<Mat<float>> current_kv;  // [in_segment, 2P]
  std::vector<Mat<float>> current_raw; // [in_segment, n_in]: the next segment's memory
};
DecodeState start_decoding(const Model& model, uint64_t segment, bool same_length);
// Logits [V] after `token`.
std::vector<float> decode_step(const Model& model, DecodeState& state, uint32_t token);
// Logits [V] after the last of `prompt` (non-empty), from a fresh state: the
// whole segments of the prompt run segment-wise (GEMMs), the rest token by
// token; the same state and logits as decode_step over every token.
std::vector<float> prefill(const Model& model, DecodeState& state, const std::vector<uint32_t>& prompt);

// Kernels, exposed for tests.
void layer_norm_rows(Mat<float>& x, const std::vector<float>& w, const std::vector<float>& b);
// One layer's recurrence (sru.md 2.6) over U [T, O*k] with residual [T, n_in]; c in/out [O].
Mat<float> recurrence(const Config& config, const Layer& layer, const Mat<float>& u, const Mat<float>& residual,
                      std::vector<float>& c);

}  // namespace supra::validate::sru
