// The vector cast kernels must give the same bits and the same overflow /
// underflow counts as the scalar code (which float_convert_test checks
// against _Float16 and PyTorch). Reference: cast_elements one element at a
// time, which never reaches a vector kernel.
#include "schema/cast_kernels.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <random>
#include <vector>

namespace supra {
namespace {

template <typename In, typename Out>
void expect_same_as_scalar(DType from, DType to, const std::vector<In>& input) {
  // Start one element in so vector loads are unaligned and the tail is odd.
  const size_t count = input.size() - 1;
  const auto* src = reinterpret_cast<const std::byte*>(input.data() + 1);
  std::vector<Out> fast(count), slow(count);
  CastStats fast_stats, slow_stats;
  cast_elements(from, src, to, reinterpret_cast<std::byte*>(fast.data()), count, fast_stats);
  for (size_t i = 0; i < count; ++i) {
    CastStats one;
    cast_elements(from, src + i * sizeof(In), to, reinterpret_cast<std::byte*>(&slow[i]), 1, one);
    slow_stats.add(one);
  }
  for (size_t i = 0; i < count; ++i)
    ASSERT_EQ(fast[i], slow[i]) << "element " << i << " input bits 0x" << std::hex
                                << uint64_t(input[i + 1]);
  EXPECT_EQ(fast_stats.overflow, slow_stats.overflow);
  EXPECT_EQ(fast_stats.underflow, slow_stats.underflow);
}

std::vector<uint16_t> every_16_bit_pattern() {
  std::vector<uint16_t> v(65536 + 8);
  for (size_t i = 0; i < v.size(); ++i) v[i] = uint16_t(i * 40503u);  // odd multiplier: a permutation
  return v;
}

std::vector<uint32_t> f32_patterns() {
  std::mt19937 rng(11);
  std::vector<uint32_t> v;
  const uint32_t edges[] = {0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000,
                            0x7f800001, 0xffffffff, 0xffff8000, 0x477fe000, 0x477ff000,
                            0x477fefff, 0x47800000, 0x33000000, 0x33000001, 0x32ffffff,
                            0x387fc000, 0x38800000, 0x7f7fffff, 0x7f7f8000, 0x00000001,
                            0x3f808000, 0x3f818000, 0x3f807fff, 0x3f800001};
  for (int rep = 0; rep < 16; ++rep)
    for (uint32_t e : edges) v.push_back(e);
  for (int i = 0; i < 1'000'000; ++i) v.push_back(uint32_t(rng()));
  std::uniform_int_distribution<uint32_t> exp_dist(95, 145);  // around the f16 range
  for (int i = 0; i < 1'000'000; ++i) {
    uint32_t bits = (rng() & 0x80000000u) | (exp_dist(rng) << 23) | (rng() & 0x7fffffu);
    if (i % 3 == 0) bits = (bits & ~0x1fffu) | 0x1000u;  // tie at f16 precision
    if (i % 3 == 1) bits = (bits & ~0xffffu) | 0x8000u;  // tie at bf16 precision
    v.push_back(bits);
  }
  return v;
}

TEST(CastKernels, Bf16ToF16EveryPatternMatchesScalar) {
  expect_same_as_scalar<uint16_t, uint16_t>(DType::BF16, DType::F16, every_16_bit_pattern());
}

TEST(CastKernels, F16ToF32EveryPatternMatchesScalar) {
  expect_same_as_scalar<uint16_t, uint32_t>(DType::F16, DType::F32, every_16_bit_pattern());
}

TEST(CastKernels, Bf16ToF32EveryPatternMatchesScalar) {
  expect_same_as_scalar<uint16_t, uint32_t>(DType::BF16, DType::F32, every_16_bit_pattern());
}

TEST(CastKernels, F32ToF16MatchesScalar) {
  expect_same_as_scalar<uint32_t, uint16_t>(DType::F32, DType::F16, f32_patterns());
}

TEST(CastKernels, F32ToBf16MatchesScalar) {
  expect_same_as_scalar<uint32_t, uint16_t>(DType::F32, DType::BF16, f32_patterns());
}

TEST(CastKernels, OverflowInsideAVectorBlockIsCounted) {
  // 1e6 and 70000 overflow f16; 1e-9 underflows; inf and NaN are not counted.
  std::vector<float> v(64, 0.5f);
  v[3] = 1e6f;
  v[17] = -70000.0f;
  v[18] = 1e-9f;
  v[40] = INFINITY;
  v[41] = NAN;
  std::vector<uint16_t> out(v.size());
  CastStats stats;
  cast_elements(DType::F32, reinterpret_cast<const std::byte*>(v.data()), DType::F16,
                reinterpret_cast<std::byte*>(out.data()), v.size(), stats);
  EXPECT_EQ(stats.overflow, 2u);
  EXPECT_EQ(stats.underflow, 1u);
  EXPECT_EQ(out[3], 0x7c00);
  EXPECT_EQ(out[17], 0xfc00);
}

TEST(CastKernels, KernelsRunWhereTheCpuHasThem) {
  if (!cast_kernels::available()) GTEST_SKIP() << "no AVX2/F16C: scalar code only";
  std::vector<std::byte> in(4 * 100), out(4 * 100);
  CastStats stats;
  EXPECT_EQ(cast_kernels::bf16_to_f16(in.data(), out.data(), 100, stats), 96u);
  EXPECT_EQ(cast_kernels::f32_to_f16(in.data(), out.data(), 100, stats), 96u);
  EXPECT_EQ(cast_kernels::f32_to_bf16(in.data(), out.data(), 100, stats), 96u);
  EXPECT_EQ(cast_kernels::f16_to_f32(in.data(), out.data(), 100), 96u);
}

}  // namespace
}  // namespace supra
