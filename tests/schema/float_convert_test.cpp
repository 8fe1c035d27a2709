// Float conversions against independent references: the compiler's
// half type (tests/half_reference.hpp, round to nearest even) for f16, and
// PyTorch's own conversions (fixture) for bf16.
#include "schema/float_convert.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include "tests/half_reference.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

TEST(F16, EveryBitPatternDecodesLikeFloat16) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const uint16_t h = uint16_t(bits);
    test::ReferenceHalf ref;
    std::memcpy(&ref, &h, 2);
    const float expected = float(ref);
    const float got = f16_to_f32(h);
    if (std::isnan(expected)) {
      ASSERT_TRUE(std::isnan(got)) << "pattern " << bits;
    } else {
      ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(expected)) << "pattern " << bits;
    }
  }
}

TEST(F16, EveryBitPatternRoundTripsThroughF32) {
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const uint16_t h = uint16_t(bits);
    const uint16_t back = f32_to_f16(f16_to_f32(h));
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) {
      ASSERT_EQ(back & 0x7c00, 0x7c00);
      ASSERT_NE(back & 0x3ff, 0) << "NaN must stay NaN, pattern " << bits;
    } else {
      ASSERT_EQ(back, h) << "pattern " << bits;
    }
  }
}

void expect_f32_to_f16_matches(float f) {
  const test::ReferenceHalf ref = static_cast<test::ReferenceHalf>(f);
  uint16_t expected;
  std::memcpy(&expected, &ref, 2);
  const uint16_t got = f32_to_f16(f);
  if (std::isnan(f)) {
    ASSERT_EQ(got & 0x7c00, 0x7c00);
    ASSERT_NE(got & 0x3ff, 0);
  } else {
    ASSERT_EQ(got, expected) << "f32 bits 0x" << std::hex << std::bit_cast<uint32_t>(f);
  }
}

TEST(F16, RandomF32BitPatternsRoundLikeFloat16) {
  std::mt19937 rng(42);
  for (int i = 0; i < 4'000'000; ++i) expect_f32_to_f16_matches(std::bit_cast<float>(uint32_t(rng())));
}

TEST(F16, F32ValuesInF16RangeRoundLikeFloat16) {
  // Concentrate on the f16 range, halfway cases and the subnormal/overflow edges.
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> exp_dist(100, 145);
  for (int i = 0; i < 4'000'000; ++i) {
    uint32_t bits = (rng() & 0x80000000u) | (exp_dist(rng) << 23) | (rng() & 0x7fffffu);
    if (i % 4 == 0) bits = (bits & ~0x1fffu) | 0x1000u;  // exact tie at f16 precision
    expect_f32_to_f16_matches(std::bit_cast<float>(bits));
  }
  for (float f : {65504.0f, 65519.99f, 65520.0f, 65536.0f, 6.0e-8f, 2.9e-8f, 3.0e-8f, 5.96e-8f, 0.0f, -0.0f})
    expect_f32_to_f16_matches(f);
}

TEST(F16, OverflowIsCounted) {
  const float values[] = {1.0f, 65504.0f, 65520.0f, -1e6f, INFINITY, NAN, 1e-9f};
  uint16_t out[7];
  CastStats stats;
  cast_elements(DType::F32, reinterpret_cast<const std::byte*>(values), DType::F16,
                reinterpret_cast<std::byte*>(out), 7, stats);
  EXPECT_EQ(stats.overflow, 2u);   // 65520 and -1e6; inf was already inf
  EXPECT_EQ(stats.underflow, 1u);  // 1e-9 flushes to zero
  EXPECT_EQ(out[2], 0x7c00);
  EXPECT_EQ(out[3], 0xfc00);
  EXPECT_EQ(out[4], 0x7c00);
  EXPECT_EQ(out[5] & 0x7c00, 0x7c00);
  EXPECT_NE(out[5] & 0x3ff, 0);
}

struct Bf16Reference {
  std::vector<uint16_t> bf16_to_f16;  // 65536
  std::vector<float> bf16_to_f32;     // 65536
  std::vector<float> inputs;          // N
  std::vector<uint16_t> inputs_bf16;  // N
};

Bf16Reference load_reference() {
  const auto bytes = test::read_file_bytes(test::fixture_path("bf16_reference.bin"));
  Bf16Reference r;
  const size_t n = (bytes.size() - 65536 * 6) / 6;
  r.bf16_to_f16.resize(65536);
  r.bf16_to_f32.resize(65536);
  r.inputs.resize(n);
  r.inputs_bf16.resize(n);
  size_t off = 0;
  std::memcpy(r.bf16_to_f16.data(), bytes.data() + off, 65536 * 2);
  off += 65536 * 2;
  std::memcpy(r.bf16_to_f32.data(), bytes.data() + off, 65536 * 4);
  off += 65536 * 4;
  std::memcpy(r.inputs.data(), bytes.data() + off, n * 4);
  off += n * 4;
  std::memcpy(r.inputs_bf16.data(), bytes.data() + off, n * 2);
  return r;
}

