#include "schema/cast_kernels.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define SUPRA_X86 1
#endif

namespace supra::cast_kernels {
namespace {

uint16_t load16(const std::byte* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
uint32_t load32(const std::byte* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Overflow (finite in, inf/NaN out) and underflow (nonzero in, zero out) are
// rare, so the vector loops only test whether a block has any and recount
// that block here, element by element, with the scalar definitions.
void count_16_to_16(const std::byte* src, const std::byte* dst, size_t n, uint16_t in_exp,
                    uint16_t out_exp, CastStats& stats) {
  for (size_t k = 0; k < n; ++k) {
    const uint16_t in = load16(src + 2 * k), out = load16(dst + 2 * k);
    if ((out & out_exp) == out_exp && (in & in_exp) != in_exp) ++stats.overflow;
    if ((out & 0x7fff) == 0 && (in & 0x7fff) != 0) ++stats.underflow;
  }
}
void count_32_to_16(const std::byte* src, const std::byte* dst, size_t n, uint16_t out_exp,
                    CastStats& stats) {
  for (size_t k = 0; k < n; ++k) {
    const uint32_t in = load32(src + 4 * k);
    const uint16_t out = load16(dst + 2 * k);
    if ((out & out_exp) == out_exp && (in & 0x7f800000u) != 0x7f800000u) ++stats.overflow;
    if ((out & 0x7fff) == 0 && (in & 0x7fffffffu) != 0) ++stats.underflow;
  }
}

#ifdef SUPRA_X86
#define SUPRA_AVX2 __attribute__((target("avx2,f16c")))
constexpr int kRne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

SUPRA_AVX2 size_t bf16_to_f16_avx2(const std::byte* src, std::byte* dst, size_t count,
                                   CastStats& stats) {
  const __m128i f16_exp = _mm_set1_epi16(0x7c00), bf16_exp = _mm_set1_epi16(0x7f80);
  const __m128i magnitude = _mm_set1_epi16(0x7fff), zero = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    // bf16 is the top half of an f32: widening is a shift, and the f32 ->
    // f16 rounding (nearest even, subnormals included) is the hardware's.
    const __m256 f = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16));
    const __m128i h = _mm256_cvtps_ph(f, kRne);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * i), h);
    const __m128i out_special = _mm_cmpeq_epi16(_mm_and_si128(h, f16_exp), f16_exp);
    const __m128i in_special = _mm_cmpeq_epi16(_mm_and_si128(b, bf16_exp), bf16_exp);
    const __m128i out_zero = _mm_cmpeq_epi16(_mm_and_si128(h, magnitude), zero);
    const __m128i in_zero = _mm_cmpeq_epi16(_mm_and_si128(b, magnitude), zero);
    const __m128i flagged = _mm_or_si128(_mm_andnot_si128(in_special, out_special),
                                         _mm_andnot_si128(in_zero, out_zero));
    if (!_mm_testz_si128(flagged, flagged))
      count_16_to_16(src + 2 * i, dst + 2 * i, 8, 0x7f80, 0x7c00, stats);
  }
  return i;
}

SUPRA_AVX2 size_t f32_to_f16_avx2(const std::byte* src, std::byte* dst, size_t count,
                                  CastStats& stats) {
  const __m256i f16_exp = _mm256_set1_epi32(0x7c00), f32_exp = _mm256_set1_epi32(0x7f800000);
  const __m256i f16_mag = _mm256_set1_epi32(0x7fff), f32_mag = _mm256_set1_epi32(0x7fffffff);
  const __m256i zero = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 4 * i));
    const __m128i h = _mm256_cvtps_ph(_mm256_castsi256_ps(x), kRne);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * i), h);
    const __m256i hw = _mm256_cvtepu16_epi32(h);
    const __m256i out_special = _mm256_cmpeq_epi32(_mm256_and_si256(hw, f16_exp), f16_exp);
    const __m256i in_special = _mm256_cmpeq_epi32(_mm256_and_si256(x, f32_exp), f32_exp);
    const __m256i out_zero = _mm256_cmpeq_epi32(_mm256_and_si256(hw, f16_mag), zero);
    const __m256i in_zero = _mm256_cmpeq_epi32(_mm256_and_si256(x, f32_mag), zero);
    const __m256i flagged = _mm256_or_si256(_mm256_andnot_si256(in_special, out_special),
                                            _mm256_andnot_si256(in_zero, out_zero));
    if (!_mm256_testz_si256(flagged, flagged))
      count_32_to_16(src + 4 * i, dst + 2 * i, 8, 0x7c00, stats);
  }
  return i;
}

