// The engine's forward pass on tiny models of every family: thread-count
// invariance, token-by-token decoding against whole-prompt logits, f32
// against f64, widening from bf16, the hidden-state taps and the refusals.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "schema/error.hpp"
#include "tests/validate/tiny_models.hpp"
#include "validate/evaluate.hpp"
#include "validate/forward.hpp"

namespace supra::validate {
namespace {

using test::Family;

const std::vector<uint32_t> kTokens = {3, 17, 42, 0, 49, 8, 8, 23, 31, 5, 12, 44, 1, 9, 36, 27, 14, 2, 40, 11};

template <class S>
Mat<S> prompt_logits(const Model& model, const std::vector<uint32_t>& tokens, int threads) {
  ThreadPool pool(threads);
  Forward<S> f(model, pool);
  DecodeState<S> state(model.spec().layers);
  return forward_tokens<S>(f, state, tokens, false);
}

template <class S>
double rel_l2(const Mat<S>& a, const Mat<double>& b) {
  return (a.template cast<double>() - b).norm() / b.norm();
}

class ForwardFamilies : public ::testing::TestWithParam<Family> {};

TEST_P(ForwardFamilies, ThreadCountDoesNotChangeOneBit) {
  const Model model(test::tiny_model(GetParam()));
  const Mat<float> one = prompt_logits<float>(model, kTokens, 1);
  for (int threads : {2, 3}) {
    const Mat<float> many = prompt_logits<float>(model, kTokens, threads);
    ASSERT_EQ(one.size(), many.size());
    EXPECT_EQ(std::memcmp(one.data(), many.data(), sizeof(float) * size_t(one.size())), 0) << threads << " threads";
  }
  const Mat<double> one64 = prompt_logits<double>(model, kTokens, 1), two64 = prompt_logits<double>(model, kTokens, 2);
  EXPECT_EQ(std::memcmp(one64.data(), two64.data(), sizeof(double) * size_t(one64.size())), 0);
}

TEST_P(ForwardFamilies, TokenByTokenDecodingGivesThePromptLogits) {
  const Model model(test::tiny_model(GetParam()));
  const Mat<double> prompt = prompt_logits<double>(model, kTokens, 2);
  ThreadPool pool(2);
  Forward<double> f(model, pool);
  DecodeState<double> state(model.spec().layers);
  // A 7-token prefix in one step, then one token at a time.
  const std::span<const uint32_t> all(kTokens);
  Mat<double> rows(prompt.rows(), prompt.cols());
  rows.topRows(7) = forward_tokens<double>(f, state, all.first(7), false);
  for (size_t t = 7; t < kTokens.size(); ++t) rows.row(Eigen::Index(t)) = forward_tokens<double>(f, state, all.subspan(t, 1), false);
  EXPECT_EQ(state.positions, kTokens.size());
  EXPECT_LT(rel_l2(rows, prompt), 1e-13);
  // The last-row-only head gives that row.
  DecodeState<double> fresh(model.spec().layers);
  const Mat<double> last = forward_tokens<double>(f, fresh, kTokens, true);
  ASSERT_EQ(last.rows(), 1);
  EXPECT_LT((last.row(0) - prompt.bottomRows(1)).norm() / prompt.bottomRows(1).norm(), 1e-14);
  // In f32 the one-row products round differently: close, not equal.
  const Mat<float> prompt32 = prompt_logits<float>(model, kTokens, 2);
  Forward<float> f32(model, pool);
  DecodeState<float> state32(model.spec().layers);
  Mat<float> rows32(prompt32.rows(), prompt32.cols());
  for (size_t t = 0; t < kTokens.size(); ++t)
    rows32.row(Eigen::Index(t)) = forward_tokens<float>(f32, state32, all.subspan(t, 1), false);
  EXPECT_LT(rel_l2(rows32, prompt32.cast<double>()), 1e-5);
}

TEST_P(ForwardFamilies, FloatIsCloseToDouble) {
  const Model model(test::tiny_model(GetParam()));
  const double err = rel_l2(prompt_logits<float>(model, kTokens, 2), prompt_logits<double>(model, kTokens, 2));
  EXPECT_LT(err, 1e-5);
  EXPECT_GT(err, 0.0);  // they are different computations
}

TEST_P(ForwardFamilies, Bf16WeightsWidenExactly) {
  // The same bf16-rounded values stored as bf16 or as f32 give the same bits.
  const Model bf16(test::tiny_model(GetParam(), DType::BF16, 7));
  CanonicalModel as_f32 = test::tiny_model(GetParam(), DType::BF16, 7);
  for (TensorPtr& t : as_f32.checkpoint.tensors) t = cast_if_float(t, DType::F32);
  as_f32.index();
  const Model f32(std::move(as_f32));
  const Mat<float> a = prompt_logits<float>(bf16, kTokens, 2), b = prompt_logits<float>(f32, kTokens, 2);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), sizeof(float) * size_t(a.size())), 0);
}

