#pragma once
// What the target cannot express is refused; what it would silently change
// is a warning that names the field and both values. Targets: the authors'
// trainer (open_lm: checkpoint.pt + open_lm_config.json) and their Hugging
// Face wrapper (hf: model_type "openlm"). See ../shared/reference/supra-layer.md.
#include <filesystem>
#include <string>
#include <vector>

#include "linearize/plan.hpp"

namespace supra {

enum class LinearizeTarget { OpenLm, Hf };

const char* target_name(LinearizeTarget t);

struct TargetNotice {
  std::string id;       // "linearize.norm_eps"
  std::string field;    // "norm_eps"
  std::string message;  // one line
};

// Throws bad_input with the id of the first refusal and every refusal's
// reason on one line; returns the warnings. `input` is the source path (its
// folder's tokenizer.json is compared with the vocabulary size).
std::vector<TargetNotice> check_target(const LinearizePlan& plan, LinearizeTarget target,
                                       const std::filesystem::path& input);

// The norm eps the target computes with: open_lm's create_params never passes
// the source's eps, so every norm gets Params' 1e-5; the HF wrapper reads norm_eps.
double target_norm_eps(const ModelSpec& source, LinearizeTarget target);

// The head dims the authors' GPU kernel (lightning_attn) rejects.
bool kernel_rejects_head_dim(uint64_t d);

}  // namespace supra
