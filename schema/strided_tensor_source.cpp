#include "schema/strided_tensor_source.hpp"

#include <cstring>
#include <stdexcept>

namespace supra {

std::vector<uint64_t> contiguous_strides(const std::vector<uint64_t>& shape) {
  std::vector<uint64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

std::optional<uint64_t> strided_extent(const std::vector<uint64_t>& shape, uint64_t offset,
                                       const std::vector<uint64_t>& strides) {
  if (shape.size() != strides.size()) return std::nullopt;
  uint64_t last = offset;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) return 0;
    uint64_t step;
    if (__builtin_mul_overflow(shape[i] - 1, strides[i], &step) || __builtin_add_overflow(last, step, &last))
      return std::nullopt;
  }
  uint64_t end;
  if (__builtin_add_overflow(last, uint64_t(1), &end)) return std::nullopt;
  return end;
}

StridedTensorSource::StridedTensorSource(TensorInfo info, std::shared_ptr<const void> owner,
                                         std::span<const std::byte> storage, uint64_t storage_offset,
                                         std::vector<uint64_t> strides)
    : TensorSource(std::move(info)),
      owner_(std::move(owner)),
      storage_(storage),
      storage_offset_(storage_offset),
      strides_(std::move(strides)) {
  const auto end = strided_extent(this->info().shape, storage_offset_, strides_);
  const uint64_t elem = dtype_size(this->info().dtype);
  if (!end || *end > storage_.size() / elem)
    throw std::out_of_range("strided view of '" + this->info().name + "' reaches past its storage");
}

void StridedTensorSource::read_range(uint64_t offset, std::span<std::byte> out, CastStats*) const {
  const TensorInfo& ti = info();
  const size_t elem = dtype_size(ti.dtype);
  const size_t rank = ti.shape.size();
  uint64_t first = offset / elem;
  uint64_t count = out.size() / elem;
  if (rank == 0) {
    std::memcpy(out.data(), storage_.data() + storage_offset_ * elem, elem);
    return;
  }
  // Multi-index of the first element, and its storage position.
  std::vector<uint64_t> index(rank);
  uint64_t pos = storage_offset_;
  for (size_t d = rank, rest = first; d-- > 0;) {
    index[d] = rest % ti.shape[d];
    rest /= ti.shape[d];
    pos += index[d] * strides_[d];
  }
  const uint64_t inner = ti.shape[rank - 1], inner_stride = strides_[rank - 1];
  std::byte* dst = out.data();
  while (count > 0) {
    // Copy along the innermost dimension, a run at a time when it is dense.
    const uint64_t run = std::min(count, inner - index[rank - 1]);
    if (inner_stride == 1) {
      std::memcpy(dst, storage_.data() + pos * elem, run * elem);
    } else {
      for (uint64_t k = 0; k < run; ++k)
        std::memcpy(dst + k * elem, storage_.data() + (pos + k * inner_stride) * elem, elem);
    }
    dst += run * elem;
    count -= run;
    index[rank - 1] += run;
    pos += run * inner_stride;
    // Carry into the outer dimensions.
    for (size_t d = rank - 1; d > 0 && index[d] == ti.shape[d]; --d) {
      pos -= index[d] * strides_[d];
      index[d] = 0;
      ++index[d - 1];
      pos += strides_[d - 1];
    }
  }
}

}  // namespace supra