// Eight f32 -> bf16 (nearest even; NaN quieted), as 32-bit lanes.
SUPRA_AVX2 __m256i f32_to_bf16_lanes(__m256i x) {
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
  const __m256i rounded =
      _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, _mm256_set1_epi32(0x7fffffff)),
                                            _mm256_set1_epi32(0x7f800000));
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
  return _mm256_blendv_epi8(rounded, quiet, is_nan);
}

SUPRA_AVX2 __m256i f32_to_bf16_flags(__m256i x, __m256i r) {
  const __m256i bf16_exp = _mm256_set1_epi32(0x7f80), f32_exp = _mm256_set1_epi32(0x7f800000);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i out_special = _mm256_cmpeq_epi32(_mm256_and_si256(r, bf16_exp), bf16_exp);
  const __m256i in_special = _mm256_cmpeq_epi32(_mm256_and_si256(x, f32_exp), f32_exp);
  const __m256i out_zero = _mm256_cmpeq_epi32(_mm256_and_si256(r, _mm256_set1_epi32(0x7fff)), zero);
  const __m256i in_zero = _mm256_cmpeq_epi32(_mm256_and_si256(x, _mm256_set1_epi32(0x7fffffff)), zero);
  return _mm256_or_si256(_mm256_andnot_si256(in_special, out_special),
                         _mm256_andnot_si256(in_zero, out_zero));
}

SUPRA_AVX2 size_t f32_to_bf16_avx2(const std::byte* src, std::byte* dst, size_t count,
                                   CastStats& stats) {
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 4 * i));
    const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 4 * i + 32));
    const __m256i r0 = f32_to_bf16_lanes(x0), r1 = f32_to_bf16_lanes(x1);
    // packus works per 128-bit half: reorder the 64-bit quarters to 0, 2, 1, 3.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r0, r1), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 2 * i), packed);
    const __m256i flagged = _mm256_or_si256(f32_to_bf16_flags(x0, r0), f32_to_bf16_flags(x1, r1));
    if (!_mm256_testz_si256(flagged, flagged))
      count_32_to_16(src + 4 * i, dst + 2 * i, 16, 0x7f80, stats);
  }
  return i;
}

SUPRA_AVX2 size_t f16_to_f32_avx2(const std::byte* src, std::byte* dst, size_t count) {
  const __m128i f16_exp = _mm_set1_epi16(0x7c00);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    // The hardware quiets signalling NaNs; the scalar code keeps NaN payloads
    // bit for bit, so blocks with inf/NaN take the scalar code.
    const __m128i special = _mm_cmpeq_epi16(_mm_and_si128(h, f16_exp), f16_exp);
    if (_mm_testz_si128(special, special)) {
      _mm256_storeu_ps(reinterpret_cast<float*>(dst + 4 * i), _mm256_cvtph_ps(h));
    } else {
      for (size_t k = i; k < i + 8; ++k) {
        const float f = ::supra::f16_to_f32(load16(src + 2 * k));
        std::memcpy(dst + 4 * k, &f, 4);
      }
    }
  }
  return i;
}

// F16C straight from CPUID (leaf 1, ECX bit 29): clang 14 has no
// __builtin_cpu_supports("f16c"), and the AVX2 check already covers the OS
// saving YMM registers.
bool detect() {
  __builtin_cpu_init();
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C);
  return __builtin_cpu_supports("avx2") && f16c;
}
#endif

}  // namespace

#ifdef SUPRA_X86
bool available() {
  static const bool yes = detect();
  return yes;
}
size_t bf16_to_f16(const std::byte* src, std::byte* dst, size_t count, CastStats& stats) {
  return available() ? bf16_to_f16_avx2(src, dst, count, stats) : 0;
}
size_t f32_to_f16(const std::byte* src, std::byte* dst, size_t count, CastStats& stats) {
  return available() ? f32_to_f16_avx2(src, dst, count, stats) : 0;
}
size_t f32_to_bf16(const std::byte* src, std::byte* dst, size_t count, CastStats& stats) {
  return available() ? f32_to_bf16_avx2(src, dst, count, stats) : 0;
}
size_t f16_to_f32(const std::byte* src, std::byte* dst, size_t count) {
  return available() ? f16_to_f32_avx2(src, dst, count) : 0;
}
#else
bool available() { return false; }
size_t bf16_to_f16(const std::byte*, std::byte*, size_t, CastStats&) { return 0; }
size_t f32_to_f16(const std::byte*, std::byte*, size_t, CastStats&) { return 0; }
size_t f32_to_bf16(const std::byte*, std::byte*, size_t, CastStats&) { return 0; }
size_t f16_to_f32(const std::byte*, std::byte*, size_t) { return 0; }
#endif

}  // namespace supra::cast_kernels
