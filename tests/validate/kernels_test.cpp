// Each engine kernel against a plain double-precision loop written here.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <numbers>
#include <random>

#include "converters/format.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"
#include "validate/attention.hpp"
#include "validate/gemm.hpp"
#include "validate/kernels.hpp"
#include "validate/weights.hpp"

namespace supra::validate {
namespace {

template <class S>
Mat<S> random_mat(Eigen::Index rows, Eigen::Index cols, uint32_t seed, double std = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, std);
  Mat<S> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = S(normal(rng));
  return m;
}

std::vector<double> as_doubles(const TensorSource& t) { return read_vector<double>(t); }

template <class A, class B>
double max_abs_diff(const A& a, const B& b) {
  double m = 0;
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j) m = std::max(m, std::abs(double(a(i, j)) - double(b(i, j))));
  return m;
}

// y[t][o] = sum_i x[t][i] * W[o][i] + b[o]
Mat<double> reference_linear(const Mat<double>& x, const std::vector<double>& w, const std::vector<double>& b,
                             uint64_t out) {
  Mat<double> y(x.rows(), Eigen::Index(out));
  for (Eigen::Index t = 0; t < x.rows(); ++t)
    for (uint64_t o = 0; o < out; ++o) {
      double sum = b.empty() ? 0.0 : b[o];
      for (Eigen::Index i = 0; i < x.cols(); ++i) sum += x(t, i) * w[o * uint64_t(x.cols()) + uint64_t(i)];
      y(t, Eigen::Index(o)) = sum;
    }
  return y;
}

class LinearTest : public ::testing::TestWithParam<DType> {};

TEST_P(LinearTest, MatchesLoopOverEveryPanelAndDtype) {
  const DType dtype = GetParam();
  const uint64_t out = 70, in = 37;  // 70 rows: several panels, the last one partial
  ASSERT_GT((out + panel_rows(out, in, 4) - 1) / panel_rows(out, in, 4), 2u);
  const TensorPtr w = test::make_tensor("w", dtype, {out, in}, 3);
  const TensorPtr b = test::make_tensor("b", dtype, {out}, 4);
  const std::vector<double> wd = as_doubles(*w), bd = as_doubles(*b);
  const Mat<double> x = random_mat<double>(5, Eigen::Index(in), 5);
  const Mat<double> want = reference_linear(x, wd, bd, out);
  ThreadPool pool(2);
  Mat<double> y64;
  linear<double>(x, *w, b.get(), y64, pool);
  EXPECT_LT(max_abs_diff(y64, want), 1e-12);
  Mat<float> y32;
  linear<float>(x.cast<float>(), *w, b.get(), y32, pool);
  EXPECT_LT(max_abs_diff(y32, want), 1e-4);
  Mat<float> no_bias;
  linear<float>(x.cast<float>(), *w, nullptr, no_bias, pool);
  EXPECT_LT(max_abs_diff(no_bias, reference_linear(x, wd, {}, out)), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LinearTest, ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::F64));

TEST(Linear, RefusesAWeightOfTheWrongWidth) {
  const TensorPtr w = test::make_tensor("blk.w", DType::F32, {4, 3});
  ThreadPool pool(1);
  Mat<float> y;
  try {
    linear<float>(Mat<float>::Zero(2, 5), *w, nullptr, y, pool);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.id(), "forward.shape");
    EXPECT_EQ(e.where().tensor, "blk.w");
  }
}

TEST(Linear, PanelSplitDependsOnlyOnTheShape) {
  // Panels are multiples of 16 rows and at least 8 of them for wide outputs.
  EXPECT_EQ(panel_rows(4096, 4096, 4), 32u);
  EXPECT_EQ(panel_rows(70, 37, 4), 16u);
  EXPECT_EQ(panel_rows(5, 37, 4), 5u);
  EXPECT_LE(panel_rows(32000, 4096, 8) * 4096 * 8, 512u * 1024);
}

