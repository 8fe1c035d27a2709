#pragma once
// Exact conversions between the floating-point element types.
// Narrowing rounds to nearest, ties to even; NaN stays NaN (quieted);
// a finite value that becomes infinite (or NaN, for F8_E4M3 which has no
// infinity) is an overflow and is counted, so a bf16 -> f16 cast that loses
// large weights is reported instead of silently producing inf.
#include <cstddef>
#include <cstdint>

#include "schema/dtype.hpp"

namespace supra {

struct CastStats {
  uint64_t overflow = 0;   // finite in, inf/NaN out
  uint64_t underflow = 0;  // nonzero in, zero out (flushed by the narrower type)
  void add(const CastStats& o) {
    overflow += o.overflow;
    underflow += o.underflow;
  }
};

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t b);
uint16_t f32_to_bf16(float f);
float f8_e4m3_to_f32(uint8_t v);
uint8_t f32_to_f8_e4m3(float f);  // E4M3FN: no inf; overflow -> NaN (as PyTorch)
float f8_e5m2_to_f32(uint8_t v);
uint8_t f32_to_f8_e5m2(float f);
// f64 -> f32 -> f16 would round twice; this rounds to f32 "to odd" so the
// second rounding is exact.
float f64_to_f32_round_odd(double d);

// Converts `count` elements. Both types must be floating point, or equal.
// Overflow and underflow counts are added to `stats`.
void cast_elements(DType from, const std::byte* src, DType to, std::byte* dst,
                   size_t count, CastStats& stats);

}  // namespace supra