TEST(BF16, EveryBitPatternMatchesPyTorch) {
  const Bf16Reference ref = load_reference();
  ASSERT_GT(ref.inputs.size(), 1000u);
  for (uint32_t bits = 0; bits < 65536; ++bits) {
    const uint16_t b = uint16_t(bits);
    const float f = bf16_to_f32(b);
    const float expected = ref.bf16_to_f32[bits];
    if (std::isnan(expected)) ASSERT_TRUE(std::isnan(f));
    else ASSERT_EQ(std::bit_cast<uint32_t>(f), std::bit_cast<uint32_t>(expected)) << bits;

    uint16_t h;
    CastStats stats;
    cast_elements(DType::BF16, reinterpret_cast<const std::byte*>(&b), DType::F16,
                  reinterpret_cast<std::byte*>(&h), 1, stats);
    const uint16_t expected_h = ref.bf16_to_f16[bits];
    if ((expected_h & 0x7c00) == 0x7c00 && (expected_h & 0x3ff)) {
      ASSERT_EQ(h & 0x7c00, 0x7c00);
      ASSERT_NE(h & 0x3ff, 0) << "bf16 NaN must stay NaN, pattern " << bits;
    } else {
      ASSERT_EQ(h, expected_h) << "bf16 pattern 0x" << std::hex << bits;
    }
    const bool finite_in = (b & 0x7f80) != 0x7f80;
    const bool inf_out = (h & 0x7fff) == 0x7c00;
    ASSERT_EQ(stats.overflow, (finite_in && inf_out) ? 1u : 0u) << bits;
  }
}

TEST(BF16, RandomF32RoundsLikePyTorch) {
  const Bf16Reference ref = load_reference();
  for (size_t i = 0; i < ref.inputs.size(); ++i) {
    const uint16_t got = f32_to_bf16(ref.inputs[i]);
    if (std::isnan(ref.inputs[i])) {
      ASSERT_EQ(got & 0x7f80, 0x7f80);
      ASSERT_NE(got & 0x7f, 0);
    } else {
      ASSERT_EQ(got, ref.inputs_bf16[i]) << "input bits 0x" << std::hex << std::bit_cast<uint32_t>(ref.inputs[i]);
    }
  }
}

TEST(F8, EveryPatternRoundTripsAndKnownValuesHold) {
  for (uint32_t v = 0; v < 256; ++v) {
    const float e4 = f8_e4m3_to_f32(uint8_t(v));
    if (std::isnan(e4)) EXPECT_EQ(v & 0x7f, 0x7fu);
    else EXPECT_EQ(f32_to_f8_e4m3(e4), v) << v;
    const float e5 = f8_e5m2_to_f32(uint8_t(v));
    if (std::isnan(e5)) EXPECT_TRUE((v & 0x7c) == 0x7c && (v & 3));
    else EXPECT_EQ(f32_to_f8_e5m2(e5), v) << v;
  }
  EXPECT_EQ(f8_e4m3_to_f32(0x7e), 448.0f);           // E4M3FN max
  EXPECT_EQ(f8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_EQ(f8_e5m2_to_f32(0x7b), 57344.0f);         // E5M2 max
  EXPECT_TRUE(std::isinf(f8_e5m2_to_f32(0x7c)));
  EXPECT_EQ(f32_to_f8_e4m3(1000.0f) & 0x7f, 0x7f);   // overflow -> NaN (no inf in E4M3FN)
  EXPECT_EQ(f32_to_f8_e4m3(464.0f), 0x7e);           // tie 448 / 480: to even, 448
  EXPECT_EQ(f32_to_f8_e4m3(470.0f), 0x7f);           // rounds to 480: not representable, NaN
  EXPECT_EQ(f32_to_f8_e4m3(450.0f), 0x7e);           // rounds down to 448
  EXPECT_EQ(f32_to_f8_e5m2(1e6f), 0x7c);             // overflow -> inf
  EXPECT_EQ(f32_to_f8_e4m3(1.0625f), 0x38);          // tie 1 / 1.125 -> even (1.0)
  EXPECT_EQ(f32_to_f8_e4m3(1.1875f), 0x3a);          // tie 1.125 / 1.25 -> even (1.25)
}

TEST(F64, NarrowingToF16RoundsOnce) {
  // 1 + 2^-11 + 2^-40 is just above an f16 tie: rounding through f32 with
  // RNE would land on the tie and go to even (1.0); exact rounding gives 1+2^-10.
  const double d = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  uint16_t h;
  CastStats stats;
  cast_elements(DType::F64, reinterpret_cast<const std::byte*>(&d), DType::F16, reinterpret_cast<std::byte*>(&h), 1,
                stats);
  EXPECT_EQ(h, 0x3c01);
}

}  // namespace
}  // namespace supra
