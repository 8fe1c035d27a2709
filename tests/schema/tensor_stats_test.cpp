// compute_stats against a plain two-pass reference in long double over the
// same decoded values, on tensors large enough to span many chunks.
#include "schema/tensor_stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

namespace supra {
namespace {

struct Reference {
  long double min = INFINITY, max = -INFINITY, mean = 0, std = 0;
  uint64_t count = 0, nan = 0, inf = 0;
};

Reference reference_stats(const std::vector<double>& values) {
  Reference r;
  long double sum = 0;
  for (double v : values) {
    if (std::isnan(v)) { ++r.nan; continue; }
    if (std::isinf(v)) { ++r.inf; continue; }
    r.min = std::min<long double>(r.min, v);
    r.max = std::max<long double>(r.max, v);
    sum += v;
    ++r.count;
  }
  r.mean = sum / r.count;
  long double sq = 0;
  for (double v : values)
    if (std::isfinite(v)) sq += (v - r.mean) * (v - r.mean);
  r.std = std::sqrt(sq / r.count);
  return r;
}

// A tensor of `n` values of `dtype` drawn around `center`, every 99991st a NaN
// and every 199999th an inf (when the type has them).
std::pair<TensorPtr, std::vector<double>> make_tensor(DType dtype, size_t n, double center) {
  std::mt19937 rng(5);
  std::normal_distribution<double> dist(center, 0.02);
  std::vector<std::byte> bytes(n * dtype_size(dtype));
  std::vector<double> decoded(n);
  for (size_t i = 0; i < n; ++i) {
    double v = dist(rng);
    if (dtype_is_float(dtype) && i % 99991 == 7) v = NAN;
    if (dtype_is_float(dtype) && i % 199999 == 11) v = (i % 2 ? 1 : -1) * INFINITY;
    std::byte* p = bytes.data() + i * dtype_size(dtype);
    switch (dtype) {
      case DType::F64: std::memcpy(p, &v, 8); break;
      case DType::F32: { const float f = float(v); std::memcpy(p, &f, 4); break; }
      case DType::F16: { const uint16_t h = f32_to_f16(float(v)); std::memcpy(p, &h, 2); break; }
      case DType::BF16: { const uint16_t b = f32_to_bf16(float(v)); std::memcpy(p, &b, 2); break; }
      case DType::I32: { const int32_t x = int32_t(std::lround(v * 1e6)); std::memcpy(p, &x, 4); break; }
      default: ADD_FAILURE() << "type not covered";
    }
    decode_to_double(dtype, p, 1, &decoded[i]);
  }
  auto t = std::make_shared<MemoryTensorSource>(TensorInfo{"t", dtype, {n}}, std::move(bytes));
  return {t, decoded};
}

void expect_matches_reference(DType dtype, size_t n, double center) {
  auto [tensor, values] = make_tensor(dtype, n, center);
  const Reference r = reference_stats(values);
  const TensorStats s = compute_stats(*tensor, 3);
  EXPECT_EQ(s.count, r.count);
  EXPECT_EQ(s.nan, r.nan);
  EXPECT_EQ(s.inf, r.inf);
  EXPECT_EQ(s.min, double(r.min));
  EXPECT_EQ(s.max, double(r.max));
  const double scale = std::fabs(double(r.mean)) + double(r.std);
  EXPECT_NEAR(s.mean, double(r.mean), 1e-12 * scale);
  EXPECT_NEAR(s.std, double(r.std), 1e-10 * double(r.std));
  // Same bits whatever the number of threads.
  const TensorStats one = compute_stats(*tensor, 1);
  EXPECT_EQ(std::memcmp(&one, &s, sizeof s), 0);
}

TEST(TensorStats, Bf16ManyChunksMatchesReference) { expect_matches_reference(DType::BF16, 5'000'003, 0.001); }
TEST(TensorStats, F16MatchesReference) { expect_matches_reference(DType::F16, 3'000'001, -0.01); }
TEST(TensorStats, F32LargeMeanMatchesReference) { expect_matches_reference(DType::F32, 2'500'000, 100.0); }
TEST(TensorStats, F64MatchesReference) { expect_matches_reference(DType::F64, 1'000'001, 1.0); }
TEST(TensorStats, I32MatchesReference) { expect_matches_reference(DType::I32, 1'000'003, 0.5); }

TEST(TensorStats, OnlyNonFiniteOrEmptyGivesNaNStats) {
  const float v[] = {NAN, INFINITY, -INFINITY};
  std::vector<std::byte> bytes(sizeof v);
  std::memcpy(bytes.data(), v, sizeof v);
  const MemoryTensorSource t(TensorInfo{"x", DType::F32, {3}}, bytes);
  const TensorStats s = compute_stats(t);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.nan, 1u);
  EXPECT_EQ(s.inf, 2u);
  EXPECT_TRUE(std::isnan(s.mean));
  EXPECT_TRUE(std::isnan(s.min));
  const MemoryTensorSource empty(TensorInfo{"e", DType::BF16, {0, 4}}, {});
  const TensorStats e = compute_stats(empty);
  EXPECT_EQ(e.count, 0u);
  EXPECT_TRUE(std::isnan(e.std));
}

}  // namespace
}  // namespace supra
