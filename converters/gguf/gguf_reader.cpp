#include "converters/gguf/gguf_reader.hpp"

#include <fmt/format.h>

#include <cstring>
#include <set>

#include "converters/gguf/dequantize.hpp"
#include "converters/gguf/ggml_types.hpp"
#include "converters/gguf/gguf_split.hpp"
#include "converters/json_strict.hpp"
#include "schema/error.hpp"

namespace supra {
namespace {

// ggml's limits on untrusted sizes (src/gguf.cpp).
constexpr uint64_t kMaxStringLength = 1ull << 30;  // GGUF_MAX_STRING_LENGTH
constexpr uint64_t kMaxArrayElements = 1ull << 30;  // GGUF_MAX_ARRAY_ELEMENTS
// Fewest bytes a KV / a tensor info can take; bounds counts before any allocation.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;
// Memory the parsed metadata may take: a 1-byte u8 array element becomes a
// GgufValue and a JSON value (~110 bytes), so without a budget a 25 MB file
// takes 3 GB. Real metadata (a 256 K vocabulary) takes under 100 MB.
constexpr uint64_t kBaseMetadataBudget = 256ull << 20;
constexpr uint64_t kMetadataBytesPerFileByte = 4;
constexpr uint64_t kBytesPerParsedValue = sizeof(GgufValue) + sizeof(nlohmann::ordered_json);

// Reads little-endian fields from the mapped header, checking every length
// against the bytes that are left.
class Cursor {
 public:
  Cursor(std::span<const std::byte> bytes, std::string file) : bytes_(bytes), file_(std::move(file)) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  const std::string& file() const { return file_; }

  template <typename T>
  T get(const char* what, const std::string& tensor = {}) {
    T v;
    need(sizeof(T), what, tensor);
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string string(const char* what, const std::string& tensor = {}) {
    const uint64_t at = pos_;
    const uint64_t n = get<uint64_t>(what, tensor);
    if (n > kMaxStringLength || n > remaining())
      throw bad_input("gguf.108", {file_, tensor, at},
                      fmt::format("{} has length {} but only {} bytes follow (limit {})", what, n, remaining(),
                                  kMaxStringLength));
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), size_t(n));
    pos_ += n;
    return s;
  }

 private:
  void need(uint64_t n, const char* what, const std::string& tensor) {
    if (n > remaining())
      throw bad_input("gguf.107", {file_, tensor, pos_},
                      fmt::format("file ends inside the header while reading {} ({} bytes left, {} needed)", what,
                                  remaining(), n));
  }

  std::span<const std::byte> bytes_;
  std::string file_;
  uint64_t pos_ = 0;
};

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

GgufValue read_scalar(Cursor& c, GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: return GgufValue::uint(t, c.get<uint8_t>("a u8 value"));
    case GgufValueType::I8: return GgufValue::sint(t, c.get<int8_t>("an i8 value"));
    case GgufValueType::U16: return GgufValue::uint(t, c.get<uint16_t>("a u16 value"));
    case GgufValueType::I16: return GgufValue::sint(t, c.get<int16_t>("an i16 value"));
    case GgufValueType::U32: return GgufValue::uint(t, c.get<uint32_t>("a u32 value"));
    case GgufValueType::I32: return GgufValue::sint(t, c.get<int32_t>("an i32 value"));
    case GgufValueType::F32: return GgufValue::real(t, c.get<float>("an f32 value"));
    // gguf.cpp reads bools as int8 and takes any non-zero as true.
    case GgufValueType::BOOL: return GgufValue::boolean(c.get<int8_t>("a bool value") != 0);
    case GgufValueType::STRING: return GgufValue::string(c.string("a string value"));
    case GgufValueType::U64: return GgufValue::uint(t, c.get<uint64_t>("a u64 value"));
    case GgufValueType::I64: return GgufValue::sint(t, c.get<int64_t>("an i64 value"));
    case GgufValueType::F64: return GgufValue::real(t, c.get<double>("an f64 value"));
    case GgufValueType::ARRAY: break;
  }
  throw std::logic_error("read_scalar: not a scalar type");
}

