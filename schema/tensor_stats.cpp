#include "schema/tensor_stats.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

namespace supra {
namespace {
template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Statistics of a run of values, merged pairwise (Chan et al.): stable for
// billions of values, unlike sum / sum of squares.
struct Partial {
  uint64_t count = 0, nan = 0, inf = 0;
  double mean = 0, m2 = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();

  void merge(const Partial& o) {
    nan += o.nan;
    inf += o.inf;
    if (o.count == 0) return;
    min = std::min(min, o.min);
    max = std::max(max, o.max);
    const double n = double(count + o.count);
    const double delta = o.mean - mean;
    mean += delta * double(o.count) / n;
    m2 += o.m2 + delta * delta * double(count) * double(o.count) / n;
    count += o.count;
  }
};

// Values are decoded a block at a time into a buffer that stays in L1 for
// the two passes (sum, then squared deviations from the block's mean).
constexpr size_t kBlock = 4096;
// Bytes per task; tasks are merged in order, so the result does not depend
// on the number of threads. A task reads in pieces small enough to stay in
// the core's L2 cache between the kernel's copy and the decoding.
constexpr uint64_t kChunkBytes = 4u << 20;
constexpr uint64_t kReadBytes = 256u << 10;

typedef float F32x8 __attribute__((vector_size(32)));
typedef double F64x8 __attribute__((vector_size(64)));
template <typename T> struct EightOf;
template <> struct EightOf<float> { using type = F32x8; };
template <> struct EightOf<double> { using type = F64x8; };

// Statistics of `n` finite values, sixteen lanes at a time: each lane keeps
// its own sum, min and max (written with vector types because the compiler
// does not vectorize a min reduction by itself), and the lanes are combined
// at the end in a fixed order, so the result is the same on every CPU.
// (Always inlined so each target clone of bytes_stats gets its own vector code.)
template <typename T>
[[gnu::always_inline]] inline Partial finite_block_stats(const T* v, size_t n) {
  using Vec = typename EightOf<T>::type;  // 8 values
  using Acc = F64x8;                      // 8 sums
  constexpr int G = 2;  // two groups of 8 lanes: sums in flight hide the add latency
  Partial p;
  if (n == 0) return p;
  Vec lo[G], hi[G];
  Acc sum[G] = {};
  for (int h = 0; h < G; ++h) lo[h] = hi[h] = Vec{} + v[0];
  size_t i = 0;
  for (; i + 8 * G <= n; i += 8 * G)
    for (int h = 0; h < G; ++h) {
      Vec x;
      std::memcpy(&x, v + i + 8 * h, sizeof x);
      sum[h] += __builtin_convertvector(x, Acc);
      lo[h] = x < lo[h] ? x : lo[h];
      hi[h] = x > hi[h] ? x : hi[h];
    }
  double total = 0;
  for (int h = 0; h < G; ++h)
    for (int k = 0; k < 8; ++k) {
      total += sum[h][k];
      p.min = std::min(p.min, double(lo[h][k]));
      p.max = std::max(p.max, double(hi[h][k]));
    }
  for (; i < n; ++i) {
    total += double(v[i]);
    p.min = std::min(p.min, double(v[i]));
    p.max = std::max(p.max, double(v[i]));
  }
  p.count = n;
  p.mean = total / double(n);
  Acc sq[G] = {};
  const Acc mean = Acc{} + p.mean;
  for (i = 0; i + 8 * G <= n; i += 8 * G)
    for (int h = 0; h < G; ++h) {
      Vec x;
      std::memcpy(&x, v + i + 8 * h, sizeof x);
      const Acc d = __builtin_convertvector(x, Acc) - mean;
      sq[h] += d * d;
    }
  for (int h = 0; h < G; ++h)
    for (int k = 0; k < 8; ++k) p.m2 += sq[h][k];
  for (; i < n; ++i) p.m2 += (double(v[i]) - p.mean) * (double(v[i]) - p.mean);
  return p;
}

// Statistics of any `n` values: NaN and inf are counted and left out.
template <typename T>
[[gnu::always_inline]] inline Partial block_stats(T* v, size_t n) {
  size_t non_finite = 0;
  for (size_t i = 0; i < n; ++i) non_finite += !(std::fabs(v[i]) <= std::numeric_limits<T>::max());
  if (non_finite == 0) return finite_block_stats(v, n);
  uint64_t nan = 0, inf = 0;
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(v[i])) ++nan;
    else if (std::isinf(v[i])) ++inf;
    else v[kept++] = v[i];  // compact the finite values in place
  }
  Partial p = finite_block_stats(v, kept);
  p.nan = nan;
  p.inf = inf;
  return p;
}

// Types whose every value is exact in a float get the float path (half the
// memory traffic of doubles); the others are decoded to double.
bool float_exact(DType t) {
  switch (t) {
    case DType::F32: case DType::F16: case DType::BF16: case DType::F8_E4M3:
    case DType::F8_E5M2: case DType::I16: case DType::I8: case DType::U16:
    case DType::U8: case DType::BOOL:
      return true;
    default:
      return false;
  }
}

