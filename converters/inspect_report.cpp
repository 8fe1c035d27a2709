#include "converters/inspect_report.hpp"

#include <cmath>

#include "converters/hub/hub_cache.hpp"
#include "schema/relayout/convert_layout.hpp"
#include "converters/relayout/layout_pipeline.hpp"
#include "converters/gguf/dequantize.hpp"
#include "converters/gguf/ggml_types.hpp"
#include "schema/error.hpp"
#include "schema/supra_config.hpp"
#include "schema/tensor_stats.hpp"

namespace supra {
namespace {
// JSON has no NaN: a stat that does not exist (no finite values) is null.
nlohmann::ordered_json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}
// The model a config beside the checkpoint describes, when there is one and
// the tensor names fit a convention: architecture, naming, SUPRA fields.
std::optional<nlohmann::ordered_json> model_summary(const Checkpoint& ckpt, const std::filesystem::path& path) {
  try {
    const ModelSpec s = discover_model_spec(ckpt, path, {});
    const Convention& c = detect_convention(ckpt, s.architecture);
    nlohmann::ordered_json m{{"architecture", s.architecture}, {"convention", c.name}, {"layers", s.layers},
                             {"hidden", s.hidden}, {"heads", s.heads}, {"kv_heads", s.kv_heads}};
    if (s.supra) {
      uint64_t linear = 0;
      for (bool l : s.supra->linear_layers) linear += l;
      m["supra"] = {{"linear_layers", linear}, {"qk_dim", s.supra->qk_dim}, {"decay", supra_decay_name(s.supra->decay)},
                    {"decay_start", s.supra->decay_start ? nlohmann::ordered_json(*s.supra->decay_start) : nullptr},
                    {"qk_norm", s.supra->qk_norm}};
    }
    return m;
  } catch (const Error&) {
    return std::nullopt;  // no config, or names of no known convention: the tensors are still shown
  }
}

// What the file stores: a quantized GGUF tensor reads as F32 but is kept as
// its blocks, so it is shown with its ggml type and stored size.
struct Storage {
  std::string type;
  uint64_t bytes;
  const DequantizedTensorSource* quantized;
};

Storage storage_of(const TensorSource& t) {
  if (const auto* q = dynamic_cast<const DequantizedTensorSource*>(&t))
    return {ggml_type_label(q->ggml_type()), q->stored_bytes(), q};
  return {std::string(dtype_name(t.info().dtype)), t.info().nbytes(), nullptr};
}

}  // namespace

nlohmann::ordered_json inspect_checkpoint(const std::filesystem::path& given, const InspectOptions& options) {
  const std::filesystem::path path = resolve_hub_cache_repo(given);
  const Format& format = detect_input_format(path);
  const Checkpoint ckpt = format.read(path, options.read);
  nlohmann::ordered_json j;
  j["path"] = path.string();
  j["format"] = format.name;
  j["files"] = ckpt.files;
  j["tensor_count"] = ckpt.tensors.size();
  j["parameters"] = ckpt.total_params();
  uint64_t stored_bytes = 0;
  std::map<std::string, uint64_t> histogram;
  for (const auto& t : ckpt.tensors) {
    const Storage st = storage_of(*t);
    stored_bytes += st.bytes;
    histogram[st.type] += t->info().numel();
  }
  j["bytes"] = stored_bytes;
  j["dtypes"] = histogram;  // stored dtype (or ggml type) -> number of elements
  std::map<std::string, std::string> shown = ckpt.metadata;
  for (const auto& [key, line] : ckpt.display_metadata) shown[key] = line;  // the one-line form wins
  j["metadata"] = shown;
  if (auto m = model_summary(ckpt, path)) j["model"] = std::move(*m);
  auto& tensors = j["tensors"] = nlohmann::ordered_json::array();
  for (const auto& t : ckpt.tensors) {
    nlohmann::ordered_json row;
    row["name"] = t->name();
    const Storage st = storage_of(*t);
    row["dtype"] = st.type;
    row["shape"] = t->info().shape;
    row["bytes"] = st.bytes;
    // A quantized tensor reads as F32, or not at all without a dequantizer (null).
    if (st.quantized) row["reads_as"] = st.quantized->decodable() ? nlohmann::ordered_json("F32") : nullptr;
    if (options.stats && st.quantized && !st.quantized->decodable()) {
      row["stats"] = nullptr;
    } else if (options.stats) {
      const TensorStats s = compute_stats(*t);
      row["stats"] = {{"min", number_or_null(s.min)}, {"max", number_or_null(s.max)},
                      {"mean", number_or_null(s.mean)}, {"std", number_or_null(s.std)},
                      {"nan", s.nan}, {"inf", s.inf}};
    }
    tensors.push_back(std::move(row));
  }
  auto& skipped = j["skipped"] = nlohmann::ordered_json::array();  // entries that are no tensors supra reads
  for (const auto& e : ckpt.skipped) skipped.push_back({{"name", e.name}, {"type", e.type}, {"why", e.why}});
  return j;
}

}  // namespace supra
