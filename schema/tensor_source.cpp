#include "schema/tensor_source.hpp"

#include <cstring>
#include <stdexcept>

#include "schema/error.hpp"
#include "schema/mapped_file.hpp"

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

std::vector<std::byte> TensorSource::read_all(CastStats* stats) const {
  std::vector<std::byte> bytes(info_.nbytes());
  read(0, bytes, stats);
  return bytes;
}

namespace {
void check_range(const TensorInfo& info, uint64_t offset, size_t size) {
  const uint64_t total = info.nbytes();
  if (offset > total || size > total - offset)
    throw std::out_of_range("read past the end of tensor '" + info.name + "'");
}
}  // namespace

FileTensorSource::FileTensorSource(TensorInfo info, std::shared_ptr<const MappedFile> file,
                                   uint64_t offset)
    : TensorSource(std::move(info)), file_(std::move(file)), offset_(offset) {}

void FileTensorSource::read(uint64_t offset, std::span<std::byte> out, CastStats*) const {
  check_range(info(), offset, out.size());
  file_->read_at(offset_ + offset, out);
}

MemoryTensorSource::MemoryTensorSource(TensorInfo info, std::vector<std::byte> bytes)
    : TensorSource(std::move(info)), bytes_(std::move(bytes)) {
  if (bytes_.size() != this->info().nbytes())
    throw std::invalid_argument("MemoryTensorSource: byte count does not match shape");
}

void MemoryTensorSource::read(uint64_t offset, std::span<std::byte> out, CastStats*) const {
  check_range(info(), offset, out.size());
  if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
}

CastTensorSource::CastTensorSource(TensorPtr input, DType to)
    : TensorSource(TensorInfo{input->info().name, to, input->info().shape}), input_(std::move(input)) {
  if (!dtype_is_float(input_->info().dtype) || !dtype_is_float(to))
    throw std::invalid_argument("CastTensorSource: only floating-point tensors are cast");
}

void CastTensorSource::read(uint64_t offset, std::span<std::byte> out, CastStats* stats) const {
  check_range(info(), offset, out.size());
  const size_t out_size = dtype_size(info().dtype);
  const size_t in_size = dtype_size(input_->info().dtype);
  const uint64_t first = offset / out_size;
  const size_t count = out.size() / out_size;
  // A per-thread scratch buffer: chunked reads keep it small and reused.
  thread_local std::vector<std::byte> scratch;
  scratch.resize(count * in_size);
  CastStats local;
  input_->read(first * in_size, scratch, stats);
  cast_elements(input_->info().dtype, scratch.data(), info().dtype, out.data(), count, local);
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
  void read(uint64_t offset, std::span<std::byte> out, CastStats* stats) const override {
    input_->read(offset, out, stats);
  }
  std::optional<FileSpan> file_span() const override { return input_->file_span(); }

 private:
  TensorPtr input_;
};
}  // namespace

TensorPtr renamed(TensorPtr input, std::string new_name) {
  return std::make_shared<RenamedTensorSource>(std::move(input), std::move(new_name));
}

}  // namespace supra
