#pragma once
// The forward pass of every supported family in one place, as steps a
// caller can drive: embed -> for each layer (attention_step, mlp_step) ->
// final_norm -> logits. `supra logits` runs them all; `supra validate` runs
// two models' engines side by side and compares hidden() after every step,
// so only one layer's activations of each model exist at a time.
//
//   Forward<float> f(model, pool);
//   f.embed(tokens, 0);
//   for (l...) { f.attention_step(l, cache[l]); f.mlp_step(l); }
//   f.final_norm();
//   const Mat<float>& logits = f.logits(/*last_only=*/false);
//
// A caller that only needs one pass (no decoding afterwards) can give every
// layer the same LayerState, cleared before each attention_step, so no
// layer's keys and values outlive it. Two models side by side share one
// ThreadPool; each Forward holds only its own [T, hidden] working state.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "validate/attention.hpp"
#include "validate/model.hpp"
#include "validate/run_state.hpp"
#include "validate/threads.hpp"

namespace supra::validate {

template <class S>
class Forward {
 public:
  Forward(const Model& model, ThreadPool& pool) : model_(model), pool_(pool) {}

  // Starts a step over `tokens` at absolute positions start, start + 1, ...:
  // hidden() = embed[tokens] (+ pos_embed[positions] for learned positions).
  // Throws bad_input naming the first id outside the vocabulary.
  void embed(std::span<const uint32_t> tokens, uint64_t start);
  // hidden() = x + attn(norm1(x)); `state` is layer l's cache, which must
  // hold exactly `start` positions (it is appended to). With a parallel
  // residual (GPT-NeoX) the MLP input norm2(x) is taken first.
  void attention_step(uint64_t l, LayerState<S>& state);
  // hidden() += mlp(norm2(hidden()))   or, parallel:  += mlp(norm2(x)).
  void mlp_step(uint64_t l);
  // hidden() = output_norm(hidden())
  void final_norm();
  // hidden() @ output.T for every row, or only the last one.
  const Mat<S>& logits(bool last_only);

  const Mat<S>& hidden() const { return s_.x; }
  uint64_t start() const { return s_.start_pos; }
  const Model& model() const { return model_; }
  // The last step's activations (attention_step leaves its normed input in
  // xb, the mixed heads in att and their projection in proj).
  const RunState<S>& run_state() const { return s_; }

 private:
  void norm(const TensorPtr& gain, const TensorPtr& bias, const Mat<S>& in, Mat<S>& out) const;
  void mlp(const LayerWeights& w, const Mat<S>& in, Mat<S>& out);

  const Model& model_;
  ThreadPool& pool_;
  RunState<S> s_;
};

// Per-layer states of one sequence (llama2.c's key/value cache).
template <class S>
struct DecodeState {
  std::vector<LayerState<S>> layers;
  uint64_t positions = 0;  // tokens seen so far

  explicit DecodeState(uint64_t n_layers) : layers(n_layers) {}
};

// Called with "embed", "layer.{i}.attn", "layer.{i}.mlp", "final_norm" and
// the hidden state [T, hidden] after that step.
template <class S>
using HiddenTap = std::function<void(const std::string& key, const Mat<S>& hidden)>;

// The whole model over `tokens`, continuing `state` (empty state: a fresh
// prompt; one token: a decode step). Returns the logits of every row or of
// the last.
template <class S>
const Mat<S>& forward_tokens(Forward<S>& f, DecodeState<S>& state, std::span<const uint32_t> tokens, bool last_only,
                             const HiddenTap<S>& tap = {});

}  // namespace supra::validate
