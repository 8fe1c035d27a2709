#pragma once
// Everything of `supra validate` except running the models: whoever computes
// logits and hidden states (the forward engine, or files given with
// --from-logits) feeds them in as they come, layer by layer and row by row,
// and gets the judged report. Nothing here holds more than one row of logits.
//
//   ParitySession s({.a = {path_a, storage_a}, .b = {path_b, storage_b},
//                    .tokens = tokens, .rows_per_sequence = T, .vocab = V,
//                    .overrides = flags});
//   for each layer l, sub-step k:  s.add_hidden(l, "attn", hA, hB, T, D);
//   for each row r:                s.add_logit_row(zA_r, zB_r);
//   ParityReport report = s.finish();   // render_parity_*(report); exit 6 unless report.verdict.passed
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "validate/baseline.hpp"
#include "validate/parity_report.hpp"

namespace supra {

struct ParitySetup {
  ParityModelInfo a, b;           // names and storage types (validate/model_storage.hpp)
  TokenSequences tokens;          // as fed to both models; empty: no row is scored (no PPL, no Δp)
  uint64_t rows_per_sequence = 0;  // rows of logits per sequence
  uint64_t sequences_without_tokens = 1;  // how many sequences when `tokens` is empty
  uint64_t vocab = 0;
  ToleranceOverrides overrides;   // --tol-* flags
  // The tolerance basis; unset: the looser of A's and B's weakest storage
  // type (F32 for a side whose storage types are unknown).
  std::optional<PrecisionClass> precision;
};

class ParitySession {
 public:
  // Reference A given as full logits (add_logit_row).
  explicit ParitySession(ParitySetup setup);
  // Reference A given as a stored baseline (add_candidate_row); its tokens
  // replace setup.tokens. `base` must outlive the session.
  ParitySession(ParitySetup setup, const ParityBaseline& base);

  const Tolerances& tolerances() const { return tol_; }

  // A's and B's hidden state after the same sub-step, [rows, cols] each.
  void add_hidden(uint64_t layer, std::string substep, std::span<const float> a, std::span<const float> b,
                  uint64_t rows, uint64_t cols);
  void add_hidden(uint64_t layer, std::string substep, std::span<const double> a, std::span<const double> b,
                  uint64_t rows, uint64_t cols);
  void add_hidden_step(HiddenStepError step) { hidden_.push_back(std::move(step)); }

  // The next row of logits (sequences back to back).
  void add_logit_row(std::span<const float> a, std::span<const float> b);
  void add_logit_row(std::span<const double> a, std::span<const double> b);
  // The next row of B's logits, against the baseline.
  void add_candidate_row(std::span<const float> b);
  void add_candidate_row(std::span<const double> b);

  // Judges and bundles; logits are left out when no row was added.
  ParityReport finish();

 private:
  ParitySetup setup_;
  Tolerances tol_;
  std::vector<HiddenStepError> hidden_;
  std::unique_ptr<LogitComparison> full_;
  std::unique_ptr<BaselineComparison> base_;
  bool any_rows_ = false;
};

}  // namespace supra
