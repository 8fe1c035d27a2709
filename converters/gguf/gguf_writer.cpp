#include "converters/gguf/gguf_writer.hpp"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <set>
#include <span>

#include "converters/gguf/dequantize.hpp"
#include "converters/gguf/ggml_types.hpp"
#include "converters/gguf/gguf_reader.hpp"
#include "converters/gguf/gguf_split.hpp"
#include "converters/gguf/quantize.hpp"
#include "schema/error.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;

// llama_ftype values (llama.h) for general.file_type.
constexpr uint32_t kFileTypeAllF32 = 0, kFileTypeMostlyF16 = 1, kFileTypeMostlyQ8_0 = 7, kFileTypeMostlyBF16 = 32;
constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION

class Bytes {
 public:
  template <typename T>
  void put(T v) {
    const size_t at = out_.size();
    out_.resize(at + sizeof(T));
    std::memcpy(out_.data() + at, &v, sizeof(T));
  }
  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    const size_t at = out_.size();
    out_.resize(at + s.size());
    if (!s.empty()) std::memcpy(out_.data() + at, s.data(), s.size());
  }
  std::vector<std::byte>& bytes() { return out_; }

 private:
  std::vector<std::byte> out_;
};

void put_scalar(Bytes& b, const GgufValue& v, const std::string& key) {
  switch (v.type) {
    case GgufValueType::U8: b.put<uint8_t>(uint8_t(v.u)); return;
    case GgufValueType::I8: b.put<int8_t>(int8_t(v.i)); return;
    case GgufValueType::U16: b.put<uint16_t>(uint16_t(v.u)); return;
    case GgufValueType::I16: b.put<int16_t>(int16_t(v.i)); return;
    case GgufValueType::U32: b.put<uint32_t>(uint32_t(v.u)); return;
    case GgufValueType::I32: b.put<int32_t>(int32_t(v.i)); return;
    case GgufValueType::F32: b.put<float>(float(v.f)); return;
    case GgufValueType::BOOL: b.put<int8_t>(v.b ? 1 : 0); return;
    case GgufValueType::STRING: b.put_string(v.s); return;
    case GgufValueType::U64: b.put<uint64_t>(v.u); return;
    case GgufValueType::I64: b.put<int64_t>(v.i); return;
    case GgufValueType::F64: b.put<double>(v.f); return;
    case GgufValueType::ARRAY: break;
  }
  throw bad_input("gguf.306", {}, "key '" + key + "': nested arrays cannot be written");
}

void check_kvs(const std::vector<GgufKV>& kvs) {
  std::set<std::string_view> seen;
  for (const GgufKV& kv : kvs) {
    if (kv.key.empty()) throw bad_input("gguf.305", {}, "a metadata key is empty");
    if (!seen.insert(kv.key).second) throw bad_input("gguf.305", {}, "duplicate metadata key '" + kv.key + "'");
    if (static_cast<uint32_t>(kv.value.type) >= kGgufValueTypeCount ||
        (kv.value.type == GgufValueType::ARRAY &&
         (static_cast<uint32_t>(kv.value.element_type) >= kGgufValueTypeCount ||
          kv.value.element_type == GgufValueType::ARRAY)))
      throw bad_input("gguf.306", {}, "key '" + kv.key + "' has an invalid value type");
    if (kv.value.type == GgufValueType::ARRAY)
      for (const GgufValue& item : kv.value.items)
        if (item.type != kv.value.element_type)
          throw bad_input("gguf.306", {}, "array '" + kv.key + "' mixes element types");
  }
  if (const GgufKV* a = find_gguf_kv(kvs, "general.alignment")) {
    if (a->value.type != GgufValueType::U32 || a->value.u == 0 || (a->value.u & (a->value.u - 1)) != 0)
      throw bad_input("gguf.307", {}, "general.alignment must be a u32 power of two, not " +
                                          std::string(gguf_value_type_name(a->value.type)) + " " +
                                          gguf_value_summary(a->value));
  }
}

uint64_t pad_to(uint64_t x, uint64_t alignment) { return (x + alignment - 1) / alignment * alignment; }