// Counts the memory of parsed values against the file's metadata budget (gguf.129).
class MetadataBudget {
 public:
  explicit MetadataBudget(uint64_t file_size) : limit_(kBaseMetadataBudget + kMetadataBytesPerFileByte * file_size) {}
  void charge(const Cursor& c, uint64_t at, const std::string& key, uint64_t values, uint64_t text_bytes) {
    used_ += values * kBytesPerParsedValue + 2 * text_bytes;  // strings are held twice (value and JSON)
    if (used_ > limit_)
      throw bad_input("gguf.129", {c.file(), {}, at},
                      fmt::format("metadata up to key '{}' takes more than {} MiB in memory: refused as a memory bomb",
                                  key, limit_ >> 20));
  }

 private:
  uint64_t limit_, used_ = 0;
};

void check_utf8(const Cursor& c, const std::string& text, uint64_t at, const char* what, const std::string& tensor) {
  if (first_invalid_utf8(text))
    throw bad_input("gguf.128", {c.file(), tensor, at}, fmt::format("{} is not valid UTF-8", what));
}

GgufValue read_value(Cursor& c, uint32_t raw_type, const std::string& key, uint64_t type_at, MetadataBudget& budget) {
  if (raw_type >= kGgufValueTypeCount)
    throw bad_input("gguf.111", {c.file(), {}, type_at}, fmt::format("key '{}' has unknown value type {}", key, raw_type));
  const auto type = static_cast<GgufValueType>(raw_type);
  if (type != GgufValueType::ARRAY) {
    GgufValue v = read_scalar(c, type);
    budget.charge(c, type_at, key, 1, v.s.size());
    return v;
  }

  const uint64_t elem_at = c.pos();
  const uint32_t raw_elem = c.get<uint32_t>("an array element type");
  if (raw_elem >= kGgufValueTypeCount || raw_elem == uint32_t(GgufValueType::ARRAY))
    throw bad_input("gguf.112", {c.file(), {}, elem_at},
                    fmt::format("array '{}' has invalid element type {} (nested arrays are not allowed)", key, raw_elem));
  const auto elem = static_cast<GgufValueType>(raw_elem);
  const uint64_t count_at = c.pos();
  const uint64_t count = c.get<uint64_t>("an array length");
  // A string takes at least its 8-byte length.
  const uint64_t min_elem = elem == GgufValueType::STRING ? 8 : gguf_value_type_size(elem);
  if (count > kMaxArrayElements || count > c.remaining() / min_elem)
    throw bad_input("gguf.113", {c.file(), {}, count_at},
                    fmt::format("array '{}' claims {} elements but only {} bytes follow (limit {} elements)", key,
                                count, c.remaining(), kMaxArrayElements));
  budget.charge(c, count_at, key, count, 0);
  std::vector<GgufValue> items;
  items.reserve(size_t(count));
  for (uint64_t i = 0; i < count; ++i) {
    items.push_back(read_scalar(c, elem));
    if (!items.back().s.empty()) budget.charge(c, count_at, key, 0, items.back().s.size());
  }
  return GgufValue::array(elem, std::move(items));
}

uint64_t pad_to(uint64_t x, uint64_t alignment) { return (x + alignment - 1) / alignment * alignment; }

void read_kvs(Cursor& c, GgufFile& g, uint64_t n_kv) {
  std::set<std::string> seen;
  MetadataBudget budget(c.remaining() + c.pos());
  for (uint64_t i = 0; i < n_kv; ++i) {
    const uint64_t at = c.pos();
    std::string key = c.string("a key");
    if (key.empty()) throw bad_input("gguf.109", {c.file(), {}, at}, fmt::format("key #{} is empty", i));
    check_utf8(c, key, at, "a key", {});
    if (!seen.insert(key).second) throw bad_input("gguf.110", {c.file(), {}, at}, "duplicate key '" + key + "'");
    const uint64_t type_at = c.pos();
    const uint32_t type = c.get<uint32_t>("a value type");
    GgufValue value = read_value(c, type, key, type_at, budget);
    if (key == "general.alignment") {
      if (value.type != GgufValueType::U32)
        throw bad_input("gguf.114", {c.file(), {}, at},
                        fmt::format("general.alignment must be a u32, not {}", gguf_value_type_name(value.type)));
      if (!is_power_of_two(value.u))
        throw bad_input("gguf.115", {c.file(), {}, at},
                        fmt::format("general.alignment {} is not a power of two", value.u));
      g.alignment = value.u;
    }
    g.kvs.push_back({std::move(key), std::move(value)});
  }
}

