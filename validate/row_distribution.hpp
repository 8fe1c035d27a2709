#pragma once
// One row of logits seen as a distribution: log-probabilities in double with
// the max subtracted (stable however large the logits), and its top-k ids.
#include <cstdint>
#include <span>
#include <vector>

namespace supra {

// out[i] = z[i] - max(z) - log(sum_j exp(z[j] - max(z))), all in double.
// A -inf logit (a masked token) gets log-probability -inf; a row with no
// finite logit comes out NaN.
void log_softmax(std::span<const double> logits, std::span<double> out);

// The ids of the k largest values, largest first; equal values keep the
// lower id first (numpy's stable argsort of -values); NaN ranks last.
std::vector<uint32_t> top_k_ids(std::span<const double> values, size_t k);

// Finite, or -inf (a masked token): what a logit may be. NaN and +inf are not.
bool is_usable_logit(double v);

}  // namespace supra
