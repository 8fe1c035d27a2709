// SRU / SRU++ layers, stacks and the enwik8 LM (sru.md sections 2-5).
#include "validate/sru/forward.hpp"

#include <algorithm>
#include <cmath>

#include "validate/sru/attention.hpp"

namespace supra::validate::sru {

float AttentionMask::at(uint64_t query, uint64_t key) const {
  if (!causal) return 0.0f;
  if (key > query || (window > 0 && key + window < query)) return -10000.0f;  // E/train_enwik8.py:53-67
  return 0.0f;
}

CarriedState initial_state(const Model& model) {
  CarriedState s;
  s.c.assign(model.config.num_layers, std::vector<float>(model.config.output_size(), 0.0f));
  s.memory.resize(model.config.num_layers);
  return s;
}

namespace {

Mat<float> times_transposed(const Mat<float>& x, const Mat<float>& w) { return x * w.transpose(); }

// U = transform(x~) for layers without attention (sru.md 2.3, 3 SRUppProjectedLinear).
Mat<float> plain_transform(const Layer& L, const Mat<float>& xt) {
  if (L.w.size()) return times_transposed(xt, L.w);
  if (L.w0.size()) return times_transposed(times_transposed(xt, L.w0), L.w1);
  Mat<float> p = times_transposed(xt, L.proj_in);
  if (!L.tm_norm_w.empty()) layer_norm_rows(p, L.tm_norm_w, L.tm_norm_b);
  return times_transposed(p, L.proj_out);
}

// One layer: x [T, n_in] -> h [T, O]; memory = raw inputs of the previous segment ([0, n_in] for none).
Mat<float> layer_forward(const Config& cfg, const Layer& L, const Mat<float>& x, const Mat<float>& memory,
                         const AttentionMask& mask, std::vector<float>& c) {
  // residual is taken before any LN (sru/modules.py:899).
  Mat<float> xt = x;
  if (cfg.cell_pre_ln()) layer_norm_rows(xt, L.cell_norm_w, L.cell_norm_b);
  Mat<float> u;
  if (L.attention) {
    // The memory stays raw while the current segment is LN'd (sru.md trap 5).
    Mat<float> context(memory.rows() + xt.rows(), xt.cols());
    context << memory, xt;
    const Mat<float> z_all = times_transposed(context, L.q);
    const Mat<float> kv = times_transposed(z_all, L.kv);
    const Mat<float> z = z_all.bottomRows(xt.rows());
    u = attention_output(L, cfg.num_heads, z, kv, uint64_t(memory.rows()), mask);
  } else {
    u = plain_transform(L, xt);
  }
  Mat<float> h = recurrence(cfg, L, u, x, c);
  if (cfg.cell_post_ln()) layer_norm_rows(h, L.cell_norm_w, L.cell_norm_b);
  return h;
}

Mat<float> embed_rows(const Model& m, const std::vector<uint32_t>& tokens, size_t begin, size_t end) {
  Mat<float> x(int64_t(end - begin), m.embed.cols());
  for (size_t t = begin; t < end; ++t) x.row(int64_t(t - begin)) = m.embed.row(tokens[t]);
  return x;
}

Mat<float> output_logits(const Model& m, const Mat<float>& h) {
  Mat<float> y = times_transposed(h, m.out);
  for (int64_t t = 0; t < y.rows(); ++t)
    for (int64_t v = 0; v < y.cols(); ++v) y(t, v) += m.out_bias[size_t(v)];
  return y;
}

}  // namespace

Mat<float> rnn_forward(const Model& model, const Mat<float>& input, const AttentionMask& mask, CarriedState* state) {
  CarriedState local = initial_state(model);
  CarriedState& s = state ? *state : local;
  Mat<float> x = model.input_to_hidden.size() ? times_transposed(input, model.input_to_hidden) : input;
  for (uint64_t l = 0; l < model.config.num_layers; ++l) {
    const Layer& L = model.layers[l];
    Mat<float> memory = s.memory[l].size() ? s.memory[l] : Mat<float>(0, int64_t(L.n_in));
    Mat<float> h = layer_forward(model.config, L, x, memory, mask, s.c[l]);
    s.memory[l] = std::move(x);  // saved_inputs: replaced, not accumulated
    x = std::move(h);
  }
  return x;
}

Mat<float> lm_logits(const Model& model, const std::vector<uint32_t>& tokens, uint64_t segment, bool same_length) {
  const size_t T = tokens.size();
  AttentionMask mask{true, segment > 0 && same_length ? segment : 0};
  const size_t step = segment > 0 ? segment : std::max<size_t>(T, 1);
  CarriedState state = initial_state(model);
  Mat<float> logits(int64_t(T), model.out.rows());
  for (size_t begin = 0; begin < T; begin += step) {
    const size_t end = std::min(T, begin + step);
    const Mat<float> h = rnn_forward(model, embed_rows(model, tokens, begin, end), mask, &state);
    logits.middleRows(int64_t(begin), int64_t(end - begin)) = output_logits(model, h);
  }
  return logits;
}

DecodeState start_decoding(const Model& model, uint64_t segment, bool same_length) {
  DecodeState s;
  s.segment = segment;
  s.same_length = same_length;
  const uint64_t L = model.config.num_layers;
  s.c.assign(L, std::vector<float>(model.config.output_size(), 0.0f));
  s.memory_kv.resize(L);
  s.current_kv.resize(L);
  s.current_raw.resize(L);
  for (uint64_t l = 0; l < L; ++l) {
    const Layer& layer = model.layers[l];
    const int64_t width = layer.attention ? layer.kv.rows() : 0;
    s.memory_kv[l] = s.current_kv[l] = Mat<float>(0, width);
    s.current_raw[l] = Mat<float>(0, int64_t(layer.n_in));
  }
  return s;
}

namespace {

void append_row(Mat<float>& m, const Mat<float>& row) {
  m.conservativeResize(m.rows() + 1, Eigen::NoChange);
  m.row(m.rows() - 1) = row.row(0);
}

// A segment is complete: its raw layer inputs become the memory (keys and
// values recomputed from them, as the next whole-segment call would).
void roll_segment(const Model& model, DecodeState& s) {
  for (uint64_t l = 0; l < model.config.num_layers; ++l) {
    const Layer& L = model.layers[l];
    if (L.attention) s.memory_kv[l] = times_transposed(times_transposed(s.current_raw[l], L.q), L.kv);
    s.current_kv[l] = Mat<float>(0, s.memory_kv[l].cols());
    s.current_raw[l] = Mat<float>(0, int64_t(L.n_in));
  }
  s.in_segment = 0;
}

}  // namespace

std::vector<float> decode_step(const Model& model, DecodeState& s, uint32_t token) {
  if (s.segment > 0 && s.in_segment == s.segment) roll_segment(model, s);
  const Config& cfg = model.config;
  const AttentionMask mask{true, s.segment > 0 && s.same_length ? s.segment : 0};
  Mat<float> x = model.embed.row(token);
  if (model.input_to_hidden.size()) x = times_transposed(x, model.input_to_hidden);
  for (uint64_t l = 0; l < cfg.num_layers; ++l) {
    const Layer& L = model.layers[l];
    if (s.segment > 0) append_row(s.current_raw[l], x);  // unbounded: no memory is ever made
    Mat<float> xt = x;
    if (cfg.cell_pre_ln()) layer_norm_rows(xt, L.cell_norm_w, L.cell_norm_b);
    Mat<float> u;
    if (L.attention) {
      const Mat<float> z = times_transposed(xt, L.q);
      append_row(s.current_kv[l], times_transposed(z, L.kv));
      Mat<float> kv(s.memory_kv[l].rows() + s.current_kv[l].rows(), s.current_kv[l].cols());
      kv << s.memory_kv[l], s.current_kv[l];
      u = attention_output(L, cfg.num_heads, z, kv, uint64_t(kv.rows() - 1), mask);
    } else {
      u = plain_transform(L, xt);
    }
    Mat<float> h = recurrence(cfg, L, u, x, s.c[l]);
    if (cfg.cell_post_ln()) layer_norm_rows(h, L.cell_norm_w, L.cell_norm_b);
    x = std::move(h);
  }
  ++s.in_segment;
  const Mat<float> y = output_logits(model, x);
  return std::vector<float>(y.data(), y.data() + y.size());
}

std::vector<float> prefill(const Model& model, DecodeState& s, const std::vector<uint32_t>& prompt) {
  const size_t whole = s.segment > 0 && prompt.size() > 1 ? (prompt.size() - 1) / s.segment * s.segment : 0;
  std::vector<float> logits;
  if (whole > 0) {
    const AttentionMask mask{true, s.same_length ? s.segment : 0};
    CarriedState carried = initial_state(model);
    Mat<float> h;
    for (size_t begin = 0; begin < whole; begin += s.segment)
      h = rnn_forward(model, embed_rows(model, prompt, begin, begin + s.segment), mask, &carried);
    // The last whole segment's layer inputs are the memory of what follows.
    s.c = carried.c;
    for (uint64_t l = 0; l < model.config.num_layers; ++l) s.current_raw[l] = carried.memory[l];
    roll_segment(model, s);
  }
  for (size_t t = whole; t < prompt.size(); ++t) logits = decode_step(model, s, prompt[t]);
  return logits;
}

}  // namespace supra::validate::sru
