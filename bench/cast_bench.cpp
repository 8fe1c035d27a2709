// Micro-benchmarks of the cast kernels on one streaming chunk (bytes/s are
// input bytes). "Scalar" rows run the per-element reference functions, to
// show what the vector kernels in schema/cast_kernels.cpp buy.
//   cmake -S . -B build-bench -DSUPRA_BUILD_BENCH=ON && cmake --build build-bench --target cast_bench
//   ./build-bench/cast_bench
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "schema/cast_kernels.hpp"
#include "schema/float_convert.hpp"
#include "schema/tensor_stats.hpp"

namespace {
using namespace supra;

// Weight-like values (N(0, 0.02)) in the input dtype.
std::vector<std::byte> weights(DType dtype, size_t count) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<std::byte> out(count * dtype_size(dtype));
  for (size_t i = 0; i < count; ++i) {
    const float f = dist(rng);
    if (dtype == DType::F32) std::memcpy(&out[4 * i], &f, 4);
    const uint16_t h = dtype == DType::F16 ? f32_to_f16(f) : f32_to_bf16(f);
    if (dtype != DType::F32) std::memcpy(&out[2 * i], &h, 2);
  }
  return out;
}

void run_cast(benchmark::State& state, DType from, DType to) {
  const size_t count = size_t(state.range(0));
  const auto in = weights(from, count);
  std::vector<std::byte> out(count * dtype_size(to));
  CastStats stats;
  for (auto _ : state) {
    cast_elements(from, in.data(), to, out.data(), count, stats);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(in.size()));
}

void BM_Bf16ToF16(benchmark::State& s) { run_cast(s, DType::BF16, DType::F16); }
void BM_F32ToBf16(benchmark::State& s) { run_cast(s, DType::F32, DType::BF16); }
void BM_F16ToF32(benchmark::State& s) { run_cast(s, DType::F16, DType::F32); }
void BM_F32ToF16(benchmark::State& s) { run_cast(s, DType::F32, DType::F16); }
void BM_Bf16ToF32(benchmark::State& s) { run_cast(s, DType::BF16, DType::F32); }

template <typename In, typename Out, Out (*convert)(In)>
void run_scalar(benchmark::State& state, DType from) {
  const size_t count = size_t(state.range(0));
  const auto bytes = weights(from, count);
  std::vector<In> in(count);
  std::memcpy(in.data(), bytes.data(), bytes.size());
  std::vector<Out> out(count);
  for (auto _ : state) {
    for (size_t i = 0; i < count; ++i) out[i] = convert(in[i]);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes.size()));
}

uint16_t bf16_to_f16_scalar(uint16_t b) { return f32_to_f16(bf16_to_f32(b)); }
void BM_Bf16ToF16_Scalar(benchmark::State& s) { run_scalar<uint16_t, uint16_t, bf16_to_f16_scalar>(s, DType::BF16); }
void BM_F32ToBf16_Scalar(benchmark::State& s) { run_scalar<float, uint16_t, f32_to_bf16>(s, DType::F32); }
void BM_F16ToF32_Scalar(benchmark::State& s) { run_scalar<uint16_t, float, f16_to_f32>(s, DType::F16); }

// inspect --stats' inner work on a bf16 tensor already in memory.
void BM_StatsBf16(benchmark::State& state) {
  const size_t count = size_t(state.range(0));
  const MemoryTensorSource t(TensorInfo{"w", DType::BF16, {count}}, weights(DType::BF16, count));
  for (auto _ : state) benchmark::DoNotOptimize(compute_stats(t, 1));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(count * 2));
}

// 4M elements: one 8 MiB streaming chunk of 16-bit input.
constexpr int64_t kChunk = 4 << 20;
BENCHMARK(BM_Bf16ToF16)->Arg(kChunk);
BENCHMARK(BM_Bf16ToF16_Scalar)->Arg(kChunk);
BENCHMARK(BM_F32ToBf16)->Arg(kChunk);
BENCHMARK(BM_F32ToBf16_Scalar)->Arg(kChunk);
BENCHMARK(BM_F16ToF32)->Arg(kChunk);
BENCHMARK(BM_F16ToF32_Scalar)->Arg(kChunk);
BENCHMARK(BM_F32ToF16)->Arg(kChunk);
BENCHMARK(BM_Bf16ToF32)->Arg(kChunk);
BENCHMARK(BM_StatsBf16)->Arg(16 << 20);

}  // namespace

BENCHMARK_MAIN();