std::string family_name(const ::testing::TestParamInfo<Family>& info) {
  static const char* const names[] = {"Llama", "Qwen2", "Gpt2", "NeoX"};
  return names[int(info.param)];
}

INSTANTIATE_TEST_SUITE_P(Families, ForwardFamilies,
                         ::testing::Values(Family::Llama, Family::Qwen2, Family::Gpt2, Family::NeoX), family_name);

TEST(Forward, TheBranchesMatter) {
  // Each ModelSpec flag changes the logits, so none of them is ignored.
  const std::vector<uint32_t> tokens(kTokens.begin(), kTokens.begin() + 6);
  const Mat<double> base = prompt_logits<double>(Model(test::tiny_model(Family::NeoX)), tokens, 1);
  auto with = [&](auto change) {
    CanonicalModel m = test::tiny_model(Family::NeoX);
    change(m.spec);
    return rel_l2(prompt_logits<double>(Model(std::move(m)), tokens, 1), base);
  };
  EXPECT_GT(with([](ModelSpec& s) { s.parallel_residual = false; }), 1e-3);
  EXPECT_GT(with([](ModelSpec& s) { s.ffn_kind = FfnKind::GeluTanh; }), 1e-6);
  EXPECT_GT(with([](ModelSpec& s) { s.rotary_pct = 1.0; }), 1e-3);
  EXPECT_GT(with([](ModelSpec& s) { s.norm_eps = 1e-1; }), 1e-4);
  EXPECT_GT(with([](ModelSpec& s) { s.rope_theta = 100.0; }), 1e-4);
}

TEST(Forward, HiddenTapsSeeEveryStepAndTheParallelResidual) {
  const Model model(test::tiny_model(Family::NeoX));
  ThreadPool pool(1);
  Forward<double> f(model, pool);
  DecodeState<double> state(model.spec().layers);
  std::vector<std::string> keys;
  std::map<std::string, Mat<double>> seen;
  forward_tokens<double>(f, state, kTokens, false, [&](const std::string& key, const Mat<double>& h) {
    keys.push_back(key);
    seen[key] = h;
  });
  const std::vector<std::string> want = {"embed", "layer.0.attn", "layer.0.mlp", "layer.1.attn", "layer.1.mlp", "final_norm"};
  EXPECT_EQ(keys, want);
  // Driving the steps by hand gives the same states.
  Forward<double> g(model, pool);
  LayerState<double> scratch;
  g.embed(kTokens, 0);
  EXPECT_EQ((g.hidden() - seen["embed"]).norm(), 0.0);
  g.attention_step(0, scratch);
  EXPECT_EQ((g.hidden() - seen["layer.0.attn"]).norm(), 0.0);
  g.mlp_step(0);
  EXPECT_EQ((g.hidden() - seen["layer.0.mlp"]).norm(), 0.0);
}

TEST(Forward, RefusesAnIdOutsideTheVocabularyNamingIt) {
  const Model model(test::tiny_model(Family::Llama));
  TokenBatch b;
  b.sequences = {{1, 2, 50, 3}};
  b.source = "t.json";
  try {
    compute_logits(model, b, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("token id 50 at position 2"), std::string::npos) << e.what();
  }
}

