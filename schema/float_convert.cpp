#include "schema/float_convert.hpp"

#include "schema/cast_kernels.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace supra {
namespace {

uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }
float float_of(uint32_t u) { return std::bit_cast<float>(u); }

// Encodes a finite or special value into a small float with `ebits` exponent
// and `mbits` mantissa bits. `ieee_specials`: the top exponent holds inf/NaN
// (E5M2); otherwise only S.1111.111 is NaN and there is no infinity (E4M3FN).
uint8_t encode_minifloat(float f, int ebits, int mbits, bool ieee_specials) {
  const uint8_t sign = std::signbit(f) ? uint8_t(1u << (ebits + mbits)) : 0;
  const uint8_t nan = uint8_t(sign | ((1u << (ebits + mbits)) - 1));  // all ones
  const uint8_t inf = uint8_t(sign | (((1u << ebits) - 1) << mbits));
  if (std::isnan(f)) return ieee_specials ? uint8_t(inf | (1u << (mbits - 1))) : nan;
  const int bias = (1 << (ebits - 1)) - 1;
  const int max_exp_field = ieee_specials ? (1 << ebits) - 2 : (1 << ebits) - 1;
  const int max_mant_at_top = ieee_specials ? (1 << mbits) - 1 : (1 << mbits) - 2;
  const double max_finite =
      std::ldexp(1.0 + double(max_mant_at_top) / (1 << mbits), max_exp_field - bias);
  if (std::isinf(f)) return ieee_specials ? inf : nan;
  double a = std::fabs(double(f));
  if (a == 0.0) return sign;
  int e;
  std::frexp(a, &e);
  e = std::max(e - 1, 1 - bias);  // exponent of the leading bit, clamped to subnormal range
  const double quantum = std::ldexp(1.0, e - mbits);
  double q = std::nearbyint(a / quantum);  // exact division by a power of two; RNE
  if (q * quantum > max_finite) return ieee_specials ? inf : nan;
  if (q == 0) return sign;
  uint32_t qi = uint32_t(q);
  if (qi >= (2u << mbits)) {  // rounding carried into the next binade
    qi >>= 1;
    ++e;
  }
  if (qi < (1u << mbits)) return uint8_t(sign | qi);  // subnormal
  return uint8_t(sign | ((e + bias) << mbits) | (qi - (1u << mbits)));
}

float decode_minifloat(uint8_t v, int ebits, int mbits, bool ieee_specials) {
  const bool neg = v >> (ebits + mbits);
  const int exp_field = (v >> mbits) & ((1 << ebits) - 1);
  const int mant = v & ((1 << mbits) - 1);
  const int bias = (1 << (ebits - 1)) - 1;
  float out;
  if (ieee_specials && exp_field == (1 << ebits) - 1) {
    out = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else if (!ieee_specials && exp_field == (1 << ebits) - 1 && mant == (1 << mbits) - 1) {
    out = std::numeric_limits<float>::quiet_NaN();
  } else if (exp_field == 0) {
    out = float(std::ldexp(double(mant), 1 - bias - mbits));
  } else {
    out = float(std::ldexp(1.0 + double(mant) / (1 << mbits), exp_field - bias));
  }
  return neg ? -out : out;
}

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
void store(std::byte* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

double load_as_double(DType t, const std::byte* p) {
  switch (t) {
    case DType::F64: return load<double>(p);
    case DType::F32: return load<float>(p);
    case DType::F16: return f16_to_f32(load<uint16_t>(p));
    case DType::BF16: return bf16_to_f32(load<uint16_t>(p));
    case DType::F8_E4M3: return f8_e4m3_to_f32(load<uint8_t>(p));
    case DType::F8_E5M2: return f8_e5m2_to_f32(load<uint8_t>(p));
    default: throw std::logic_error("cast_elements: not a float type");
  }
}

void store_from_double(DType t, std::byte* p, double v, CastStats& stats) {
  float f = t == DType::F64 ? 0.0f : f64_to_f32_round_odd(v);
  bool out_finite = true, out_zero = false;
  switch (t) {
    case DType::F64: store<double>(p, v); return;
    case DType::F32:
      f = float(v);  // plain RNE; round-to-odd is only for a second rounding
      store<float>(p, f);
      out_finite = std::isfinite(f);
      out_zero = f == 0.0f;
      break;
    case DType::F16: {
      uint16_t h = f32_to_f16(f);
      store<uint16_t>(p, h);
      out_finite = (h & 0x7c00) != 0x7c00;
      out_zero = (h & 0x7fff) == 0;
      break;
    }
    case DType::BF16: {
      uint16_t b = f32_to_bf16(f);
      store<uint16_t>(p, b);
      out_finite = (b & 0x7f80) != 0x7f80;
      out_zero = (b & 0x7fff) == 0;
      break;
    }
    case DType::F8_E4M3: {
      uint8_t b = f32_to_f8_e4m3(f);
      store<uint8_t>(p, b);
      out_finite = (b & 0x7f) != 0x7f;
      out_zero = (b & 0x7f) == 0;
      break;
    }
    case DType::F8_E5M2: {
      uint8_t b = f32_to_f8_e5m2(f);
      store<uint8_t>(p, b);
      out_finite = (b & 0x7c) != 0x7c;
      out_zero = (b & 0x7f) == 0;
      break;
    }
    default: throw std::logic_error("cast_elements: not a float type");
  }
  if (std::isfinite(v) && !out_finite) ++stats.overflow;
  if (v != 0.0 && std::isfinite(v) && out_zero) ++stats.underflow;
}

}  // namespace

float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) return float_of(sign | 0x7f800000u | (mant << 13));  // inf / NaN keeps payload
  if (exp != 0) return float_of(sign | ((exp + 112) << 23) | (mant << 13));
  // Subnormal or zero: mant * 2^-24, exact in f32.
  const float mag = float(mant) * 0x1p-24f;
  return sign ? -mag : mag;
}

