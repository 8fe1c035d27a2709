// The gemm products built for AVX2 + FMA: CMakeLists.txt compiles this file
// alone with -mavx2 -mfma. Eigen is renamed to its own namespace here, so
// none of its template instances (built with AVX2 instructions) can be
// merged by the linker with the baseline build's and end up running on a
// CPU without AVX2. (Check: `nm -C` of this object shows no weak symbol in
// the baseline's `Eigen::`.)
#include <cstdint>

#include "validate/gemm.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#define Eigen supra_eigen_avx2
#include <Eigen/Core>

namespace supra::validate::avx2 {
bool compiled() { return true; }
#include "validate/gemm_products.inc"
}  // namespace supra::validate::avx2

#else  // not built with those flags (not x86-64): never selected

#include <stdexcept>

namespace supra::validate::avx2 {
bool compiled() { return false; }
template <class S>
void gemm_xwt(const S*, int64_t, int64_t, int64_t, const S*, int64_t, int64_t, S*, int64_t) {
  throw std::logic_error("the AVX2 gemm is not compiled in");
}
template <class S>
void gemm_xw(const S*, int64_t, int64_t, int64_t, const S*, int64_t, int64_t, S*, int64_t) {
  throw std::logic_error("the AVX2 gemm is not compiled in");
}
template void gemm_xwt<float>(const float*, int64_t, int64_t, int64_t, const float*, int64_t, int64_t, float*, int64_t);
template void gemm_xwt<double>(const double*, int64_t, int64_t, int64_t, const double*, int64_t, int64_t, double*,
                               int64_t);
template void gemm_xw<float>(const float*, int64_t, int64_t, int64_t, const float*, int64_t, int64_t, float*, int64_t);
template void gemm_xw<double>(const double*, int64_t, int64_t, int64_t, const double*, int64_t, int64_t, double*,
                              int64_t);
}  // namespace supra::validate::avx2

#endif
