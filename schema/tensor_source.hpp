#pragma once
// A tensor in flight: name, dtype, shape and a way to produce its bytes.
// Nothing is read until someone asks, and then in chunks, so a converter's
// memory is bounded by its chunk buffers, not by the model.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "schema/dtype.hpp"
#include "schema/float_convert.hpp"

namespace supra {

class MappedFile;

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<uint64_t> shape;  // row-major; empty = scalar

  uint64_t numel() const;   // product of shape (1 for a scalar); throws on overflow
  uint64_t nbytes() const;  // numel * element size; throws on overflow
  std::string shape_string() const;  // "[4096, 4096]"
};

// Where a tensor's bytes sit unchanged in a file: lets a writer copy them
// kernel-side (copy_file_range) without passing through user memory.
struct FileSpan {
  std::shared_ptr<const MappedFile> file;
  uint64_t offset = 0;
};

class TensorSource {
 public:
  explicit TensorSource(TensorInfo info) : info_(std::move(info)) {}
  virtual ~TensorSource() = default;
  TensorSource(const TensorSource&) = delete;
  TensorSource& operator=(const TensorSource&) = delete;

  const TensorInfo& info() const { return info_; }
  const std::string& name() const { return info_.name; }

  // Fills `out` with bytes [offset, offset + out.size()) of the tensor's
  // row-major little-endian data. Cast overflow counts are added to `stats`
  // when given. Throws std::out_of_range naming the tensor, offset and size
  // unless the range lies inside the tensor and `offset` and `out.size()`
  // are multiples of the element size. Safe to call from several threads.
  void read(uint64_t offset, std::span<std::byte> out, CastStats* stats = nullptr) const;

  // The bytes unchanged in a file, if that is where they are.
  virtual std::optional<FileSpan> file_span() const { return std::nullopt; }

  // Reads the whole tensor into memory (tests, small tensors, forward pass).
  std::vector<std::byte> read_all(CastStats* stats = nullptr) const;

 private:
  // What read() does once it has checked the range, which is non-empty,
  // inside the tensor and aligned to elements. Scratch memory comes from a
  // ReadScratch (schema/read_scratch.hpp), never from a buffer shared with
  // other reads: sources nest, and a read runs inside another source's read.
  virtual void read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const = 0;

  TensorInfo info_;
};

using TensorPtr = std::shared_ptr<const TensorSource>;

// Bytes at an offset of a file (every reader's basic source).
class FileTensorSource final : public TensorSource {
 public:
  FileTensorSource(TensorInfo info, std::shared_ptr<const MappedFile> file, uint64_t offset);
  std::optional<FileSpan> file_span() const override { return FileSpan{file_, offset_}; }

 private:
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const override;
  std::shared_ptr<const MappedFile> file_;
  uint64_t offset_;
};

// Bytes held in memory (made tensors, tests).
class MemoryTensorSource final : public TensorSource {
 public:
  MemoryTensorSource(TensorInfo info, std::vector<std::byte> bytes);

 private:
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const override;
  std::vector<std::byte> bytes_;
};

// Another source's values in another floating-point dtype.
class CastTensorSource final : public TensorSource {
 public:
  CastTensorSource(TensorPtr input, DType to);
  const TensorPtr& input() const { return input_; }

 private:
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const override;
  TensorPtr input_;
};

// Wraps `input` in a cast when it is a float tensor of another dtype; returns
// it unchanged otherwise (integer tensors are never cast).
TensorPtr cast_if_float(TensorPtr input, DType to);

// The same bytes under another name.
TensorPtr renamed(TensorPtr input, std::string new_name);

}  // namespace supra
