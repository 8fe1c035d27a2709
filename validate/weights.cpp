#include "validate/weights.hpp"

#include <cstdint>
#include <type_traits>

#include "schema/mapped_file.hpp"

#include "schema/error.hpp"

namespace supra::validate {

uint64_t row_length(const TensorInfo& info) { return info.shape.empty() ? 1 : info.shape.back(); }

namespace {

template <class S>
constexpr DType scalar_dtype() {
  return std::is_same_v<S, float> ? DType::F32 : DType::F64;
}

template <class S>
void widen(const TensorSource& t, uint64_t first, uint64_t count, S* out) {
  const TensorInfo& info = t.info();
  if (!dtype_is_float(info.dtype))
    throw bad_input("forward.dtype", {{}, info.name, {}},
                    "the forward pass needs floating-point weights, not " + std::string(dtype_name(info.dtype)));
  const size_t esize = dtype_size(info.dtype);
  const uint64_t offset = first * esize;
  if (info.dtype == scalar_dtype<S>()) {
    t.read(offset, {reinterpret_cast<std::byte*>(out), count * esize});
    return;
  }
  // One scratch buffer per thread, reused across panels.
  thread_local std::vector<std::byte> raw;
  raw.resize(count * esize);
  t.read(offset, raw);
  CastStats unused;  // widening never overflows
  cast_elements(info.dtype, raw.data(), scalar_dtype<S>(), reinterpret_cast<std::byte*>(out), count, unused);
}

}  // namespace

template <class S>
void read_rows(const TensorSource& t, uint64_t row0, uint64_t rows, S* out) {
  const uint64_t cols = row_length(t.info());
  widen(t, row0 * cols, rows * cols, out);
}

template <class S>
const S* mapped_rows(const TensorSource& t, uint64_t row0) {
  if (t.info().dtype != scalar_dtype<S>()) return nullptr;
  const std::optional<FileSpan> span = t.file_span();
  if (!span || !span->file) return nullptr;
  const std::byte* p = span->file->bytes().data() + span->offset + row0 * row_length(t.info()) * sizeof(S);
  return reinterpret_cast<uintptr_t>(p) % alignof(S) == 0 ? reinterpret_cast<const S*>(p) : nullptr;
}

template <class S>
std::vector<S> read_vector(const TensorSource& t) {
  std::vector<S> v(t.info().numel());
  widen(t, 0, v.size(), v.data());
  return v;
}

template void read_rows<float>(const TensorSource&, uint64_t, uint64_t, float*);
template void read_rows<double>(const TensorSource&, uint64_t, uint64_t, double*);
template const float* mapped_rows<float>(const TensorSource&, uint64_t);
template const double* mapped_rows<double>(const TensorSource&, uint64_t);
template std::vector<float> read_vector<float>(const TensorSource&);
template std::vector<double> read_vector<double>(const TensorSource&);

}  // namespace supra::validate
