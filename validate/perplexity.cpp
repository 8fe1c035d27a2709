#include "validate/perplexity.hpp"

#include <chrono>
#include <cmath>
#include <string>

#include "schema/error.hpp"
#include "validate/forward.hpp"

namespace supra::validate {

namespace {

PerplexityWindow make_window(const std::vector<uint32_t>& tokens, uint64_t start, uint64_t ctx, uint64_t first_row) {
  PerplexityWindow w;
  w.start = start;
  w.input.assign(tokens.begin() + start, tokens.begin() + start + ctx);
  w.first_row = first_row;
  for (uint64_t row = first_row; row + 1 < ctx; ++row) w.targets.push_back(tokens[start + row + 1]);
  return w;
}

// -ln softmax(row)[target], the sum of exponentials in double.
template <class S>
double nll_of_row(const Mat<S>& logits, Eigen::Index row, uint32_t target) {
  const auto z = logits.row(row);
  const double top = double(z.maxCoeff());
  double sum = 0;
  for (Eigen::Index i = 0; i < z.size(); ++i) sum += std::exp(double(z[i]) - top);
  return std::log(sum) - (double(z[target]) - top);
}

template <class S>
PerplexityResult perplexity_as(const Model& model, const std::vector<PerplexityWindow>& windows,
                               const PerplexityOptions& o) {
  ThreadPool pool(o.threads);
  PerplexityResult r;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t w = 0; w < windows.size(); ++w) {
    const PerplexityWindow& win = windows[w];
    Forward<S> f(model, pool);
    DecodeState<S> state(model.spec().layers);
    const Mat<S>& logits = forward_tokens<S>(f, state, win.input, false);
    double nll = 0;
    for (size_t k = 0; k < win.targets.size(); ++k) {
      nll += nll_of_row(logits, Eigen::Index(win.first_row + k), win.targets[k]);
      if (o.token_bytes) r.bytes += o.token_bytes(win.targets[k]);
    }
    r.window_nll.push_back(nll);
    r.nll += nll;
    r.scored += win.targets.size();
    if (o.on_window) o.on_window(w);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

std::vector<PerplexityWindow> perplexity_windows(const std::vector<uint32_t>& tokens, uint64_t ctx, uint64_t stride,
                                                 std::optional<uint32_t> bos) {
  if (ctx < 4) throw usage_error("usage.perplexity", "--ctx must be at least 4, not " + std::to_string(ctx));
  if (stride >= ctx)
    throw usage_error("usage.perplexity", "--stride must be below --ctx (" + std::to_string(ctx) + "), not " +
                                              std::to_string(stride));
  if (tokens.size() < 2 * ctx)
    throw usage_error("usage.perplexity", "perplexity with a context of " + std::to_string(ctx) + " needs at least " +
                                              std::to_string(2 * ctx) + " tokens; the text has " +
                                              std::to_string(tokens.size()) + " (give a longer text or a smaller --ctx)");
  std::vector<PerplexityWindow> windows;
  if (stride == 0) {
    for (uint64_t start = 0; start + ctx <= tokens.size(); start += ctx) {
      windows.push_back(make_window(tokens, start, ctx, ctx / 2));
      if (bos) windows.back().input[0] = *bos;
    }
  } else {
    const uint64_t count = (tokens.size() - ctx + stride - 1) / stride;
    for (uint64_t i = 0; i < count; ++i) windows.push_back(make_window(tokens, i * stride, ctx, ctx - stride - 1));
  }
  return windows;
}

double PerplexityResult::perplexity() const { return std::exp(nll / double(scored)); }
double PerplexityResult::bits_per_token() const { return nll / double(scored) / std::log(2.0); }
double PerplexityResult::bits_per_byte() const { return bytes ? nll / double(bytes) / std::log(2.0) : NAN; }

PerplexityResult compute_perplexity(const Model& model, const std::vector<PerplexityWindow>& windows,
                                    const PerplexityOptions& options) {
  TokenBatch batch;
  batch.source = "the text";
  for (const auto& w : windows) batch.sequences.push_back(w.input);
  check_token_range(batch, model.spec().vocab);
  return options.precision == Precision::F64 ? perplexity_as<double>(model, windows, options)
                                             : perplexity_as<float>(model, windows, options);
}

}  // namespace supra::validate