TEST(Gemm, BothBuildsMatchLoopsOnStridedViews) {
  const GemmIsa best = gemm_isa();
  const Mat<double> x = random_mat<double>(7, 40, 30), w = random_mat<double>(45, 40, 31);
  for (GemmIsa isa : {GemmIsa::Baseline, GemmIsa::Avx2Fma}) {
    if (set_gemm_isa(isa) != isa) continue;  // a CPU without AVX2
    // y = x[:, 3:35] @ w[:20, 3:35].T written into columns 5.. of a wider y, and x[:, :20] @ w[:20, :9].
    Mat<double> y = Mat<double>::Zero(7, 30), z(7, 9);
    gemm_xwt<double>(x.data() + 3, 40, 7, 32, w.data() + 3, 40, 20, y.data() + 5, 30);
    gemm_xw<double>(x.data(), 40, 7, 20, w.data(), 40, 9, z.data(), 9);
    Mat<float> yf(7, 20);
    const Mat<float> xf = x.cast<float>(), wf = w.cast<float>();
    gemm_xwt<float>(xf.data() + 3, 40, 7, 32, wf.data() + 3, 40, 20, yf.data(), 20);
    for (int t = 0; t < 7; ++t) {
      for (int o = 0; o < 20; ++o) {
        double want = 0;
        for (int i = 3; i < 35; ++i) want += x(t, i) * w(o, i);
        EXPECT_NEAR(y(t, 5 + o), want, 1e-12);
        EXPECT_NEAR(yf(t, o), want, 1e-4);
      }
      EXPECT_EQ(y(t, 4), 0.0);  // outside the written columns
      for (int c = 0; c < 9; ++c) {
        double want = 0;
        for (int i = 0; i < 20; ++i) want += x(t, i) * w(i, c);
        EXPECT_NEAR(z(t, c), want, 1e-12);
      }
    }
  }
  set_gemm_isa(best);
}

TEST(Weights, F32WeightsInAFileAreReadInPlace) {
  test::TempDir dir;
  Checkpoint c;
  c.tensors.push_back(test::make_tensor("w", DType::F32, {70, 37}, 3));
  c.tensors.push_back(test::make_tensor("h", DType::F16, {70, 37}, 3));
  write_checkpoint(*find_format("safetensors"), c, dir / "m.safetensors", {});
  const Checkpoint read = find_format("safetensors")->read(dir / "m.safetensors", {});
  const TensorSource& w = *read.tensors[0];
  const float* mapped = mapped_rows<float>(w, 16);
  ASSERT_NE(mapped, nullptr);
  std::vector<float> copied(37);
  read_rows<float>(w, 16, 1, copied.data());
  EXPECT_EQ(std::memcmp(mapped, copied.data(), 37 * 4), 0);
  EXPECT_EQ(mapped_rows<double>(w, 0), nullptr);               // another dtype: widened
  EXPECT_EQ(mapped_rows<float>(*read.tensors[1], 0), nullptr);  // f16: widened
  EXPECT_EQ(mapped_rows<float>(*c.tensors[0], 0), nullptr);     // in memory, not in a file
  // linear() over the mapped weight gives the bits of the in-memory copy.
  ThreadPool pool(2);
  const Mat<float> x = random_mat<float>(5, 37, 4);
  Mat<float> from_file, from_memory;
  linear<float>(x, w, nullptr, from_file, pool);
  linear<float>(x, *c.tensors[0], nullptr, from_memory, pool);
  EXPECT_EQ(std::memcmp(from_file.data(), from_memory.data(), sizeof(float) * size_t(x.rows()) * 70), 0);
}

TEST(Norms, RmsNormMatchesLoop) {
  const Mat<double> x = random_mat<double>(3, 24, 7, 3.0);
  const Mat<double> g = random_mat<double>(1, 24, 8);
  const double eps = 1e-5;
  Mat<double> out;
  rms_norm<double>(x, std::span<const double>(g.data(), 24), eps, out);
  Mat<float> out32;
  const Mat<float> g32 = g.cast<float>();
  rms_norm<float>(x.cast<float>(), std::span<const float>(g32.data(), 24), eps, out32);
  for (Eigen::Index t = 0; t < 3; ++t) {
    double ms = 0;
    for (Eigen::Index i = 0; i < 24; ++i) ms += x(t, i) * x(t, i) / 24;
    for (Eigen::Index i = 0; i < 24; ++i) {
      const double want = x(t, i) / std::sqrt(ms + eps) * g(0, i);
      EXPECT_NEAR(out(t, i), want, 1e-13);
      EXPECT_NEAR(out32(t, i), want, 1e-5);
    }
  }
}

