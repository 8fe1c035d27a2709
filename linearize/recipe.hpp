#pragma once
// What a linearization does, stated once: the SUPRA options (feature width,
// decay, qk norm, initialization, seed) and, per layer, whether it becomes
// linear or keeps softmax attention. `supra linearize` builds one from its
// flags or reads it from --recipe FILE.json; --dry-run --json prints it back
// in the same form, so a linearization can be reviewed and repeated.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "schema/model_spec.hpp"

namespace supra {

// torch-default: nn.Linear's own init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
// weight and bias (kaiming_uniform with a = sqrt(5)); identity: E = I, b = 0.
enum class FeatureInit { TorchDefault, Identity };

const char* feature_init_name(FeatureInit i);
std::optional<FeatureInit> feature_init_from_name(const std::string& name);

struct LayerRecipe {
  bool linear = true;  // false: keep the layer's softmax attention (hybrid model)
  FeatureInit init = FeatureInit::TorchDefault;
};

struct LinearizeRecipe {
  uint64_t seed = 0;
  FeatureInit init = FeatureInit::TorchDefault;  // for layers that do not say
  std::optional<uint64_t> qk_dim;                // feature width per head; nullopt = hidden / heads
  SupraDecay decay = SupraDecay::Lightning;      // the authors' default (Mistral-SUPRA)
  std::optional<double> decay_start;             // lightning only; nullopt = 2^(-8/H)
  bool qk_norm = false;
  std::vector<LayerRecipe> layers;               // empty = every layer linear with `init`
};

// Layers to keep softmax: "0,16" (a list), "every:8" (0, 8, 16, ...),
// "last:2" (the last two), "none". Throws usage_error(usage.keep-softmax).
std::vector<uint64_t> parse_layer_selection(const std::string& text, uint64_t layers);

// The recipe with one entry per layer (fills `layers` when empty, keeping
// softmax in the layers `keep_softmax` selects); throws usage_error(usage.recipe)
// when it names another layer count or states its layers and `keep_softmax` too.
LinearizeRecipe resolve_recipe(LinearizeRecipe recipe, uint64_t layers, const std::string& keep_softmax = {});

// Strict: unknown keys, wrong types and bad values are refused with the JSON
// path (bad_input recipe.101 unknown key, 102 wrong type, 103 bad value,
// 104 not JSON). `source` names the file.
LinearizeRecipe recipe_from_json(const nlohmann::json& j, const std::string& source);
LinearizeRecipe read_recipe_file(const std::string& path);
nlohmann::ordered_json recipe_to_json(const LinearizeRecipe& recipe);

}  // namespace supra
