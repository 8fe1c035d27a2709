#pragma once
// Weights are widened from their file dtype (f32, f16, bf16, ...; GGUF
// quantized tensors arrive dequantized to f32) to the forward pass's scalar
// type a panel of rows at a time, as a kernel consumes them: no whole
// weight matrix, let alone a whole model, is held widened.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "schema/tensor_source.hpp"

namespace supra::validate {

// Columns per row: the last dimension (1 for a scalar).
uint64_t row_length(const TensorInfo& info);

// Rows [row0, row0 + rows) of a 2-D tensor `t`, widened to S into
// out[rows * row_length].
template <class S>
void read_rows(const TensorSource& t, uint64_t row0, uint64_t rows, S* out);

// Rows from row0 on of a 2-D tensor whose file bytes already are S (an f32
// file read at f32): a pointer into the mapped file, so nothing is copied.
// nullptr when the tensor is in another dtype, not plainly in a file, or
// not aligned for S; then read_rows it.
template <class S>
const S* mapped_rows(const TensorSource& t, uint64_t row0);

// A whole (small) tensor widened to S: norm gains, biases.
template <class S>
std::vector<S> read_vector(const TensorSource& t);

}  // namespace supra::validate
