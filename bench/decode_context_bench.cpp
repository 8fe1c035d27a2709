// Per-token decode time and state size of one model at given context
// lengths, and its prefill throughput; for bench/linearize_bench.sh, which
// runs it on a softmax model and its SUPRA linearization.
//
// A context of C tokens is made by filling each layer's state with random
// values as if C tokens had been seen (a softmax layer's KV cache gets C rows,
// a SUPRA layer's decayed sums their fixed [heads * qk_dim, v_dim]): what a
// decode step costs depends on the state's size, not its values, and a real
// 16k softmax prefill would take longer than the whole benchmark.
//
//   decode_context_bench MODEL CONTEXTS STEPS PREFILL THREADS
//   (CONTEXTS: comma-separated, e.g. 128,1024,4096,16384; PREFILL: prompt tokens, 0 = none)
// One JSON object per line: {"kind": "decode", "context", "ms_per_token", "cpu_ms_per_token"
// (medians of STEPS), "state_bytes"} and {"kind": "prefill", "tokens", "seconds", "cpu_seconds",
// "tokens_per_s"}.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "converters/open_model.hpp"
#include "validate/forward.hpp"

namespace {
using namespace supra;
using namespace supra::validate;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU seconds of the whole process: on a shared machine a steadier measure
// of the work than wall time (with one thread they are the same when idle).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// U(-0.1, 0.1): cheap enough for a 16k-token KV cache.
template <class M>
void fill_random(M& m, std::mt19937_64& rng) {
  for (Eigen::Index i = 0; i < m.size(); ++i)
    m.data()[i] = typename M::Scalar((double(rng() >> 11) * 0x1p-53 - 0.5) * 0.2);
}

// Every layer's state as it stands after `context` tokens, with room for `extra` more.
DecodeState<float> state_at(const Model& model, uint64_t context, uint64_t extra) {
  const ModelSpec& spec = model.spec();
  DecodeState<float> st(spec.layers);
  std::mt19937_64 rng(context);
  for (uint64_t l = 0; l < spec.layers; ++l) {
    LayerState<float>& ls = st.layers[l];
    if (model.attention_kind(l) == AttentionKind::SupraLinear) {
      ls.supra.sums.resize(Eigen::Index(spec.heads * spec.supra->qk_dim), Eigen::Index(spec.head_dim));
      fill_random(ls.supra.sums, rng);
      ls.supra.len = context;
    } else {
      const auto kv_dim = Eigen::Index(spec.kv_heads * spec.head_dim);
      ls.kv.k.resize(Eigen::Index(context + extra), kv_dim);
      ls.kv.v.resize(Eigen::Index(context + extra), kv_dim);
      fill_random(ls.kv.k, rng);
      fill_random(ls.kv.v, rng);
      ls.kv.len = context;
    }
  }
  st.positions = context;
  return st;
}

// Bytes the state holds for the tokens seen (a KV cache's filled rows, the sums).
uint64_t state_bytes(const DecodeState<float>& st) {
  uint64_t n = 0;
  for (const auto& ls : st.layers)
    n += ls.supra.sums.size() * sizeof(double) + 2 * ls.kv.len * uint64_t(ls.kv.k.cols()) * sizeof(float);
  return n;
}

void decode_at(const Model& model, ThreadPool& pool, uint64_t context, uint64_t steps) {
  DecodeState<float> st = state_at(model, context, steps);
  const uint64_t bytes = state_bytes(st);
  Forward<float> f(model, pool);
  std::vector<double> ms, cpu_ms;
  uint32_t token = 1;
  for (uint64_t i = 0; i < steps; ++i) {
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    const Mat<float>& z = forward_tokens(f, st, std::span<const uint32_t>(&token, 1), true);
    ms.push_back(1e3 * seconds_since(t0));
    cpu_ms.push_back(1e3 * (cpu_seconds() - c0));
    token = uint32_t(std::max_element(z.data(), z.data() + z.size()) - z.data());
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu_ms.begin(), cpu_ms.end());
  std::printf("{\"kind\": \"decode\", \"context\": %llu, \"ms_per_token\": %.3f, \"cpu_ms_per_token\": %.3f, "
              "\"state_bytes\": %llu}\n",
              (unsigned long long)context, ms[ms.size() / 2], cpu_ms[cpu_ms.size() / 2], (unsigned long long)bytes);
  std::fflush(stdout);
}

void prefill(const Model& model, ThreadPool& pool, uint64_t tokens) {
  std::mt19937_64 rng(0);
  std::vector<uint32_t> ids(tokens);
  for (auto& id : ids) id = uint32_t(rng() % model.spec().vocab);
  DecodeState<float> st(model.spec().layers);
  Forward<float> f(model, pool);
  const auto t0 = Clock::now();
  const double c0 = cpu_seconds();
  forward_tokens(f, st, std::span<const uint32_t>(ids), true);
  const double s = seconds_since(t0), cpu = cpu_seconds() - c0;
  std::printf("{\"kind\": \"prefill\", \"tokens\": %llu, \"seconds\": %.3f, \"cpu_seconds\": %.3f, "
              "\"tokens_per_s\": %.2f}\n",
              (unsigned long long)tokens, s, cpu, double(tokens) / s);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: decode_context_bench MODEL CONTEXTS STEPS PREFILL THREADS\n");
    return 2;
  }
  try {
    const Model model(open_canonical_model(argv[1]));
    ThreadPool pool(std::stoi(argv[5]));
    std::stringstream contexts(argv[2]);
    for (std::string c; std::getline(contexts, c, ',');) decode_at(model, pool, std::stoull(c), std::stoull(argv[3]));
    if (const uint64_t n = std::stoull(argv[4])) prefill(model, pool, n);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "decode_context_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
