// hyperslab_boxes must cover a flat range exactly, in order, with boxes whose
// row-major enumeration is consecutive flat indices (checked by brute force).
#include "converters/hdf5/hyperslab_boxes.hpp"

#include <gtest/gtest.h>

#include <random>

namespace supra::hdf5 {
namespace {

uint64_t flat_index(const std::vector<uint64_t>& shape, const std::vector<uint64_t>& idx) {
  uint64_t f = 0;
  for (size_t d = 0; d < shape.size(); ++d) f = f * shape[d] + idx[d];
  return f;
}

// Enumerates the box's elements in row-major order as flat indices.
std::vector<uint64_t> enumerate_box(const std::vector<uint64_t>& shape, const HyperslabBox& box) {
  std::vector<uint64_t> out;
  std::vector<uint64_t> idx(box.count.size(), 0);
  while (true) {
    std::vector<uint64_t> at(shape.size());
    for (size_t d = 0; d < shape.size(); ++d) at[d] = box.start[d] + idx[d];
    out.push_back(flat_index(shape, at));
    size_t d = shape.size();
    while (d > 0 && ++idx[d - 1] == box.count[d - 1]) idx[--d] = 0;
    if (d == 0) break;
  }
  return out;
}

TEST(Hdf5Hyperslab, RandomRangesAreCoveredExactlyAndInOrder) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    const size_t rank = 1 + rng() % 4;
    std::vector<uint64_t> shape(rank);
    uint64_t numel = 1;
    for (auto& d : shape) numel *= (d = 1 + rng() % 6);
    uint64_t a = rng() % (numel + 1), b = rng() % (numel + 1);
    if (a > b) std::swap(a, b);
    const auto boxes = hyperslab_boxes(shape, a, b);
    EXPECT_LE(boxes.size(), 2 * rank) << "too many boxes";
    uint64_t expected = a;
    for (const auto& box : boxes) {
      ASSERT_EQ(box.first, expected);
      const auto flat = enumerate_box(shape, box);
      ASSERT_EQ(flat.size(), box.numel);
      for (uint64_t f : flat) ASSERT_EQ(f, expected++);
    }
    ASSERT_EQ(expected, b);
  }
}

TEST(Hdf5Hyperslab, WholeArrayIsOneBox) {
  const auto boxes = hyperslab_boxes({4, 5, 6}, 0, 120);
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_EQ(boxes[0].count, (std::vector<uint64_t>{4, 5, 6}));
}

}  // namespace
}  // namespace supra::hdf5
