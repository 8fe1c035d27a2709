#pragma once
// A stored reference for later comparisons (`--save-base BASE.npz`, then
// `--base BASE.npz`): per position the reference's top-k token ids and
// log-probabilities and the log of the probability mass outside them, not the
// full vocabulary (llama.cpp's full-vocab file is tens of GB; this is
// k * 12 + 8 bytes a position). The file is an .npz written and read by
// converters/numpy:
//   tokens         int64 [S, T or T+1]   the token ids of the S sequences
//   top_ids        int32 [P, k]          reference's k most likely ids per row, most likely first
//   top_logprobs   f64   [P, k]          their log-probabilities
//   tail_logmass   f64   [P]             log(1 - sum of the top-k probabilities)
//   next_logprob   f64   [P]             log-probability of the actual next token (NaN: no next token)
//   vocab_size     int64 [1]
//   format_version int64 [1]             1
// P = S * rows per sequence.
//
// KLD against a baseline uses the top-k + tail approximation: with S_t the
// reference's top-k ids at row t, pA its probabilities, tail_A =
// 1 - sum_{i in S_t} pA_i and tail_B = sum_{i not in S_t} pB_i (the
// candidate's mass outside S_t, summed directly in double),
//   KLD_t ~= sum_{i in S_t} pA_i (log pA_i - log pB_i) + tail_A (log tail_A - log tail_B)
// (a term with zero mass adds nothing). That is the exact KL divergence of the
// two distributions coarsened to k + 1 outcomes (each top-k id, and "any other
// id"): by the log-sum inequality never above the full KLD, and short of it
// by tail_A * KL(A's tail || B's tail) of the renormalized tails, which is
// small when the top-k hold nearly all the mass. Same top-1, top-5 overlap
// (k >= 5), PPL of both and Δp are exact; the raw-logit errors need full
// logits and are left out.
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "validate/parity_metrics.hpp"

namespace supra {

inline constexpr uint32_t kDefaultBaselineTopK = 32;

struct ParityBaseline {
  TokenSequences tokens;
  uint64_t rows_per_sequence = 0;
  uint64_t vocab = 0;
  uint32_t top_k = kDefaultBaselineTopK;
  std::vector<int32_t> top_ids;       // [P, k]
  std::vector<double> top_logprobs;   // [P, k]
  std::vector<double> tail_logmass;   // [P]
  std::vector<double> next_logprob;   // [P], NaN where no next token

  uint64_t positions() const { return tail_logmass.size(); }
  // next_tokens_for(tokens, rows_per_sequence)
  std::vector<int64_t> next_tokens() const;
};

// Builds a baseline from the reference's logits, one row at a time.
class BaselineBuilder {
 public:
  BaselineBuilder(TokenSequences tokens, uint64_t rows_per_sequence, uint64_t vocab,
                  uint32_t top_k = kDefaultBaselineTopK);
  void add_row(std::span<const double> logits);
  void add_row(std::span<const float> logits);
  ParityBaseline finish();  // throws unless every row was added

 private:
  ParityBaseline b_;
  std::vector<int64_t> next_;
  std::vector<double> wide_, logp_;
};

// Compares candidate rows against a baseline (same row order as it was built).
class BaselineComparison {
 public:
  explicit BaselineComparison(const ParityBaseline& base);
  void add_row(std::span<const double> logits);
  void add_row(std::span<const float> logits);
  LogitMetrics finish() const;  // baseline_top_k set; no raw-logit errors

 private:
  const ParityBaseline& base_;
  std::vector<int64_t> next_;
  std::vector<PositionRecord> records_;
  uint64_t nonfinite_ = 0;
  std::vector<double> wide_, logp_;
};

// Writes atomically (temporary name, rename); refuses an existing file unless `force`.
void write_baseline(const ParityBaseline& base, const std::filesystem::path& path, bool force);
// Reads and checks every array's dtype and shape against the others (validate.baseline errors).
ParityBaseline read_baseline(const std::filesystem::path& path);

}  // namespace supra
