#pragma once
// Summary statistics of a tensor's values, computed by streaming it in
// chunks (memory stays flat however large the tensor).
#include <cstdint>

#include "schema/tensor_source.hpp"

namespace supra {

struct TensorStats {
  double min = 0, max = 0, mean = 0, std = 0;  // over finite values
  uint64_t count = 0;                          // finite values
  uint64_t nan = 0, inf = 0;
};

TensorStats compute_stats(const TensorSource& tensor);

// Decodes `count` elements of any dtype to double (shared by stats and tests).
void decode_to_double(DType dtype, const std::byte* src, size_t count, double* out);

}  // namespace supra
