#pragma once
// Perplexity over a long token sequence in windows, by llama.cpp's
// llama-perplexity rule, so the numbers are comparable with it:
//
// - default: the tokens are cut into floor(N / ctx) windows of ctx tokens
//   back to back; each window's first token is replaced by BOS (when the
//   tokenizer adds one) and only the second half is scored: the logits at
//   rows ctx/2 .. ctx-2 against the next token (ctx - 1 - ctx/2 per window).
// - stride S: window i covers tokens [i*S, i*S + ctx), fed as they are (no
//   BOS replacement: llama.cpp's strided mode swaps the token in only after
//   the decode), and its last S predictions (rows ctx-S-1 .. ctx-2) are scored.
//
// Both need at least 2 * ctx tokens, as llama-perplexity does.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "validate/evaluate.hpp"

namespace supra::validate {

struct PerplexityWindow {
  uint64_t start = 0;              // first token of the window in the sequence
  std::vector<uint32_t> input;     // ctx ids fed to the model
  uint64_t first_row = 0;          // rows first_row .. ctx-2 are scored
  std::vector<uint32_t> targets;   // the token each scored row predicts
};

// Throws usage_error("usage.perplexity") when there are too few tokens or ctx / stride do not fit.
std::vector<PerplexityWindow> perplexity_windows(const std::vector<uint32_t>& tokens, uint64_t ctx, uint64_t stride,
                                                 std::optional<uint32_t> bos);

struct PerplexityOptions {
  Precision precision = Precision::F32;
  int threads = 0;
  // Bytes of text a token stands for (for bits per byte); none: not computed.
  std::function<uint64_t(uint32_t)> token_bytes;
  // Called after each window with its index (progress).
  std::function<void(size_t)> on_window;
};

struct PerplexityResult {
  double nll = 0;              // sum of -ln p(target) over every scored token
  uint64_t scored = 0;         // tokens scored
  uint64_t bytes = 0;          // bytes of text of the scored tokens (0 without token_bytes)
  std::vector<double> window_nll;  // per window
  double seconds = 0;

  double perplexity() const;       // exp(nll / scored)
  double bits_per_token() const;   // nll / scored / ln 2
  double bits_per_byte() const;    // nll / bytes / ln 2 (NaN without bytes)
};

PerplexityResult compute_perplexity(const Model& model, const std::vector<PerplexityWindow>& windows,
                                    const PerplexityOptions& options);

}  // namespace supra::validate
