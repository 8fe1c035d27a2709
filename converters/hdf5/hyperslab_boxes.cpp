#include "converters/hdf5/hyperslab_boxes.hpp"

#include <algorithm>

namespace supra::hdf5 {

std::vector<HyperslabBox> hyperslab_boxes(const std::vector<uint64_t>& shape, uint64_t first, uint64_t end) {
  const size_t rank = shape.size();
  // stride[d] = elements in one step along dimension d.
  std::vector<uint64_t> stride(rank, 1);
  for (size_t d = rank - 1; d-- > 0;) stride[d] = stride[d + 1] * shape[d + 1];

  std::vector<HyperslabBox> boxes;
  uint64_t at = first;
  while (at < end) {
    // The outermost dimension whose whole inner blocks start at `at` and fit
    // in what is left: take as many of those blocks as the range and the
    // dimension allow.
    for (size_t d = 0; d < rank; ++d) {
      if (at % stride[d] != 0 || end - at < stride[d]) continue;
      const uint64_t index_d = (at / stride[d]) % shape[d];
      const uint64_t n = std::min(shape[d] - index_d, (end - at) / stride[d]);
      HyperslabBox box;
      box.start.resize(rank);
      box.count.assign(rank, 1);
      for (size_t k = 0; k < rank; ++k) box.start[k] = (at / stride[k]) % shape[k];
      box.count[d] = n;
      for (size_t k = d + 1; k < rank; ++k) box.count[k] = shape[k];
      box.first = at;
      box.numel = n * stride[d];
      boxes.push_back(std::move(box));
      at += n * stride[d];
      break;
    }
  }
  return boxes;
}

}  // namespace supra::hdf5