uint16_t f32_to_f16(float f) {
  uint32_t x = bits_of(f);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  x &= 0x7fffffffu;
  if (x > 0x7f800000u) return uint16_t(sign | 0x7e00 | ((x >> 13) & 0x3ff));  // quiet NaN
  if (x >= 0x47800000u) return uint16_t(sign | 0x7c00);  // >= 65536 (or inf): inf
  if (x < 0x38800000u) {
    // Below the smallest normal f16 (2^-14): adding 0.5 lines the f16
    // subnormal quantum (2^-24) up with the f32 ulp, so the FPU's own RNE
    // addition does the rounding.
    const float magic = 0.5f;
    const uint32_t r = bits_of(float_of(x) + magic) - bits_of(magic);
    return uint16_t(sign | r);
  }
  const uint32_t mant_odd = (x >> 13) & 1;
  x += 0xc8000fffu + mant_odd;  // rebias exponent by -112 and round half to even
  return uint16_t(sign | (x >> 13));  // a carry past 65504 lands on 0x7c00 = inf
}

float bf16_to_f32(uint16_t b) { return float_of(uint32_t(b) << 16); }

uint16_t f32_to_bf16(float f) {
  const uint32_t x = bits_of(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40);  // quiet NaN
  const uint32_t rounding_bias = 0x7fffu + ((x >> 16) & 1);
  return uint16_t((x + rounding_bias) >> 16);
}

float f8_e4m3_to_f32(uint8_t v) { return decode_minifloat(v, 4, 3, false); }
uint8_t f32_to_f8_e4m3(float f) { return encode_minifloat(f, 4, 3, false); }
float f8_e5m2_to_f32(uint8_t v) { return decode_minifloat(v, 5, 2, true); }
uint8_t f32_to_f8_e5m2(float f) { return encode_minifloat(f, 5, 2, true); }

float f64_to_f32_round_odd(double d) {
  float f = float(d);
  if (!std::isfinite(f) || double(f) == d) return f;
  // Truncate toward zero, then make the last bit sticky.
  if (std::fabs(double(f)) > std::fabs(d)) f = std::nextafter(f, 0.0f);
  return float_of(bits_of(f) | 1u);
}

void cast_elements(DType from, const std::byte* src, DType to, std::byte* dst,
                   size_t count, CastStats& stats) {
  if (count == 0) return;  // src/dst may be null for an empty tensor: memcpy(null, null, 0) is UB
  if (from == to) {
    std::memcpy(dst, src, count * dtype_size(from));
    return;
  }
  if (!dtype_is_float(from) || !dtype_is_float(to))
    throw std::logic_error("cast_elements: only floating-point types are cast");
  // The hot paths of real conversions get tight loops of their own: a vector
  // kernel for the longest prefix it handles, then this scalar code.
  if (from == DType::BF16 && to == DType::F16) {
    for (size_t i = cast_kernels::bf16_to_f16(src, dst, count, stats); i < count; ++i) {
      const uint16_t b = load<uint16_t>(src + 2 * i);
      const uint16_t h = f32_to_f16(bf16_to_f32(b));
      if ((h & 0x7c00) == 0x7c00 && (b & 0x7f80) != 0x7f80) ++stats.overflow;
      if ((h & 0x7fff) == 0 && (b & 0x7fff) != 0) ++stats.underflow;
      store<uint16_t>(dst + 2 * i, h);
    }
    return;
  }
  if (from == DType::F32 && to == DType::F16) {
    for (size_t i = cast_kernels::f32_to_f16(src, dst, count, stats); i < count; ++i) {
      const float f = load<float>(src + 4 * i);
      const uint16_t h = f32_to_f16(f);
      if ((h & 0x7c00) == 0x7c00 && std::isfinite(f)) ++stats.overflow;
      if ((h & 0x7fff) == 0 && f != 0.0f) ++stats.underflow;
      store<uint16_t>(dst + 2 * i, h);
    }
    return;
  }
  if (from == DType::F32 && to == DType::BF16) {
    for (size_t i = cast_kernels::f32_to_bf16(src, dst, count, stats); i < count; ++i) {
      const float f = load<float>(src + 4 * i);
      const uint16_t b = f32_to_bf16(f);
      if ((b & 0x7f80) == 0x7f80 && std::isfinite(f)) ++stats.overflow;
      if ((b & 0x7fff) == 0 && f != 0.0f) ++stats.underflow;
      store<uint16_t>(dst + 2 * i, b);
    }
    return;
  }
  if (from == DType::F16 && to == DType::F32) {
    for (size_t i = cast_kernels::f16_to_f32(src, dst, count); i < count; ++i)
      store<float>(dst + 4 * i, f16_to_f32(load<uint16_t>(src + 2 * i)));
    return;
  }
  if (from == DType::BF16 && to == DType::F32) {
    for (size_t i = 0; i < count; ++i)  // a shift: the compiler vectorizes it
      store<float>(dst + 4 * i, bf16_to_f32(load<uint16_t>(src + 2 * i)));
    return;
  }
  const size_t in = dtype_size(from), out = dtype_size(to);
  for (size_t i = 0; i < count; ++i)
    store_from_double(to, dst + i * out, load_as_double(from, src + i * in), stats);
}

}  // namespace supra
