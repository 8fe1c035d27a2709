#pragma once
// The products every linear layer and attention head reduce to, on
// row-major matrices given by pointer and row stride (ld*), S = float or double:
//   gemm_xwt: y [rows, cols] = x [rows, inner] @ w.T, w [cols, inner]
//   gemm_xw:  y [rows, cols] = x [rows, inner] @ w,   w [inner, cols]
// Two builds of the same Eigen code: the baseline x86-64 one (SSE2) and one
// for AVX2 + FMA, picked by what the CPU supports. The choice is fixed for
// the process, so results never depend on the thread count.
#include <cstdint>

namespace supra::validate {

enum class GemmIsa { Baseline, Avx2Fma };

// The build in use: AVX2 + FMA when the CPU (and OS) support it, unless
// the environment has SUPRA_GEMM=baseline.
GemmIsa gemm_isa();
// Tests: force a build (Avx2Fma only where the CPU has it); returns the one now in use.
GemmIsa set_gemm_isa(GemmIsa isa);

template <class S>
void gemm_xwt(const S* x, int64_t ldx, int64_t rows, int64_t inner, const S* w, int64_t ldw, int64_t cols, S* y,
              int64_t ldy);
template <class S>
void gemm_xw(const S* x, int64_t ldx, int64_t rows, int64_t inner, const S* w, int64_t ldw, int64_t cols, S* y,
             int64_t ldy);

// The two builds: validate/gemm.cpp, and validate/gemm_avx2.cpp compiled
// with -mavx2 -mfma (call it only where gemm_isa() says so).
namespace baseline {
template <class S>
void gemm_xwt(const S* x, int64_t ldx, int64_t rows, int64_t inner, const S* w, int64_t ldw, int64_t cols, S* y,
              int64_t ldy);
template <class S>
void gemm_xw(const S* x, int64_t ldx, int64_t rows, int64_t inner, const S* w, int64_t ldw, int64_t cols, S* y,
             int64_t ldy);
}  // namespace baseline
namespace avx2 {
bool compiled();
template <class S>
void gemm_xwt(const S* x, int64_t ldx, int64_t rows, int64_t inner, const S* w, int64_t ldw, int64_t cols, S* y,
              int64_t ldy);
template <class S>
void gemm_xw(const S* x, int64_t ldx, int64_t rows, int64_t inner, const S* w, int64_t ldw, int64_t cols, S* y,
             int64_t ldy);
}  // namespace avx2

}  // namespace supra::validate
