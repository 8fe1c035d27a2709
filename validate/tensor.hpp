#pragma once
// Activations are row-major Eigen matrices, one row per token: x[t] is the
// hidden state of token t, as torch's [T, D] with the batch dimension dropped.
// S is float (the default precision) or double (--precision f64).
#include <Eigen/Core>

namespace supra::validate {

template <class S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A strided window onto a Mat (one head's columns, a block of rows).
template <class S>
using MatView = Eigen::Map<Mat<S>, 0, Eigen::OuterStride<>>;
template <class S>
using ConstMatView = Eigen::Map<const Mat<S>, 0, Eigen::OuterStride<>>;

}  // namespace supra::validate
