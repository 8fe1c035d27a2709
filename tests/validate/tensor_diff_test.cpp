// diff_tensors on in-memory tensors: chunked reads agree with a one-pass
// plain computation; NaN equals NaN; shape and presence are reported.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/test_util.hpp"
#include "validate/tensor_diff.hpp"

namespace supra {
namespace {

TEST(TensorDiff, ChunkedComparisonMatchesPlainSums) {
  std::vector<float> a(1000), b(1000);
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(std::sin(double(i))), b[i] = a[i];
  b[17] += 0.25f;
  b[503] -= 0.5f;
  b[999] += 0.125f;
  const auto ta = test::make_tensor_from_floats("w", DType::F32, {10, 100}, a);
  const auto tb = test::make_tensor_from_floats("w", DType::F32, {10, 100}, b);
  double d2 = 0, a2 = 0;
  for (size_t i = 0; i < a.size(); ++i) d2 += double(b[i] - a[i]) * double(b[i] - a[i]), a2 += double(a[i]) * a[i];
  for (uint64_t chunk : {7ull, 1000ull, 1ull << 20}) {
    TensorDiffOptions o;
    o.chunk_elements = chunk;
    const TensorDiff d = diff_tensors("w", ta.get(), tb.get(), o);
    EXPECT_EQ(d.status, TensorDiffStatus::Different);
    EXPECT_EQ(d.differing, 3u);
    EXPECT_EQ(d.max_abs, std::fabs(double(b[503]) - double(a[503])));
    EXPECT_EQ(d.max_abs_index, 503u);
    EXPECT_NEAR(d.rel_l2, std::sqrt(d2 / a2), 1e-12);
  }
  TensorDiffOptions loose;
  loose.tolerance = 0.5;
  EXPECT_EQ(diff_tensors("w", ta.get(), tb.get(), loose).status, TensorDiffStatus::WithinTolerance);
  EXPECT_EQ(diff_tensors("w", ta.get(), ta.get(), {}).status, TensorDiffStatus::Identical);
}

TEST(TensorDiff, AcrossDtypesNanAndShapes) {
  const std::vector<float> v = {1.5f, NAN, -2.0f, 0.0f};
  const auto f32 = test::make_tensor_from_floats("x", DType::F32, {4}, v);
  const auto bf16 = test::make_tensor_from_floats("x", DType::BF16, {4}, v);  // these values are exact in bf16
  const TensorDiff same = diff_tensors("x", f32.get(), bf16.get(), {});
  EXPECT_EQ(same.status, TensorDiffStatus::Identical);
  EXPECT_EQ(same.dtype_a, "F32");
  EXPECT_EQ(same.dtype_b, "BF16");
  const auto inf = test::make_tensor_from_floats("x", DType::F32, {4}, {1.5f, INFINITY, -2.0f, 0.0f});
  const TensorDiff d = diff_tensors("x", f32.get(), inf.get(), {});
  EXPECT_EQ(d.status, TensorDiffStatus::Different);
  EXPECT_TRUE(std::isinf(d.max_abs));
  EXPECT_EQ(d.max_abs_index, 1u);
  const auto other_shape = test::make_tensor_from_floats("x", DType::F32, {2, 2}, v);
  EXPECT_EQ(diff_tensors("x", f32.get(), other_shape.get(), {}).status, TensorDiffStatus::ShapeMismatch);
  EXPECT_EQ(diff_tensors("x", nullptr, f32.get(), {}).status, TensorDiffStatus::MissingInA);
  EXPECT_EQ(diff_tensors("x", f32.get(), nullptr, {}).status, TensorDiffStatus::MissingInB);
}

}  // namespace
}  // namespace supra
