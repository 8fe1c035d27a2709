#include "validate/sru/attention.hpp"

#include <cmath>
#include <vector>

namespace supra::validate::sru {

Mat<float> attention_output(const Layer& L, uint64_t heads, const Mat<float>& z, const Mat<float>& kv,
                            uint64_t first_query, const AttentionMask& mask) {
  const int64_t P = z.cols(), T = z.rows(), n = kv.rows();
  const int64_t hd = P / int64_t(heads);
  const float scale = float(1.0 / std::sqrt(double(hd)));  // sru/modules.py:789
  Mat<float> a(T, P);
  std::vector<float> scores(static_cast<size_t>(n));
  for (int64_t h = 0; h < int64_t(heads); ++h) {
    const int64_t col = h * hd;
    for (int64_t i = 0; i < T; ++i) {
      const auto q = (z.row(i).segment(col, hd) * scale).eval();
      float max = -INFINITY;
      for (int64_t j = 0; j < n; ++j) {
        // keys are the first P columns of kv, values the last P (chunk(2), :818).
        scores[size_t(j)] = q.dot(kv.row(j).segment(col, hd)) + mask.at(first_query + uint64_t(i), uint64_t(j));
        max = std::max(max, scores[size_t(j)]);
      }
      double sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += (scores[size_t(j)] = std::exp(scores[size_t(j)] - max));
      Eigen::VectorXd acc = Eigen::VectorXd::Zero(hd);
      for (int64_t j = 0; j < n; ++j)
        acc += double(scores[size_t(j)]) * kv.row(j).segment(P + col, hd).transpose().cast<double>();
      a.row(i).segment(col, hd) = (acc / sum).cast<float>().transpose();
    }
  }
  Mat<float> o = L.alpha * a + z;  // rezero, then always post-LN (sru/modules.py:864-868)
  if (!L.tm_norm_w.empty()) layer_norm_rows(o, L.tm_norm_w, L.tm_norm_b);
  return o * L.out.transpose();
}

}  // namespace supra::validate::sru
