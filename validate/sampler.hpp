#pragma once
// Sampling the next token from a row of logits, reproducibly: temperature,
// then top-k, then top-p (the order Hugging Face's generate applies them),
// then one draw from mt19937_64(seed). The generator's output sequence is
// fixed by the C++ standard and the draw is computed here (no std::
// distribution, whose algorithm the standard leaves open), so a seed gives
// the same tokens with every compiler and library.
#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace supra::validate {

struct SamplingOptions {
  double temperature = 1.0;  // > 0; logits are divided by it
  uint32_t top_k = 0;        // keep the k most probable tokens (0 = all)
  double top_p = 1.0;        // keep the fewest most probable tokens whose mass reaches top_p (1 = all)
  uint64_t seed = 0;
};

// The distribution a step draws from: (id, probability) of every token the
// filters keep, most probable first (ties: lower id first), summing to 1.
std::vector<std::pair<uint32_t, double>> sampling_support(std::span<const double> logits, const SamplingOptions& options);

class Sampler {
 public:
  // Throws usage_error for a temperature <= 0 or a top_p outside (0, 1].
  explicit Sampler(const SamplingOptions& options);
  uint32_t next(std::span<const double> logits);

 private:
  SamplingOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace supra::validate
