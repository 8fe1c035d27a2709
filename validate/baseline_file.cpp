// The baseline's .npz (layout in baseline.hpp), through converters/numpy.
#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "converters/numpy/numpy_reader.hpp"
#include "converters/format.hpp"
#include "schema/error.hpp"
#include "validate/baseline.hpp"

namespace supra {
namespace {

constexpr int64_t kFormatVersion = 1;

template <typename T>
TensorPtr memory_tensor(const std::string& name, DType dtype, std::vector<uint64_t> shape, const std::vector<T>& v) {
  std::vector<std::byte> bytes(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
  return std::make_shared<MemoryTensorSource>(TensorInfo{name, dtype, std::move(shape)}, std::move(bytes));
}

class BaselineFile {
 public:
  explicit BaselineFile(const std::filesystem::path& path) : path_(path.string()), c_(read_numpy(path)) {}

  // The array `name`, which must have `dtype` and `ndim` dimensions.
  template <typename T>
  std::vector<T> values(const std::string& name, DType dtype, size_t ndim, std::vector<uint64_t>* shape = nullptr) {
    const TensorSource* t = c_.find(name);
    if (!t) fail(name, "missing array");
    if (t->info().dtype != dtype || t->info().shape.size() != ndim)
      fail(name, fmt::format("is {} {}, expected {} with {} dimension(s)", dtype_name(t->info().dtype),
                             t->info().shape_string(), dtype_name(dtype), ndim));
    if (shape) *shape = t->info().shape;
    const auto bytes = t->read_all();
    std::vector<T> v(t->info().numel());
    if (!v.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
  }

  [[noreturn]] void fail(const std::string& tensor, const std::string& why) const {
    throw bad_input("validate.baseline", {path_, tensor, {}}, why + " (not a supra --save-base file?)");
  }

 private:
  std::string path_;
  Checkpoint c_;
};

}  // namespace

void write_baseline(const ParityBaseline& base, const std::filesystem::path& path, bool force) {
  const uint64_t seqs = base.tokens.size(), len = seqs ? base.tokens[0].size() : 0;
  std::vector<int64_t> flat;
  for (const auto& s : base.tokens) {
    if (s.size() != len) throw usage_error("usage.base", "--save-base needs token sequences of one length");
    flat.insert(flat.end(), s.begin(), s.end());
  }
  const uint64_t p = base.positions(), k = base.top_k;
  Checkpoint c;
  c.format = "numpy";
  c.tensors = {memory_tensor("tokens", DType::I64, {seqs, len}, flat),
               memory_tensor("top_ids", DType::I32, {p, k}, base.top_ids),
               memory_tensor("top_logprobs", DType::F64, {p, k}, base.top_logprobs),
               memory_tensor("tail_logmass", DType::F64, {p}, base.tail_logmass),
               memory_tensor("next_logprob", DType::F64, {p}, base.next_logprob),
               memory_tensor("vocab_size", DType::I64, {1}, std::vector<int64_t>{int64_t(base.vocab)}),
               memory_tensor("format_version", DType::I64, {1}, std::vector<int64_t>{kFormatVersion})};
  WriteOptions options;
  options.force = force;
  write_checkpoint(*find_format("numpy"), c, path, options);
}

ParityBaseline read_baseline(const std::filesystem::path& path) {
  BaselineFile f(path);
  const auto version = f.values<int64_t>("format_version", DType::I64, 1);
  if (version.size() != 1 || version[0] != kFormatVersion)
    f.fail("format_version", fmt::format("format version {} (this supra reads {})",
                                         version.empty() ? -1 : version[0], kFormatVersion));
  const auto vocab = f.values<int64_t>("vocab_size", DType::I64, 1);
  if (vocab.size() != 1 || vocab[0] < 1) f.fail("vocab_size", "not one positive count");
  ParityBaseline b;
  b.vocab = uint64_t(vocab[0]);
  std::vector<uint64_t> tok_shape, ids_shape, lp_shape, tail_shape, next_shape;
  const auto flat = f.values<int64_t>("tokens", DType::I64, 2, &tok_shape);
  b.top_ids = f.values<int32_t>("top_ids", DType::I32, 2, &ids_shape);
  b.top_logprobs = f.values<double>("top_logprobs", DType::F64, 2, &lp_shape);
  b.tail_logmass = f.values<double>("tail_logmass", DType::F64, 1, &tail_shape);
  b.next_logprob = f.values<double>("next_logprob", DType::F64, 1, &next_shape);
  const uint64_t seqs = tok_shape[0], len = tok_shape[1], p = ids_shape[0];
  if (lp_shape != ids_shape || tail_shape[0] != p || next_shape[0] != p)
    f.fail("top_logprobs", "top_ids, top_logprobs, tail_logmass and next_logprob disagree on the positions");
  if (ids_shape[1] < 1 || ids_shape[1] > b.vocab) f.fail("top_ids", "top-k outside 1..vocab_size");
  if (seqs == 0 || p % seqs != 0) f.fail("tokens", fmt::format("{} sequences for {} positions", seqs, p));
  b.top_k = uint32_t(ids_shape[1]);
  b.rows_per_sequence = p / seqs;
  if (len != b.rows_per_sequence && len != b.rows_per_sequence + 1)
    f.fail("tokens", fmt::format("{} tokens a sequence for {} positions each", len, b.rows_per_sequence));
  for (int32_t id : b.top_ids)
    if (id < 0 || uint64_t(id) >= b.vocab) f.fail("top_ids", fmt::format("token id {} outside the vocabulary", id));
  for (int64_t id : flat)
    if (id < 0 || uint64_t(id) >= b.vocab) f.fail("tokens", fmt::format("token id {} outside the vocabulary", id));
  for (uint64_t s = 0; s < seqs; ++s) b.tokens.emplace_back(flat.begin() + s * len, flat.begin() + (s + 1) * len);
  return b;
}

}  // namespace supra
