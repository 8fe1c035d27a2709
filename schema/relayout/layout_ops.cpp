#include "schema/relayout/layout_ops.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "schema/error.hpp"
#include "schema/read_scratch.hpp"

namespace supra {
namespace {

[[noreturn]] void bad_shape(const std::string& tensor, const std::string& detail) {
  throw bad_input("layout.101", {{}, tensor, {}}, detail);
}

// Bytes in one slice along dim `dim` of everything after it: prod(shape[dim+1..]) * esz.
uint64_t inner_bytes(const TensorInfo& info, size_t dim) {
  uint64_t n = dtype_size(info.dtype);
  for (size_t d = dim + 1; d < info.shape.size(); ++d) n *= info.shape[d];  // bounded by nbytes(), checked by caller
  return n;
}

// A source whose every output byte is a byte of one of its inputs, in runs:
// the row permutation, concat and slice. Subclasses say where output byte
// `pos` comes from; the walk over a requested range is written once, here.
class PiecewiseSource : public TensorSource {
 public:
  using TensorSource::TensorSource;

 protected:
  // Output byte `pos` is byte `offset` of `input`, and the `length` bytes
  // from there on (length > 0) are contiguous in that input.
  struct Piece {
    const TensorSource* input;
    uint64_t offset;
    uint64_t length;
  };
  virtual Piece locate(uint64_t pos) const = 0;

 private:
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const final {
    for (size_t done = 0; done < out.size();) {
      const Piece p = locate(offset + done);
      const size_t n = size_t(std::min<uint64_t>(p.length, out.size() - done));
      p.input->read(p.offset, out.subspan(done, n), stats);
      done += n;
    }
  }
};

class RowPermutationSource final : public PiecewiseSource {
 public:
  RowPermutationSource(TensorPtr input, std::vector<uint64_t> rows, std::string name)
      : PiecewiseSource(TensorInfo{std::move(name), input->info().dtype, input->info().shape}),
        input_(std::move(input)),
        rows_(std::move(rows)) {
    const TensorInfo& in = input_->info();
    if (in.shape.empty() || in.shape[0] != rows_.size())
      bad_shape(in.name, "row permutation of " + std::to_string(rows_.size()) + " rows on shape " + in.shape_string());
    std::vector<bool> seen(rows_.size());
    for (uint64_t r : rows_) {
      if (r >= rows_.size() || seen[r]) throw std::invalid_argument("permute_rows: not a permutation");
      seen[r] = true;
    }
    row_bytes_ = in.shape[0] ? in.nbytes() / in.shape[0] : 0;
  }

 private:
  Piece locate(uint64_t pos) const override {
    const uint64_t row = pos / row_bytes_, within = pos % row_bytes_;
    return {input_.get(), rows_[row] * row_bytes_ + within, row_bytes_ - within};
  }

  TensorPtr input_;
  std::vector<uint64_t> rows_;
  uint64_t row_bytes_ = 0;
};

// Output blocks (one per index of the dims before `dim`) are the inputs'
// blocks side by side.
class ConcatSource final : public PiecewiseSource {
 public:
  ConcatSource(TensorInfo info, std::vector<TensorPtr> inputs, size_t dim)
      : PiecewiseSource(std::move(info)), inputs_(std::move(inputs)) {
    for (const auto& t : inputs_) {
      part_bytes_.push_back(t->info().shape[dim] * inner_bytes(t->info(), dim));
      block_bytes_ += part_bytes_.back();
    }
  }

 private:
  Piece locate(uint64_t pos) const override {
    const uint64_t block = pos / block_bytes_;
    uint64_t within = pos % block_bytes_;
    size_t part = 0;
    while (within >= part_bytes_[part]) within -= part_bytes_[part++];  // skips empty parts
    return {inputs_[part].get(), block * part_bytes_[part] + within, part_bytes_[part] - within};
  }

  std::vector<TensorPtr> inputs_;
  std::vector<uint64_t> part_bytes_;
  uint64_t block_bytes_ = 0;
};

class SliceSource final : public PiecewiseSource {
 public:
  SliceSource(TensorInfo info, TensorPtr input, size_t dim, uint64_t start)
      : PiecewiseSource(std::move(info)), input_(std::move(input)) {
    const uint64_t inner = inner_bytes(input_->info(), dim);
    in_block_ = input_->info().shape[dim] * inner;
    out_block_ = this->info().shape[dim] * inner;
    start_bytes_ = start * inner;
  }

