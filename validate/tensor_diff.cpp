#include "validate/tensor_diff.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "schema/tensor_stats.hpp"

namespace supra {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Running comparison of two value streams.
struct DiffSums {
  uint64_t differing = 0, max_index = 0;
  double max_abs = 0, diff2 = 0, ref2 = 0;

  void add(const double* a, const double* b, size_t n, uint64_t first_index) {
    for (size_t i = 0; i < n; ++i) {
      const double x = a[i], y = b[i];
      if (x == y || (std::isnan(x) && std::isnan(y))) {
        if (std::isfinite(x)) ref2 += x * x;
        continue;
      }
      ++differing;
      const double d = std::isfinite(x) && std::isfinite(y) ? std::fabs(y - x) : kInf;
      if (d > max_abs || differing == 1) max_abs = d, max_index = first_index + i;
      if (std::isfinite(d)) diff2 += d * d, ref2 += x * x;
      else diff2 = kInf;
    }
  }
  double rel_l2() const { return ref2 > 0 ? std::sqrt(diff2 / ref2) : diff2 == 0 ? 0 : kInf; }
};

void read_chunk(const TensorSource& t, uint64_t first, size_t n, std::vector<std::byte>& raw, std::vector<double>& out) {
  const size_t es = dtype_size(t.info().dtype);
  raw.resize(n * es);
  t.read(first * es, raw);
  out.resize(n);
  decode_to_double(t.info().dtype, raw.data(), n, out.data());
}

}  // namespace

std::string_view tensor_diff_status_name(TensorDiffStatus s) {
  switch (s) {
    case TensorDiffStatus::Identical: return "identical";
    case TensorDiffStatus::WithinTolerance: return "within tolerance";
    case TensorDiffStatus::Different: return "different";
    case TensorDiffStatus::MissingInA: return "missing in A";
    case TensorDiffStatus::MissingInB: return "missing in B";
    case TensorDiffStatus::ShapeMismatch: return "shape mismatch";
  }
  return "?";
}

TensorDiff diff_tensors(const std::string& name, const TensorSource* a, const TensorSource* b,
                        const TensorDiffOptions& options) {
  TensorDiff d;
  d.name = name;
  if (a) d.shape_a = a->info().shape, d.dtype_a = dtype_name(a->info().dtype);
  if (b) d.shape_b = b->info().shape, d.dtype_b = dtype_name(b->info().dtype);
  if (!a || !b) {
    d.status = a ? TensorDiffStatus::MissingInB : TensorDiffStatus::MissingInA;
    return d;
  }
  if (d.shape_a != d.shape_b) {
    d.status = TensorDiffStatus::ShapeMismatch;
    return d;
  }
  d.elements = a->info().numel();
  DiffSums sums;
  std::vector<std::byte> raw;
  std::vector<double> va, vb;
  const uint64_t chunk = std::max<uint64_t>(1, options.chunk_elements);
  for (uint64_t at = 0; at < d.elements; at += chunk) {
    const size_t n = size_t(std::min(chunk, d.elements - at));
    read_chunk(*a, at, n, raw, va);
    read_chunk(*b, at, n, raw, vb);
    sums.add(va.data(), vb.data(), n, at);
  }
  d.differing = sums.differing;
  d.max_abs = sums.max_abs;
  d.max_abs_index = sums.max_index;
  d.rel_l2 = sums.rel_l2();
  d.status = d.differing == 0                 ? TensorDiffStatus::Identical
             : d.max_abs <= options.tolerance ? TensorDiffStatus::WithinTolerance
                                              : TensorDiffStatus::Different;
  return d;
}

TensorDiffReport diff_models(const OpenedModel& a, const OpenedModel& b, const TensorDiffOptions& options) {
  TensorDiffReport r;
  r.a = a.path.string(), r.b = b.path.string();
  r.convention_a = a.model.source_convention, r.convention_b = b.model.source_convention;
  r.storage_a = a.storage_types, r.storage_b = b.storage_types;
  r.tolerance = options.tolerance;
  std::set<std::string> seen;
  for (const auto& t : a.model.checkpoint.tensors) {
    seen.insert(t->name());
    r.tensors.push_back(diff_tensors(t->name(), t.get(), b.model.checkpoint.find(t->name()), options));
  }
  for (const auto& t : b.model.checkpoint.tensors)
    if (!seen.count(t->name())) r.tensors.push_back(diff_tensors(t->name(), nullptr, t.get(), options));
  for (const auto& d : r.tensors)
    if (d.status != TensorDiffStatus::Identical && d.status != TensorDiffStatus::WithinTolerance) r.passed = false;
  return r;
}

}  // namespace supra