void decode_to_float(DType dtype, const std::byte* src, size_t count, float* out) {
  switch (dtype) {
    case DType::F32: std::memcpy(out, src, count * 4); return;
    case DType::F16:
    case DType::BF16: {
      CastStats unused;  // widening never overflows
      cast_elements(dtype, src, DType::F32, reinterpret_cast<std::byte*>(out), count, unused);
      return;
    }
    default: {
      double tmp[kBlock];
      for (size_t done = 0; done < count; done += kBlock) {
        const size_t n = std::min(kBlock, count - done);
        decode_to_double(dtype, src + done * dtype_size(dtype), n, tmp);
        for (size_t i = 0; i < n; ++i) out[done + i] = float(tmp[i]);
      }
    }
  }
}

// The hot loop, compiled for AVX-512, AVX2 and baseline x86-64 and picked
// at load time. The lanes are fixed by the vector types above, so every
// version gives the same bits.
#if defined(__x86_64__) && defined(__GNUC__)
#define SUPRA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SUPRA_CLONES
#endif

SUPRA_CLONES Partial bytes_stats(DType dtype, const std::byte* bytes, size_t count) {
  const size_t w = dtype_size(dtype);
  Partial p;
  if (float_exact(dtype)) {
    float v[kBlock];
    for (size_t done = 0; done < count; done += kBlock) {
      const size_t n = std::min(kBlock, count - done);
      if (dtype == DType::BF16) {  // the common case, decoded here so it is vectorized too
        for (size_t i = 0; i < n; ++i)
          v[i] = std::bit_cast<float>(uint32_t(load<uint16_t>(bytes + (done + i) * 2)) << 16);
      } else {
        decode_to_float(dtype, bytes + done * w, n, v);
      }
      p.merge(block_stats(v, n));
    }
  } else {
    double v[kBlock];
    for (size_t done = 0; done < count; done += kBlock) {
      const size_t n = std::min(kBlock, count - done);
      decode_to_double(dtype, bytes + done * w, n, v);
      p.merge(block_stats(v, n));
    }
  }
  return p;
}

}  // namespace

void decode_to_double(DType dtype, const std::byte* src, size_t count, double* out) {
  const size_t w = dtype_size(dtype);
  for (size_t i = 0; i < count; ++i) {
    const std::byte* p = src + i * w;
    switch (dtype) {
      case DType::F64: out[i] = load<double>(p); break;
      case DType::F32: out[i] = load<float>(p); break;
      case DType::F16: out[i] = f16_to_f32(load<uint16_t>(p)); break;
      case DType::BF16: out[i] = bf16_to_f32(load<uint16_t>(p)); break;
      case DType::F8_E4M3: out[i] = f8_e4m3_to_f32(load<uint8_t>(p)); break;
      case DType::F8_E5M2: out[i] = f8_e5m2_to_f32(load<uint8_t>(p)); break;
      case DType::I64: out[i] = double(load<int64_t>(p)); break;
      case DType::I32: out[i] = load<int32_t>(p); break;
      case DType::I16: out[i] = load<int16_t>(p); break;
      case DType::I8: out[i] = load<int8_t>(p); break;
      case DType::U64: out[i] = double(load<uint64_t>(p)); break;
      case DType::U32: out[i] = load<uint32_t>(p); break;
      case DType::U16: out[i] = load<uint16_t>(p); break;
      case DType::U8: out[i] = load<uint8_t>(p); break;
      case DType::BOOL: out[i] = load<uint8_t>(p) != 0; break;
    }
  }
}

TensorStats compute_stats(const TensorSource& tensor, int threads) {
  const DType dtype = tensor.info().dtype;
  const uint64_t elem = dtype_size(dtype);
  const uint64_t total = tensor.info().nbytes();
  const uint64_t chunk = kChunkBytes / elem * elem;
  const uint64_t piece = kReadBytes / elem * elem;
  const uint64_t n_chunks = (total + chunk - 1) / chunk;
  std::vector<Partial> partials(static_cast<size_t>(n_chunks));

  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;
  auto worker = [&] {
    std::vector<std::byte> buffer;
    for (uint64_t c = next++; c < n_chunks && !failed; c = next++) {
      try {
        const uint64_t offset = c * chunk, end = std::min(total, offset + chunk);
        Partial p;
        for (uint64_t at = offset; at < end; at += piece) {
          const uint64_t n = std::min(piece, end - at);
          buffer.resize(size_t(n));
          tensor.read(at, buffer);
          p.merge(bytes_stats(dtype, buffer.data(), size_t(n / elem)));
        }
        partials[size_t(c)] = p;
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failed.exchange(true)) error = std::current_exception();
      }
    }
  };
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  const int n_threads = int(std::min<uint64_t>(uint64_t(std::min(threads, 64)), n_chunks));
  std::vector<std::thread> pool;
  for (int t = 1; t < n_threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);

  Partial all;
  for (const Partial& p : partials) all.merge(p);
  TensorStats s;
  s.count = all.count;
  s.nan = all.nan;
  s.inf = all.inf;
  if (all.count == 0) {
    s.min = s.max = s.mean = s.std = std::numeric_limits<double>::quiet_NaN();
  } else {
    s.min = all.min;
    s.max = all.max;
    s.mean = all.mean;
    s.std = std::sqrt(all.m2 / double(all.count));  // population std, as torch.std(unbiased=False)
  }
  return s;
}

}  // namespace supra
