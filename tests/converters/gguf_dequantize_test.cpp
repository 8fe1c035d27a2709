// Dequantizers against blocks built by hand from the block layouts of
// ggml's src/ggml-common.h: each test chooses scales, mins and quants,
// packs them the way the spec says, and computes every expected float
// element by element from the spec's formula. Values are chosen so every
// expected float is exact.
#include <gtest/gtest.h>

#include <cstring>

#include "converters/gguf/dequantize.hpp"
#include "converters/gguf/ggml_types.hpp"

namespace supra {
namespace {

// f16 bit patterns of the scales used below (IEEE binary16).
constexpr uint16_t kHalf0_25 = 0x3400, kHalf0_5 = 0x3800, kHalf1 = 0x3C00, kHalf2 = 0x4000,
                   kHalfMinus1 = 0xBC00;

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) { std::memcpy(b.data() + at, &v, 2); }

std::vector<float> decode(uint32_t type, const std::vector<uint8_t>& block) {
  const GgmlType* t = find_ggml_type(type);
  EXPECT_EQ(block.size(), t->type_size);
  std::vector<float> out(t->block_size);
  dequantize_blocks(type, reinterpret_cast<const std::byte*>(block.data()), 1, out.data());
  return out;
}

void expect_floats(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "element " << i;
}

TEST(GgufDequantize, Q8_0) {
  std::vector<uint8_t> b(34);
  put16(b, 0, kHalf0_5);
  std::vector<float> want;
  for (int k = 0; k < 32; ++k) {
    b[2 + k] = uint8_t(int8_t(k * 8 - 128));  // -128 .. 120
    want.push_back(float(k * 8 - 128) * 0.5f);
  }
  expect_floats(decode(ggml::Q8_0, b), want);
}

TEST(GgufDequantize, Q4_0) {
  // Low nibble of qs[j] is element j, high nibble element j + 16; value (q - 8) * d.
  std::vector<uint8_t> b(18);
  put16(b, 0, kHalf2);
  std::vector<float> want(32);
  for (int j = 0; j < 16; ++j) {
    const int lo = j, hi = 15 - j;
    b[2 + j] = uint8_t(lo | (hi << 4));
    want[j] = float(lo - 8) * 2;
    want[j + 16] = float(hi - 8) * 2;
  }
  expect_floats(decode(ggml::Q4_0, b), want);
}

TEST(GgufDequantize, Q4_1) {
  // value q * d + m.
  std::vector<uint8_t> b(20);
  put16(b, 0, kHalf0_5);
  put16(b, 2, kHalfMinus1);
  std::vector<float> want(32);
  for (int j = 0; j < 16; ++j) {
    const int lo = (j * 3) % 16, hi = 15 - j;
    b[4 + j] = uint8_t(lo | (hi << 4));
    want[j] = float(lo) * 0.5f - 1;
    want[j + 16] = float(hi) * 0.5f - 1;
  }
  expect_floats(decode(ggml::Q4_1, b), want);
}

TEST(GgufDequantize, Q5_0) {
  // Bit k of the 32-bit qh is the 5th bit of element k; value (q - 16) * d.
  std::vector<uint8_t> b(22);
  put16(b, 0, kHalf1);
  uint32_t qh = 0;
  std::vector<float> want(32);
  for (int k = 0; k < 32; ++k) {
    const int q = (k * 13 + 5) % 32;
    if (q & 16) qh |= 1u << k;
    const int j = k % 16;
    b[6 + j] |= uint8_t(k < 16 ? (q & 15) : (q & 15) << 4);
    want[k] = float(q - 16);
  }
  std::memcpy(b.data() + 2, &qh, 4);
  expect_floats(decode(ggml::Q5_0, b), want);
}

TEST(GgufDequantize, Q5_1) {
  // value q * d + m.
  std::vector<uint8_t> b(24);
  put16(b, 0, kHalf0_25);
  put16(b, 2, kHalf2);
  uint32_t qh = 0;
  std::vector<float> want(32);
  for (int k = 0; k < 32; ++k) {
    const int q = (k * 7 + 3) % 32;
    if (q & 16) qh |= 1u << k;
    b[8 + k % 16] |= uint8_t(k < 16 ? (q & 15) : (q & 15) << 4);
    want[k] = float(q) * 0.25f + 2;
  }
  std::memcpy(b.data() + 4, &qh, 4);
  expect_floats(decode(ggml::Q5_1, b), want);
}

// The 12 bytes holding eight 6-bit scales and mins of Q4_K / Q5_K: for j < 4
// bytes j and j+4 hold sc[j] and m[j] in their low 6 bits; byte j+8 holds the
// low nibbles of sc[j+4] and m[j+4], whose top 2 bits sit in bits 6-7 of
// bytes j and j+4.
std::vector<uint8_t> pack_k4_scales(const int sc[8], const int m[8]) {
  std::vector<uint8_t> q(12, 0);
  for (int j = 0; j < 4; ++j) {
    q[j] = uint8_t(sc[j] | ((sc[j + 4] >> 4) << 6));
    q[j + 4] = uint8_t(m[j] | ((m[j + 4] >> 4) << 6));
    q[j + 8] = uint8_t((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
  return q;
}

TEST(GgufDequantize, Q4_K) {
  // 8 sub-blocks of 32: element e in sub-block s = e / 32 is d*sc[s]*q - dmin*m[s];
  // group g = e / 64 uses qs[32g .. 32g+31], low nibbles for its first 32 elements.
  const int sc[8] = {1, 2, 3, 4, 17, 33, 50, 63}, m[8] = {0, 1, 2, 3, 20, 40, 5, 63};
  std::vector<uint8_t> b(144, 0);
  put16(b, 0, kHalf0_5);   // d
  put16(b, 2, kHalf0_25);  // dmin
  const auto packed = pack_k4_scales(sc, m);
  std::copy(packed.begin(), packed.end(), b.begin() + 4);
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    const int q = (e * 5 + 1) % 16, s = e / 32, g = e / 64, l = e % 32;
    b[16 + 32 * g + l] |= uint8_t(s % 2 == 0 ? q : q << 4);
    want[e] = 0.5f * float(sc[s]) * float(q) - 0.25f * float(m[s]);
  }
  expect_floats(decode(ggml::Q4_K, b), want);
}

TEST(GgufDequantize, Q5_K) {
  // As Q4_K plus a 5th bit: qh[l] bit (2g + (s odd)) for element l of group g.
  const int sc[8] = {63, 1, 16, 2, 31, 48, 7, 9}, m[8] = {5, 0, 63, 1, 17, 2, 33, 4};
  std::vector<uint8_t> b(176, 0);
  put16(b, 0, kHalf0_25);
  put16(b, 2, kHalf0_5);
  const auto packed = pack_k4_scales(sc, m);
  std::copy(packed.begin(), packed.end(), b.begin() + 4);
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    const int q = (e * 11 + 7) % 32, s = e / 32, g = e / 64, l = e % 32;
    b[48 + 32 * g + l] |= uint8_t(s % 2 == 0 ? (q & 15) : (q & 15) << 4);
    if (q & 16) b[16 + l] |= uint8_t(1 << s);
    want[e] = 0.25f * float(sc[s]) * float(q) - 0.5f * float(m[s]);
  }
  expect_floats(decode(ggml::Q5_K, b), want);
}

TEST(GgufDequantize, Q6_K) {
  // Element e: half n = e / 128, r = e % 128, quarter k = r / 32, l = r % 32.
  // Low 4 bits in ql[64n + l + 32*(k&1)] (low nibble for k < 2), high 2 bits
  // in qh[32n + l] at bit 2k, signed scale sc[8n + l/16 + 2k]; value d*sc*(q-32).
  std::vector<uint8_t> b(210, 0);
  int8_t sc[16];
  for (int i = 0; i < 16; ++i) sc[i] = int8_t((i % 2 ? -1 : 1) * (i * 9 + 1));
  std::memcpy(b.data() + 192, sc, 16);
  put16(b, 208, kHalf0_5);
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    const int q = (e * 7 + 3) % 64, n = e / 128, r = e % 128, k = r / 32, l = r % 32;
    b[64 * n + l + 32 * (k & 1)] |= uint8_t(k < 2 ? (q & 15) : (q & 15) << 4);
    b[128 + 32 * n + l] |= uint8_t((q >> 4) << (2 * k));
    want[e] = 0.5f * float(sc[8 * n + l / 16 + 2 * k]) * float(q - 32);
  }
  expect_floats(decode(ggml::Q6_K, b), want);
}

TEST(GgufDequantize, Q2_K) {
  // Element e: n = e / 128, r = e % 128, k = r / 32, l = r % 32: 2 bits in
  // qs[32n + l] at bit 2k; scales[8n + 2k + l/16] = scale | min << 4;
  // value d*scale*q - dmin*min. Layout: scales[16], qs[64], d, dmin.
  std::vector<uint8_t> b(84, 0);
  int scale[16], mn[16];
  for (int i = 0; i < 16; ++i) {
    scale[i] = (i * 5 + 2) % 16;
    mn[i] = (i * 3 + 1) % 16;
    b[i] = uint8_t(scale[i] | (mn[i] << 4));
  }
  put16(b, 80, kHalf0_5);
  put16(b, 82, kHalf0_25);
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    const int q = (e * 3 + e / 7) % 4, n = e / 128, r = e % 128, k = r / 32, l = r % 32;
    b[16 + 32 * n + l] |= uint8_t(q << (2 * k));
    const int is = 8 * n + 2 * k + l / 16;
    want[e] = 0.5f * float(scale[is]) * float(q) - 0.25f * float(mn[is]);
  }
  expect_floats(decode(ggml::Q2_K, b), want);
}

