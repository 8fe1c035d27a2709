#include "converters/zstd/byte_planes.hpp"

#include <cstring>

namespace supra {
namespace {

// Fixed element sizes let the compiler unroll the inner loop.
template <size_t N>
void split(const std::byte* in, size_t count, std::byte* out) {
  for (size_t i = 0; i < count; ++i)
    for (size_t k = 0; k < N; ++k) out[k * count + i] = in[i * N + (N - 1 - k)];
}

template <size_t N>
void merge(const std::byte* in, size_t count, std::byte* out) {
  for (size_t i = 0; i < count; ++i)
    for (size_t k = 0; k < N; ++k) out[i * N + (N - 1 - k)] = in[k * count + i];
}

}  // namespace

void split_byte_planes(std::span<const std::byte> in, size_t element_size, std::span<std::byte> out) {
  const size_t count = in.size() / element_size;
  switch (element_size) {
    case 2: return split<2>(in.data(), count, out.data());
    case 4: return split<4>(in.data(), count, out.data());
    case 8: return split<8>(in.data(), count, out.data());
    default: std::memcpy(out.data(), in.data(), in.size());
  }
}

void merge_byte_planes(std::span<const std::byte> in, size_t element_size, std::span<std::byte> out) {
  const size_t count = in.size() / element_size;
  switch (element_size) {
    case 2: return merge<2>(in.data(), count, out.data());
    case 4: return merge<4>(in.data(), count, out.data());
    case 8: return merge<8>(in.data(), count, out.data());
    default: std::memcpy(out.data(), in.data(), in.size());
  }
}

}  // namespace supra
