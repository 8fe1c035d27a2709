#pragma once
// f32 -> Q8_0, bit-exact with ggml's reference quantizer
// (quantize_row_q8_0_ref: amax = max|x|, d = amax / 127, qs = roundf(x / d)
// with x multiplied by 1/d, d stored as f16).
#include <cstddef>
#include <cstdint>

#include "schema/tensor_source.hpp"

namespace supra {

inline constexpr uint32_t kQ8_0BlockElements = 32;
inline constexpr uint32_t kQ8_0BlockBytes = 34;

// Quantizes n_blocks * 32 floats into n_blocks blocks of 34 bytes.
void quantize_q8_0(const float* x, size_t n_blocks, std::byte* out);

// The Q8_0 bytes of a 2-D float tensor, produced chunk by chunk: whole rows
// are quantized as they are asked for, so memory stays bounded. The source
// presents itself as a 1-D U8 tensor of the quantized size (what a writer
// streams); `logical_shape()` is the tensor's real shape.
class Q8_0TensorSource final : public TensorSource {
 public:
  // `input`: a floating-point tensor of rank 2 whose last dim is a multiple of 32.
  explicit Q8_0TensorSource(TensorPtr input);
  const std::vector<uint64_t>& logical_shape() const { return input_->info().shape; }
  static uint64_t quantized_size(const std::vector<uint64_t>& shape);

 private:
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const override;
  TensorPtr input_;  // the input as F32
  uint64_t cols_;
  uint64_t row_bytes_;
};

}  // namespace supra
