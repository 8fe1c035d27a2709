#include "validate/evaluate.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <type_traits>

#include "schema/error.hpp"
#include "validate/forward.hpp"

namespace supra::validate {

namespace {

template <class S>
constexpr DType dtype_of() {
  return std::is_same_v<S, float> ? DType::F32 : DType::F64;
}

// A [B, rows, cols] (or [rows, cols]) output filled one sequence at a time.
struct Stacked {
  std::vector<uint64_t> shape;
  std::vector<std::byte> bytes;

  template <class S>
  void put(uint64_t sequence, const Mat<S>& m) {
    const size_t n = size_t(m.size()) * sizeof(S);
    std::memcpy(bytes.data() + sequence * n, m.data(), n);
  }
  TensorPtr tensor(const std::string& name, DType dtype) {
    return std::make_shared<MemoryTensorSource>(TensorInfo{name, dtype, shape}, std::move(bytes));
  }
};

Stacked make_stacked(bool batched, uint64_t batch, uint64_t rows, uint64_t cols, size_t esize) {
  Stacked s;
  s.shape = batched ? std::vector<uint64_t>{batch, rows, cols} : std::vector<uint64_t>{rows, cols};
  s.bytes.resize(batch * rows * cols * esize);
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class S>
LogitsResult logits_as(const Model& model, const TokenBatch& batch, const LogitsOptions& options) {
  const ModelSpec& spec = model.spec();
  const uint64_t n_seq = batch.sequences.size(), tokens = batch.sequences.front().size();
  ThreadPool pool(options.threads);
  Forward<S> f(model, pool);
  Stacked logits = make_stacked(batch.batched, n_seq, options.last_only ? 1 : tokens, spec.vocab, sizeof(S));
  std::vector<std::string> order;  // hidden keys in the order the forward pass met them
  std::map<std::string, Stacked> hidden;
  HiddenTap<S> tap;
  uint64_t sequence = 0;
  if (options.dump_hidden)
    tap = [&](const std::string& key, const Mat<S>& h) {
      auto [it, fresh] = hidden.try_emplace(key);
      if (fresh) {
        order.push_back(key);
        it->second = make_stacked(batch.batched, n_seq, tokens, uint64_t(h.cols()), sizeof(S));
      }
      it->second.put(sequence, h);
    };
  const auto t0 = std::chrono::steady_clock::now();
  for (; sequence < n_seq; ++sequence) {
    DecodeState<S> state(spec.layers);
    logits.put(sequence, forward_tokens<S>(f, state, batch.sequences[sequence], options.last_only, tap));
  }
  LogitsResult r;
  r.seconds = seconds_since(t0);
  r.logits.format = r.hidden.format = "memory";
  r.logits.tensors.push_back(logits.tensor("logits", dtype_of<S>()));
  for (const std::string& key : order) r.hidden.tensors.push_back(hidden[key].tensor(key, dtype_of<S>()));
  return r;
}

// torch.argmax: the first index of the largest value (NaN never wins).
template <class S>
uint32_t argmax_row(const Mat<S>& logits) {
  const auto row = logits.row(logits.rows() - 1);
  Eigen::Index best = 0;
  for (Eigen::Index i = 1; i < row.size(); ++i)
    if (row[i] > row[best] || (row[best] != row[best] && row[i] == row[i])) best = i;
  return uint32_t(best);
}

template <class S>
std::vector<double> last_row(const Mat<S>& logits) {
  const auto row = logits.row(logits.rows() - 1);
  return std::vector<double>(row.data(), row.data() + row.size());
}

template <class S>
GenerateResult generate_as(const Model& model, const std::vector<uint32_t>& prompt, const GenerateOptions& o) {
  ThreadPool pool(o.threads);
  Forward<S> f(model, pool);
  DecodeState<S> state(model.spec().layers);
  std::optional<Sampler> sampler;
  if (o.sampling) sampler.emplace(*o.sampling);
  GenerateResult r;
  if (o.max_new == 0) return r;
  auto t0 = std::chrono::steady_clock::now();
  const Mat<S>* logits = &forward_tokens<S>(f, state, prompt, true);
  for (;;) {
    const uint32_t next = sampler ? sampler->next(last_row(*logits)) : argmax_row(*logits);
    r.ids.push_back(next);
    if (r.ids.size() == 1) {
      r.prompt_seconds = seconds_since(t0);
      t0 = std::chrono::steady_clock::now();
    }
    if (o.on_token) o.on_token(next);
    r.stopped = std::find(o.stop_ids.begin(), o.stop_ids.end(), next) != o.stop_ids.end();
    if (r.stopped || r.ids.size() == o.max_new) break;
    logits = &forward_tokens<S>(f, state, std::span<const uint32_t>(&next, 1), true);
  }
  r.decode_seconds = seconds_since(t0);
  return r;
}

}  // namespace

LogitsResult compute_logits(const Model& model, const TokenBatch& tokens, const LogitsOptions& options) {
  check_token_range(tokens, model.spec().vocab);
  return options.precision == Precision::F64 ? logits_as<double>(model, tokens, options)
                                             : logits_as<float>(model, tokens, options);
}

GenerateResult generate(const Model& model, const std::vector<uint32_t>& prompt, const GenerateOptions& options) {
  if (prompt.empty()) throw usage_error("usage.tokens", "generate needs a prompt of at least one token");
  TokenBatch b;
  b.sequences = {prompt};
  b.source = "the prompt";
  check_token_range(b, model.spec().vocab);
  return options.precision == Precision::F64 ? generate_as<double>(model, prompt, options)
                                             : generate_as<float>(model, prompt, options);
}

}  // namespace supra::validate
