#pragma once
// `supra validate --from-logits`: the parity report of logits (and hidden
// states) computed elsewhere, with no model run. Useful on its own to compare
// PyTorch or llama.cpp logits, and the tested path of every metric.
#include <filesystem>
#include <optional>

#include "validate/baseline.hpp"
#include "validate/parity_session.hpp"

namespace supra {

struct LogitFilesJob {
  std::filesystem::path logits_a, logits_b;   // .npy [T, V] or [S, T, V]; logits_a empty with a baseline
  std::optional<TokenSequences> tokens;       // none: no row is scored (no PPL, no Δp)
  std::filesystem::path hidden_a, hidden_b;   // optional .npz dumps (parity_inputs.hpp)
  const ParityBaseline* baseline = nullptr;   // reference A as a baseline instead of logits_a
  ToleranceOverrides overrides;
  std::optional<PrecisionClass> precision;    // default f32
};

ParityReport compare_logit_files(const LogitFilesJob& job);

// A's baseline from its logits file; tokens as fed to A.
ParityBaseline baseline_from_logit_file(const std::filesystem::path& logits, const TokenSequences& tokens,
                                        uint32_t top_k = kDefaultBaselineTopK);

}  // namespace supra
