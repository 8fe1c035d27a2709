#pragma once
// The lossless byte-grouping transform applied before zstd to floating-point
// tensors: element bytes are split into planes, most significant first, so
// the sign/exponent bytes (few distinct values, very compressible) sit
// together and the near-random low mantissa bytes sit together.
//   in  (LE elements):  e0b0 e0b1 | e1b0 e1b1 | ...
//   out (planes):       e0b1 e1b1 ... | e0b0 e1b0 ...
#include <cstddef>
#include <span>

namespace supra {

// `in.size()` must be a multiple of `element_size`; out.size() == in.size().
void split_byte_planes(std::span<const std::byte> in, size_t element_size, std::span<std::byte> out);
void merge_byte_planes(std::span<const std::byte> in, size_t element_size, std::span<std::byte> out);

}  // namespace supra
