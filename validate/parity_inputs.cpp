#include "validate/parity_inputs.hpp"

#include <fmt/format.h>

#include <cctype>

#include "converters/numpy/numpy_reader.hpp"
#include "schema/error.hpp"
#include "schema/tensor_stats.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;

std::vector<double> read_doubles(const TensorSource& t) {
  const auto bytes = t.read_all();
  std::vector<double> v(t.info().numel());
  decode_to_double(t.info().dtype, bytes.data(), v.size(), v.data());
  return v;
}

// "layers.12.mlp" -> {12, "mlp"}; no number -> {previous, whole name}.
std::pair<uint64_t, std::string> parse_step_name(const std::string& name, uint64_t previous) {
  const size_t d = name.find_first_of("0123456789");
  if (d == std::string::npos) return {previous, name};
  size_t e = d;
  while (e < name.size() && std::isdigit(static_cast<unsigned char>(name[e]))) ++e;
  if (e - d > 9) return {previous, name};  // not a layer number
  std::string rest = name.substr(e);
  while (!rest.empty() && (rest[0] == '.' || rest[0] == '_' || rest[0] == '/')) rest.erase(0, 1);
  return {std::stoull(name.substr(d, e - d)), rest.empty() ? name : rest};
}

}  // namespace

LogitsFile::LogitsFile(const fs::path& path) : path_(path.string()), ckpt_(read_npy(path)) {
  const TensorInfo& info = ckpt_.tensors.front()->info();
  const auto& s = info.shape;
  if (!dtype_is_float(info.dtype) || (s.size() != 2 && s.size() != 3) || s.back() == 0)
    throw bad_input("validate.logits_shape", {path_, {}, {}},
                    "logits must be a float array [T, V] or [S, T, V], not " + std::string(dtype_name(info.dtype)) +
                        " " + info.shape_string());
  sequences_ = s.size() == 3 ? s[0] : 1;
  rows_ = s[s.size() - 2];
  vocab_ = s.back();
  buffer_.resize(vocab_ * dtype_size(info.dtype));
}

void LogitsFile::read_row(uint64_t r, std::vector<double>& out) {
  const TensorSource& t = *ckpt_.tensors.front();
  t.read(r * buffer_.size(), buffer_);
  out.resize(vocab_);
  decode_to_double(t.info().dtype, buffer_.data(), vocab_, out.data());
}

std::vector<HiddenStepError> compare_hidden_files(const fs::path& a, const fs::path& b) {
  const Checkpoint ca = read_numpy(a), cb = read_numpy(b);
  std::vector<HiddenStepError> steps;
  uint64_t layer = 0;
  for (const auto& ta : ca.tensors) {
    const TensorSource* tb = cb.find(ta->name());
    if (!tb) throw bad_input("validate.hidden", {b.string(), ta->name(), {}}, "no such array (it is in " + a.string() + ")");
    const auto& sa = ta->info().shape;
    if (sa != tb->info().shape || sa.size() < 2)
      throw bad_input("validate.hidden", {b.string(), ta->name(), {}},
                      fmt::format("shape {} vs {} in {} (need [T, D] or [S, T, D], equal)", tb->info().shape_string(),
                                  ta->info().shape_string(), a.string()));
    auto [l, substep] = parse_step_name(ta->name(), layer);
    layer = l;
    const uint64_t cols = sa.back(), rows = ta->info().numel() / std::max<uint64_t>(cols, 1);
    const auto va = read_doubles(*ta), vb = read_doubles(*tb);
    steps.push_back(hidden_step_error(l, substep, std::span<const double>(va), std::span<const double>(vb), rows, cols));
  }
  return steps;
}

}  // namespace supra
