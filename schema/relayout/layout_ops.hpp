#pragma once
// Re-layout operations as lazy tensor sources: nothing is computed until a
// writer reads a byte range, and then only the rows that range needs, so a
// re-layout streams like a plain copy. Every op moves bytes only (exact for
// every dtype); none of them does arithmetic on values.
#include <cstdint>
#include <string>
#include <vector>

#include "schema/tensor_source.hpp"

namespace supra {

// Output row r is input row `rows[r]` (rows = slices along dim 0; a 1-D
// tensor's rows are its elements). `rows` must be a permutation.
TensorPtr permute_rows(TensorPtr input, std::vector<uint64_t> rows, std::string name);

// RoPE row orders within each head of a q or k projection (llama.cpp convert_hf_to_gguf.py LlamaModel.permute; docs/conventions.md):
// rotate-half (HF) row h*hd + j*(hd/2) + i  <->  interleaved (Meta, GGUF) row h*hd + 2i + j.
std::vector<uint64_t> rope_halves_to_pairs_rows(uint64_t rows, uint64_t n_heads);
std::vector<uint64_t> rope_pairs_to_halves_rows(uint64_t rows, uint64_t n_heads);
// HF -> Meta / GGUF llama (llama.cpp's `permute`); n_heads = kv heads for k.
TensorPtr permute_rope_halves_to_pairs(TensorPtr input, uint64_t n_heads, std::string name);
// Meta -> HF (transformers' `permute`), the exact inverse.
TensorPtr permute_rope_pairs_to_halves(TensorPtr input, uint64_t n_heads, std::string name);

// GPT-NeoX fused projections: rows grouped per head [h][part][hd] <-> per
// part [part][h][hd] (q of all heads, then k, then v).
std::vector<uint64_t> heads_interleaved_to_grouped_rows(uint64_t rows, uint64_t n_heads, uint64_t n_parts);
std::vector<uint64_t> heads_grouped_to_interleaved_rows(uint64_t rows, uint64_t n_heads, uint64_t n_parts);

// Concatenation of `inputs` along `dim` (all other dims equal, same dtype).
TensorPtr concat(std::vector<TensorPtr> inputs, size_t dim, std::string name);
// Rows [start, start + length) of `input` along `dim`.
TensorPtr slice(TensorPtr input, size_t dim, uint64_t start, uint64_t length, std::string name);
// A 2-D tensor transposed ([m, n] -> [n, m]), e.g. GPT-2 Conv1D <-> Linear.
TensorPtr transpose2d(TensorPtr input, std::string name);

}  // namespace supra