TEST(Norms, LayerNormMatchesLoopWithAndWithoutBias) {
  // A large mean: a one-pass variance would lose the digits.
  Mat<double> x = random_mat<double>(3, 20, 9);
  x.array() += 1000.0;
  const Mat<double> g = random_mat<double>(1, 20, 10), b = random_mat<double>(1, 20, 11);
  const double eps = 1e-5;
  Mat<double> with_bias, without_bias;
  layer_norm<double>(x, std::span<const double>(g.data(), 20), std::span<const double>(b.data(), 20), eps, with_bias);
  layer_norm<double>(x, std::span<const double>(g.data(), 20), {}, eps, without_bias);
  for (Eigen::Index t = 0; t < 3; ++t) {
    double mean = 0, var = 0;
    for (Eigen::Index i = 0; i < 20; ++i) mean += x(t, i) / 20;
    for (Eigen::Index i = 0; i < 20; ++i) var += (x(t, i) - mean) * (x(t, i) - mean) / 20;
    for (Eigen::Index i = 0; i < 20; ++i) {
      const double normed = (x(t, i) - mean) / std::sqrt(var + eps) * g(0, i);
      EXPECT_NEAR(with_bias(t, i), normed + b(0, i), 1e-10);
      EXPECT_NEAR(without_bias(t, i), normed, 1e-10);
    }
  }
}

ModelSpec rope_spec(uint64_t head_dim, double rotary_pct) {
  ModelSpec s;
  s.head_dim = head_dim;
  s.rotary_pct = rotary_pct;
  s.rope_theta = 500000.0;
  return s;
}

