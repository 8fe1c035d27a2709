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

// `threads` workers read 4 MiB chunks in parallel (0: one per core); the
// chunks are merged in order, so the result is the same for any count.
TensorStats compute_stats(const TensorSource& tensor, int threads = 0);

// Decodes `count` elements of any dtype to double (shared by stats and tests).
void decode_to_double(DType dtype, const std::byte* src, size_t count, double* out);

}  // namespace supra
