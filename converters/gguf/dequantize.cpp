#include "converters/gguf/dequantize.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "converters/gguf/ggml_types.hpp"
#include "schema/error.hpp"
#include "schema/float_convert.hpp"
#include "schema/mapped_file.hpp"
#include "schema/read_scratch.hpp"

namespace supra {
namespace {

using u8 = uint8_t;
constexpr int QK_K = int(ggml::kQK_K);

float half_at(const u8* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// Unpacks the 6-bit scale and min of sub-block j from the 12 packed bytes of
// Q4_K / Q5_K (ggml's get_scale_min_k4).
void scale_min_k4(int j, const u8* q, u8& sc, u8& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = u8((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = u8((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// block_q4_0: f16 d; u8 qs[16]. Low nibbles are elements 0..15, high 16..31.
void q4_0(const u8* b, float* y) {
  const float d = half_at(b);
  const u8* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = float((qs[j] & 0x0F) - 8) * d;
    y[j + 16] = float((qs[j] >> 4) - 8) * d;
  }
}

// block_q4_1: f16 d; f16 m; u8 qs[16].
void q4_1(const u8* b, float* y) {
  const float d = half_at(b), m = half_at(b + 2);
  const u8* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = float(qs[j] & 0x0F) * d + m;
    y[j + 16] = float(qs[j] >> 4) * d + m;
  }
}

// block_q5_0: f16 d; u8 qh[4] (bit j = 5th bit of element j); u8 qs[16].
void q5_0(const u8* b, float* y) {
  const float d = half_at(b);
  uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const u8* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    const int hi0 = int((qh >> j) & 1) << 4, hi1 = int((qh >> (j + 16)) & 1) << 4;
    y[j] = float(((qs[j] & 0x0F) | hi0) - 16) * d;
    y[j + 16] = float(((qs[j] >> 4) | hi1) - 16) * d;
  }
}

// block_q5_1: f16 d; f16 m; u8 qh[4]; u8 qs[16].
void q5_1(const u8* b, float* y) {
  const float d = half_at(b), m = half_at(b + 2);
  uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const u8* qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    const int hi0 = int((qh >> j) & 1) << 4, hi1 = int((qh >> (j + 16)) & 1) << 4;
    y[j] = float((qs[j] & 0x0F) | hi0) * d + m;
    y[j + 16] = float((qs[j] >> 4) | hi1) * d + m;
  }
}

// block_q8_0: f16 d; i8 qs[32].
void q8_0(const u8* b, float* y) {
  const float d = half_at(b);
  for (int j = 0; j < 32; ++j) y[j] = float(int8_t(b[2 + j])) * d;
}

// block_q2_K: u8 scales[16] (low nibble scale, high nibble min); u8 qs[64];
// f16 d; f16 dmin. Each qs byte holds 4 two-bit values of 4 different groups.
void q2_K(const u8* b, float* y) {
  const u8* scales = b;
  const u8* q = b + 16;
  const float d = half_at(b + 80), min = half_at(b + 82);
  int is = 0;
  for (int n = 0; n < QK_K; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const u8 sc = scales[is++];
        const float dl = d * float(sc & 0xF), ml = min * float(sc >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * float((q[l + 16 * half] >> shift) & 3) - ml;
      }
    }
    q += 32;
  }
}

// block_q3_K: u8 hmask[32]; u8 qs[64]; u8 scales[12] (16 six-bit scales); f16 d.
void q3_K(const u8* b, float* y) {
  const u8* hm = b;
  const u8* q = b + 32;
  const u8* packed = b + 96;
  const float d_all = half_at(b + 108);
  // Scale j: low 4 bits from packed[j % 8] (low nibble for j < 8, high for
  // j >= 8), high 2 bits from packed[8 + j % 4] at bit 2 * (j / 4).
  int scales[16];
  for (int j = 0; j < 16; ++j) {
    const int lo = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
    const int hi = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    scales[j] = (lo | (hi << 4)) - 32;
  }
  int is = 0;
  u8 m = 1;
  for (int n = 0; n < QK_K; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const float dl = d_all * float(scales[is++]);
        for (int l = 0; l < 16; ++l) {
          const int idx = l + 16 * half;
          *y++ = dl * float(((q[idx] >> shift) & 3) - ((hm[idx] & m) ? 0 : 4));
        }
      }
      m = u8(m << 1);
    }
    q += 32;
  }
}

// block_q4_K: f16 d; f16 dmin; u8 scales[12]; u8 qs[128].
void q4_K(const u8* b, float* y) {
  const float d = half_at(b), min = half_at(b + 2);
  const u8* scales = b + 4;
  const u8* q = b + 16;
  for (int g = 0; g < 4; ++g) {
    u8 sc, m;
    scale_min_k4(2 * g, scales, sc, m);
    const float d1 = d * float(sc), m1 = min * float(m);
    scale_min_k4(2 * g + 1, scales, sc, m);
    const float d2 = d * float(sc), m2 = min * float(m);
    for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * float(q[l] >> 4) - m2;
    q += 32;
  }
}

// block_q5_K: f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128].
void q5_K(const u8* b, float* y) {
  const float d = half_at(b), min = half_at(b + 2);
  const u8* scales = b + 4;
  const u8* qh = b + 16;
  const u8* ql = b + 48;
  u8 u1 = 1, u2 = 2;
  for (int g = 0; g < 4; ++g) {
    u8 sc, m;
    scale_min_k4(2 * g, scales, sc, m);
    const float d1 = d * float(sc), m1 = min * float(m);
    scale_min_k4(2 * g + 1, scales, sc, m);
    const float d2 = d * float(sc), m2 = min * float(m);
    for (int l = 0; l < 32; ++l) *y++ = d1 * float((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * float((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
    ql += 32;
    u1 = u8(u1 << 2);
    u2 = u8(u2 << 2);
  }
}

// block_q6_K: u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d.
void q6_K(const u8* b, float* y) {
  const u8* ql = b;
  const u8* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = half_at(b + 208);
  for (int n = 0; n < QK_K; n += 128) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * float(sc[is]) * float(q1);
      y[l + 32] = d * float(sc[is + 2]) * float(q2);
      y[l + 64] = d * float(sc[is + 4]) * float(q3);
      y[l + 96] = d * float(sc[is + 6]) * float(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

// block_q8_K: f32 d; i8 qs[256]; i16 bsums[16] (sums, unused for decoding).
void q8_K(const u8* b, float* y) {
  float d;
  std::memcpy(&d, b, 4);
  for (int j = 0; j < QK_K; ++j) y[j] = d * float(int8_t(b[4 + j]));
}

// block_q8_1: f16 d; f16 s (d * sum of qs, for dot products); i8 qs[32].
void q8_1(const u8* b, float* y) {
  const float d = half_at(b);
  for (int j = 0; j < 32; ++j) y[j] = float(int8_t(b[4 + j])) * d;
}

// The 16 non-linear levels of IQ4_NL and IQ4_XS (ggml-common.h kvalues_iq4nl).
constexpr int8_t kIq4Levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// block_iq4_nl: f16 d; u8 qs[16]. Like Q4_0 (low nibbles first half) through the level table.
void iq4_nl(const u8* b, float* y) {
  const float d = half_at(b);
  for (int j = 0; j < 16; ++j) {
    y[j] = d * float(kIq4Levels[b[2 + j] & 0xF]);
    y[j + 16] = d * float(kIq4Levels[b[2 + j] >> 4]);
  }
}

// block_iq4_xs: f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]. Eight 32-element
// sub-blocks, each with a 6-bit scale (4 low bits in scales_l, 2 high in scales_h) biased by 32.
void iq4_xs(const u8* b, float* y) {
  const float d = half_at(b);
  uint16_t scales_h;
  std::memcpy(&scales_h, b + 2, 2);
  const u8* scales_l = b + 4;
  const u8* qs = b + 8;
  for (int ib = 0; ib < QK_K / 32; ++ib, y += 32, qs += 16) {
    const int ls = ((scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
    const float dl = d * float(ls - 32);
    for (int j = 0; j < 16; ++j) {
      y[j] = dl * float(kIq4Levels[qs[j] & 0xF]);
      y[j + 16] = dl * float(kIq4Levels[qs[j] >> 4]);
    }
  }
}

// The ternary digit n (0 = most significant) of a TQ1_0 byte holding 5 (or 4)
// base-3 digits as a fixed-point fraction: multiply by 3^n keeping 8 bits, then
// the top "third" of the byte is the digit.
float ternary_digit(u8 q, int n) {
  static constexpr u8 kPow3[6] = {1, 3, 9, 27, 81, 243};
  const u8 shifted = u8(q * kPow3[n]);
  return float(int((uint16_t(shifted) * 3) >> 8) - 1);
}

// block_tq1_0: u8 qs[48] (5 digits each); u8 qh[4] (4 digits each); f16 d.
// qs[0..31] give 5 x 32 values (digit-major), qs[32..47] 5 x 16, qh 4 x 4.
void tq1_0(const u8* b, float* y) {
  const u8* qs = b;
  const u8* qh = b + 48;
  const float d = half_at(b + 52);
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 32; ++m) *y++ = ternary_digit(qs[m], n) * d;
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 16; ++m) *y++ = ternary_digit(qs[32 + m], n) * d;
  for (int n = 0; n < 4; ++n)
    for (int j = 0; j < 4; ++j) *y++ = ternary_digit(qh[j], n) * d;
}

// block_tq2_0: u8 qs[64] (2-bit values 0..2 meaning -1..1); f16 d. Each 32-byte
// half gives 4 x 32 values, bit pair l of byte m.
void tq2_0(const u8* b, float* y) {
  const float d = half_at(b + 64);
  for (int j = 0; j < 64; j += 32)
    for (int l = 0; l < 4; ++l)
      for (int m = 0; m < 32; ++m) *y++ = float(int((b[j + m] >> (2 * l)) & 3) - 1) * d;
}

// E2M1 (fp4) values doubled, as ggml keeps them (kvalues_mxfp4).
constexpr int8_t kFp4Doubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// Half of the E8M0 scale 2^(e-127) (halved to undo the doubled fp4 table):
// 2^(e-128), subnormal for e < 2.
float e8m0_half(u8 e) {
  const uint32_t bits = e < 2 ? (0x00200000u << e) : (uint32_t(e - 1) << 23);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// block_mxfp4: u8 e (E8M0 scale); u8 qs[16] (fp4 nibbles, low nibbles first half).
void mxfp4(const u8* b, float* y) {
  const float d = e8m0_half(b[0]);
  for (int j = 0; j < 16; ++j) {
    y[j] = float(kFp4Doubled[b[1 + j] & 0xF]) * d;
    y[j + 16] = float(kFp4Doubled[b[1 + j] >> 4]) * d;
  }
}

using BlockDecoder = void (*)(const u8*, float*);

BlockDecoder decoder_for(uint32_t type) {
  switch (type) {
    case ggml::Q4_0: return q4_0;
    case ggml::Q4_1: return q4_1;
    case ggml::Q5_0: return q5_0;
    case ggml::Q5_1: return q5_1;
    case ggml::Q8_0: return q8_0;
    case ggml::Q2_K: return q2_K;
    case ggml::Q3_K: return q3_K;
    case ggml::Q4_K: return q4_K;
    case ggml::Q5_K: return q5_K;
    case ggml::Q6_K: return q6_K;
    case ggml::Q8_K: return q8_K;
    case ggml::Q8_1: return q8_1;
    case ggml::IQ4_NL: return iq4_nl;
    case ggml::IQ4_XS: return iq4_xs;
    case ggml::TQ1_0: return tq1_0;
    case ggml::TQ2_0: return tq2_0;
    case ggml::MXFP4: return mxfp4;
    default: return nullptr;
  }
}

}  // namespace

bool can_dequantize(uint32_t ggml_type) { return decoder_for(ggml_type) != nullptr; }

void dequantize_blocks(uint32_t ggml_type, const std::byte* src, size_t n_blocks, float* dst) {
  const BlockDecoder decode = decoder_for(ggml_type);
  const GgmlType* t = find_ggml_type(ggml_type);
  if (!decode || !t) throw std::invalid_argument("dequantize_blocks: unsupported type " + ggml_type_label(ggml_type));
  const u8* p = reinterpret_cast<const u8*>(src);
  for (size_t i = 0; i < n_blocks; ++i) decode(p + i * t->type_size, dst + i * t->block_size);
}

namespace {
uint64_t quantized_bytes(const TensorInfo& info, uint32_t ggml_type) {
  const GgmlType* t = find_ggml_type(ggml_type);
  if (!t || t->block_size < 2 || info.numel() % t->block_size != 0)
    throw std::invalid_argument("DequantizedTensorSource: bad type or shape for '" + info.name + "'");
  return info.numel() / t->block_size * t->type_size;
}
}  // namespace

DequantizedTensorSource::DequantizedTensorSource(std::string name, std::vector<uint64_t> shape,
                                                 uint32_t ggml_type, TensorPtr blocks)
    : TensorSource(TensorInfo{std::move(name), DType::F32, std::move(shape)}),
      ggml_type_(ggml_type), blocks_(std::move(blocks)) {
  if (blocks_->info().dtype != DType::U8 || blocks_->info().nbytes() != quantized_bytes(info(), ggml_type))
    throw std::invalid_argument("DequantizedTensorSource: blocks of '" + info().name + "' have the wrong size");
}

DequantizedTensorSource::DequantizedTensorSource(std::string name, std::vector<uint64_t> shape,
                                                 uint32_t ggml_type, std::shared_ptr<const MappedFile> file,
                                                 uint64_t offset)
    : TensorSource(TensorInfo{std::move(name), DType::F32, std::move(shape)}), ggml_type_(ggml_type) {
  TensorInfo raw{info().name, DType::U8, {quantized_bytes(info(), ggml_type)}};
  blocks_ = std::make_shared<FileTensorSource>(std::move(raw), std::move(file), offset);
}

void DequantizedTensorSource::read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const {
  const GgmlType& t = *find_ggml_type(ggml_type_);
  if (!decodable()) {
    const std::optional<FileSpan> at = blocks_->file_span();
    throw bad_input("gguf.127", {at ? at->file->path() : std::string(), name(), at ? std::optional(at->offset) : std::nullopt},
                    fmt::format("tensor type {} cannot be dequantized by supra: keep it as it is (GGUF output) or "
                                "leave it out (--exclude)", t.name));
  }
  const uint64_t first = offset / 4, end = first + out.size() / 4;  // element range
  const uint64_t first_block = first / t.block_size, end_block = (end + t.block_size - 1) / t.block_size;
  // Batches of whole blocks: ~1 MiB of quantized input at a time.
  const uint64_t batch_blocks = std::min(end_block - first_block, std::max<uint64_t>(1, (1u << 20) / t.type_size));
  ReadScratch raw(size_t(batch_blocks * t.type_size)), decoded(size_t(batch_blocks * t.block_size * 4));
  for (uint64_t block = first_block; block < end_block;) {
    const uint64_t n = std::min(batch_blocks, end_block - block);
    const std::span<std::byte> in = raw.bytes().first(size_t(n * t.type_size));
    blocks_->read(block * t.type_size, in, stats);
    const std::span<float> y = decoded.as<float>();
    dequantize_blocks(ggml_type_, in.data(), size_t(n), y.data());
    const uint64_t lo = std::max(first, block * t.block_size);
    const uint64_t hi = std::min(end, (block + n) * t.block_size);
    std::memcpy(out.data() + (lo - first) * 4, y.data() + (lo - block * t.block_size), size_t((hi - lo) * 4));
    block += n;
  }
}

}  // namespace supra
