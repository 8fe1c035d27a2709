#pragma once
// How much two models may differ and still "compute the same thing": default
// limits by the weight types involved (the looser model of the pair decides),
// overridable one by one from the command line. tolerances.cpp says where
// every default number comes from.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace supra {

// Weight precision classes, most precise first.
enum class PrecisionClass : uint8_t { F64, F32, F16, BF16, FP8, Q8, Q6, Q5, Q4, Q3, Q2 };

std::string_view precision_class_name(PrecisionClass c);  // "f64", "bf16", "q4"
// A class name, or a storage type: "F32", "bf16", "F8_E4M3", "Q8_0", "q4_k",
// "IQ3_S" (case-insensitive). nullopt for integer types and unknown names.
std::optional<PrecisionClass> precision_class_of(std::string_view type_name);
// The least precise class among storage types (storage_type_counts); F32
// when none is a float type.
PrecisionClass weakest_precision(const std::map<std::string, uint64_t>& storage_types);

struct Tolerances {
  PrecisionClass basis = PrecisionClass::F32;  // the class the defaults came from
  double kld_mean = 0;       // mean KL(pA || pB) <= this
  double kld_p99 = 0;        // 99th percentile of KLD <= this (inf: not checked)
  double kld_max = 0;        // max KLD <= this (inf: not checked)
  double logit_rel_l2 = 0;   // |zB - zA| / |zA| <= this
  double hidden_rel_l2 = 0;  // every hidden-state step's relative L2 <= this
  double top1_min = 0;       // same-top-1 share >= this (0..1)
  double ppl_log_ratio = 0;  // |ln(PPL_B / PPL_A)| <= this
};

// The defaults for class `c`.
Tolerances default_tolerances(PrecisionClass c);
// The defaults for comparing a model of class `a` with one of class `b`:
// the looser of the two.
Tolerances default_tolerances(PrecisionClass a, PrecisionClass b);

// What the user set (--tol-kld, --tol-kld-p99, --tol-kld-max, --tol-rel,
// --tol-hidden, --tol-top1, --tol-ppl). `rel` sets both relative limits;
// `hidden` then overrides the hidden-state one.
struct ToleranceOverrides {
  std::optional<double> kld, kld_p99, kld_max, rel, hidden, top1, ppl;
};
// Throws usage_error for a negative limit or a top-1 share above 1.
Tolerances apply_overrides(Tolerances t, const ToleranceOverrides& o);

}  // namespace supra
