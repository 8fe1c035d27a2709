#include "converters/safetensors/safetensors_writer.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>

#include "schema/error.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;

// Reference writer order (tensor.rs `prepare`): dtype by descending
// alignment, ties by name. Lower rank = earlier.
int dtype_rank(DType t) {
  switch (t) {
    case DType::U64: return 0;
    case DType::I64: return 1;
    case DType::F64: return 2;
    case DType::F32: return 3;
    case DType::U32: return 4;
    case DType::I32: return 5;
    case DType::BF16: return 6;
    case DType::F16: return 7;
    case DType::U16: return 8;
    case DType::I16: return 9;
    case DType::F8_E4M3: return 10;
    case DType::F8_E5M2: return 11;
    case DType::I8: return 12;
    case DType::U8: return 13;
    case DType::BOOL: return 14;
  }
  return 15;
}

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

}  // namespace

std::vector<std::byte> safetensors_header(const std::map<std::string, std::string>& metadata,
                                          const std::vector<TensorInfo>& tensors,
                                          const std::vector<uint64_t>& begins) {
  // Hand-built so the field order is the reference's: __metadata__ first,
  // tensors in offset order, fields dtype, shape, data_offsets.
  std::string j = "{";
  bool first = true;
  if (!metadata.empty()) {
    j += "\"__metadata__\":{";
    bool first_kv = true;
    for (const auto& [k, v] : metadata) {
      if (!first_kv) j += ",";
      j += json_string(k) + ":" + json_string(v);
      first_kv = false;
    }
    j += "}";
    first = false;
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = tensors[i];
    if (!first) j += ",";
    first = false;
    std::string shape;
    for (size_t d = 0; d < t.shape.size(); ++d) shape += (d ? "," : "") + std::to_string(t.shape[d]);
    j += fmt::format("{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}", json_string(t.name),
                     dtype_name(t.dtype), shape, begins[i], begins[i] + t.nbytes());
  }
  j += "}";
  j.append((8 - j.size() % 8) % 8, ' ');
  if (j.size() > 100'000'000)
    throw bad_input("safetensors.301", {}, "header would exceed the 100 MB limit of safetensors readers");
  std::vector<std::byte> out(8 + j.size());
  const uint64_t n = j.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, j.data(), j.size());
  return out;
}

SafetensorsOutput layout_safetensors(const Checkpoint& ckpt, const fs::path& out,
                                     uint64_t max_shard_size) {
  SafetensorsOutput result;
  const std::string stem = names_a_folder(out) ? "model" : out.stem().string();

  // Names are checked over the whole checkpoint: duplicates of different
  // dtypes, or in different shards, would not meet in a per-shard check.
  std::set<std::string_view> names;
  for (const auto& t : ckpt.tensors) {
    if (t->name() == "__metadata__")
      throw bad_input("safetensors.302", {{}, t->name(), {}}, "a tensor cannot be named __metadata__");
    if (!names.insert(t->name()).second)
      throw bad_input("safetensors.303", {{}, t->name(), {}}, "two tensors have this name");
  }

  // Greedy sharding in checkpoint order (huggingface_hub's rule): a tensor
  // larger than the limit gets a shard of its own.
  std::vector<std::vector<TensorPtr>> shards(1);
  uint64_t current = 0;
  for (const auto& t : ckpt.tensors) {
    const uint64_t n = t->info().nbytes();
    if (max_shard_size && current > 0 && current + n > max_shard_size) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().push_back(t);
    current += n;
  }

  std::map<std::string, std::string> metadata = ckpt.metadata;
  metadata.emplace("format", "pt");  // transformers refuses files without it
  const size_t n_shards = shards.size();
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  std::map<std::string, std::string> sorted_map;
  uint64_t total_size = 0;
  for (size_t s = 0; s < n_shards; ++s) {
    auto& tensors = shards[s];
    std::stable_sort(tensors.begin(), tensors.end(), [](const TensorPtr& a, const TensorPtr& b) {
      return std::pair(dtype_rank(a->info().dtype), a->name()) <
             std::pair(dtype_rank(b->info().dtype), b->name());
    });
    FileBytePlan file;
    file.name = n_shards == 1 ? stem + ".safetensors"
                              : fmt::format("{}-{:05d}-of-{:05d}.safetensors", stem, s + 1, n_shards);
    std::vector<TensorInfo> infos;
    std::vector<uint64_t> begins;
    uint64_t offset = 0;
    for (const auto& t : tensors) {
      infos.push_back(t->info());
      begins.push_back(offset);
      offset += t->info().nbytes();
      sorted_map[t->name()] = file.name;
    }
    file.header = safetensors_header(metadata, infos, begins);
    for (size_t i = 0; i < tensors.size(); ++i)
      file.tensors.push_back({tensors[i], file.header.size() + begins[i]});
    file.size = file.header.size() + offset;
    total_size += offset;
    result.files.push_back(std::move(file));
  }
  if (n_shards > 1) {
    for (const auto& [k, v] : sorted_map) weight_map[k] = v;
    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", total_size}};
    index["weight_map"] = weight_map;
    const std::string text = index.dump(2) + "\n";
    FileBytePlan idx;
    idx.name = stem + ".safetensors.index.json";
    idx.header.resize(text.size());
    std::memcpy(idx.header.data(), text.data(), text.size());
    idx.size = text.size();
    result.files.push_back(std::move(idx));
  }
  return result;
}

WritePlan plan_safetensors(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) {
  return plan_from_byte_plans(layout_safetensors(ckpt, out, options.max_shard_size).files, options.threads);
}

WriteReport write_safetensors(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options,
                              OutputTransaction& tx) {
  WriteReport report;
  write_byte_plans(tx, layout_safetensors(ckpt, out, options.max_shard_size).files, options, report);
  return report;
}

}  // namespace supra
