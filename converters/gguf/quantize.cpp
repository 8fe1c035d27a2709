#include "converters/gguf/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "schema/float_convert.hpp"
#include "schema/read_scratch.hpp"

namespace supra {

namespace {
// clamp(roundf(v), -128, 127), NaN -> 0, without a libm call per value: that
// call made --quantize q8_0 3.5x slower than --dtype f16 (bench/RESULTS.md).
// Clamping first is the same (the bounds are integers and rounding is
// monotone) and keeps the int conversion defined; v - trunc(v) is exact, so
// comparing it with 0.5 rounds halves away from zero exactly as roundf.
inline int8_t round_to_q8(float v) {
  v = v >= -128.0f ? (v <= 127.0f ? v : 127.0f) : (v < -128.0f ? -128.0f : 0.0f);  // NaN fails both
  int t = int(v);
  const float frac = v - float(t);
  t += int(frac >= 0.5f) - int(frac <= -0.5f);
  return int8_t(t);
}
}  // namespace

void quantize_q8_0(const float* x, size_t n_blocks, std::byte* out) {
  for (size_t b = 0; b < n_blocks; ++b, x += kQ8_0BlockElements, out += kQ8_0BlockBytes) {
    float amax = 0.0f;
    // ggml's MAX(amax, fabsf(v)): a NaN input makes amax NaN, as there.
    for (uint32_t j = 0; j < kQ8_0BlockElements; ++j) {
      const float a = std::fabs(x[j]);
      amax = amax > a ? amax : a;
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t dh = f32_to_f16(d);
    std::memcpy(out, &dh, 2);
    for (uint32_t j = 0; j < kQ8_0BlockElements; ++j) out[2 + j] = std::byte(uint8_t(round_to_q8(x[j] * id)));
  }
}

namespace {
const TensorPtr& checked_q8_0_input(const TensorPtr& input) {
  const auto& shape = input->info().shape;
  if (!dtype_is_float(input->info().dtype) || shape.size() != 2 || shape[1] % kQ8_0BlockElements != 0)
    throw std::invalid_argument("Q8_0TensorSource: needs a 2-D float tensor with a multiple of 32 columns");
  return input;
}
}  // namespace

uint64_t Q8_0TensorSource::quantized_size(const std::vector<uint64_t>& shape) {
  // shape[1] / 32 * 34 <= shape[1] * 2, so only the product with rows can overflow.
  uint64_t n = 0;
  if (__builtin_mul_overflow(shape[0], shape[1] / kQ8_0BlockElements * kQ8_0BlockBytes, &n))
    throw std::overflow_error("Q8_0 size overflows 64 bits");
  return n;
}

Q8_0TensorSource::Q8_0TensorSource(TensorPtr input)
    : TensorSource(TensorInfo{input->name(), DType::U8, {quantized_size(checked_q8_0_input(input)->info().shape)}}),
      input_(cast_if_float(input, DType::F32)),
      cols_(input_->info().shape[1]),
      row_bytes_(cols_ / kQ8_0BlockElements * kQ8_0BlockBytes) {}

void Q8_0TensorSource::read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const {
  const uint64_t end = offset + out.size();
  const uint64_t first_row = offset / row_bytes_, end_row = (end + row_bytes_ - 1) / row_bytes_;
  // Rows per batch: about 1 MiB of f32 input, at least one row.
  const uint64_t batch_rows = std::min(end_row - first_row, std::max<uint64_t>(1, (1u << 20) / (cols_ * 4)));
  ReadScratch rows(size_t(batch_rows * cols_ * 4)), quantized(size_t(batch_rows * row_bytes_));
  for (uint64_t row = first_row; row < end_row;) {
    const uint64_t n = std::min(batch_rows, end_row - row);
    const std::span<float> x = rows.as<float>().first(size_t(n * cols_));
    input_->read(row * cols_ * 4, std::as_writable_bytes(x), stats);
    quantize_q8_0(x.data(), size_t(n * cols_ / kQ8_0BlockElements), quantized.bytes().data());
    const uint64_t lo = std::max(offset, row * row_bytes_);
    const uint64_t hi = std::min(end, (row + n) * row_bytes_);
    std::memcpy(out.data() + (lo - offset), quantized.bytes().data() + (lo - row * row_bytes_), size_t(hi - lo));
    row += n;
  }
}

}  // namespace supra
