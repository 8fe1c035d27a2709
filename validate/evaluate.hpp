#pragma once
// What `supra logits` and `supra generate` compute, as library calls (the
// commands only turn flags into these options).
#include <cstdint>
#include <vector>

#include "schema/checkpoint.hpp"
#include "validate/inputs.hpp"
#include "validate/model.hpp"

namespace supra::validate {

enum class Precision { F32, F64 };

struct LogitsOptions {
  bool last_only = false;     // only the row after the last token of each sequence
  Precision precision = Precision::F32;
  int threads = 0;            // 0 = every hardware thread; results do not depend on it
  bool dump_hidden = false;   // also return the hidden state after every step
};

struct LogitsResult {
  // One tensor "logits": [T, vocab] ([1, vocab] with last_only), with a
  // leading [B] axis for a batch; float32, or float64 with Precision::F64.
  Checkpoint logits;
  // With dump_hidden: "embed", "layer.{i}.attn", "layer.{i}.mlp",
  // "final_norm", each [T, hidden] (or [B, T, hidden]).
  Checkpoint hidden;
  double seconds = 0;  // wall time of the forward passes
};

// Each sequence runs from an empty cache. Token ids are checked first.
LogitsResult compute_logits(const Model& model, const TokenBatch& tokens, const LogitsOptions& options);

struct GenerateOptions {
  uint64_t max_new = 16;
  Precision precision = Precision::F32;
  int threads = 0;
};

struct GenerateResult {
  std::vector<uint32_t> ids;    // the new tokens
  double prompt_seconds = 0;    // wall time of the prompt step (up to the first new id)
  double decode_seconds = 0;    // wall time of the one-token steps after it
};

// Greedy decoding: the prompt fills the KV cache in one step, then each new
// token is the argmax (first index on ties, as torch.argmax) of the last
// row and is fed back as a one-token step.
GenerateResult generate_greedy(const Model& model, const std::vector<uint32_t>& prompt, const GenerateOptions& options);

}  // namespace supra::validate
