#pragma once
// What the shapes of an SRU / SRU++ state dict reveal without a config
// (sru.md section 6, "Recoverable from shapes"), for `supra inspect`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "schema/checkpoint.hpp"
#include "schema/sru/config.hpp"

namespace supra::sru {

struct InferredLayer {
  uint64_t n_in = 0, k = 0, projection = 0;  // projection 0: none (plain SRU)
  bool attention = false, transform_norm = false, cell_norm = false;
};

struct Inferred {
  Kind kind = Kind::Srupp;
  std::string prefix;  // "rnn." inside the enwik8 LM
  std::optional<LmConfig> lm;
  uint64_t input_size = 0, output_size = 0;  // O = hidden_size * directions
  bool input_to_hidden = false;
  std::vector<InferredLayer> layers;
};

// Throws bad_input("sru.203") when the keys are not an SRU / SRU++ state dict.
Inferred infer_structure(const Checkpoint& ckpt, const std::string& file);

// A config skeleton: what the shapes say filled in, the rest "FILL IN: ..."
// (strings the strict reader refuses until they are replaced).
std::string config_skeleton(const Inferred& s);

}  // namespace supra::sru
