#pragma once
// Tiny models of each family the engine runs, built in memory with
// canonical tensor names and seeded weights of realistic scale
// (std 1/sqrt(fan_in)), for engine tests.
#include <cstdint>

#include "schema/canonical_model.hpp"

namespace supra::test {

enum class Family { Llama, Qwen2, Gpt2, NeoX };

ModelSpec tiny_spec(Family family);
// Weights in `dtype`; the same seed gives the same values (rounded to dtype).
CanonicalModel tiny_model(Family family, DType dtype = DType::F32, uint32_t seed = 1);

}  // namespace supra::test