TEST(Rope, InverseFrequenciesPlainAndLinear) {
  ModelSpec s = rope_spec(16, 0.5);  // rotary dim 8: 4 frequencies over the rotary dims only
  const std::vector<double> plain = rope_inv_freq(s);
  ASSERT_EQ(plain.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(plain[i], std::pow(500000.0, -double(2 * i) / 8.0));
  s.rope_scaling.kind = RopeScalingKind::Linear;
  s.rope_scaling.factor = 4.0;
  const std::vector<double> linear = rope_inv_freq(s);
  for (size_t i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(linear[i], plain[i] / 4.0);
  const std::vector<double> factors = {1.0, 2.0, 3.0, 4.0};
  const std::vector<double> with_factors = rope_inv_freq(rope_spec(16, 0.5), factors);
  for (size_t i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(with_factors[i], plain[i] / factors[i]);
}

TEST(Rope, Llama3BandsAsTransformersComputesThem) {
  // Llama 3.1's values: factor 8, low 1, high 4, original context 8192, head dim 128.
  ModelSpec s = rope_spec(128, 1.0);
  s.rope_scaling = {RopeScalingKind::Llama3, 8.0, 1.0, 4.0, 8192};
  const std::vector<double> base = rope_inv_freq(rope_spec(128, 1.0));
  const std::vector<double> scaled = rope_inv_freq(s);
  int kept = 0, slowed = 0, smoothed = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    const double wavelen = 2 * std::numbers::pi / base[i];
    if (wavelen < 8192.0 / 4.0) {
      EXPECT_DOUBLE_EQ(scaled[i], base[i]);
      ++kept;
    } else if (wavelen > 8192.0) {
      EXPECT_DOUBLE_EQ(scaled[i], base[i] / 8.0);
      ++slowed;
    } else {
      const double smooth = (8192.0 / wavelen - 1.0) / 3.0;
      EXPECT_NEAR(scaled[i], (1 - smooth) * base[i] / 8.0 + smooth * base[i], 1e-15);
      EXPECT_LT(scaled[i], base[i]);
      EXPECT_GT(scaled[i], base[i] / 8.0);
      ++smoothed;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(slowed, 0);
  EXPECT_GT(smoothed, 0);
}

TEST(Rope, RotatesHalfPairsAsComplexNumbersAndLeavesTheRestAlone) {
  // Dims (i, i + rd/2) of each head are one complex number turned by p * inv_freq[i].
  const uint64_t heads = 3, head_dim = 12, rd = 8, start = 5, tokens = 4;
  std::vector<double> inv(rd / 2);
  for (size_t i = 0; i < inv.size(); ++i) inv[i] = std::pow(10000.0, -double(2 * i) / double(rd));
  const Mat<double> x = random_mat<double>(tokens, heads * head_dim, 12);
  Mat<double> y = x, cos, sin;
  rope_tables<double>(inv, start, tokens, cos, sin);
  apply_rope<double>(y, heads, head_dim, cos, sin);
  for (uint64_t t = 0; t < tokens; ++t)
    for (uint64_t h = 0; h < heads; ++h) {
      const uint64_t base = h * head_dim;
      for (uint64_t i = 0; i < rd / 2; ++i) {
        const std::complex<double> z(x(t, base + i), x(t, base + i + rd / 2));
        const std::complex<double> turned = z * std::polar(1.0, double(start + t) * inv[i]);
        EXPECT_NEAR(y(t, base + i), turned.real(), 1e-12);
        EXPECT_NEAR(y(t, base + i + rd / 2), turned.imag(), 1e-12);
      }
      for (uint64_t i = rd; i < head_dim; ++i) EXPECT_EQ(y(t, base + i), x(t, base + i));
    }
}

TEST(Activations, SwiGluAndBothGelus) {
  const Mat<double> g = random_mat<double>(2, 9, 13, 3.0), u = random_mat<double>(2, 9, 14);
  Mat<double> sw = g, erf_gelu = g, tanh_gelu = g;
  swiglu<double>(sw, u);
  gelu<double>(erf_gelu, false);
  gelu<double>(tanh_gelu, true);
  for (Eigen::Index i = 0; i < g.size(); ++i) {
    const double v = g.data()[i];
    EXPECT_NEAR(sw.data()[i], v / (1 + std::exp(-v)) * u.data()[i], 1e-14);
    // GELU(x) = x * Phi(x), Phi the standard normal CDF.
    EXPECT_NEAR(erf_gelu.data()[i], v * 0.5 * std::erfc(-v / std::sqrt(2.0)), 1e-14);
    const double tanh_form = 0.5 * v * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (v + 0.044715 * v * v * v)));
    EXPECT_NEAR(tanh_gelu.data()[i], tanh_form, 1e-14);
    EXPECT_NEAR(tanh_gelu.data()[i], erf_gelu.data()[i], 2e-3 * std::max(1.0, std::abs(v)));  // the tanh form approximates
  }
}

// softmax(q k^T / sqrt(d)) v per head with a causal mask, by loops.
Mat<double> reference_attention(const Mat<double>& q, const Mat<double>& k, const Mat<double>& v, uint64_t heads,
                                uint64_t kv_heads, uint64_t d, uint64_t start) {
  const uint64_t tokens = uint64_t(q.rows());
  Mat<double> out(q.rows(), q.cols());
  for (uint64_t h = 0; h < heads; ++h) {
    const uint64_t g = h / (heads / kv_heads);
    for (uint64_t t = 0; t < tokens; ++t) {
      const uint64_t visible = start + t + 1;
      std::vector<double> p(visible);
      double max = -INFINITY, sum = 0;
      for (uint64_t s = 0; s < visible; ++s) {
        double dot = 0;
        for (uint64_t i = 0; i < d; ++i) dot += q(t, h * d + i) * k(s, g * d + i);
        p[s] = dot / std::sqrt(double(d));
        max = std::max(max, p[s]);
      }
      for (double& e : p) sum += e = std::exp(e - max);
      for (uint64_t i = 0; i < d; ++i) {
        double o = 0;
        for (uint64_t s = 0; s < visible; ++s) o += p[s] / sum * v(s, g * d + i);
        out(t, h * d + i) = o;
      }
    }
  }
  return out;
}

TEST(Attention, CausalGroupedQueryAttentionMatchesLoopsAfterACachedPrefix) {
  // 70 new queries: two query blocks; 6 positions already in the cache.
  const uint64_t heads = 4, kv_heads = 2, d = 8, start = 6, tokens = 70;
  const Mat<double> k_all = random_mat<double>(start + tokens, kv_heads * d, 15);
  const Mat<double> v_all = random_mat<double>(start + tokens, kv_heads * d, 16);
  const Mat<double> q = random_mat<double>(tokens, heads * d, 17);
  KvCache<double> cache;
  cache.append(k_all.topRows(start), v_all.topRows(start));
  cache.append(k_all.bottomRows(tokens), v_all.bottomRows(tokens));
  ASSERT_EQ(cache.len, start + tokens);
  ThreadPool pool(2);
  Mat<double> out;
  causal_attention<double>(q, cache, heads, kv_heads, d, start, out, pool);
  const Mat<double> want = reference_attention(q, k_all, v_all, heads, kv_heads, d, start);
  EXPECT_LT(max_abs_diff(out, want), 1e-12);
  // The causal mask: changing a future key must not move earlier outputs.
  KvCache<double> changed = cache;
  changed.k.row(start + 10).setConstant(100.0);
  Mat<double> out2;
  causal_attention<double>(q, changed, heads, kv_heads, d, start, out2, pool);
  EXPECT_EQ(max_abs_diff(out.topRows(10), out2.topRows(10)), 0.0);
  EXPECT_GT(max_abs_diff(out.row(10), out2.row(10)), 1e-3);
}

}  // namespace
}  // namespace supra::validate
