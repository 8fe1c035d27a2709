#pragma once
// The new tensors of a linearization as lazy sources. Element i of a
// uniform tensor is a pure function of (seed, layer, tensor id, i): a
// counter-based generator (SplitMix64's mixer over the counter), so any
// byte range can be produced on its own, in any order, by any number of
// threads, and the bytes never depend on how a writer chunks its reads.
#include <cstdint>
#include <string>

#include "linearize/plan.hpp"
#include "schema/tensor_source.hpp"

namespace supra {

// The stream of one tensor: depends on every input, so two tensors (or two
// layers, or two seeds) never share values.
uint64_t init_stream_key(uint64_t seed, uint64_t layer, const std::string& id);
// Element `index` of stream `key`, uniform in [0, 1) with 53 random bits.
double init_uniform01(uint64_t key, uint64_t index);

// The tensor `t` describes, in `dtype` (f32, f64, f16 or bf16; usage_error
// otherwise), under `name`. Uniform values are drawn in f64 and rounded to
// `dtype`; a value that rounds past the bound is moved one step toward zero,
// so |w| <= bound holds exactly in the stored dtype.
TensorPtr make_init_tensor(const NewTensor& t, DType dtype, uint64_t seed, std::string name);

}  // namespace supra
