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

namespace supra::validate {

// How a layer mixes tokens: the seam where linear attention plugs in. Adding
// a kind is adding a value here, its state to LayerState and its case to
// mix_tokens() (validate/attention.hpp).
enum class AttentionKind { Softmax };

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
};

class Model {
 public:
  // Throws bad_input (exit 3) naming the tensor or field it cannot run.
  explicit Model(CanonicalModel canonical);

  const ModelSpec& spec() const { return canonical_.spec; }
  const CanonicalModel& canonical() const { return canonical_; }
  const LayerWeights& layer(uint64_t l) const { return layers_.at(l); }
  AttentionKind attention_kind(uint64_t /*layer*/) const { return AttentionKind::Softmax; }
  // The file named in error messages about this model.
  const std::string& source() const { return source_; }

  TensorPtr embed;                              // [vocab, hidden]
  TensorPtr pos_embed;                          // [context, hidden]: learned positions only
  TensorPtr output_norm, output_norm_bias;      // [hidden]
  TensorPtr output;                             // [vocab, hidden]
  // RoPE inverse frequencies of the rotary dims (rotary_dim / 2 of them),
  // scaling applied; empty for learned positions.
  std::vector<double> rope_inv_freq;

 private:
  LayerWeights load_layer(uint64_t l) const;
  void check_shape(const TensorPtr& t, std::vector<uint64_t> shape) const;

  CanonicalModel canonical_;
  std::string source_;
  std::vector<LayerWeights> layers_;
};

}  // namespace supra::validate
