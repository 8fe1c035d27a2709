// The pure parts of the linearizer: recipe parsing, layer selection, the
// plan's parameter counts, and the counter-based init (any chunking gives the
// same bytes). Expected counts follow the shapes in the SUPRA reference
// (../shared/reference/supra-layer.md), e.g. Mistral-7B's published sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "linearize/init.hpp"
#include "linearize/plan.hpp"
#include "linearize/recipe.hpp"
#include "schema/error.hpp"
#include "schema/float_convert.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using json = nlohmann::json;

using supra::test::error_id;

ModelSpec mistral_7b() {
  ModelSpec s = spec_with_forward_facts("llama");
  s.hidden = 4096, s.layers = 32, s.heads = 32, s.kv_heads = 8, s.head_dim = 128, s.ffn = 14336, s.vocab = 32000;
  return s;
}

TEST(LayerSelection, ListsEveryAndLast) {
  EXPECT_EQ(parse_layer_selection("0,16", 32), (std::vector<uint64_t>{0, 16}));
  EXPECT_EQ(parse_layer_selection("16,0,16", 32), (std::vector<uint64_t>{0, 16}));
  EXPECT_EQ(parse_layer_selection("every:8", 32), (std::vector<uint64_t>{0, 8, 16, 24}));
  EXPECT_EQ(parse_layer_selection("last:2", 32), (std::vector<uint64_t>{30, 31}));
  EXPECT_TRUE(parse_layer_selection("none", 32).empty());
  for (const char* bad : {"32", "every:0", "last:33", "x", "1,,2", "-1", "every:"})
    EXPECT_EQ(error_id([&] { parse_layer_selection(bad, 32); }), "usage.keep-softmax") << bad;
}

TEST(Recipe, JsonRoundTripAndStrictness) {
  LinearizeRecipe r;
  r.seed = 42;
  r.decay = SupraDecay::Lightning;
  r.decay_start = 0.25;
  r.qk_norm = true;
  r = resolve_recipe(r, 4, "every:2");
  r.layers[1].init = FeatureInit::Identity;
  const LinearizeRecipe back = recipe_from_json(json(recipe_to_json(r)), "r.json");
  EXPECT_EQ(back.seed, 42u);
  EXPECT_EQ(back.decay_start, 0.25);
  EXPECT_TRUE(back.qk_norm);
  ASSERT_EQ(back.layers.size(), 4u);
  EXPECT_FALSE(back.layers[0].linear);
  EXPECT_TRUE(back.layers[1].linear);
  EXPECT_EQ(back.layers[1].init, FeatureInit::Identity);
  EXPECT_EQ(back.layers[3].init, FeatureInit::TorchDefault);

  EXPECT_EQ(error_id([] { recipe_from_json(json::parse(R"({"sed": 1})"), "r"); }), "recipe.101");
  EXPECT_EQ(error_id([] { recipe_from_json(json::parse(R"({"seed": -1})"), "r"); }), "recipe.102");
  EXPECT_EQ(error_id([] { recipe_from_json(json::parse(R"({"decay": "exp"})"), "r"); }), "recipe.103");
  EXPECT_EQ(error_id([] { recipe_from_json(json::parse(R"({"decay": "retnet", "decay_start": 0.5})"), "r"); }),
            "recipe.103");
  EXPECT_EQ(error_id([] { recipe_from_json(json::parse(R"({"layers": [{"layer": 1}]})"), "r"); }), "recipe.103");
  EXPECT_EQ(error_id([] { recipe_from_json(json::parse(R"({"layers": [{"layer": 0, "attention": "rnn"}]})"), "r"); }),
            "recipe.103");
  EXPECT_EQ(error_id([] { resolve_recipe(recipe_from_json(json::parse(R"({"layers": [{"layer": 0}]})"), "r"), 2); }),
            "usage.recipe");
}

TEST(Plan, Mistral7BParameters) {
  const LinearizePlan p = make_plan(mistral_7b(), LinearizeRecipe{});
  // _totrain_embed [4096, 4096] + [4096]; _totrain_embed_kv [1024, 1024] + [1024] (reference, Mistral-7B).
  const uint64_t per_layer = 4096ull * 4096 + 4096 + 1024ull * 1024 + 1024;
  ASSERT_EQ(p.layers.size(), 32u);
  EXPECT_EQ(p.layers[0].params_added, per_layer);
  EXPECT_EQ(p.params_added, 32 * per_layer);
  EXPECT_DOUBLE_EQ(p.layers[0].tensors[0].bound, 1.0 / 64);
  EXPECT_DOUBLE_EQ(p.layers[0].tensors[2].bound, 1.0 / 32);
  EXPECT_EQ(p.spec.architecture, "supra");
  EXPECT_EQ(p.spec.supra->qk_dim, 128u);
  EXPECT_NO_THROW(p.spec.check("plan"));
}

