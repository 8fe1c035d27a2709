#pragma once
// A tensor that is a strided view of bytes in memory or in a mapped file:
// element (i0, i1, ...) sits at element index offset + sum(ik * stride[k]) of
// the storage. Reads gather it into row-major order, so transposed or
// sliced views (PyTorch storages, Fortran-order .npy) come out contiguous.
#include <memory>
#include <span>
#include <vector>

#include "schema/tensor_source.hpp"

namespace supra {

class StridedTensorSource final : public TensorSource {
 public:
  // `storage` stays valid while `owner` lives (a MappedFile, a byte vector).
  // Offsets and strides are in elements of info.dtype. Throws
  // std::out_of_range if any element would fall outside the storage.
  StridedTensorSource(TensorInfo info, std::shared_ptr<const void> owner,
                      std::span<const std::byte> storage, uint64_t storage_offset,
                      std::vector<uint64_t> strides);

 private:
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const override;
  std::shared_ptr<const void> owner_;
  std::span<const std::byte> storage_;
  uint64_t storage_offset_;
  std::vector<uint64_t> strides_;
};

// Row-major (C order) strides for `shape`, in elements.
std::vector<uint64_t> contiguous_strides(const std::vector<uint64_t>& shape);

// The largest element index a strided view touches plus one (0 if empty);
// nullopt on 64-bit overflow.
std::optional<uint64_t> strided_extent(const std::vector<uint64_t>& shape, uint64_t offset,
                                       const std::vector<uint64_t>& strides);

}  // namespace supra
