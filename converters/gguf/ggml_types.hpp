#pragma once
// The ggml tensor types a GGUF file can name (include/ggml.h `enum ggml_type`,
// block sizes and bytes per block from src/ggml-common.h). Removed ids
// (4, 5, 31-33, 36-38) are not in the table, so a file naming them is refused
// like any unknown id.
#include <cstdint>
#include <optional>
#include <string_view>

namespace supra {

struct GgmlType {
  uint32_t id;
  std::string_view name;  // "Q8_0"
  uint32_t block_size;    // elements per block (1 for plain types)
  uint32_t type_size;     // bytes per block
};

// Ids used by supra's code (the full list is the table in ggml_types.cpp).
namespace ggml {
inline constexpr uint32_t F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8,
                          Q8_1 = 9, Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14,
                          Q8_K = 15, IQ4_NL = 20, IQ4_XS = 23, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30;
inline constexpr uint32_t kQK_K = 256;  // super-block size of the K-quants
}  // namespace ggml

// nullptr for an unknown or removed id.
const GgmlType* find_ggml_type(uint32_t id);
std::optional<uint32_t> ggml_type_from_name(std::string_view name);
// Name for messages: "Q8_0", or "#77" for an unknown id.
std::string ggml_type_label(uint32_t id);

}  // namespace supra
