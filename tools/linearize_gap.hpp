#pragma once
// The summary `supra linearize` ends with: the linearized model against its
// softmax source at initialization, on sample tokens. (a) both models run
// side by side as `supra validate SOURCE OUTPUT` runs them (KLD, top-1, PPL,
// per-layer drift); (b) per layer and head the error of each linear head
// against the softmax head it replaces (validate/attention_gap.hpp).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "converters/relayout/layout_pipeline.hpp"
#include "validate/attention_gap.hpp"
#include "validate/inputs.hpp"

namespace supra::cli {

struct InitGap {
  validate::TokenBatch tokens;
  std::string validate_command;   // repeats (a) from the shell
  nlohmann::ordered_json parity;  // (a): the `supra validate --json` report
  validate::AttentionGap gap;     // (b)
};

// `tokens_file` empty: `random` ids with seed 0 (as `supra validate --random-tokens N`).
InitGap measure_init_gap(const std::filesystem::path& source, const LayoutRequest& source_request,
                         const std::filesystem::path& output, const std::string& tokens_file, uint64_t random,
                         int threads);

nlohmann::ordered_json init_gap_json(const InitGap& g);
std::string render_init_gap(const InitGap& g);

}  // namespace supra::cli
