#pragma once
// ggml block formats decoded to f32, following the block structs of
// src/ggml-common.h and the dequantize_row_* semantics of src/ggml-quants.c
// (same arithmetic order, so results are bit-identical to ggml's reference).
#include <cstddef>
#include <cstdint>

#include "schema/tensor_source.hpp"

namespace supra {

// True for the types dequantize_blocks handles: Q4_0 Q4_1 Q5_0 Q5_1 Q8_0
// Q8_1 Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K IQ4_NL IQ4_XS TQ1_0 TQ2_0 MXFP4.
bool can_dequantize(uint32_t ggml_type);

// Decodes `n_blocks` consecutive blocks of `ggml_type` at `src` into
// n_blocks * block_size floats at `dst`. `ggml_type` must satisfy can_dequantize.
void dequantize_blocks(uint32_t ggml_type, const std::byte* src, size_t n_blocks, float* dst);

// A quantized tensor seen as F32: reads whole blocks around the requested
// range in bounded batches, so memory stays flat on huge tensors. `blocks`
// holds its ggml blocks (a U8 tensor of the quantized size: a range of a
// GGUF file, or a Q8_0TensorSource). `shape` is row-major; its element count
// is a multiple of the block size. Any block type of the ggml table is
// accepted, so `inspect` can list it and a GGUF writer can copy its blocks
// (blocks()); reading the values of a type with no decoder throws gguf.127.
class DequantizedTensorSource final : public TensorSource {
 public:
  DequantizedTensorSource(std::string name, std::vector<uint64_t> shape, uint32_t ggml_type, TensorPtr blocks);
  // The blocks at `offset` of `file`.
  DequantizedTensorSource(std::string name, std::vector<uint64_t> shape, uint32_t ggml_type,
                          std::shared_ptr<const MappedFile> file, uint64_t offset);
  uint32_t ggml_type() const { return ggml_type_; }
  // The stored blocks as they are (U8, stored_bytes() long).
  const TensorPtr& blocks() const { return blocks_; }
  uint64_t stored_bytes() const { return blocks_->info().nbytes(); }
  bool decodable() const { return can_dequantize(ggml_type_); }

 private:
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const override;
  uint32_t ggml_type_;
  TensorPtr blocks_;
};

}  // namespace supra
