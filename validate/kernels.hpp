#pragma once
// The small kernels a transformer block is made of. Each comment gives the
// PyTorch line it computes. Statistics (norm means and variances) are
// accumulated in double whatever S is; rows are independent, so results do
// not depend on how the pool splits them.
#include <cstdint>
#include <span>
#include <vector>

#include "schema/model_spec.hpp"
#include "schema/tensor_source.hpp"
#include "validate/tensor.hpp"
#include "validate/threads.hpp"

namespace supra::validate {

// y = x @ W.T (+ b)                       torch: F.linear(x, W, b)
// x [T, in], W [out, in] in its file dtype, b [out] or null; y is resized to [T, out].
// W is read and widened a panel of rows at a time (read in place from the
// mapped file when it already is S); a panel is one task, and the panel
// split depends only on W's shape, so any thread count gives the same bits.
template <class S>
void linear(const Mat<S>& x, const TensorSource& w, const TensorSource* b, Mat<S>& y, ThreadPool& pool);

// Rows of W per panel for an [out, in] weight (exposed for tests).
uint64_t panel_rows(uint64_t out, uint64_t in, size_t scalar_bytes);

// out = x * rsqrt(mean(x^2) + eps) * g    torch: LlamaRMSNorm
template <class S>
void rms_norm(const Mat<S>& x, std::span<const S> g, double eps, Mat<S>& out);

// out = (x - mean) / sqrt(var + eps) * g + b   torch: F.layer_norm (biased var); b may be empty
template <class S>
void layer_norm(const Mat<S>& x, std::span<const S> g, std::span<const S> b, double eps, Mat<S>& out);

// RoPE inverse frequencies inv_freq[i] = theta^(-2i / rotary_dim), i < rotary_dim / 2,
// then rope_scaling as transformers' modeling_rope_utils applies it
// (linear: / factor; llama3: by wavelength band), then divided by
// `freq_factors` when the model carries them (llama.cpp's rope_freqs).
std::vector<double> rope_inv_freq(const ModelSpec& spec, std::span<const double> freq_factors = {});

// cos / sin of (start + t) * inv_freq[i], as [T, rotary_dim / 2] tables.
template <class S>
void rope_tables(std::span<const double> inv_freq, uint64_t start, uint64_t tokens, Mat<S>& cos, Mat<S>& sin);

// Rotate-half RoPE on the first rotary_dim dims of every head, in place:
// torch: x * cos + rotate_half(x) * sin, rotate_half([a, b]) = [-b, a]
// (HF apply_rotary_pos_emb; the dims past rotary_dim pass through, as GPT-NeoX).
// x [T, heads * head_dim]; cos / sin from rope_tables.
template <class S>
void apply_rope(Mat<S>& x, uint64_t heads, uint64_t head_dim, const Mat<S>& cos, const Mat<S>& sin);

// gate = silu(gate) * up                   torch: F.silu(gate_proj(x)) * up_proj(x)
template <class S>
void swiglu(Mat<S>& gate, const Mat<S>& up);

// x = gelu(x)                              torch: F.gelu(x) (erf) / F.gelu(x, approximate="tanh")
template <class S>
void gelu(Mat<S>& x, bool tanh_approximation);

// x[t] += b                                 (a bias row added to every token)
template <class S>
void add_bias(Mat<S>& x, std::span<const S> b);

}  // namespace supra::validate