TEST(Plan, MhaSharesTheMlpQkNormAndHybrid) {
  ModelSpec s = mistral_7b();
  s.kv_heads = 32;
  LinearizeRecipe r;
  r.qk_norm = true;
  const LinearizePlan p = make_plan(s, resolve_recipe(r, 32, "last:2"));
  EXPECT_EQ(p.layers[0].tensors.size(), 4u);  // embed weight, bias, q norm, k norm: no embed_kv
  EXPECT_EQ(p.layers[0].params_added, 4096ull * 4096 + 4096 + 2 * 4096);
  EXPECT_TRUE(p.layers[31].tensors.empty());
  EXPECT_FALSE(p.spec.supra->linear_layers[30]);
  r.init = FeatureInit::Identity;
  r.qk_dim = 64;
  EXPECT_EQ(error_id([&] { make_plan(s, r); }), "usage.identity");
}

std::vector<std::byte> read_in_chunks(const TensorSource& t, std::mt19937& rng) {
  const size_t es = dtype_size(t.info().dtype), n = t.info().nbytes();
  std::vector<std::byte> out(n);
  std::vector<std::pair<size_t, size_t>> chunks;
  for (size_t at = 0; at < n;) {
    const size_t len = std::min(n - at, es * (1 + rng() % 97));
    chunks.emplace_back(at, len);
    at += len;
  }
  std::shuffle(chunks.begin(), chunks.end(), rng);
  for (auto [at, len] : chunks) t.read(at, std::span<std::byte>(out.data() + at, len), nullptr);
  return out;
}

TEST(Init, AnyChunkingGivesTheSameBytes) {
  const NewTensor t{"attn_feature_q.weight", 3, {48, 40}, InitKind::Uniform, 1 / std::sqrt(40.0)};
  std::mt19937 rng(5);
  for (DType d : {DType::F32, DType::BF16, DType::F16, DType::F64}) {
    const TensorPtr a = make_init_tensor(t, d, 9, "x");
    const std::vector<std::byte> whole = a->read_all();
    EXPECT_EQ(read_in_chunks(*a, rng), whole);
    EXPECT_EQ(make_init_tensor(t, d, 9, "y")->read_all(), whole);  // the name does not matter
    EXPECT_NE(make_init_tensor(t, d, 10, "x")->read_all(), whole);
    NewTensor other_layer = t;
    other_layer.layer = 4;
    EXPECT_NE(make_init_tensor(other_layer, d, 9, "x")->read_all(), whole);
  }
}

TEST(Init, UniformStaysWithinTheBoundInEveryDtype) {
  // sqrt(3) is irrational: the bound is not representable, rounding could cross it.
  const double bound = 1 / std::sqrt(3.0);
  const NewTensor t{"attn_feature_q.bias", 0, {200000}, InitKind::Uniform, bound};
  for (DType d : {DType::F32, DType::BF16, DType::F16}) {
    const std::vector<std::byte> b = make_init_tensor(t, d, 1, "b")->read_all();
    std::vector<float> v(t.numel());
    CastStats stats;
    cast_elements(d, b.data(), DType::F32, reinterpret_cast<std::byte*>(v.data()), v.size(), stats);
    double max = 0, sum = 0;
    for (float x : v) max = std::max(max, std::fabs(double(x))), sum += x;
    EXPECT_LE(max, bound) << dtype_name(d);
    EXPECT_GT(max, bound * 0.99) << dtype_name(d);
    EXPECT_LT(std::fabs(sum / double(v.size())), 0.01) << dtype_name(d);
  }
}

TEST(Init, IdentityZerosOnes) {
  const std::vector<std::byte> e = make_init_tensor({"w", 0, {3, 3}, InitKind::Identity, 0}, DType::F32, 0, "e")->read_all();
  std::vector<float> v(9);
  std::memcpy(v.data(), e.data(), 36);
  EXPECT_EQ(v, (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  const std::vector<std::byte> ones = make_init_tensor({"g", 0, {2}, InitKind::Ones, 0}, DType::BF16, 0, "g")->read_all();
  uint16_t h[2];
  std::memcpy(h, ones.data(), 4);
  EXPECT_EQ(bf16_to_f32(h[0]), 1.0f);
  EXPECT_EQ(bf16_to_f32(h[1]), 1.0f);
  EXPECT_EQ(error_id([] { make_init_tensor({"w", 0, {2}, InitKind::Ones, 0}, DType::I32, 0, "w"); }), "usage.dtype");
}

}  // namespace
}  // namespace supra