void read_tensor_infos(Cursor& c, GgufFile& g, uint64_t n_tensors) {
  std::set<std::string> seen;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.info_offset = c.pos();
    t.name = c.string("a tensor name");
    check_utf8(c, t.name, t.info_offset, "the tensor name", {});
    const ErrorContext where{c.file(), t.name, t.info_offset};
    if (t.name.size() > kGgufMaxNameBytes)
      throw bad_input("gguf.116", where, fmt::format("tensor name is {} bytes; ggml allows at most {}", t.name.size(),
                                                     kGgufMaxNameBytes));
    if (!seen.insert(t.name).second) throw bad_input("gguf.117", where, "duplicate tensor name");
    const uint32_t n_dims = c.get<uint32_t>("n_dims", t.name);
    if (n_dims > kGgufMaxDims)
      throw bad_input("gguf.118", where, fmt::format("tensor has {} dimensions; ggml allows at most {}", n_dims, kGgufMaxDims));
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const int64_t ne = c.get<int64_t>("a dimension", t.name);
      if (ne < 0) throw bad_input("gguf.119", where, fmt::format("dimension {} is negative ({})", d, ne));
      // ggml keeps element counts in int64_t.
      if (__builtin_mul_overflow(numel, uint64_t(ne), &numel) || numel > uint64_t(INT64_MAX))
        throw bad_input("gguf.120", where, "the element count overflows 63 bits");
      t.ne.push_back(uint64_t(ne));
    }
    const uint64_t type_at = c.pos();
    t.ggml_type = c.get<uint32_t>("a tensor type", t.name);
    const GgmlType* type = find_ggml_type(t.ggml_type);
    if (!type)
      throw bad_input("gguf.121", {c.file(), t.name, type_at},
                      fmt::format("ggml type id {} is unknown to supra (removed from ggml, or newer than this build): "
                                  "its block size is not known, so the tensor's bytes cannot be located",
                                  t.ggml_type));
    const uint64_t ne0 = t.ne.empty() ? 1 : t.ne[0];
    if (ne0 % type->block_size != 0)
      throw bad_input("gguf.122", where,
                      fmt::format("row length {} is not a multiple of the {} block size {}", ne0, type->name,
                                  type->block_size));
    if (__builtin_mul_overflow(numel / type->block_size, uint64_t(type->type_size), &t.nbytes))
      throw bad_input("gguf.120", where, "the byte size overflows 64 bits");
    t.offset = c.get<uint64_t>("a tensor offset", t.name);
    g.tensors.push_back(std::move(t));
  }
}

// Offsets must be the running sum of padded sizes (ggml refuses anything
// else), and every tensor's bytes must be inside the file.
void check_tensor_offsets(const GgufFile& g) {
  const std::string& file = g.file->path();
  uint64_t expected = 0;
  for (const GgufTensorInfo& t : g.tensors) {
    const ErrorContext where{file, t.name, t.info_offset};
    if (t.offset % g.alignment != 0)
      throw bad_input("gguf.123", where, fmt::format("data offset {} is not a multiple of the alignment {}", t.offset, g.alignment));
    if (t.offset < expected)
      throw bad_input("gguf.124", where,
                      fmt::format("data offset {} overlaps the previous tensor (expected {})", t.offset, expected));
    if (t.offset > expected)
      throw bad_input("gguf.125", where,
                      fmt::format("data offset {} leaves a gap after the previous tensor (expected {})", t.offset, expected));
    uint64_t end = 0;
    if (__builtin_add_overflow(g.data_offset, t.offset, &end) || __builtin_add_overflow(end, t.nbytes, &end) ||
        end > g.file->size())
      throw bad_input("gguf.126", {file, t.name, g.data_offset + t.offset},
                      fmt::format("data ({} bytes) runs past the end of the file ({} bytes)", t.nbytes, g.file->size()));
    expected = pad_to(t.offset + t.nbytes, g.alignment);
  }
}

}  // namespace