TEST(GgufDequantize, Q3_K) {
  // Element e: n = e / 128, r = e % 128, k = r / 32, l = r % 32: low 2 bits in
  // qs[32n + l] at bit 2k; high bit in hmask[l] at bit 4n + k (set means +0,
  // clear means -4); 6-bit scale s[8n + 2k + l/16] stored with a +32 bias:
  // low nibble in byte j%8 (high nibble for j >= 8), top 2 bits in byte
  // 8 + j%4 at bit 2*(j/4). Value d * (s - 32) * (q - (hbit ? 0 : 4)).
  // Layout: hmask[32], qs[64], scales[12], d.
  std::vector<uint8_t> b(110, 0);
  int s[16];
  for (int j = 0; j < 16; ++j) {
    s[j] = (j * 23 + 4) % 64;
    b[96 + j % 8] |= uint8_t(j < 8 ? (s[j] & 15) : (s[j] & 15) << 4);
    b[96 + 8 + j % 4] |= uint8_t((s[j] >> 4) << (2 * (j / 4)));
  }
  put16(b, 108, kHalf0_5);
  std::vector<float> want(256);
  for (int e = 0; e < 256; ++e) {
    const int q = (e * 5 + 1) % 4, high = (e / 3) % 2, n = e / 128, r = e % 128, k = r / 32, l = r % 32;
    b[32 + 32 * n + l] |= uint8_t(q << (2 * k));
    if (high) b[l] |= uint8_t(1 << (4 * n + k));
    want[e] = 0.5f * float(s[8 * n + 2 * k + l / 16] - 32) * float(q - (high ? 0 : 4));
  }
  expect_floats(decode(ggml::Q3_K, b), want);
}

