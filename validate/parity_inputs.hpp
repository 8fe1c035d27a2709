#pragma once
// What `supra validate --from-logits` reads: logits and hidden states that
// were computed elsewhere (PyTorch, llama.cpp, `supra logits`). Token ids
// come from validate::read_tokens (validate/inputs.hpp), the one token reader.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "schema/checkpoint.hpp"
#include "validate/hidden_state_errors.hpp"
#include "validate/parity_metrics.hpp"

namespace supra {

// A .npy of logits, [T, V] or [S, T, V], of any float dtype, read one row at
// a time (the file is mapped, never loaded whole).
class LogitsFile {
 public:
  explicit LogitsFile(const std::filesystem::path& path);
  uint64_t sequences() const { return sequences_; }
  uint64_t rows_per_sequence() const { return rows_; }
  uint64_t rows() const { return sequences_ * rows_; }
  uint64_t vocab() const { return vocab_; }
  // Row r of all rows (sequences back to back), widened to double; out.size() == vocab().
  void read_row(uint64_t r, std::vector<double>& out);

 private:
  std::string path_;
  Checkpoint ckpt_;
  uint64_t sequences_ = 1, rows_ = 0, vocab_ = 0;
  std::vector<std::byte> buffer_;
};

// Hidden-state dumps of A and B: .npz files of arrays [T, D] (or [S, T, D])
// named per step. Steps follow A's order and pair with B's arrays by name;
// the layer is the first number in the name ("layers.3.attn" -> 3, "attn"),
// a name without a number keeps the previous step's layer.
std::vector<HiddenStepError> compare_hidden_files(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace supra
