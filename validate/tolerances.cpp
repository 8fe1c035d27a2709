#include "validate/tolerances.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>

#include "schema/error.hpp"

namespace supra {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct ClassRow {
  PrecisionClass cls;
  std::string_view name;
  double rel_l2, kld_mean, top1_min, ppl_log_ratio;
};

// Where these numbers come from: tools/derive_tolerances.py (run it to see
// the table; seeded, so it prints the same numbers). In short:
//  rel_l2   = 2 (margin) x 2 (depth gain) x the relative error e that storing
//             a weight in that type causes in one random Gaussian matmul
//             (x ~ N(0,1), W ~ N(0,1/K), K = 2048, f32 accumulation), with the
//             ggml block quantizers of that bit width; floored at 1e-5 for
//             f32 and 1e-10 for f64, issue 8's bars for our forward pass
//             against PyTorch (other exp/rsqrt/summation orders, which one
//             matmul does not show). The depth gain 2 is calibrated on
//             llama.cpp's published 8B-Llama KLDs (Q8_0 ~1e-3, Q4_0 ~5e-2).
//  kld_mean = the mean KLD of Gaussian logits (std 3, 32000 ids) perturbed
//             by that relative error, rounded up.
//  top1_min = the 0.1% quantile of same-top-1 over 64-position runs of those
//             logits, rounded down (Gaussian logits are the least peaked a
//             model can be, so this is the most flips to expect); f32/f64
//             allow 1 flip in 1000 for exact ties.
//  ppl      = the 99.9% quantile of |ln(PPL_B/PPL_A)| over such runs (next
//             tokens drawn from A), rounded up.
// Every default lies above what llama.cpp reports for good quantizations of
// that width, and far below what a conversion bug does (a wrong q/k
// permutation or a dropped norm gives mean KLDs of nats, errors of order 1).
// The 99% and max KLD are reported but not checked by default (their tails
// depend on the text more than on the conversion): set --tol-kld-p99/-max.
// tools/derive_tolerances.py prints (class, e, rel, kld, top1, ln ppl):
//   f64 1.76e-15 1e-10 ~0 1.000 1.11e-10     q8 0.00535 0.0214 0.002 0.844 0.0257
//   f32 8.1e-07 1e-05 4.36e-10 1.000 1.18e-05 q6 0.0187 0.0749 0.0244 0.703 0.0963
//   f16 0.000206 0.000826 3e-06 0.969 0.00099 q5 0.0428 0.171 0.127 0.484 0.338
//   bf16 0.00165 0.00662 0.000191 0.922 0.00814 q4 0.086 0.344 0.515 0.219 0.895
//   fp8 0.0264 0.106 0.0491 0.594 0.153      q3 0.156 0.622 1.65 0.062 2.29; q2 0.327 1.31 6.7 0 8.29
// A KLD computed in double has rounding noise near 1e-16 (it is not
// quadratic in tiny differences), hence f64's 1e-15. Below 4 bits the plain
// block quantizers of the script err more than the K-quants they stand for,
// so the q3/q2 defaults catch only gross breakage: set --tol-kld there.
constexpr std::array<ClassRow, 11> kClasses = {{
    {PrecisionClass::F64, "f64", 1e-10, 1e-15, 0.999, 1.2e-10},
    {PrecisionClass::F32, "f32", 1e-5, 5e-10, 0.999, 1.2e-5},
    {PrecisionClass::F16, "f16", 8.3e-4, 3.1e-6, 0.96, 1e-3},
    {PrecisionClass::BF16, "bf16", 6.7e-3, 2e-4, 0.92, 8.2e-3},
    {PrecisionClass::FP8, "fp8", 0.11, 0.05, 0.59, 0.16},
    {PrecisionClass::Q8, "q8", 0.022, 2.1e-3, 0.84, 0.026},
    {PrecisionClass::Q6, "q6", 0.075, 0.025, 0.70, 0.097},
    {PrecisionClass::Q5, "q5", 0.18, 0.13, 0.48, 0.34},
    {PrecisionClass::Q4, "q4", 0.35, 0.52, 0.21, 0.9},
    {PrecisionClass::Q3, "q3", 0.63, 1.7, 0.06, 2.3},
    {PrecisionClass::Q2, "q2", 1.4, 6.8, 0.0, 8.3},
}};

const ClassRow& row_of(PrecisionClass c) { return kClasses[size_t(c)]; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

std::string_view precision_class_name(PrecisionClass c) { return row_of(c).name; }

std::optional<PrecisionClass> precision_class_of(std::string_view type_name) {
  const std::string t = lower(type_name);
  for (const auto& r : kClasses)
    if (t == r.name) return r.cls;
  if (t == "float64") return PrecisionClass::F64;
  if (t == "float32") return PrecisionClass::F32;
  if (t == "float16" || t == "fp16") return PrecisionClass::F16;
  if (t == "bfloat16") return PrecisionClass::BF16;
  if (t.starts_with("f8_") || t.starts_with("fp8")) return PrecisionClass::FP8;
  // ggml block types by bit width: Q8_0, Q6_K, Q5_K, IQ4_XS, Q3_K, IQ2_S, IQ1_M, TQ1_0 ...
  const bool ggml = t.starts_with("q") || t.starts_with("iq") || t.starts_with("tq");
  const size_t digit = t.find_first_of("0123456789");
  if (!ggml || digit == std::string::npos || digit > 2) return std::nullopt;
  switch (t[digit]) {
    case '8': return PrecisionClass::Q8;
    case '6': return PrecisionClass::Q6;
    case '5': return PrecisionClass::Q5;
    case '4': return PrecisionClass::Q4;
    case '3': return PrecisionClass::Q3;
    case '2': case '1': return PrecisionClass::Q2;
    default: return std::nullopt;
  }
}

PrecisionClass weakest_precision(const std::map<std::string, uint64_t>& storage_types) {
  PrecisionClass worst = PrecisionClass::F32;
  bool any = false;
  for (const auto& [type, count] : storage_types) {
    const auto c = precision_class_of(type);
    if (!c || count == 0) continue;
    worst = any ? std::max(worst, *c, [](auto x, auto y) { return row_of(x).rel_l2 < row_of(y).rel_l2; }) : *c;
    any = true;
  }
  return worst;
}

Tolerances default_tolerances(PrecisionClass c) {
  const ClassRow& r = row_of(c);
  Tolerances t;
  t.basis = c;
  t.kld_mean = r.kld_mean;
  t.kld_p99 = kInf;
  t.kld_max = kInf;
  t.logit_rel_l2 = r.rel_l2;
  t.hidden_rel_l2 = r.rel_l2;
  t.top1_min = r.top1_min;
  t.ppl_log_ratio = r.ppl_log_ratio;
  return t;
}

Tolerances default_tolerances(PrecisionClass a, PrecisionClass b) {
  return default_tolerances(row_of(a).rel_l2 >= row_of(b).rel_l2 ? a : b);
}

Tolerances apply_overrides(Tolerances t, const ToleranceOverrides& o) {
  auto set = [](double& field, const std::optional<double>& v, const char* flag) {
    if (!v) return;
    if (!(*v >= 0)) throw usage_error("usage.tolerance", fmt::format("{} must be a number >= 0, got {}", flag, *v));
    field = *v;
  };
  set(t.kld_mean, o.kld, "--tol-kld");
  set(t.kld_p99, o.kld_p99, "--tol-kld-p99");
  set(t.kld_max, o.kld_max, "--tol-kld-max");
  set(t.logit_rel_l2, o.rel, "--tol-rel");
  set(t.hidden_rel_l2, o.rel, "--tol-rel");
  set(t.hidden_rel_l2, o.hidden, "--tol-hidden");
  set(t.top1_min, o.top1, "--tol-top1");
  set(t.ppl_log_ratio, o.ppl, "--tol-ppl");
  if (t.top1_min > 1) throw usage_error("usage.tolerance", fmt::format("--tol-top1 is a share (0..1), got {}", t.top1_min));
  return t;
}

}  // namespace supra