// What one checkpoint tensor becomes in the file.
struct Planned {
  TensorPtr source;  // streams the bytes written
  GgufOutput::Tensor tensor;
  bool quantized_here = false;  // made Q8_0 by this write (not copied from a quantized source)
};

// gguf.303 with what works: --dtype casts only floats, so an integer or
// bool tensor can only be left out (or kept in a format that holds it).
Error no_gguf_type(const TensorInfo& info) {
  const std::string remedy =
      dtype_is_float(info.dtype)
          ? "cast it (--dtype f16, bf16 or f32)"
          : fmt::format("--dtype casts only floats, so leave it out (--exclude '^{}$') or write a format that holds "
                        "{} (.safetensors, .npz)", info.name, dtype_name(info.dtype));
  return bad_input("gguf.303", {{}, info.name, {}}, fmt::format("GGUF has no {} type; {}", dtype_name(info.dtype), remedy));
}

Planned plan_tensor(const TensorPtr& t, const GgufWriteOptions& options) {
  const TensorInfo& info = t->info();
  const ErrorContext where{{}, info.name, {}};
  if (info.name.size() > kGgufMaxNameBytes)
    throw bad_input("gguf.301", where,
                    fmt::format("tensor name is {} bytes; GGUF (ggml) allows at most {} — rename it first",
                                info.name.size(), kGgufMaxNameBytes));
  if (info.shape.size() > kGgufMaxDims)
    throw bad_input("gguf.302", where, fmt::format("tensor has {} dimensions; GGUF allows at most {}", info.shape.size(), kGgufMaxDims));
  // Quantized blocks read from a GGUF are copied as they are: never dequantized and requantized.
  if (const auto* q = dynamic_cast<const DequantizedTensorSource*>(t.get()))
    return {q->blocks(), {info.name, q->ggml_type(), info.shape}};
  if (!dtype_gguf_type(info.dtype)) throw no_gguf_type(info);
  const bool is_float = dtype_is_float(info.dtype);
  if (options.quantize == "q8_0" && is_float) {
    if (info.shape.size() == 2 && info.shape[1] % kQ8_0BlockElements == 0)
      return {std::make_shared<Q8_0TensorSource>(t), {info.name, ggml::Q8_0, info.shape}, true};
    if (info.shape.size() == 1) {
      TensorPtr f32 = cast_if_float(t, DType::F32);
      return {f32, {info.name, ggml::F32, info.shape}};
    }
  }
  return {t, {info.name, *dtype_gguf_type(info.dtype), info.shape}};
}

// general.file_type / general.quantization_version describing what is written.
void describe_file_type(std::vector<GgufKV>& kvs, const std::vector<Planned>& planned) {
  bool quantized = false, quantized_here = false;
  std::map<uint32_t, uint64_t> matrix_elements;  // ggml type -> elements in tensors of rank >= 2
  for (const Planned& p : planned) {
    const GgmlType* t = find_ggml_type(p.tensor.ggml_type);
    if (t && t->block_size > 1) quantized = true;
    quantized_here = quantized_here || p.quantized_here;
    if (p.tensor.shape.size() >= 2) {
      uint64_t n = 1;
      for (uint64_t d : p.tensor.shape) n *= d;
      matrix_elements[p.tensor.ggml_type] += n;
    }
  }
  if (quantized) {
    // Copied quantized tensors keep the source's file_type (it named their mix).
    if (quantized_here) set_gguf_kv(kvs, "general.file_type", GgufValue::u32(kFileTypeMostlyQ8_0));
    if (quantized_here || !find_gguf_kv(kvs, "general.quantization_version"))
      set_gguf_kv(kvs, "general.quantization_version", GgufValue::u32(kQuantizationVersion));
    return;
  }
  erase_gguf_kv(kvs, "general.quantization_version");
  if (!find_gguf_kv(kvs, "general.file_type")) return;
  uint32_t dominant = ggml::F32;
  uint64_t most = 0;
  for (const auto& [type, n] : matrix_elements)
    if (n > most) most = n, dominant = type;
  const uint32_t ftype = dominant == ggml::F16 ? kFileTypeMostlyF16 : dominant == ggml::BF16 ? kFileTypeMostlyBF16 : kFileTypeAllF32;
  set_gguf_kv(kvs, "general.file_type", GgufValue::u32(ftype));
}

}  // namespace

