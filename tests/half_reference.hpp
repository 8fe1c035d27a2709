#pragma once
// An f16 implementation independent of supra's, the reference of the float
// tests: GCC's _Float16 (libgcc soft-float). clang 14 has no _Float16 on
// x86, and its __fp16 needs compiler-rt builtins that a libgcc link lacks,
// so clang builds use the CPU's F16C conversions (every x86-64 since 2012).
// All three round to nearest even and keep inf and NaN.
#include <cstdint>
#if defined(__clang__)
#include <immintrin.h>
#endif

namespace supra::test {
#if defined(__clang__)
class ReferenceHalf {
 public:
  ReferenceHalf() = default;
  explicit ReferenceHalf(float f) : bits_(to_half(f)) {}
  explicit operator float() const { return to_float(bits_); }

 private:
  __attribute__((target("f16c"))) static uint16_t to_half(float f) {
    return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
  }
  __attribute__((target("f16c"))) static float to_float(uint16_t h) { return _cvtsh_ss(h); }
  uint16_t bits_ = 0;
};
static_assert(sizeof(ReferenceHalf) == 2);
#else
using ReferenceHalf = _Float16;
#endif
}  // namespace supra::test
