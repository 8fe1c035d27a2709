#pragma once
// The compiler's own half-precision type, the independent f16 reference of
// the float tests: GCC's _Float16 (libgcc soft-float) or, on clang 14, which
// has no _Float16 on x86, __fp16 (compiler-rt). Both convert with round to
// nearest even and keep inf and NaN.
namespace supra::test {
#if defined(__clang__)
using ReferenceHalf = __fp16;
#else
using ReferenceHalf = _Float16;
#endif
}  // namespace supra::test