std::vector<std::byte> gguf_header(const std::vector<GgufKV>& kvs, const std::vector<GgufOutput::Tensor>& tensors,
                                   const std::vector<uint64_t>& offsets, uint64_t alignment) {
  Bytes b;
  b.put<uint32_t>(0x46554747);  // "GGUF"
  b.put<uint32_t>(3);
  b.put<int64_t>(int64_t(tensors.size()));
  b.put<int64_t>(int64_t(kvs.size()));
  for (const GgufKV& kv : kvs) {
    b.put_string(kv.key);
    b.put<uint32_t>(static_cast<uint32_t>(kv.value.type));
    if (kv.value.type == GgufValueType::ARRAY) {
      b.put<uint32_t>(static_cast<uint32_t>(kv.value.element_type));
      b.put<uint64_t>(kv.value.items.size());
      for (const GgufValue& item : kv.value.items) put_scalar(b, item, kv.key);
    } else {
      put_scalar(b, kv.value, kv.key);
    }
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufOutput::Tensor& t = tensors[i];
    b.put_string(t.name);
    // A scalar is written as one dimension of 1 (ggml has no rank 0).
    const std::vector<uint64_t> ne = t.shape.empty() ? std::vector<uint64_t>{1}
                                                      : std::vector<uint64_t>(t.shape.rbegin(), t.shape.rend());
    b.put<uint32_t>(uint32_t(ne.size()));
    for (uint64_t d : ne) b.put<int64_t>(int64_t(d));
    b.put<uint32_t>(t.ggml_type);
    b.put<uint64_t>(offsets[i]);
  }
  if (!tensors.empty()) b.bytes().resize(pad_to(b.bytes().size(), alignment), std::byte{0});
  return std::move(b.bytes());
}

namespace {

// Every tensor planned, the KVs made true to them, and the alignment.
struct PlannedFile {
  std::vector<Planned> tensors;
  std::vector<GgufKV> kvs;
  uint64_t alignment = kGgufDefaultAlignment;
};

PlannedFile plan_file(const Checkpoint& ckpt, std::vector<GgufKV> kvs, const GgufWriteOptions& options) {
  if (!options.quantize.empty() && options.quantize != "q8_0")
    throw usage_error("usage.quantize", "unknown quantization '" + options.quantize + "' (supported: q8_0)");
  PlannedFile plan;
  std::set<std::string_view> names;
  for (const TensorPtr& t : ckpt.tensors) {
    if (!names.insert(t->name()).second) throw bad_input("gguf.304", {{}, t->name(), {}}, "two tensors have this name");
    plan.tensors.push_back(plan_tensor(t, options));
  }
  describe_file_type(kvs, plan.tensors);
  check_kvs(kvs);
  const GgufKV* a = find_gguf_kv(kvs, "general.alignment");
  plan.alignment = a ? a->value.u : kGgufDefaultAlignment;
  plan.kvs = std::move(kvs);
  return plan;
}

// One file holding `tensors` (a range of the plan) with `kvs`.
GgufOutput lay_out_file(std::span<const Planned> tensors, const std::vector<GgufKV>& kvs, uint64_t alignment,
                        std::string name) {
  GgufOutput result;
  std::vector<uint64_t> offsets;
  uint64_t data_size = 0;
  for (const Planned& p : tensors) {
    offsets.push_back(data_size);
    const uint64_t n = p.source->info().nbytes();
    if (__builtin_add_overflow(data_size, pad_to(n, alignment), &data_size) || pad_to(n, alignment) < n)
      throw bad_input("gguf.308", {{}, p.tensor.name, {}}, "the file size overflows 64 bits");
    result.tensors.push_back(p.tensor);
  }
  result.file.name = std::move(name);
  result.file.header = gguf_header(kvs, result.tensors, offsets, alignment);
  const uint64_t data_start = result.file.header.size();
  for (size_t i = 0; i < tensors.size(); ++i) result.file.tensors.push_back({tensors[i].source, data_start + offsets[i]});
  result.file.size = data_start + data_size;  // padding after each tensor is the zero gap
  return result;
}

}  // namespace

