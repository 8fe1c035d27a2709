#pragma once
// `supra validate A B`: both checkpoints run by the forward engine side by
// side, layer by layer, on the same tokens. After every sub-step the two
// hidden states are compared and dropped, so at any time only one layer's
// activations of each model exist (two 14 GB models fit in 24 GB), and the
// first layer and sub-step where they part is found in the same pass.
#include <filesystem>
#include <optional>

#include "converters/relayout/layout_pipeline.hpp"
#include "validate/baseline.hpp"
#include "validate/evaluate.hpp"
#include "validate/inputs.hpp"
#include "validate/parity_report.hpp"

namespace supra::validate {

struct ModelParityJob {
  std::filesystem::path a, b;        // a: the reference; empty with a baseline
  LayoutRequest request_a, request_b;  // --model-config / --from-layout per side
  TokenBatch tokens;
  Precision precision = Precision::F32;
  int threads = 0;
  ToleranceOverrides overrides;
  std::optional<PrecisionClass> tolerance_basis;  // unset: from the weakest storage types
  const ParityBaseline* baseline = nullptr;       // compare B against this instead of running A
  // SUPRA linear layers: the form each side computes them in (`--forms`: one model, two forms).
  SupraForm form_a = SupraForm::Chunked, form_b = SupraForm::Chunked;
};

// Throws bad_input when the two models cannot be compared (different
// vocabularies; different layer counts or widths only skip the per-layer part).
ParityReport compare_models(const ModelParityJob& job);

// Runs A alone and keeps its top-k log-probabilities (`--save-base`).
ParityBaseline baseline_of_model(const std::filesystem::path& a, const LayoutRequest& request, const TokenBatch& tokens,
                                 Precision precision, int threads, uint32_t top_k);

}  // namespace supra::validate