  // A slice of leading rows (one block) is one run of the input's bytes, so
  // it is still in the file when the input is (read in place, kernel copies).
  std::optional<FileSpan> file_span() const override {
    if (out_block_ != info().nbytes()) return std::nullopt;
    std::optional<FileSpan> span = input_->file_span();
    if (span) span->offset += start_bytes_;
    return span;
  }

 private:
  Piece locate(uint64_t pos) const override {
    const uint64_t block = pos / out_block_, within = pos % out_block_;
    return {input_.get(), block * in_block_ + start_bytes_ + within, out_block_ - within};
  }

  TensorPtr input_;
  uint64_t in_block_ = 0, out_block_ = 0, start_bytes_ = 0;
};

class TransposeSource final : public TensorSource {
 public:
  TransposeSource(TensorPtr input, std::string name)
      : TensorSource(TensorInfo{std::move(name), input->info().dtype,
                                {input->info().shape.at(1), input->info().shape.at(0)}}),
        input_(std::move(input)) {}

 private:
  // Output rows [r0, r1] are input columns [r0, r1]: one contiguous read per
  // input row, so the scratch stays near the size of `out`. A read inside
  // one output row needs only the input rows of its columns (nested
  // transposes would otherwise multiply small reads by m per level).
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats* stats) const override {
    const uint64_t esz = dtype_size(info().dtype);
    const uint64_t m = input_->info().shape[0], n = input_->info().shape[1];  // input [m, n], output [n, m]
    const uint64_t first = offset / esz, count = out.size() / esz, last = first + count - 1;
    const uint64_t r0 = first / m, r1 = last / m, width = r1 - r0 + 1;
    const uint64_t j0 = r0 == r1 ? first % m : 0, j1 = r0 == r1 ? last % m : m - 1;  // input rows read
    ReadScratch scratch(size_t((j1 - j0 + 1) * width * esz));  // [j1 - j0 + 1][width]
    const std::span<std::byte> columns = scratch.bytes();
    for (uint64_t j = j0; j <= j1; ++j)
      input_->read((j * n + r0) * esz, columns.subspan((j - j0) * width * esz, width * esz), stats);
    for (uint64_t e = 0; e < count; ++e) {
      const uint64_t idx = first + e, row = idx / m, col = idx % m;
      std::memcpy(out.data() + e * esz, columns.data() + ((col - j0) * width + (row - r0)) * esz, esz);
    }
  }

  TensorPtr input_;
};

void check_rope_rows(uint64_t rows, uint64_t n_heads) {
  if (n_heads == 0 || rows % n_heads != 0 || (rows / n_heads) % 2 != 0)
    throw bad_input("layout.102", {}, std::to_string(rows) + " rows do not split into " + std::to_string(n_heads) +
                                          " heads of an even head dim");
}

}  // namespace

TensorPtr permute_rows(TensorPtr input, std::vector<uint64_t> rows, std::string name) {
  return std::make_shared<RowPermutationSource>(std::move(input), std::move(rows), std::move(name));
}

std::vector<uint64_t> rope_halves_to_pairs_rows(uint64_t rows, uint64_t n_heads) {
  check_rope_rows(rows, n_heads);
  const uint64_t hd = rows / n_heads, half = hd / 2;
  std::vector<uint64_t> out(rows);
  for (uint64_t h = 0; h < n_heads; ++h)
    for (uint64_t i = 0; i < half; ++i)
      for (uint64_t j = 0; j < 2; ++j) out[h * hd + 2 * i + j] = h * hd + j * half + i;
  return out;
}

std::vector<uint64_t> rope_pairs_to_halves_rows(uint64_t rows, uint64_t n_heads) {
  check_rope_rows(rows, n_heads);
  const uint64_t hd = rows / n_heads, half = hd / 2;
  std::vector<uint64_t> out(rows);
  for (uint64_t h = 0; h < n_heads; ++h)
    for (uint64_t i = 0; i < half; ++i)
      for (uint64_t j = 0; j < 2; ++j) out[h * hd + j * half + i] = h * hd + 2 * i + j;
  return out;
}

TensorPtr permute_rope_halves_to_pairs(TensorPtr input, uint64_t n_heads, std::string name) {
  if (input->info().shape.empty()) bad_shape(input->name(), "RoPE permutation of a scalar");
  try {
    auto rows = rope_halves_to_pairs_rows(input->info().shape[0], n_heads);
    return permute_rows(std::move(input), std::move(rows), std::move(name));
  } catch (const Error& e) {
    throw bad_input(e.id(), {{}, input->name(), {}}, e.detail());
  }
}

