#include "validate/gemm.hpp"

#include <Eigen/Core>
#include <atomic>
#include <cstdlib>
#include <string_view>

namespace supra::validate {

namespace baseline {
#include "validate/gemm_products.inc"
}  // namespace baseline

namespace {

bool cpu_has_avx2_fma() {
#if defined(__x86_64__) && defined(__GNUC__)
  // libgcc reports these only when the OS also saves the AVX registers (XGETBV).
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

GemmIsa best_isa() { return avx2::compiled() && cpu_has_avx2_fma() ? GemmIsa::Avx2Fma : GemmIsa::Baseline; }

// SUPRA_GEMM=baseline in the environment keeps the baseline build (benchmarks, bisecting).
GemmIsa initial_isa() {
  const char* env = std::getenv("SUPRA_GEMM");
  return env && std::string_view(env) == "baseline" ? GemmIsa::Baseline : best_isa();
}

std::atomic<GemmIsa>& current() {
  static std::atomic<GemmIsa> isa{initial_isa()};
  return isa;
}

bool use_avx2() { return current().load(std::memory_order_relaxed) == GemmIsa::Avx2Fma; }

}  // namespace

GemmIsa gemm_isa() { return current().load(); }

GemmIsa set_gemm_isa(GemmIsa isa) {
  if (isa == GemmIsa::Avx2Fma && best_isa() != GemmIsa::Avx2Fma) isa = GemmIsa::Baseline;
  current().store(isa);
  return isa;
}

template <class S>
void gemm_xwt(const S* x, int64_t ldx, int64_t rows, int64_t inner, const S* w, int64_t ldw, int64_t cols, S* y,
              int64_t ldy) {
  (use_avx2() ? avx2::gemm_xwt<S> : baseline::gemm_xwt<S>)(x, ldx, rows, inner, w, ldw, cols, y, ldy);
}

template <class S>
void gemm_xw(const S* x, int64_t ldx, int64_t rows, int64_t inner, const S* w, int64_t ldw, int64_t cols, S* y,
             int64_t ldy) {
  (use_avx2() ? avx2::gemm_xw<S> : baseline::gemm_xw<S>)(x, ldx, rows, inner, w, ldw, cols, y, ldy);
}

template void gemm_xwt<float>(const float*, int64_t, int64_t, int64_t, const float*, int64_t, int64_t, float*, int64_t);
template void gemm_xwt<double>(const double*, int64_t, int64_t, int64_t, const double*, int64_t, int64_t, double*,
                               int64_t);
template void gemm_xw<float>(const float*, int64_t, int64_t, int64_t, const float*, int64_t, int64_t, float*, int64_t);
template void gemm_xw<double>(const double*, int64_t, int64_t, int64_t, const double*, int64_t, int64_t, double*,
                              int64_t);

}  // namespace supra::validate
