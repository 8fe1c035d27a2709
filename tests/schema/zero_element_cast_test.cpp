// issue 12 #11: zero-element tensors reach the cast with null buffers.
#include <gtest/gtest.h>

#include "schema/float_convert.hpp"

namespace supra {
namespace {

// Zero-element tensors hand null buffers to the cast: memcpy(null, null, 0)
// is undefined (UBSan reports it under tools/test_sanitized.sh).
TEST(ZeroElementCast, NullBuffersAreFine) {
  CastStats stats;
  cast_elements(DType::F32, nullptr, DType::F32, nullptr, 0, stats);
  cast_elements(DType::BF16, nullptr, DType::F16, nullptr, 0, stats);
  EXPECT_EQ(stats.overflow, 0u);
}

}  // namespace
}  // namespace supra