TEST(Forward, RefusesLearnedPositionsPastTheTable) {
  const Model model(test::tiny_model(Family::Gpt2));  // 64 positions
  ThreadPool pool(1);
  Forward<float> f(model, pool);
  DecodeState<float> state(2);
  const std::vector<uint32_t> tokens(65, 1);
  try {
    forward_tokens<float>(f, state, tokens, true);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "forward.context");
  }
}

// ModelSpec::sliding_window comes with the spec readers written beside the
// engine; the check runs once both are merged (skipped before).
template <class Spec>
void expect_refusal_past_the_sliding_window() {
  if constexpr (requires(Spec s) { s.sliding_window = 8; }) {
    CanonicalModel m = test::tiny_model(Family::Llama);
    Spec& spec = m.spec;
    spec.sliding_window = 8;
    const Model model(std::move(m));
    ThreadPool pool(1);
    Forward<double> f(model, pool);
    DecodeState<double> state(model.spec().layers);
    const std::span<const uint32_t> all(kTokens);
    forward_tokens<double>(f, state, all.first(8), true);  // the whole window: full causal attention
    try {
      forward_tokens<double>(f, state, all.subspan(8, 1), true);
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.id(), "forward.sliding_window");
      EXPECT_NE(std::string(e.what()).find("position 8"), std::string::npos) << e.what();
    }
  } else {
    GTEST_SKIP() << "ModelSpec has no sliding_window on this branch";
  }
}

TEST(Forward, RefusesPositionsPastTheSlidingWindow) { expect_refusal_past_the_sliding_window<ModelSpec>(); }

TEST(Model, RefusesWrongShapesAndSupraLayersBeforeRunning) {
  CanonicalModel m = test::tiny_model(Family::Llama);
  m.spec.ffn = 40;  // the tensors are 48 wide
  try {
    Model model(std::move(m));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "forward.shape");
    EXPECT_EQ(e.where().tensor, "layers.0.ffn_gate.weight");
  }
  // SUPRA layers are computed (tests/validate/supra_attention_test.cpp); a SUPRA
  // section the tensors do not back is refused before running.
  CanonicalModel s = test::tiny_model(Family::Llama);
  s.spec.supra = SupraSpec{};  // on architecture llama: inconsistent
  try {
    Model model(std::move(s));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "spec.102");
  }
  CanonicalModel f = test::tiny_model(Family::Llama);
  f.spec.architecture = "supra";
  f.spec.supra = SupraSpec{std::vector<bool>(f.spec.layers, true), f.spec.head_dim, 0, SupraDecay::None, {}, false};
  try {
    Model model(std::move(f));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "model.missing");
    EXPECT_EQ(e.where().tensor, "layers.0.attn_feature_q.weight");
  }
  CanonicalModel q = test::tiny_model(Family::Llama);
  q.spec.attn_qkv_bias = true;  // the config promises biases the file does not have
  EXPECT_THROW(Model(std::move(q)), Error);
}

TEST(Generate, GreedyContinuationIsTheArgmaxOfThePromptLogits) {
  const Model model(test::tiny_model(Family::Llama));
  GenerateOptions o;
  o.max_new = 5;
  o.precision = Precision::F64;
  const std::vector<uint32_t> prompt = {3, 17, 42};
  const std::vector<uint32_t> out = generate(model, prompt, o).ids;
  ASSERT_EQ(out.size(), 5u);
  // Re-run each extended prompt from scratch: its last row's argmax is the next id.
  std::vector<uint32_t> seq = prompt;
  for (uint32_t next : out) {
    const Mat<double> logits = prompt_logits<double>(model, seq, 1);
    Eigen::Index best;
    logits.row(logits.rows() - 1).maxCoeff(&best);
    EXPECT_EQ(uint32_t(best), next);
    seq.push_back(next);
  }
}

}  // namespace
}  // namespace supra::validate
