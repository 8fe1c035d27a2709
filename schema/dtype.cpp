#include "schema/dtype.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace supra {
namespace {

struct DTypeRow {
  DType type;
  size_t size;
  bool is_float;
  std::string_view safetensors;
  std::string_view numpy;    // little-endian descr
  std::string_view storage;  // torch legacy storage class
  std::string_view torch;    // torch dtype name
  int gguf;                  // ggml_type id, -1 if none
};

// Sources: safetensors tensor.rs Dtype; numpy dtype.str; torch/storage.py;
// ggml.h enum ggml_type (F32=0 F16=1 I8=24 I16=25 I32=26 I64=27 F64=28 BF16=30).
constexpr DTypeRow kRows[] = {
    {DType::F64, 8, true, "F64", "<f8", "DoubleStorage", "float64", 28},
    {DType::F32, 4, true, "F32", "<f4", "FloatStorage", "float32", 0},
    {DType::F16, 2, true, "F16", "<f2", "HalfStorage", "float16", 1},
    {DType::BF16, 2, true, "BF16", "", "BFloat16Storage", "bfloat16", 30},
    {DType::F8_E4M3, 1, true, "F8_E4M3", "", "", "float8_e4m3fn", -1},
    {DType::F8_E5M2, 1, true, "F8_E5M2", "", "", "float8_e5m2", -1},
    {DType::I64, 8, false, "I64", "<i8", "LongStorage", "int64", 27},
    {DType::I32, 4, false, "I32", "<i4", "IntStorage", "int32", 26},
    {DType::I16, 2, false, "I16", "<i2", "ShortStorage", "int16", 25},
    {DType::I8, 1, false, "I8", "|i1", "CharStorage", "int8", 24},
    {DType::U64, 8, false, "U64", "<u8", "", "uint64", -1},
    {DType::U32, 4, false, "U32", "<u4", "", "uint32", -1},
    {DType::U16, 2, false, "U16", "<u2", "", "uint16", -1},
    {DType::U8, 1, false, "U8", "|u1", "ByteStorage", "uint8", -1},
    {DType::BOOL, 1, false, "BOOL", "|b1", "BoolStorage", "bool", -1},
};

const DTypeRow& row(DType t) {
  return kRows[static_cast<size_t>(t)];
}

template <typename Pred>
std::optional<DType> find_row(Pred pred) {
  for (const auto& r : kRows)
    if (pred(r)) return r.type;
  return std::nullopt;
}

}  // namespace

size_t dtype_size(DType t) { return row(t).size; }
bool dtype_is_float(DType t) { return row(t).is_float; }
std::string_view dtype_name(DType t) { return row(t).safetensors; }
std::string_view dtype_numpy_descr(DType t) { return row(t).numpy; }
std::string_view dtype_torch_storage(DType t) { return row(t).storage; }
std::string_view dtype_torch_name(DType t) { return row(t).torch; }
std::optional<uint32_t> dtype_gguf_type(DType t) {
  if (row(t).gguf < 0) return std::nullopt;
  return static_cast<uint32_t>(row(t).gguf);
}

std::optional<DType> dtype_from_safetensors(std::string_view name) {
  return find_row([&](const DTypeRow& r) { return r.safetensors == name; });
}
std::optional<DType> dtype_from_numpy_descr(std::string_view descr) {
  // numpy writes "|u1" for one-byte types but accepts "<u1"/"=u1"; normalise.
  std::string d(descr);
  if (d.size() >= 2 && (d[0] == '=' || d[0] == '|' || d[0] == '<')) {
    d[0] = '<';
    auto lookup = [&](const DTypeRow& r) {
      if (r.numpy.empty()) return false;
      std::string n(r.numpy);
      n[0] = '<';
      return n == d;
    };
    return find_row(lookup);
  }
  return std::nullopt;
}
std::optional<DType> dtype_from_torch_storage(std::string_view storage_class) {
  return find_row([&](const DTypeRow& r) {
    return !r.storage.empty() && r.storage == storage_class;
  });
}
std::optional<DType> dtype_from_gguf_type(uint32_t ggml_type) {
  return find_row([&](const DTypeRow& r) {
    return r.gguf >= 0 && static_cast<uint32_t>(r.gguf) == ggml_type;
  });
}

std::optional<DType> dtype_from_user(std::string_view text) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::pair<std::string_view, DType> kAliases[] = {
      {"f64", DType::F64},   {"float64", DType::F64}, {"fp64", DType::F64},
      {"f32", DType::F32},   {"float32", DType::F32}, {"fp32", DType::F32},
      {"f16", DType::F16},   {"float16", DType::F16}, {"fp16", DType::F16},
      {"half", DType::F16},  {"bf16", DType::BF16},   {"bfloat16", DType::BF16},
      {"f8_e4m3", DType::F8_E4M3}, {"e4m3", DType::F8_E4M3},
      {"f8_e5m2", DType::F8_E5M2}, {"e5m2", DType::F8_E5M2},
  };
  for (const auto& [alias, type] : kAliases)
    if (alias == t) return type;
  return std::nullopt;
}

}  // namespace supra
