#pragma once
// Element types a checkpoint tensor can hold, with each file format's name for
// them. The table lives in dtype.cpp; add a type by adding a row there.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace supra {

enum class DType : uint8_t {
  F64, F32, F16, BF16, F8_E4M3, F8_E5M2,
  I64, I32, I16, I8, U64, U32, U16, U8, BOOL,
};

inline constexpr DType kAllDTypes[] = {
    DType::F64, DType::F32, DType::F16, DType::BF16, DType::F8_E4M3,
    DType::F8_E5M2, DType::I64, DType::I32, DType::I16, DType::I8,
    DType::U64, DType::U32, DType::U16, DType::U8, DType::BOOL};

size_t dtype_size(DType t);          // bytes per element
bool dtype_is_float(DType t);
std::string_view dtype_name(DType t);  // canonical name = safetensors' ("BF16")

// Per-format names. Empty / nullopt where the format has no such type.
std::string_view dtype_numpy_descr(DType t);   // "<f4", "|u1"; empty for BF16/F8
std::string_view dtype_torch_storage(DType t); // "FloatStorage", "BFloat16Storage"
std::string_view dtype_torch_name(DType t);    // "float32", "bfloat16"
std::optional<uint32_t> dtype_gguf_type(DType t);  // ggml_type id

std::optional<DType> dtype_from_safetensors(std::string_view name);
std::optional<DType> dtype_from_numpy_descr(std::string_view descr);
std::optional<DType> dtype_from_torch_storage(std::string_view storage_class);
std::optional<DType> dtype_from_gguf_type(uint32_t ggml_type);
// User-facing spelling on the command line: f32, f16, bf16, fp16, float32, ...
std::optional<DType> dtype_from_user(std::string_view text);

}  // namespace supra
