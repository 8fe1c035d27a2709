// SUPRA's three forms of the same layer agree, over lengths around the chunk
// size, split into steps that carry the state, for every decay kind and GQA.
// (The forms against an independent PyTorch implementation of the authors'
// code: tests/interop/test_supra_forward.py.)
#include "validate/supra_attention.hpp"

#include <gtest/gtest.h>

#include <random>

namespace supra::validate {
namespace {

Mat<double> random_mat(uint64_t rows, uint64_t cols, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  Mat<double> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = u(rng);
  return m;
}

// The form `form` over `total` rows, fed in steps of `step` rows with the state carried.
Mat<double> run(SupraForm form, const Mat<double>& q, const Mat<double>& k, const Mat<double>& v, uint64_t heads,
                uint64_t kv_heads, uint64_t dqk, uint64_t dv, const std::vector<double>& lambda, uint64_t step,
                ThreadPool& pool, SupraState& state) {
  const uint64_t total = uint64_t(q.rows());
  Mat<double> out(total, heads * dv), part;
  for (uint64_t r0 = 0; r0 < total; r0 += step) {
    const auto n = Eigen::Index(std::min(step, total - r0));
    const Mat<double> qs = q.middleRows(Eigen::Index(r0), n), ks = k.middleRows(Eigen::Index(r0), n),
                      vs = v.middleRows(Eigen::Index(r0), n);
    supra_linear_attention<double>(form, qs, ks, vs, heads, kv_heads, dqk, dv, lambda, state, part, pool);
    out.middleRows(Eigen::Index(r0), n) = part;
  }
  return out;
}

TEST(SupraAttention, ParallelChunkedRecurrentAgree) {
  std::mt19937 rng(11);
  ThreadPool pool(2);
  const uint64_t heads = 4, dqk = 8, dv = 8;
  ModelSpec spec = spec_with_forward_facts("llama");
  spec.heads = heads;
  for (uint64_t kv_heads : {2u, 4u})
    for (SupraDecay decay : {SupraDecay::None, SupraDecay::Lightning, SupraDecay::Retnet})
      for (uint64_t total : {1u, 63u, 64u, 65u, 150u}) {
        spec.supra = SupraSpec{};
        spec.supra->decay = decay;
        const std::vector<double> lambda = supra_decay_rates(spec);
        const Mat<double> q = random_mat(total, heads * dqk, rng), k = random_mat(total, heads * dqk, rng),
                          v = random_mat(total, kv_heads * dv, rng);
        SupraState rec_state, par_state, chunk_state, split_state;
        const Mat<double> rec = run(SupraForm::Recurrent, q, k, v, heads, kv_heads, dqk, dv, lambda, total, pool, rec_state);
        const Mat<double> par = run(SupraForm::Parallel, q, k, v, heads, kv_heads, dqk, dv, lambda, total, pool, par_state);
        const Mat<double> chunk = run(SupraForm::Chunked, q, k, v, heads, kv_heads, dqk, dv, lambda, total, pool, chunk_state);
        // A prompt step, then more steps: the state carries every position before them.
        const Mat<double> split = run(SupraForm::Chunked, q, k, v, heads, kv_heads, dqk, dv, lambda, 37, pool, split_state);
        const double scale = rec.cwiseAbs().maxCoeff();
        const std::string what = "kv " + std::to_string(kv_heads) + ", T " + std::to_string(total) + ", decay " +
                                 std::to_string(int(decay));
        EXPECT_LT((par - rec).cwiseAbs().maxCoeff() / scale, 1e-12) << what;
        EXPECT_LT((chunk - rec).cwiseAbs().maxCoeff() / scale, 1e-12) << what;
        EXPECT_LT((split - rec).cwiseAbs().maxCoeff() / scale, 1e-12) << what;
        EXPECT_LT((par_state.sums - rec_state.sums).cwiseAbs().maxCoeff(), 1e-10) << what;
        EXPECT_EQ(split_state.len, total);
      }
}

TEST(SupraAttention, DecayRatesFollowTheAuthors) {
  ModelSpec spec = spec_with_forward_facts("llama");
  spec.heads = 8;
  spec.supra = SupraSpec{};
  spec.supra->decay = SupraDecay::Lightning;  // lambda_h = 2^(-8 (h + 1) / H)
  std::vector<double> l = supra_decay_rates(spec);
  for (uint64_t h = 0; h < 8; ++h) EXPECT_DOUBLE_EQ(l[h], double(float(std::pow(2.0, -8.0 * double(h + 1) / 8))));
  spec.supra->decay_start = 0.25;  // start * ratio^h
  l = supra_decay_rates(spec);
  EXPECT_DOUBLE_EQ(l[0], 0.25);
  EXPECT_DOUBLE_EQ(l[3], double(float(0.25 * std::pow(0.5, 3))));
  spec.heads = 24;
  spec.supra->decay = SupraDecay::Retnet;  // float32: 1 - 2^(-25) rounds to 1, no decay from head 20 on
  l = supra_decay_rates(spec);
  EXPECT_NEAR(l[0], -std::log(1 - std::pow(2.0, -5)), 1e-7);
  EXPECT_EQ(l[20], 0.0);
  EXPECT_EQ(l[23], 0.0);
}

}  // namespace
}  // namespace supra::validate
