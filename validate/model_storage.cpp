#include "validate/model_storage.hpp"

#include "converters/gguf/dequantize.hpp"
#include "converters/gguf/ggml_types.hpp"
#include "converters/open_model.hpp"

namespace supra {

std::string storage_type_of(const TensorSource& tensor) {
  if (const auto* q = dynamic_cast<const DequantizedTensorSource*>(&tensor)) return ggml_type_label(q->ggml_type());
  return std::string(dtype_name(tensor.info().dtype));
}

std::map<std::string, uint64_t> storage_type_counts(const Checkpoint& raw) {
  std::map<std::string, uint64_t> counts;
  for (const auto& t : raw.tensors)
    if (dtype_is_float(t->info().dtype)) counts[storage_type_of(*t)] += t->info().numel();
  return counts;
}

OpenedModel open_model_with_storage(const std::filesystem::path& path, const LayoutRequest& request,
                                    const ReadOptions& read) {
  const Format& format = detect_input_format(path);
  const Checkpoint raw = format.read(path, read);
  OpenedModel m;
  m.path = path;
  m.storage_types = storage_type_counts(raw);
  m.model = to_canonical_model(raw, path, request);
  return m;
}

}  // namespace supra
