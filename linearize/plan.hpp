#pragma once
// The per-layer plan of a linearization: which layers become SUPRA linear
// attention, which new tensors each gets (canonical id, shape, how it is
// initialized), how many parameters that adds, and the ModelSpec of the
// result. Pure bookkeeping: no tensor is touched here.
#include <cstdint>
#include <string>
#include <vector>

#include "linearize/recipe.hpp"
#include "schema/model_spec.hpp"

namespace supra {

enum class InitKind {
  Uniform,   // U(-bound, bound), counter-based and seeded (linearize/init.hpp)
  Identity,  // ones on the diagonal of a square matrix
  Zeros,
  Ones,      // norm gains
};

struct NewTensor {
  std::string id;  // canonical id ("attn_feature_q.weight")
  uint64_t layer = 0;
  std::vector<uint64_t> shape;
  InitKind init = InitKind::Uniform;
  double bound = 0;  // Uniform: 1 / sqrt(fan_in)
  uint64_t numel() const;
};

struct LayerPlan {
  uint64_t layer = 0;
  bool linear = true;
  FeatureInit init = FeatureInit::TorchDefault;
  std::vector<NewTensor> tensors;  // empty for a softmax layer
  uint64_t params_added = 0;
};

struct LinearizePlan {
  LinearizeRecipe recipe;  // resolved: one entry per layer
  ModelSpec source;
  ModelSpec spec;          // of the linearized model (architecture "supra", supra section set)
  std::vector<LayerPlan> layers;
  uint64_t params_added = 0;
  uint64_t source_params = 0;  // of the source's canonical tensors (tied output counted once)
};

// Throws usage_error(usage.identity) when --init identity meets a feature MLP
// that is not square (qk_dim != head_dim).
LinearizePlan make_plan(const ModelSpec& source, const LinearizeRecipe& recipe);

}  // namespace supra
