#pragma once
// `supra diff A B`: two checkpoints compared tensor by tensor, matched by
// canonical role and layer, so a Hugging Face folder and its GGUF (other
// names, other q/k row order, fused or not) line up. Each pair is read chunk
// by chunk and widened to f64: memory stays at two chunks whatever the size.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "schema/tensor_source.hpp"
#include "validate/model_storage.hpp"

namespace supra {

enum class TensorDiffStatus { Identical, WithinTolerance, Different, MissingInA, MissingInB, ShapeMismatch };
std::string_view tensor_diff_status_name(TensorDiffStatus s);  // "identical", "missing in A", ...

struct TensorDiff {
  std::string name;  // canonical: "layers.3.attn_q.weight"
  TensorDiffStatus status = TensorDiffStatus::Identical;
  std::vector<uint64_t> shape_a, shape_b;
  std::string dtype_a, dtype_b;  // as the canonical view reads them (a quantized GGUF tensor reads as F32)
  uint64_t elements = 0;
  uint64_t differing = 0;     // elements whose values differ (NaN equals NaN)
  double max_abs = 0;         // max |b - a|; inf when a NaN or inf meets something else
  uint64_t max_abs_index = 0;  // flat row-major index of that element
  double rel_l2 = 0;          // |b - a| / |a| over the finite pairs (inf if a is 0 and b is not)
};

struct TensorDiffOptions {
  double tolerance = 0;              // max abs diff allowed; 0: values must be equal
  uint64_t chunk_elements = 1 << 20;  // values read at a time from each tensor
};

struct TensorDiffReport {
  std::string a, b;
  std::string convention_a, convention_b;
  std::map<std::string, uint64_t> storage_a, storage_b;
  double tolerance = 0;
  std::vector<TensorDiff> tensors;  // A's order, then the tensors only B has
  bool passed = true;               // nothing different beyond the tolerance, missing or reshaped
};

// One pair; either side may be null (missing).
TensorDiff diff_tensors(const std::string& name, const TensorSource* a, const TensorSource* b,
                        const TensorDiffOptions& options);
TensorDiffReport diff_models(const OpenedModel& a, const OpenedModel& b, const TensorDiffOptions& options);

// JSON: {a, b, convention_a, convention_b, storage_a, storage_b, tolerance, passed,
//        counts: {identical, within_tolerance, different, missing_in_a, missing_in_b, shape_mismatch},
//        tensors: [{name, status, shape_a, shape_b, dtype_a, dtype_b, elements, differing,
//                   max_abs, max_abs_index, rel_l2}]}   (a missing side's fields are null)
nlohmann::ordered_json tensor_diff_json(const TensorDiffReport& r);
// An aligned table (100 columns); `only_different` leaves out identical and within-tolerance rows.
std::string render_tensor_diff_terminal(const TensorDiffReport& r, bool only_different);

}  // namespace supra
