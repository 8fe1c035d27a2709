#pragma once
// How far a candidate's logits (B) are from a reference's (A), with the
// statistics llama.cpp's `llama-perplexity --kl-divergence` prints, defined
// as it defines them so the numbers compare:
//   KLD      KL(pA || pB) = sum_i pA_i (log pA_i - log pB_i) per position
//   Δp       pB(next) - pA(next): change of the probability of the actual next token
//   RMS Δp   sqrt(mean Δp^2)
//   PPL      exp(mean -log p(next)); PPL ratio = PPL(B) / PPL(A)
//   same top-1  share of positions where argmax A == argmax B
//   errors   standard errors as llama-perplexity computes them (summary_stats.hpp)
// plus top-5 overlap (mean |top5 A ∩ top5 B| / 5) and the max abs and
// relative L2 error of the raw logits. Log-softmax and every sum in double.
//
// Positions: every row of logits is compared (KLD, top-k, logit errors); a
// row with an actual next token (row t of a sequence whose tokens go on to
// t + 1) also counts for PPL and Δp. llama-perplexity scores only the second
// half of each context window; we score every row that has a next token.
//
// Rows arrive one at a time (logits of a long run are never needed whole).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "validate/summary_stats.hpp"

namespace supra {

// Token ids of one or more sequences fed to the model.
using TokenSequences = std::vector<std::vector<int64_t>>;

// The token that follows each row of logits, -1 where none does. Rows are the
// sequences' rows back to back, `rows_per_sequence` each; a sequence holds
// that many tokens, or one more (its last row is then scored too).
std::vector<int64_t> next_tokens_for(const TokenSequences& tokens, uint64_t rows_per_sequence);

// What one compared row contributes.
struct PositionRecord {
  double kld = 0;
  bool same_top1 = false;
  uint8_t top5_common = 0;  // |top5(A) ∩ top5(B)|
  bool scored = false;      // has an actual next token: the fields below are set
  double nll_a = 0, nll_b = 0;
  double delta_p = 0;
};

// Raw logit differences over every element compared.
struct LogitErrorSums {
  double max_abs = 0;
  double sum_sq_diff = 0;
  double sum_sq_ref = 0;
};

struct DistributionSummary {
  double mean = 0, error = 0;
  Quantiles quantiles{};  // at kQuantileLevels
};

struct LogitMetrics {
  uint64_t positions = 0;  // rows compared
  uint64_t scored = 0;     // rows with a next token
  uint64_t vocab = 0;
  uint32_t baseline_top_k = 0;  // 0: the reference was full logits; k: a top-k baseline (baseline.hpp)
  double ppl_a = 0, ppl_a_error = 0, ppl_b = 0, ppl_b_error = 0;
  double ln_ppl_ratio = 0, ln_ppl_ratio_error = 0, ppl_ratio = 0, ppl_ratio_error = 0;
  double nll_correlation = 0;  // Pearson, of -log p(next) under A and B
  DistributionSummary kld, delta_p;
  double rms_delta_p = 0, rms_delta_p_error = 0;
  double same_top1 = 0, same_top1_error = 0;  // fractions (0..1)
  double top5_overlap = 0;                    // fraction (0..1)
  std::optional<double> max_abs_logit_error, rel_l2_logit_error;  // absent against a baseline
  uint64_t nonfinite_a = 0, nonfinite_b = 0;  // logits that are NaN or +inf
};

// The summary of compared rows (shared by full-logit and baseline comparison).
// PPL fields are NaN with no scored row.
LogitMetrics summarize_positions(const std::vector<PositionRecord>& records, const LogitErrorSums* errors,
                                 uint64_t vocab);

// Reference A and candidate B, both full logits [rows, vocab].
class LogitComparison {
 public:
  // `next_tokens`: one per row (next_tokens_for); ids must be < vocab.
  LogitComparison(std::vector<int64_t> next_tokens, uint64_t vocab);

  // Row r (r = number of rows added so far). Spans hold `vocab` values.
  void add_row(std::span<const double> a, std::span<const double> b);
  void add_row(std::span<const float> a, std::span<const float> b);

  uint64_t rows() const { return records_.size(); }
  // Throws if fewer rows than next tokens were added.
  LogitMetrics finish() const;

 private:
  std::vector<int64_t> next_;
  uint64_t vocab_;
  std::vector<PositionRecord> records_;
  LogitErrorSums errors_;
  uint64_t nonfinite_a_ = 0, nonfinite_b_ = 0;
  std::vector<double> wide_a_, wide_b_, log_a_, log_b_;
};

// Whole arrays at once: a and b are row-major [next_tokens.size(), vocab].
LogitMetrics compare_logits(std::span<const float> a, std::span<const float> b, std::vector<int64_t> next_tokens,
                            uint64_t vocab);
LogitMetrics compare_logits(std::span<const double> a, std::span<const double> b,
                            std::vector<int64_t> next_tokens, uint64_t vocab);

}  // namespace supra