TensorPtr permute_rope_pairs_to_halves(TensorPtr input, uint64_t n_heads, std::string name) {
  if (input->info().shape.empty()) bad_shape(input->name(), "RoPE permutation of a scalar");
  try {
    auto rows = rope_pairs_to_halves_rows(input->info().shape[0], n_heads);
    return permute_rows(std::move(input), std::move(rows), std::move(name));
  } catch (const Error& e) {
    throw bad_input(e.id(), {{}, input->name(), {}}, e.detail());
  }
}

std::vector<uint64_t> heads_interleaved_to_grouped_rows(uint64_t rows, uint64_t n_heads, uint64_t n_parts) {
  if (n_heads == 0 || n_parts == 0 || rows % (n_heads * n_parts) != 0)
    throw bad_input("layout.103", {}, std::to_string(rows) + " rows do not split into " + std::to_string(n_heads) +
                                          " heads x " + std::to_string(n_parts) + " parts");
  const uint64_t hd = rows / (n_heads * n_parts);
  std::vector<uint64_t> out(rows);
  for (uint64_t p = 0; p < n_parts; ++p)
    for (uint64_t h = 0; h < n_heads; ++h)
      for (uint64_t d = 0; d < hd; ++d) out[(p * n_heads + h) * hd + d] = (h * n_parts + p) * hd + d;
  return out;
}

std::vector<uint64_t> heads_grouped_to_interleaved_rows(uint64_t rows, uint64_t n_heads, uint64_t n_parts) {
  const std::vector<uint64_t> fwd = heads_interleaved_to_grouped_rows(rows, n_heads, n_parts);
  std::vector<uint64_t> inv(rows);
  for (uint64_t r = 0; r < rows; ++r) inv[fwd[r]] = r;
  return inv;
}

TensorPtr concat(std::vector<TensorPtr> inputs, size_t dim, std::string name) {
  if (inputs.empty()) throw std::invalid_argument("concat of nothing");
  const TensorInfo& first = inputs[0]->info();
  if (dim >= first.shape.size()) bad_shape(first.name, "concat along dim " + std::to_string(dim) + " of shape " + first.shape_string());
  TensorInfo info{std::move(name), first.dtype, first.shape};
  info.shape[dim] = 0;
  for (const auto& t : inputs) {
    const TensorInfo& ti = t->info();
    bool same = ti.dtype == first.dtype && ti.shape.size() == first.shape.size();
    for (size_t d = 0; same && d < ti.shape.size(); ++d) same = d == dim || ti.shape[d] == first.shape[d];
    if (!same)
      bad_shape(ti.name, "cannot concatenate " + std::string(dtype_name(ti.dtype)) + " " + ti.shape_string() + " with " +
                             std::string(dtype_name(first.dtype)) + " " + first.shape_string() + " along dim " +
                             std::to_string(dim));
    if (__builtin_add_overflow(info.shape[dim], ti.shape[dim], &info.shape[dim])) bad_shape(ti.name, "concat size overflows");
  }
  info.nbytes();  // throws on overflow
  if (inputs.size() == 1) return renamed(inputs[0], info.name);
  return std::make_shared<ConcatSource>(std::move(info), std::move(inputs), dim);
}

TensorPtr slice(TensorPtr input, size_t dim, uint64_t start, uint64_t length, std::string name) {
  const TensorInfo& in = input->info();
  if (dim >= in.shape.size() || start > in.shape[dim] || length > in.shape[dim] - start)
    bad_shape(in.name, "slice [" + std::to_string(start) + ", +" + std::to_string(length) + ") along dim " +
                           std::to_string(dim) + " is outside shape " + in.shape_string());
  TensorInfo info{std::move(name), in.dtype, in.shape};
  info.shape[dim] = length;
  if (start == 0 && length == in.shape[dim]) return renamed(std::move(input), info.name);
  return std::make_shared<SliceSource>(std::move(info), std::move(input), dim, start);
}

TensorPtr transpose2d(TensorPtr input, std::string name) {
  if (input->info().shape.size() != 2) bad_shape(input->name(), "transpose of a non-matrix " + input->info().shape_string());
  return std::make_shared<TransposeSource>(std::move(input), std::move(name));
}

}  // namespace supra
