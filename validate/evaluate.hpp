#pragma once
// What `supra logits` and `supra generate` compute, as library calls (the
// commands only turn flags into these options).
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "schema/checkpoint.hpp"
#include "validate/inputs.hpp"
#include "validate/model.hpp"
#include "validate/sampler.hpp"

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
  std::optional<SamplingOptions> sampling;  // none: greedy
  std::vector<uint32_t> stop_ids;           // generation ends once one of these is produced (EOS)
  std::function<void(uint32_t)> on_token;   // each new id as soon as it is chosen (streaming)
};

struct GenerateResult {
  std::vector<uint32_t> ids;    // the new tokens (a stop id that ended generation included)
  bool stopped = false;         // ended at a stop id before max_new
  double prompt_seconds = 0;    // wall time of the prompt step (up to the first new id)
  double decode_seconds = 0;    // wall time of the one-token steps after it
};

// The prompt fills the KV cache in one step, then each new token is fed back
// as a one-token step. Greedy: the argmax (first index on ties, as
// torch.argmax) of the last row; with `sampling`, a draw (validate/sampler.hpp).
GenerateResult generate(const Model& model, const std::vector<uint32_t>& prompt, const GenerateOptions& options);

}  // namespace supra::validate
