#pragma once
// Plain-loop versions of the TensorSource ops on materialized arrays, the
// reference the op-chain property test compares the lazy sources with. They
// call none of the code under test: the RoPE row orders are written from
// their formula, Q8_0 follows ggml's quantize_row_q8_0_ref with libm roundf,
// and casts use only the scalar float_convert functions (themselves checked
// against _Float16 and PyTorch in tests/schema/float_convert_test.cpp).
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "schema/dtype.hpp"
#include "schema/float_convert.hpp"

namespace supra::reference {

struct Array {
  DType dtype = DType::F32;
  std::vector<uint64_t> shape;
  std::vector<std::byte> bytes;  // row-major, little-endian

  uint64_t numel() const {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    return n;
  }
  size_t esz() const { return dtype_size(dtype); }
};

inline float get_float(const Array& a, uint64_t i) {
  const std::byte* p = a.bytes.data() + i * a.esz();
  uint16_t h;
  float f;
  switch (a.dtype) {
    case DType::F32: std::memcpy(&f, p, 4); return f;
    case DType::F16: std::memcpy(&h, p, 2); return f16_to_f32(h);
    case DType::BF16: std::memcpy(&h, p, 2); return bf16_to_f32(h);
    default: throw std::logic_error("reference: not an f32/f16/bf16 array");
  }
}

inline void put_float(Array& a, uint64_t i, float f) {
  std::byte* p = a.bytes.data() + i * a.esz();
  uint16_t h;
  switch (a.dtype) {
    case DType::F32: std::memcpy(p, &f, 4); return;
    case DType::F16: h = f32_to_f16(f); std::memcpy(p, &h, 2); return;
    case DType::BF16: h = f32_to_bf16(f); std::memcpy(p, &h, 2); return;
    default: throw std::logic_error("reference: not an f32/f16/bf16 array");
  }
}

// Among f32, f16 and bf16 every value of the source type is exact in f32, so
// one rounding from f32 is the direct cast.
inline Array cast(const Array& a, DType to) {
  Array out{to, a.shape, std::vector<std::byte>(a.numel() * dtype_size(to))};
  for (uint64_t i = 0; i < a.numel(); ++i) put_float(out, i, get_float(a, i));
  return out;
}

// Output row r is input row rows[r] (rows along dim 0).
inline Array take_rows(const Array& a, const std::vector<uint64_t>& rows) {
  const uint64_t row_bytes = a.bytes.size() / a.shape[0];
  Array out{a.dtype, a.shape, std::vector<std::byte>(a.bytes.size())};
  for (uint64_t r = 0; r < rows.size(); ++r)
    std::memcpy(out.bytes.data() + r * row_bytes, a.bytes.data() + rows[r] * row_bytes, row_bytes);
  return out;
}

// HF rotate-half -> interleaved: out row h*hd + 2i + j = in row h*hd + j*(hd/2) + i.
inline Array rope_halves_to_pairs(const Array& a, uint64_t n_heads) {
  const uint64_t hd = a.shape[0] / n_heads, half = hd / 2;
  std::vector<uint64_t> rows(a.shape[0]);
  for (uint64_t h = 0; h < n_heads; ++h)
    for (uint64_t i = 0; i < half; ++i)
      for (uint64_t j = 0; j < 2; ++j) rows[h * hd + 2 * i + j] = h * hd + j * half + i;
  return take_rows(a, rows);
}

// Interleaved -> HF rotate-half: out row h*hd + j*(hd/2) + i = in row h*hd + 2i + j.
inline Array rope_pairs_to_halves(const Array& a, uint64_t n_heads) {
  const uint64_t hd = a.shape[0] / n_heads, half = hd / 2;
  std::vector<uint64_t> rows(a.shape[0]);
  for (uint64_t h = 0; h < n_heads; ++h)
    for (uint64_t i = 0; i < half; ++i)
      for (uint64_t j = 0; j < 2; ++j) rows[h * hd + j * half + i] = h * hd + 2 * i + j;
  return take_rows(a, rows);
}

// Elements before `dim`, and bytes of one index of `dim` (everything after it).
inline uint64_t outer_of(const Array& a, size_t dim) {
  uint64_t n = 1;
  for (size_t d = 0; d < dim; ++d) n *= a.shape[d];
  return n;
}
inline uint64_t inner_bytes_of(const Array& a, size_t dim) {
  uint64_t n = a.esz();
  for (size_t d = dim + 1; d < a.shape.size(); ++d) n *= a.shape[d];
  return n;
}

inline Array slice(const Array& a, size_t dim, uint64_t start, uint64_t length) {
  Array out{a.dtype, a.shape, {}};
  out.shape[dim] = length;
  const uint64_t inner = inner_bytes_of(a, dim);
  for (uint64_t o = 0; o < outer_of(a, dim); ++o)
    for (uint64_t k = start; k < start + length; ++k) {
      const std::byte* p = a.bytes.data() + (o * a.shape[dim] + k) * inner;
      out.bytes.insert(out.bytes.end(), p, p + inner);
    }
  return out;
}

inline Array concat(const std::vector<Array>& parts, size_t dim) {
  Array out{parts[0].dtype, parts[0].shape, {}};
  out.shape[dim] = 0;
  for (const Array& p : parts) out.shape[dim] += p.shape[dim];
  for (uint64_t o = 0; o < outer_of(parts[0], dim); ++o)
    for (const Array& p : parts) {
      const uint64_t block = p.shape[dim] * inner_bytes_of(p, dim);
      const std::byte* b = p.bytes.data() + o * block;
      out.bytes.insert(out.bytes.end(), b, b + block);
    }
  return out;
}

inline Array transpose2d(const Array& a) {
  const uint64_t m = a.shape[0], n = a.shape[1], e = a.esz();
  Array out{a.dtype, {n, m}, std::vector<std::byte>(a.bytes.size())};
  for (uint64_t i = 0; i < m; ++i)
    for (uint64_t j = 0; j < n; ++j) std::memcpy(out.bytes.data() + (j * m + i) * e, a.bytes.data() + (i * n + j) * e, e);
  return out;
}

// ggml's quantize_row_q8_0_ref: per 32 values d = max|x| / 127, q = round(x / d)
// (as x * (1/d)), stored as f16 d then 32 int8. Returns the blocks as U8 [bytes].
inline Array quantize_q8_0(const Array& a) {
  const uint64_t n = a.numel();
  Array out{DType::U8, {n / 32 * 34}, std::vector<std::byte>(n / 32 * 34)};
  for (uint64_t b = 0; b < n / 32; ++b) {
    float amax = 0;
    for (uint64_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(get_float(a, b * 32 + j)));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t dh = f32_to_f16(d);
    std::byte* blk = out.bytes.data() + b * 34;
    std::memcpy(blk, &dh, 2);
    for (uint64_t j = 0; j < 32; ++j) {
      const float q = std::roundf(get_float(a, b * 32 + j) * id);
      blk[2 + j] = std::byte(uint8_t(int8_t(std::min(127.0f, std::max(-128.0f, q)))));
    }
  }
  return out;
}

// ggml's dequantize_row_q8_0: y = q * f16_to_f32(d). `blocks` holds the bytes.
inline Array dequantize_q8_0(const Array& blocks, std::vector<uint64_t> shape) {
  Array out{DType::F32, std::move(shape), {}};
  out.bytes.resize(out.numel() * 4);
  for (uint64_t b = 0; b < out.numel() / 32; ++b) {
    const std::byte* blk = blocks.bytes.data() + b * 34;
    uint16_t dh;
    std::memcpy(&dh, blk, 2);
    const float d = f16_to_f32(dh);
    for (uint64_t j = 0; j < 32; ++j) put_float(out, b * 32 + j, float(int8_t(uint8_t(blk[2 + j]))) * d);
  }
  return out;
}

}  // namespace supra::reference
