// `supra diff` output: JSON and the terminal table.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>

#include "validate/tensor_diff.hpp"

namespace supra {
namespace {

using json = nlohmann::ordered_json;

constexpr std::array<TensorDiffStatus, 6> kStatuses = {
    TensorDiffStatus::Identical,  TensorDiffStatus::WithinTolerance, TensorDiffStatus::Different,
    TensorDiffStatus::MissingInA, TensorDiffStatus::MissingInB,      TensorDiffStatus::ShapeMismatch};

std::string status_key(TensorDiffStatus s) {
  std::string k(tensor_diff_status_name(s));
  std::replace(k.begin(), k.end(), ' ', '_');
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return k;
}

uint64_t count(const TensorDiffReport& r, TensorDiffStatus s) {
  return uint64_t(std::count_if(r.tensors.begin(), r.tensors.end(), [&](const auto& d) { return d.status == s; }));
}

std::string shape_text(const std::vector<uint64_t>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

std::string num(double v) { return std::isinf(v) ? "inf" : fmt::format("{:.4g}", v); }

bool compared(const TensorDiff& d) {
  return d.status == TensorDiffStatus::Identical || d.status == TensorDiffStatus::WithinTolerance ||
         d.status == TensorDiffStatus::Different;
}

json storage_json(const std::map<std::string, uint64_t>& m) {
  json j = json::object();
  for (const auto& [t, n] : m) j[t] = n;
  return j;
}

}  // namespace

nlohmann::ordered_json tensor_diff_json(const TensorDiffReport& r) {
  json counts = json::object();
  for (auto s : kStatuses) counts[status_key(s)] = count(r, s);
  json tensors = json::array();
  for (const auto& d : r.tensors) {
    const bool has_a = d.status != TensorDiffStatus::MissingInA, has_b = d.status != TensorDiffStatus::MissingInB;
    const bool cmp = compared(d);
    tensors.push_back({{"name", d.name},
                       {"status", status_key(d.status)},
                       {"shape_a", has_a ? json(d.shape_a) : json(nullptr)},
                       {"shape_b", has_b ? json(d.shape_b) : json(nullptr)},
                       {"dtype_a", has_a ? json(d.dtype_a) : json(nullptr)},
                       {"dtype_b", has_b ? json(d.dtype_b) : json(nullptr)},
                       {"elements", cmp ? json(d.elements) : json(nullptr)},
                       {"differing", cmp ? json(d.differing) : json(nullptr)},
                       {"max_abs", cmp ? json(d.max_abs) : json(nullptr)},
                       {"max_abs_index", cmp && d.differing ? json(d.max_abs_index) : json(nullptr)},
                       {"rel_l2", cmp ? json(d.rel_l2) : json(nullptr)}});
  }
  return {{"a", r.a},
          {"b", r.b},
          {"convention_a", r.convention_a},
          {"convention_b", r.convention_b},
          {"storage_a", storage_json(r.storage_a)},
          {"storage_b", storage_json(r.storage_b)},
          {"tolerance", r.tolerance},
          {"passed", r.passed},
          {"counts", counts},
          {"tensors", tensors}};
}

std::string render_tensor_diff_terminal(const TensorDiffReport& r, bool only_different) {
  std::vector<std::array<std::string, 6>> rows = {{"TENSOR", "SHAPE", "DTYPES", "STATUS", "MAX ABS", "REL L2"}};
  for (const auto& d : r.tensors) {
    if (only_different && (d.status == TensorDiffStatus::Identical || d.status == TensorDiffStatus::WithinTolerance))
      continue;
    const std::string shape = d.status == TensorDiffStatus::ShapeMismatch
                                  ? shape_text(d.shape_a) + " vs " + shape_text(d.shape_b)
                                  : shape_text(d.status == TensorDiffStatus::MissingInA ? d.shape_b : d.shape_a);
    const std::string types = (d.dtype_a.empty() ? "-" : d.dtype_a) + "/" + (d.dtype_b.empty() ? "-" : d.dtype_b);
    rows.push_back({d.name, shape, types, std::string(tensor_diff_status_name(d.status)),
                    compared(d) ? num(d.max_abs) : "", compared(d) ? num(d.rel_l2) : ""});
  }
  std::array<size_t, 6> w{};
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], row[i].size());
  std::string out = fmt::format("A: {}  ({})\nB: {}  ({})\n\n", r.a, r.convention_a, r.b, r.convention_b);
  for (const auto& row : rows)
    out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {:>{}}  {:>{}}\n", row[0], w[0], row[1], w[1], row[2], w[2],
                       row[3], w[3], row[4], w[4], row[5], w[5]);
  std::vector<std::string> parts;
  for (auto s : kStatuses)
    if (uint64_t n = count(r, s)) parts.push_back(fmt::format("{} {}", n, tensor_diff_status_name(s)));
  out += fmt::format("\n{} tensors: {}; tolerance {} -> {}\n", r.tensors.size(), fmt::join(parts, ", "),
                     num(r.tolerance), r.passed ? "SAME" : "DIFFERENT");
  return out;
}

}  // namespace supra
