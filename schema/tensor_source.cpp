#include "schema/tensor_source.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "schema/error.hpp"
#include "schema/mapped_file.hpp"
#include "schema/read_scratch.hpp"

namespace supra {

uint64_t TensorInfo::numel() const {
  uint64_t n = 1;
  for (uint64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n))
      throw bad_input("tensor.overflow", {{}, name, {}}, "shape " + shape_string() + " overflows 64 bits");
  return n;
}

uint64_t TensorInfo::nbytes() const {
  uint64_t n = 0;
  if (__builtin_mul_overflow(numel(), uint64_t(dtype_size(dtype)), &n))
    throw bad_input("tensor.overflow", {{}, name, {}}, "byte size of shape " + shape_string() + " overflows 64 bits");
  return n;
}

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

void TensorSource::read(uint64_t offset, std::span<std::byte> out, CastStats* stats) const {
  const uint64_t total = info_.nbytes(), elem = dtype_size(info_.dtype);
  const auto range = [&] {
    return "read of bytes [" + std::to_string(offset) + ", +" + std::to_string(out.size()) + ") of tensor '" +
           info_.name + "'";
  };
  if (offset > total || out.size() > total - offset)
    throw std::out_of_range(range() + " is outside its " + std::to_string(total) + " bytes");
  if (offset % elem || out.size() % elem)
    throw std::out_of_range(range() + " does not fall on its " + std::to_string(elem) + "-byte elements");
  if (!out.empty()) read_range(offset, out, stats);
}

std::vector<std::byte> TensorSource::read_all(CastStats* stats) const {
  std::vector<std::byte> bytes(info_.nbytes());
  read(0, bytes, stats);
  return bytes;
}

FileTensorSource::FileTensorSource(TensorInfo info, std::shared_ptr<const MappedFile> file,
                                   uint64_t offset)
    : TensorSource(std::move(info)), file_(std::move(file)), offset_(offset) {}

void FileTensorSource::read_range(uint64_t offset, std::span<std::byte> out, CastStats*) const {
  file_->read_at(offset_ + offset, out);
}

MemoryTensorSource::MemoryTensorSource(TensorInfo info, std::vector<std::byte> bytes)
    : TensorSource(std::move(info)), bytes_(std::move(bytes)) {
  if (bytes_.size() != this->info().nbytes())
    throw std::invalid_argument("MemoryTensorSource: byte count does not match shape");
}

void MemoryTensorSource::read_range(uint64_t offset, std::span<std::byte> out, CastStats*) const {
  std::memcpy(out.data(), bytes_.data() + offset, out.size());
}

CastTensorSource::CastTensorSource(TensorPtr input, DType to)
    : TensorSource(TensorInfo{input->info().name, to, input->info().shape}), input_(std::move(input)) {
  if (!dtype_is_float(input_->info().dtype) || !dtype_is_float(to))
    throw std::invalid_argument("CastTensorSource: only floating-point tensors are cast");
}

void CastTensorSource::read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const {
  // Pieces of at most 256 Ki elements: a writer's 256 KiB chunk is one piece,
  // and a whole-tensor read does not need scratch the size of the tensor.
  constexpr uint64_t kPieceElements = 1u << 18;
  const DType from = input_->info().dtype, to = info().dtype;
  const size_t out_size = dtype_size(to), in_size = dtype_size(from);
  const uint64_t first = offset / out_size, count = out.size() / out_size;
  ReadScratch scratch(size_t(std::min(count, kPieceElements) * in_size));
  CastStats local;
  for (uint64_t done = 0; done < count;) {
    const uint64_t n = std::min(count - done, kPieceElements);
    const std::span<std::byte> in = scratch.bytes().first(size_t(n * in_size));
    input_->read((first + done) * in_size, in, stats);
    cast_elements(from, in.data(), to, out.data() + done * out_size, size_t(n), local);
    done += n;
  }
  if (stats) stats->add(local);
}

TensorPtr cast_if_float(TensorPtr input, DType to) {
  const DType from = input->info().dtype;
  if (from == to || !dtype_is_float(from)) return input;
  return std::make_shared<CastTensorSource>(std::move(input), to);
}

namespace {
class RenamedTensorSource final : public TensorSource {
 public:
  RenamedTensorSource(TensorPtr input, std::string name)
      : TensorSource(TensorInfo{std::move(name), input->info().dtype, input->info().shape}),
        input_(std::move(input)) {}
  std::optional<FileSpan> file_span() const override { return input_->file_span(); }

 private:
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const override {
    input_->read(offset, out, stats);
  }
  TensorPtr input_;
};
}  // namespace

TensorPtr renamed(TensorPtr input, std::string new_name) {
  return std::make_shared<RenamedTensorSource>(std::move(input), std::move(new_name));
}

}  // namespace supra
