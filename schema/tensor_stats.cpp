#include "schema/tensor_stats.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace supra {
namespace {
template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
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

TensorStats compute_stats(const TensorSource& tensor) {
  TensorStats s;
  const DType dtype = tensor.info().dtype;
  const uint64_t elem = dtype_size(dtype);
  const uint64_t total = tensor.info().nbytes();
  const uint64_t chunk = (4u << 20) / elem * elem;
  std::vector<std::byte> buffer(size_t(std::min(chunk, total)));
  std::vector<double> values(buffer.size() / elem);
  // Chan et al. parallel merge of per-chunk (count, mean, M2): stable for
  // billions of values, unlike sum / sum of squares.
  double mean = 0, m2 = 0;
  s.min = std::numeric_limits<double>::infinity();
  s.max = -std::numeric_limits<double>::infinity();
  for (uint64_t done = 0; done < total;) {
    const uint64_t n = std::min(chunk, total - done);
    tensor.read(done, std::span(buffer.data(), size_t(n)));
    const size_t count = size_t(n / elem);
    decode_to_double(dtype, buffer.data(), count, values.data());
    uint64_t c = 0;
    double sum = 0;
    for (size_t i = 0; i < count; ++i) {
      const double v = values[i];
      if (std::isnan(v)) { ++s.nan; continue; }
      if (std::isinf(v)) { ++s.inf; continue; }
      s.min = std::min(s.min, v);
      s.max = std::max(s.max, v);
      sum += v;
      ++c;
    }
    if (c > 0) {
      const double cmean = sum / double(c);
      double cm2 = 0;
      for (size_t i = 0; i < count; ++i)
        if (std::isfinite(values[i])) cm2 += (values[i] - cmean) * (values[i] - cmean);
      const double total_n = double(s.count + c);
      const double delta = cmean - mean;
      mean += delta * double(c) / total_n;
      m2 += cm2 + delta * delta * double(s.count) * double(c) / total_n;
      s.count += c;
    }
    done += n;
  }
  if (s.count == 0) {
    s.min = s.max = std::numeric_limits<double>::quiet_NaN();
    s.mean = s.std = std::numeric_limits<double>::quiet_NaN();
  } else {
    s.mean = mean;
    s.std = std::sqrt(m2 / double(s.count));  // population std, as torch.std(unbiased=False)
  }
  return s;
}

}  // namespace supra
