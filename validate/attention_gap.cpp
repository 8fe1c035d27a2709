#include "validate/attention_gap.hpp"

#include <cmath>
#include <string>

#include "schema/error.hpp"
#include "validate/forward.hpp"
#include "validate/kernels.hpp"

namespace supra::validate {
namespace {

// Sums of squares per head (and for the layer after out_proj), over sequences.
struct GapSums {
  std::vector<double> diff, ref;
  double out_diff = 0, out_ref = 0;
};

template <class S>
void add_columns(const Mat<S>& got, const Mat<S>& want, uint64_t col0, uint64_t cols, double& diff, double& ref) {
  for (Eigen::Index t = 0; t < want.rows(); ++t)
    for (uint64_t c = col0; c < col0 + cols; ++c) {
      const double w = double(want(t, Eigen::Index(c))), d = double(got(t, Eigen::Index(c))) - w;
      diff += d * d;
      ref += w * w;
    }
}

void check_pair(const Model& a, const Model& b) {
  const ModelSpec &sa = a.spec(), &sb = b.spec();
  if (sa.layers != sb.layers || sa.hidden != sb.hidden || sa.heads != sb.heads || sa.kv_heads != sb.kv_heads ||
      sa.head_dim != sb.head_dim)
    throw bad_input("linearize.gap_models", {b.source(), {}, {}},
                    "not a linearization of " + a.source() + ": layers, width or heads differ");
  for (uint64_t l = 0; l < sa.layers; ++l)
    if (a.attention_kind(l) != AttentionKind::Softmax)
      throw bad_input("linearize.gap_models", {a.source(), {}, {}},
                      "layer " + std::to_string(l) + " is not softmax attention: the gap is measured against a softmax source");
}

// The linear head outputs of layer l on the inputs the softmax layer just
// saw (src: its run state after attention_step), into `sums`.
template <class S>
void linear_layer_gap(const Model& lin, uint64_t l, const RunState<S>& src, GapSums& sums, ThreadPool& pool) {
  const LayerWeights& w = lin.layer(l);
  const uint64_t heads = lin.spec().heads, dv = lin.spec().head_dim;
  RunState<S> s;
  s.start_pos = src.start_pos;
  s.rope_cos = src.rope_cos;
  s.rope_sin = src.rope_sin;
  linear(src.xb, *w.q, w.q_bias.get(), s.q, pool);
  linear(src.xb, *w.k, w.k_bias.get(), s.k, pool);
  linear(src.xb, *w.v, w.v_bias.get(), s.v, pool);
  SupraState state;
  supra_mix_tokens(lin, l, s, state, pool);
  for (uint64_t h = 0; h < heads; ++h) add_columns(s.att, src.att, h * dv, dv, sums.diff[h], sums.ref[h]);
  linear(s.att, *w.out, w.out_bias.get(), s.proj, pool);
  add_columns(s.proj, src.proj, 0, uint64_t(src.proj.cols()), sums.out_diff, sums.out_ref);
}

template <class S>
AttentionGap gap_as(const Model& soft, const Model& lin, const TokenBatch& tokens, int threads) {
  ThreadPool pool(threads);
  const uint64_t layers = soft.spec().layers, heads = soft.spec().heads;
  std::vector<GapSums> sums(layers, GapSums{std::vector<double>(heads), std::vector<double>(heads)});
  AttentionGap gap;
  for (const auto& ids : tokens.sequences) {
    Forward<S> f(soft, pool);
    f.embed(ids, 0);
    for (uint64_t l = 0; l < layers; ++l) {
      LayerState<S> state;
      f.attention_step(l, state);
      if (lin.attention_kind(l) == AttentionKind::SupraLinear) linear_layer_gap(lin, l, f.run_state(), sums[l], pool);
      f.mlp_step(l);
    }
    gap.rows += ids.size();
  }
  for (uint64_t l = 0; l < layers; ++l) {
    LayerGap g{l, lin.attention_kind(l) == AttentionKind::SupraLinear, {}, 0};
    if (g.linear) {
      for (uint64_t h = 0; h < heads; ++h) g.head_error.push_back(std::sqrt(sums[l].diff[h] / sums[l].ref[h]));
      g.out_error = std::sqrt(sums[l].out_diff / sums[l].out_ref);
    }
    gap.layers.push_back(std::move(g));
  }
  return gap;
}

}  // namespace

AttentionGap attention_gap(const Model& softmax_model, const Model& linear_model, const TokenBatch& tokens,
                           Precision precision, int threads) {
  check_pair(softmax_model, linear_model);
  check_token_range(tokens, std::min(softmax_model.spec().vocab, linear_model.spec().vocab));
  return precision == Precision::F64 ? gap_as<double>(softmax_model, linear_model, tokens, threads)
                                     : gap_as<float>(softmax_model, linear_model, tokens, threads);
}

}  // namespace supra::validate
