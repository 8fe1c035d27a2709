#pragma once
// The model as the forward pass reads it (llama2.c's TransformerWeights):
// the spec plus each weight by role, still in its file dtype and not read
// until a kernel asks for it. Construction checks every shape against the
// spec and refuses what the engine does not compute, so a forward pass
// never fails halfway through for a reason known up front.
#include <cstdint>
#include <string>
#include <vector>

#include "schema/canonical_model.hpp"
#include "validate/supra_attention.hpp"

namespace supra::validate {

// How a layer mixes tokens: the seam where linear attention plugs in. Adding
// a kind is adding a value here, its state to LayerState and its case to
// mix_tokens() (validate/attention.hpp).
enum class AttentionKind { Softmax, SupraLinear };

// One block's weights. Optional tensors (biases, norm biases) are nullptr
// when the model has none.
struct LayerWeights {
  TensorPtr attn_norm, attn_norm_bias;                // [hidden]
  TensorPtr q, k, v;                                  // [q_dim | kv_dim, hidden]
  TensorPtr q_bias, k_bias, v_bias;                   // [q_dim | kv_dim]
  TensorPtr out, out_bias;                            // [hidden, q_dim], [hidden]
  TensorPtr ffn_norm, ffn_norm_bias;                  // [hidden]
  TensorPtr gate, up, down;                           // [ffn, hidden], [ffn, hidden], [hidden, ffn]; gate: SwiGLU only
  TensorPtr up_bias, down_bias;                       // [ffn], [hidden]
  // SUPRA linear layers: the feature MLPs ([heads | kv_heads * qk_dim, q_dim | kv_dim] + bias;
  // k's is q's without GQA) and, with qk_norm, the gains over [heads * qk_dim].
  TensorPtr feature_q, feature_q_bias, feature_k, feature_k_bias, feature_q_norm, feature_k_norm;
};

class Model {
 public:
  // Throws bad_input (exit 3) naming the tensor or field it cannot run.
  explicit Model(CanonicalModel canonical);

  const ModelSpec& spec() const { return canonical_.spec; }
  const CanonicalModel& canonical() const { return canonical_; }
  const LayerWeights& layer(uint64_t l) const { return layers_.at(l); }
  AttentionKind attention_kind(uint64_t layer) const {
    return spec().supra && spec().supra->linear_layers.at(layer) ? AttentionKind::SupraLinear : AttentionKind::Softmax;
  }
  // The file named in error messages about this model.
  const std::string& source() const { return source_; }

  TensorPtr embed;                              // [vocab, hidden]
  TensorPtr pos_embed;                          // [context, hidden]: learned positions only
  TensorPtr output_norm, output_norm_bias;      // [hidden]
  TensorPtr output;                             // [vocab, hidden]
  // RoPE inverse frequencies of the rotary dims (rotary_dim / 2 of them),
  // scaling applied; empty for learned positions.
  std::vector<double> rope_inv_freq;
  // SUPRA: each head's decay rate lambda_h, and how a multi-token step of a
  // linear layer is computed (every form gives the same result to rounding).
  std::vector<double> supra_decay;
  SupraForm supra_form = SupraForm::Chunked;

 private:
  LayerWeights load_layer(uint64_t l) const;
  void check_shape(const TensorPtr& t, std::vector<uint64_t> shape) const;

  CanonicalModel canonical_;
  std::string source_;
  std::vector<LayerWeights> layers_;
};

}  // namespace supra::validate
