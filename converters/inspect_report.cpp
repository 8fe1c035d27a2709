#include "converters/inspect_report.hpp"

#include <cmath>

#include "schema/tensor_stats.hpp"

namespace supra {
namespace {
// JSON has no NaN: a stat that does not exist (no finite values) is null.
nlohmann::ordered_json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}
}  // namespace

nlohmann::ordered_json inspect_checkpoint(const std::filesystem::path& path, const InspectOptions& options) {
  const Format& format = detect_input_format(path);
  const Checkpoint ckpt = format.read(path, options.read);
  nlohmann::ordered_json j;
  j["path"] = path.string();
  j["format"] = format.name;
  j["files"] = ckpt.files;
  j["tensor_count"] = ckpt.tensors.size();
  j["parameters"] = ckpt.total_params();
  j["bytes"] = ckpt.total_bytes();
  std::map<std::string, uint64_t> histogram;
  for (const auto& t : ckpt.tensors) histogram[std::string(dtype_name(t->info().dtype))] += t->info().numel();
  j["dtypes"] = histogram;  // dtype -> number of elements
  std::map<std::string, std::string> shown = ckpt.metadata;
  shown.insert(ckpt.display_metadata.begin(), ckpt.display_metadata.end());
  j["metadata"] = shown;
  auto& tensors = j["tensors"] = nlohmann::ordered_json::array();
  for (const auto& t : ckpt.tensors) {
    nlohmann::ordered_json row;
    row["name"] = t->name();
    row["dtype"] = dtype_name(t->info().dtype);
    row["shape"] = t->info().shape;
    row["bytes"] = t->info().nbytes();
    if (options.stats) {
      const TensorStats s = compute_stats(*t);
      row["stats"] = {{"min", number_or_null(s.min)}, {"max", number_or_null(s.max)},
                      {"mean", number_or_null(s.mean)}, {"std", number_or_null(s.std)},
                      {"nan", s.nan}, {"inf", s.inf}};
    }
    tensors.push_back(std::move(row));
  }
  return j;
}

}  // namespace supra
