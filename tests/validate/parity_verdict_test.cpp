// Tolerance defaults and overrides, the per-layer first divergence, and a
// verdict that names every failing check.
#include <gtest/gtest.h>

#include <cmath>

#include "schema/error.hpp"
#include "validate/hidden_state_errors.hpp"
#include "validate/parity_verdict.hpp"
#include "validate/tolerances.hpp"

namespace supra {
namespace {

TEST(Tolerances, ClassesFromStorageTypeNames) {
  EXPECT_EQ(precision_class_of("F32"), PrecisionClass::F32);
  EXPECT_EQ(precision_class_of("bf16"), PrecisionClass::BF16);
  EXPECT_EQ(precision_class_of("fp16"), PrecisionClass::F16);
  EXPECT_EQ(precision_class_of("F8_E4M3"), PrecisionClass::FP8);
  EXPECT_EQ(precision_class_of("Q8_0"), PrecisionClass::Q8);
  EXPECT_EQ(precision_class_of("q6_k"), PrecisionClass::Q6);
  EXPECT_EQ(precision_class_of("Q5_1"), PrecisionClass::Q5);
  EXPECT_EQ(precision_class_of("IQ4_XS"), PrecisionClass::Q4);
  EXPECT_EQ(precision_class_of("Q3_K"), PrecisionClass::Q3);
  EXPECT_EQ(precision_class_of("IQ1_M"), PrecisionClass::Q2);
  EXPECT_EQ(precision_class_of("I64"), std::nullopt);
  EXPECT_EQ(precision_class_of("q9"), std::nullopt);
  EXPECT_EQ(weakest_precision({{"F32", 10}, {"Q4_K", 100}, {"Q6_K", 5}}), PrecisionClass::Q4);
  EXPECT_EQ(weakest_precision({{"BF16", 10}, {"F16", 10}}), PrecisionClass::BF16);
  EXPECT_EQ(weakest_precision({}), PrecisionClass::F32);
}

TEST(Tolerances, DefaultsGrowWithCoarserTypesAndTheLooserSideDecides) {
  const PrecisionClass order[] = {PrecisionClass::F64, PrecisionClass::F32, PrecisionClass::F16, PrecisionClass::BF16,
                                  PrecisionClass::Q8, PrecisionClass::Q6, PrecisionClass::Q5, PrecisionClass::Q4,
                                  PrecisionClass::Q3, PrecisionClass::Q2};
  for (size_t i = 1; i < std::size(order); ++i) {
    const Tolerances lo = default_tolerances(order[i - 1]), hi = default_tolerances(order[i]);
    EXPECT_LT(lo.logit_rel_l2, hi.logit_rel_l2) << precision_class_name(order[i]);
    EXPECT_LT(lo.kld_mean, hi.kld_mean) << precision_class_name(order[i]);
    EXPECT_GE(lo.top1_min, hi.top1_min) << precision_class_name(order[i]);
    EXPECT_LT(lo.ppl_log_ratio, hi.ppl_log_ratio) << precision_class_name(order[i]);
  }
  EXPECT_EQ(default_tolerances(PrecisionClass::F32).logit_rel_l2, 1e-5);  // issue 8's f32 bar
  EXPECT_EQ(default_tolerances(PrecisionClass::F32, PrecisionClass::Q8).basis, PrecisionClass::Q8);
  EXPECT_EQ(default_tolerances(PrecisionClass::Q4, PrecisionClass::BF16).basis, PrecisionClass::Q4);
  EXPECT_TRUE(std::isinf(default_tolerances(PrecisionClass::Q8).kld_max));
}

TEST(Tolerances, OverridesSetOneLimitEach) {
  ToleranceOverrides o;
  o.rel = 0.5;
  o.hidden = 0.25;
  o.top1 = 0.9;
  const Tolerances t = apply_overrides(default_tolerances(PrecisionClass::F32), o);
  EXPECT_EQ(t.logit_rel_l2, 0.5);
  EXPECT_EQ(t.hidden_rel_l2, 0.25);
  EXPECT_EQ(t.top1_min, 0.9);
  EXPECT_EQ(t.kld_mean, default_tolerances(PrecisionClass::F32).kld_mean);
  o = {};
  o.kld = -1;
  EXPECT_THROW(apply_overrides(t, o), Error);
  o = {};
  o.top1 = 99;  // a percentage where a share is expected
  EXPECT_THROW(apply_overrides(t, o), Error);
}

std::vector<HiddenStepError> steps_with_jump_at(size_t jump) {
  std::vector<HiddenStepError> steps;
  const std::vector<float> a(6, 1.0f);
  for (size_t i = 0; i < 6; ++i) {
    std::vector<float> b = a;
    b[0] += i < jump ? 1e-7f : 0.5f;
    steps.push_back(hidden_step_error(i / 2, i % 2 ? "mlp" : "attn", a, b, 2, 3));
  }
  return steps;
}

TEST(HiddenStates, RelativeErrorAndFirstDivergence) {
  const std::vector<double> a = {3, 4}, b = {3, 4.5};
  const auto e = hidden_step_error(2, "attn", std::span<const double>(a), std::span<const double>(b), 1, 2);
  EXPECT_NEAR(e.rel_l2, 0.5 / 5, 1e-15);
  EXPECT_EQ(e.max_abs, 0.5);
  const auto steps = steps_with_jump_at(3);
  EXPECT_EQ(first_divergence(steps, 1e-3), 3u);
  EXPECT_EQ(step_label(steps[3]), "layer 1 mlp");
  EXPECT_EQ(first_divergence(steps, 1.0), std::nullopt);
  std::vector<double> nan_b = {3, NAN};
  const auto n = hidden_step_error(0, "x", std::span<const double>(a), std::span<const double>(nan_b), 1, 2);
  EXPECT_EQ(n.nonfinite, 1u);
  EXPECT_EQ(first_divergence({n}, 1e9), 0u);
  EXPECT_THROW(hidden_step_error(0, "x", std::span<const double>(a), std::span<const double>(b), 2, 2), Error);
}

TEST(Verdict, NamesEveryFailingCheckAndTheFirstDivergence) {
  LogitMetrics m;
  m.positions = m.scored = 10;
  m.kld.mean = 0.5;
  m.same_top1 = 0.95;
  m.rel_l2_logit_error = 1e-7;
  m.ln_ppl_ratio = -0.2;
  Tolerances t = default_tolerances(PrecisionClass::F32);
  const ParityVerdict v = judge_parity(&m, steps_with_jump_at(3), t);
  EXPECT_FALSE(v.passed);
  EXPECT_EQ(v.failed(), (std::vector<std::string>{"kld_mean", "top1", "ppl_ratio", "hidden_rel_l2"}));
  EXPECT_EQ(v.first_divergence, 3u);
  EXPECT_EQ(v.checks.back().where, "layer 1 mlp");
  // p99 and max KLD are checked only when a limit is set.
  for (const auto& c : v.checks) EXPECT_NE(c.name, "kld_max");
  t.kld_max = 1;
  t.kld_mean = t.ppl_log_ratio = t.hidden_rel_l2 = 1;
  t.top1_min = 0.9;
  const ParityVerdict ok = judge_parity(&m, steps_with_jump_at(3), t);
  EXPECT_TRUE(ok.passed) << ok.failed().size();
  EXPECT_TRUE(std::any_of(ok.checks.begin(), ok.checks.end(), [](auto& c) { return c.name == "kld_max"; }));
}

TEST(Verdict, NanFailsAndHiddenNonFiniteFailsFinite) {
  LogitMetrics m;
  m.kld.mean = NAN;
  m.same_top1 = 1;
  const ParityVerdict v = judge_parity(&m, {}, default_tolerances(PrecisionClass::Q4));
  EXPECT_EQ(v.failed(), std::vector<std::string>{"kld_mean"});
  HiddenStepError s{0, "attn", 1, 1, NAN, 0, 1};
  const ParityVerdict h = judge_parity(nullptr, {s}, default_tolerances(PrecisionClass::Q4));
  EXPECT_EQ(h.failed(), (std::vector<std::string>{"finite", "hidden_rel_l2"}));
}

}  // namespace
}  // namespace supra
