#include "linearize/plan.hpp"

#include <cmath>

#include "schema/error.hpp"

namespace supra {
namespace {

// nn.Linear(in, out, bias=True) as a feature MLP: weight [out, in] and bias [out].
void add_linear(LayerPlan& lp, const std::string& name, uint64_t in, uint64_t out) {
  const bool identity = lp.init == FeatureInit::Identity;
  if (identity && in != out)
    throw usage_error("usage.identity", "--init identity needs a square feature MLP, but layer " +
                                            std::to_string(lp.layer) + "'s " + name + " is [" + std::to_string(out) +
                                            ", " + std::to_string(in) + "] (qk_dim != head_dim); use torch-default");
  const double bound = 1.0 / std::sqrt(double(in));  // nn.Linear: fan_in = in
  lp.tensors.push_back({name + ".weight", lp.layer, {out, in}, identity ? InitKind::Identity : InitKind::Uniform, bound});
  lp.tensors.push_back({name + ".bias", lp.layer, {out}, identity ? InitKind::Zeros : InitKind::Uniform, bound});
}

ModelSpec output_spec(const ModelSpec& source, const LinearizeRecipe& r, uint64_t qk_dim) {
  ModelSpec s = source;
  s.architecture = "supra";
  s.hf_model_type.clear();
  s.sliding_window = 0;  // linear attention has none; kept softmax layers are refused with one (target_warnings)
  // open_lm "rotary", as Mistral-SUPRA: the canonical rows are rotate-half whatever the source file used.
  s.rope_layout = RopeLayout::RotateHalf;
  SupraSpec sp;
  for (const auto& l : r.layers) sp.linear_layers.push_back(l.linear);
  sp.qk_dim = qk_dim;
  sp.v_dim = source.head_dim;
  sp.decay = r.decay;
  sp.decay_start = r.decay_start;
  sp.qk_norm = r.qk_norm;
  s.supra = sp;
  return s;
}

}  // namespace

uint64_t NewTensor::numel() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

LinearizePlan make_plan(const ModelSpec& source, const LinearizeRecipe& recipe) {
  LinearizePlan p;
  p.recipe = resolve_recipe(recipe, source.layers);
  p.source = source;
  const uint64_t qk_dim = recipe.qk_dim.value_or(source.head_dim);
  const uint64_t H = source.heads, Hkv = source.kv_heads, d = source.head_dim;
  for (uint64_t l = 0; l < source.layers; ++l) {
    LayerPlan lp;
    lp.layer = l;
    lp.linear = p.recipe.layers[l].linear;
    lp.init = p.recipe.layers[l].init;
    if (lp.linear) {
      // One dense layer over all heads (not per head); k gets its own only with GQA.
      add_linear(lp, "attn_feature_q", H * d, H * qk_dim);
      if (H != Hkv) add_linear(lp, "attn_feature_k", Hkv * d, Hkv * qk_dim);
      if (recipe.qk_norm) {
        // Over the flattened H * qk_dim vector, k after its repeat to H heads.
        lp.tensors.push_back({"attn_feature_q_norm.weight", l, {H * qk_dim}, InitKind::Ones, 0});
        lp.tensors.push_back({"attn_feature_k_norm.weight", l, {H * qk_dim}, InitKind::Ones, 0});
      }
    }
    for (const auto& t : lp.tensors) lp.params_added += t.numel();
    p.params_added += lp.params_added;
    p.layers.push_back(std::move(lp));
  }
  p.spec = output_spec(source, p.recipe, qk_dim);
  return p;
}

}  // namespace supra
