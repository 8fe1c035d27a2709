#pragma once
// Splits a flat, row-major element range [first, end) of an N-d array into
// few rectangular boxes (HDF5 hyperslabs), in order. Lets a writer or reader
// move an arbitrary slice of a tensor with a bounded buffer: at most about
// 2 * rank boxes per range.
#include <cstdint>
#include <vector>

namespace supra::hdf5 {

struct HyperslabBox {
  std::vector<uint64_t> start;  // per dimension
  std::vector<uint64_t> count;  // per dimension
  uint64_t first = 0;           // flat index of the box's first element
  uint64_t numel = 0;           // elements in the box
};

// `shape` must be non-empty (scalars have no hyperslabs) with first <= end <= numel.
std::vector<HyperslabBox> hyperslab_boxes(const std::vector<uint64_t>& shape, uint64_t first, uint64_t end);

}  // namespace supra::hdf5
