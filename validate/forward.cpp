#include "validate/forward.hpp"

#include "schema/error.hpp"
#include "validate/kernels.hpp"
#include "validate/weights.hpp"

namespace supra::validate {

// ---------------------------------------------------------------------------
// Embedding

template <class S>
void Forward<S>::embed(std::span<const uint32_t> tokens, uint64_t start) {
  const ModelSpec& spec = model_.spec();
  const uint64_t n = tokens.size(), vocab = model_.embed->info().shape[0];
  s_.start_pos = start;
  // Within the window, sliding-window attention is full causal attention;
  // past it this engine does not compute it (refused, never approximated).
  if (const uint64_t window = spec.sliding_window; window && start + n > window)
    throw bad_input("forward.sliding_window", {model_.source(), {}, {}},
                    "position " + std::to_string(start + n - 1) + " is past the model's sliding window of " +
                        std::to_string(window) + " positions, which this engine does not compute (give at most " +
                        std::to_string(window) + " tokens)");
  // torch: x = embed_tokens(input_ids)
  s_.x.resize(Eigen::Index(n), Eigen::Index(spec.hidden));
  for (uint64_t t = 0; t < n; ++t) {
    if (tokens[t] >= vocab)
      throw bad_input("forward.token", {model_.source(), {}, {}},
                      "token id " + std::to_string(tokens[t]) + " at position " + std::to_string(start + t) +
                          " is outside the vocabulary (" + std::to_string(vocab) + " ids)");
    read_rows(*model_.embed, tokens[t], 1, s_.x.row(Eigen::Index(t)).data());
  }
  if (spec.positions == PositionKind::Learned) {
    // torch (GPT-2): x = wte(input_ids) + wpe(position_ids)
    const uint64_t rows = model_.pos_embed->info().shape[0];
    if (start + n > rows)
      throw bad_input("forward.context", {model_.source(), model_.pos_embed->name(), {}},
                      "position " + std::to_string(start + n - 1) + " is past the " + std::to_string(rows) +
                          " learned positions of the model");
    s_.proj.resize(Eigen::Index(n), Eigen::Index(spec.hidden));
    read_rows(*model_.pos_embed, start, n, s_.proj.data());
    s_.x += s_.proj;
  } else {
    rope_tables(std::span<const double>(model_.rope_inv_freq), start, n, s_.rope_cos, s_.rope_sin);
  }
}

// ---------------------------------------------------------------------------
// Norms

template <class S>
void Forward<S>::norm(const TensorPtr& gain, const TensorPtr& bias, const Mat<S>& in, Mat<S>& out) const {
  const ModelSpec& spec = model_.spec();
  const std::vector<S> g = read_vector<S>(*gain);
  switch (spec.norm) {
    case NormKind::RmsNorm:  // torch: LlamaRMSNorm(x)
      rms_norm<S>(in, g, spec.norm_eps, out);
      return;
    case NormKind::LayerNorm: {  // torch: nn.LayerNorm(x)
      const std::vector<S> b = bias ? read_vector<S>(*bias) : std::vector<S>{};
      layer_norm<S>(in, g, b, spec.norm_eps, out);
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// Attention sub-step

template <class S>
void Forward<S>::attention_step(uint64_t l, LayerState<S>& state) {
  const ModelSpec& spec = model_.spec();
  const LayerWeights& w = model_.layer(l);
  // torch: h = input_layernorm(x)
  norm(w.attn_norm, w.attn_norm_bias, s_.x, s_.xb);
  // GPT-NeoX parallel residual: the MLP reads post_attention_layernorm(x) of the same x.
  if (spec.parallel_residual) norm(w.ffn_norm, w.ffn_norm_bias, s_.x, s_.mlp_in);
  // torch: q, k, v = q_proj(h), k_proj(h), v_proj(h)
  linear(s_.xb, *w.q, w.q_bias.get(), s_.q, pool_);
  linear(s_.xb, *w.k, w.k_bias.get(), s_.k, pool_);
  linear(s_.xb, *w.v, w.v_bias.get(), s_.v, pool_);
  // RoPE, cache, softmax(q k^T / sqrt(d)) v: or whatever this layer's kind mixes.
  mix_tokens(model_, l, s_, state, pool_);
  // torch: x = x + o_proj(attn)
  linear(s_.att, *w.out, w.out_bias.get(), s_.proj, pool_);
  s_.x += s_.proj;
}

// ---------------------------------------------------------------------------
// MLP sub-step

template <class S>
void Forward<S>::mlp(const LayerWeights& w, const Mat<S>& in, Mat<S>& out) {
  const ModelSpec& spec = model_.spec();
  switch (spec.ffn_kind) {
    case FfnKind::SwiGLU:  // torch: down_proj(F.silu(gate_proj(h)) * up_proj(h))
      linear(in, *w.gate, nullptr, s_.hb, pool_);
      linear(in, *w.up, w.up_bias.get(), s_.hb2, pool_);
      swiglu(s_.hb, s_.hb2);
      linear(s_.hb, *w.down, w.down_bias.get(), out, pool_);
      return;
    case FfnKind::Gelu:
    case FfnKind::GeluTanh:  // torch: c_proj(gelu(c_fc(h)))   (GPT-2 "gelu_new" = tanh form)
      linear(in, *w.up, w.up_bias.get(), s_.hb, pool_);
      gelu(s_.hb, spec.ffn_kind == FfnKind::GeluTanh);
      linear(s_.hb, *w.down, w.down_bias.get(), out, pool_);
      return;
  }
}

template <class S>
void Forward<S>::mlp_step(uint64_t l) {
  const LayerWeights& w = model_.layer(l);
  if (model_.spec().parallel_residual) {
    // torch (GPT-NeoX): x = x + attn(ln1(x)) + mlp(ln2(x)); the first sum is hidden() now.
    mlp(w, s_.mlp_in, s_.proj);
  } else {
    // torch: x = x + mlp(post_attention_layernorm(x))
    norm(w.ffn_norm, w.ffn_norm_bias, s_.x, s_.xb);
    mlp(w, s_.xb, s_.proj);
  }
  s_.x += s_.proj;
}

// ---------------------------------------------------------------------------
// Output

template <class S>
void Forward<S>::final_norm() {
  // torch: x = norm(x)
  norm(model_.output_norm, model_.output_norm_bias, s_.x, s_.xb);
  s_.x.swap(s_.xb);
}

template <class S>
const Mat<S>& Forward<S>::logits(bool last_only) {
  // torch: logits = lm_head(x)
  if (last_only && s_.x.rows() > 1) {
    s_.xb = s_.x.bottomRows(1);
    linear(s_.xb, *model_.output, nullptr, s_.logits, pool_);
  } else {
    linear(s_.x, *model_.output, nullptr, s_.logits, pool_);
  }
  return s_.logits;
}

// ---------------------------------------------------------------------------
// The whole model

template <class S>
const Mat<S>& forward_tokens(Forward<S>& f, DecodeState<S>& state, std::span<const uint32_t> tokens, bool last_only,
                             const HiddenTap<S>& tap) {
  const uint64_t layers = f.model().spec().layers;
  if (state.layers.size() != layers) throw std::logic_error("forward_tokens: decode state of another model");
  f.embed(tokens, state.positions);
  if (tap) tap("embed", f.hidden());
  for (uint64_t l = 0; l < layers; ++l) {
    f.attention_step(l, state.layers[l]);
    if (tap) tap("layer." + std::to_string(l) + ".attn", f.hidden());
    f.mlp_step(l);
    if (tap) tap("layer." + std::to_string(l) + ".mlp", f.hidden());
  }
  f.final_norm();
  if (tap) tap("final_norm", f.hidden());
  state.positions += tokens.size();
  return f.logits(last_only);
}

template class Forward<float>;
template class Forward<double>;
template const Mat<float>& forward_tokens<float>(Forward<float>&, DecodeState<float>&, std::span<const uint32_t>,
                                                 bool, const HiddenTap<float>&);
template const Mat<double>& forward_tokens<double>(Forward<double>&, DecodeState<double>&,
                                                   std::span<const uint32_t>, bool, const HiddenTap<double>&);

}  // namespace supra::validate
