#pragma once
// An SRU / SRU++ model as the forward pass reads it: the config plus every
// weight by role (schema/sru/*.json), widened to f32 once. The forward pass
// never sees a state-dict key. Opening checks the checkpoint strictly
// against the key -> shape table of the config (schema/sru/tensor_table.hpp).
#include <filesystem>
#include <string>
#include <vector>

#include "schema/checkpoint.hpp"
#include "schema/sru/config.hpp"
#include "validate/tensor.hpp"

namespace supra::validate::sru {

using supra::sru::Config;

struct Layer {
  uint64_t n_in = 0, k = 3, projection = 0;
  bool attention = false;
  std::vector<float> v, b;   // weight_c, bias: [forget | reset] halves of 2*O
  float scale_x = 1;
  // SRU: U = x W^T, or (x W0^T) W1^T with a projection.
  Mat<float> w, w0, w1;
  // SRU++ attention: W_q [P, n_in], W_kv [2P, P], W_o [O*k, P], rezero alpha.
  Mat<float> q, kv, out;
  float alpha = 1;
  // SRU++ projected linear: [P, n_in], [O*k, P].
  Mat<float> proj_in, proj_out;
  std::vector<float> tm_norm_w, tm_norm_b;      // [P], iff attn_layer_norm
  std::vector<float> cell_norm_w, cell_norm_b;  // [n_in] pre or [O] post, iff layer_norm
};

struct Model {
  Config config;
  std::string file;  // the checkpoint file (error messages)
  Checkpoint checkpoint;
  Mat<float> embed;  // [V, E]
  Mat<float> out;    // [V, O]
  std::vector<float> out_bias;
  Mat<float> input_to_hidden;  // [O, input_size] or empty
  std::vector<Layer> layers;
};

// Whether `path` (with `model_config`, which may be empty) names an SRU
// model: a folder holding sru_config.json, a config given whose "kind" is
// sru/srupp, or a checkpoint file with sru_config.json beside it.
bool is_sru_model(const std::filesystem::path& path, const std::filesystem::path& model_config);

// The config file of such a model.
std::filesystem::path config_path(const std::filesystem::path& path, const std::filesystem::path& model_config);
// Its checkpoint file: `path` itself, or the one .pt / .pth / .bin / .safetensors in the folder.
std::filesystem::path checkpoint_path(const std::filesystem::path& path);

Model open_model(const std::filesystem::path& path, const std::filesystem::path& model_config);
// For tests: a config and a checkpoint already read.
Model make_model(Config config, Checkpoint checkpoint, const std::string& file);

}  // namespace supra::validate::sru