GgufOutput layout_gguf(const Checkpoint& ckpt, std::vector<GgufKV> kvs, const fs::path& out,
                       const GgufWriteOptions& options) {
  const PlannedFile plan = plan_file(ckpt, std::move(kvs), options);
  return lay_out_file(plan.tensors, plan.kvs, plan.alignment, out.filename().string());
}

std::vector<GgufOutput> layout_gguf_split(const Checkpoint& ckpt, std::vector<GgufKV> kvs, const fs::path& out,
                                          const GgufWriteOptions& options, uint64_t max_shard_size) {
  erase_gguf_split_kvs(kvs);  // a split source read as one model; set again below if this output is split
  PlannedFile plan = plan_file(ckpt, std::move(kvs), options);
  std::vector<uint64_t> sizes;
  for (const Planned& p : plan.tensors) sizes.push_back(p.source->info().nbytes());
  const std::vector<size_t> starts = gguf_split_starts(sizes, max_shard_size);
  if (starts.size() <= 1) return {lay_out_file(plan.tensors, plan.kvs, plan.alignment, out.filename().string())};
  std::vector<GgufOutput> files;
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t end = i + 1 < starts.size() ? starts[i + 1] : plan.tensors.size();
    // Like gguf-split: every KV in the first file, only the split keys in the others.
    std::vector<GgufKV> shard_kvs = i == 0 ? plan.kvs : std::vector<GgufKV>{};
    if (i != 0 && find_gguf_kv(plan.kvs, "general.alignment"))
      shard_kvs.push_back(*find_gguf_kv(plan.kvs, "general.alignment"));
    add_gguf_split_kvs(shard_kvs, i, starts.size(), plan.tensors.size());
    files.push_back(lay_out_file(std::span(plan.tensors).subspan(starts[i], end - starts[i]), shard_kvs,
                                 plan.alignment, gguf_split_name(out, i, starts.size()).filename().string()));
  }
  return files;
}

std::vector<GgufKV> default_gguf_kvs(const Checkpoint& ckpt, const std::string& architecture) {
  std::vector<GgufKV> kvs;
  if (ckpt.format_metadata.contains("gguf")) kvs = gguf_kvs_from_json(ckpt.format_metadata["gguf"]);
  else kvs.push_back({"general.architecture", GgufValue::string(architecture.empty() ? "unknown" : architecture)});
  // String metadata rides along as supra.meta.<key> (read back as <key>),
  // also beside typed KVs that a re-layout or a GGUF source supplied.
  for (const auto& [key, value] : ckpt.metadata)
    if (!key.starts_with("gguf.") && !find_gguf_kv(kvs, "supra.meta." + key))
      kvs.push_back({"supra.meta." + key, GgufValue::string(value)});
  return kvs;
}

namespace {
std::vector<GgufOutput> registered_layouts(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) {
  return layout_gguf_split(ckpt, default_gguf_kvs(ckpt), out, GgufWriteOptions{options.quantize},
                           options.max_shard_size);
}
std::vector<FileBytePlan> files_of(const std::vector<GgufOutput>& layouts) {
  std::vector<FileBytePlan> files;
  for (const GgufOutput& l : layouts) files.push_back(l.file);
  return files;
}
}  // namespace

WritePlan plan_gguf(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options) {
  const std::vector<GgufOutput> layouts = registered_layouts(ckpt, out, options);
  WritePlan plan = plan_from_byte_plans(files_of(layouts), options.threads);
  // Quantized tensors stream as raw bytes; show their real shape.
  std::vector<const GgufOutput::Tensor*> tensors;
  for (const GgufOutput& l : layouts)
    for (const GgufOutput::Tensor& t : l.tensors) tensors.push_back(&t);
  for (size_t i = 0; i < plan.tensors.size() && i < tensors.size(); ++i) {
    const GgmlType* t = find_ggml_type(tensors[i]->ggml_type);
    if (t && t->block_size > 1) plan.tensors[i].shape = tensors[i]->shape;
  }
  return plan;
}

WriteReport write_gguf(const Checkpoint& ckpt, const fs::path& out, const WriteOptions& options,
                       OutputTransaction& tx) {
  WriteReport report;
  write_byte_plans(tx, files_of(registered_layouts(ckpt, out, options)), options, report);
  return report;
}

}  // namespace supra
