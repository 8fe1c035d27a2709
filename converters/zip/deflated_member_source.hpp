#pragma once
// A tensor whose bytes are a deflated zip member's (an .npz array), inflated
// when read rather than when the file opens: a 2 MB member can hold 2 GiB of
// zeros. Contiguous tensors stream through one InflateStream and keep the
// last 64 MiB it produced, so readers on several threads taking neighbouring
// chunks (as writers and --stats do) share one pass; a read further back
// than that starts the stream again. Strided ones (Fortran order) need
// random access and inflate the member once, on their first read.
#include <memory>
#include <mutex>

#include "converters/zip/zip_inflate_stream.hpp"
#include "schema/tensor_source.hpp"

namespace supra::zip {

class DeflatedMemberTensorSource final : public TensorSource {
 public:
  // The tensor's bytes start `data_at` bytes into the member; `strides`
  // (elements) empty = row-major contiguous.
  DeflatedMemberTensorSource(TensorInfo info, std::shared_ptr<const MappedFile> file, ZipEntry entry,
                             uint64_t data_at, std::vector<uint64_t> strides = {});
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const override;

 private:
  void read_member(uint64_t at, std::span<std::byte> out) const;  // through the window
  void copy_from_window(uint64_t at, std::span<std::byte> out) const;
  void append_to_window(std::span<const std::byte> bytes) const;

  mutable std::mutex mutex_;  // one stream and window, one reader at a time
  mutable InflateStream stream_;
  // The last bytes the stream produced: member bytes [position - filled, position).
  mutable std::vector<std::byte> window_;
  mutable uint64_t window_filled_ = 0;
  uint64_t data_at_;
  std::vector<uint64_t> strides_;
  mutable TensorPtr inflated_;  // strided tensors: the whole member, after the first read
};

}  // namespace supra::zip