GgufFile parse_gguf(std::shared_ptr<const MappedFile> file) {
  GgufFile g;
  g.file = file;
  const std::string& path = file->path();
  if (file->size() < 4 || std::memcmp(file->bytes().data(), "GGUF", 4) != 0)
    throw bad_input("gguf.101", {path, {}, 0}, "not a GGUF file (the first 4 bytes are not \"GGUF\")");
  Cursor c(file->bytes(), path);
  c.get<uint32_t>("the magic");
  g.version = c.get<uint32_t>("the version");
  if (g.version == 0) throw bad_input("gguf.102", {path, {}, 4}, "GGUF version 0 is invalid");
  if ((g.version & 0xFFFF) == 0)
    throw bad_input("gguf.103", {path, {}, 4},
                    fmt::format("GGUF version {:#x} looks byte-swapped: a big-endian file? supra reads little-endian GGUF",
                                g.version));
  if (g.version == 1) throw bad_input("gguf.104", {path, {}, 4}, "GGUF version 1 is no longer supported (ggml reads 2 and 3)");
  if (g.version > 3) throw bad_input("gguf.105", {path, {}, 4}, fmt::format("GGUF version {} is newer than 3", g.version));

  const int64_t n_tensors = c.get<int64_t>("the tensor count");
  const int64_t n_kv = c.get<int64_t>("the key/value count");
  if (n_tensors < 0 || uint64_t(n_tensors) > c.remaining() / kMinTensorInfoBytes)
    throw bad_input("gguf.106", {path, {}, 8}, fmt::format("tensor count {} does not fit in the file", n_tensors));
  if (n_kv < 0 || uint64_t(n_kv) > c.remaining() / kMinKvBytes)
    throw bad_input("gguf.106", {path, {}, 16}, fmt::format("key/value count {} does not fit in the file", n_kv));

  read_kvs(c, g, uint64_t(n_kv));
  read_tensor_infos(c, g, uint64_t(n_tensors));
  g.data_offset = pad_to(c.pos(), g.alignment);
  check_tensor_offsets(g);
  return g;
}

GgufFile parse_gguf(const std::filesystem::path& path) { return parse_gguf(MappedFile::open(path.string())); }

Checkpoint checkpoint_from_gguf(const GgufFile& g) {
  Checkpoint ckpt;
  ckpt.format = "gguf";
  ckpt.files = {g.file->path()};
  for (const GgufKV& kv : g.kvs) {
    constexpr std::string_view kCarried = "supra.meta.";
    if (kv.key.starts_with(kCarried) && kv.value.type == GgufValueType::STRING) {
      ckpt.metadata[kv.key.substr(kCarried.size())] = kv.value.s;
      continue;
    }
    ckpt.display_metadata["gguf." + kv.key] = gguf_value_summary(kv.value);
    // What has a string form rides along into string metadata (safetensors __metadata__).
    if (std::optional<std::string> text = gguf_value_string_form(kv.value)) ckpt.metadata["gguf." + kv.key] = *text;
  }
  ckpt.format_metadata["gguf"] = gguf_kvs_to_json(g.kvs);
  for (const GgufTensorInfo& t : g.tensors) {
    const uint64_t at = g.data_offset + t.offset;
    if (auto dtype = dtype_from_gguf_type(t.ggml_type)) {
      ckpt.tensors.push_back(std::make_shared<FileTensorSource>(TensorInfo{t.name, *dtype, t.shape()}, g.file, at));
    } else {
      // Every block type is listed and copied; only decoding needs a dequantizer (gguf.127 on read).
      ckpt.tensors.push_back(std::make_shared<DequantizedTensorSource>(t.name, t.shape(), t.ggml_type, g.file, at));
    }
  }
  return ckpt;
}

Checkpoint read_gguf(const std::filesystem::path& path) {
  const GgufFile g = parse_gguf(path);
  const std::optional<GgufSplitKeys> split = gguf_split_keys(g);
  if (split && split->count > 1) return read_gguf_split(g, *split);
  return checkpoint_from_gguf(g);
}

}  // namespace supra