TEST(GgufDequantize, Q8_K) {
  // f32 d, i8 qs[256], i16 bsums[16] (ignored by decoding).
  std::vector<uint8_t> b(292, 0);
  const float d = 0.125f;
  std::memcpy(b.data(), &d, 4);
  std::vector<float> want(256);
  for (int k = 0; k < 256; ++k) {
    b[4 + k] = uint8_t(int8_t(k - 128));
    want[k] = 0.125f * float(k - 128);
  }
  expect_floats(decode(ggml::Q8_K, b), want);
}

TEST(GgufDequantize, TypeTableMatchesTheSpec) {
  // ggml's type traits (ggml/src/ggml.c type_traits: block size, bytes).
  struct Row { uint32_t id; const char* name; uint32_t blk, bytes; };
  for (const Row& r : {Row{0, "F32", 1, 4}, Row{1, "F16", 1, 2}, Row{2, "Q4_0", 32, 18}, Row{3, "Q4_1", 32, 20},
                       Row{6, "Q5_0", 32, 22}, Row{7, "Q5_1", 32, 24}, Row{8, "Q8_0", 32, 34}, Row{10, "Q2_K", 256, 84},
                       Row{11, "Q3_K", 256, 110}, Row{12, "Q4_K", 256, 144}, Row{13, "Q5_K", 256, 176},
                       Row{14, "Q6_K", 256, 210}, Row{15, "Q8_K", 256, 292}, Row{28, "F64", 1, 8}, Row{30, "BF16", 1, 2}}) {
    const GgmlType* t = find_ggml_type(r.id);
    ASSERT_NE(t, nullptr) << r.name;
    EXPECT_EQ(t->name, r.name);
    EXPECT_EQ(t->block_size, r.blk) << r.name;
    EXPECT_EQ(t->type_size, r.bytes) << r.name;
  }
  for (uint32_t removed : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 43u}) EXPECT_EQ(find_ggml_type(removed), nullptr);
}

}  // namespace
}  // namespace supra
