#include "linearize/init.hpp"

#include <cmath>
#include <cstring>

#include "schema/error.hpp"

namespace supra {
namespace {

// SplitMix64's output function (Steele, Lea, Flood 2014): a bijective mixer
// whose outputs for consecutive inputs pass BigCrush.
uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Rounds `v` to `dtype` with |result| <= bound, as the little-endian bytes of one element.
void store(DType dtype, double v, double bound, std::byte* out) {
  float f = float(v);
  if (std::fabs(double(f)) > bound) f = std::nextafter(f, 0.0f);
  if (dtype == DType::F64) {
    std::memcpy(out, &v, 8);
  } else if (dtype == DType::F32) {
    std::memcpy(out, &f, 4);
  } else {
    const bool bf = dtype == DType::BF16;
    uint16_t h = bf ? f32_to_bf16(f) : f32_to_f16(f);
    const float back = bf ? bf16_to_f32(h) : f16_to_f32(h);
    if (std::fabs(double(back)) > bound) --h;  // sign-magnitude: one step toward zero
    std::memcpy(out, &h, 2);
  }
}

class InitTensorSource final : public TensorSource {
 public:
  InitTensorSource(TensorInfo info, NewTensor t, uint64_t key) : TensorSource(std::move(info)), t_(std::move(t)), key_(key) {}

 private:
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats*) const override {
    const size_t es = dtype_size(info().dtype);
    const uint64_t first = offset / es, cols = t_.shape.size() == 2 ? t_.shape[1] : 1;
    for (uint64_t k = 0; k < out.size() / es; ++k) {
      const uint64_t i = first + k;
      double v = 0;
      switch (t_.init) {
        case InitKind::Uniform: v = t_.bound * (2.0 * init_uniform01(key_, i) - 1.0); break;
        case InitKind::Identity: v = i / cols == i % cols ? 1.0 : 0.0; break;
        case InitKind::Zeros: v = 0.0; break;
        case InitKind::Ones: v = 1.0; break;
      }
      // The bound only constrains uniform draws; exact values pass unchanged.
      store(info().dtype, v, t_.init == InitKind::Uniform ? t_.bound : INFINITY, out.data() + k * es);
    }
  }

  NewTensor t_;
  uint64_t key_;
};

}  // namespace

uint64_t init_stream_key(uint64_t seed, uint64_t layer, const std::string& id) {
  return mix64(mix64(mix64(seed) ^ layer) ^ fnv1a(id));
}

double init_uniform01(uint64_t key, uint64_t index) {
  return double(mix64(key ^ mix64(index)) >> 11) * 0x1.0p-53;
}

TensorPtr make_init_tensor(const NewTensor& t, DType dtype, uint64_t seed, std::string name) {
  if (dtype != DType::F32 && dtype != DType::F64 && dtype != DType::F16 && dtype != DType::BF16)
    throw usage_error("usage.dtype", "new SUPRA tensors can be made in f32, f64, f16 or bf16, not " +
                                         std::string(dtype_name(dtype)) + " (convert the source with --dtype first)");
  TensorInfo info{std::move(name), dtype, t.shape};
  (void)info.nbytes();  // overflow check
  return std::make_shared<InitTensorSource>(std::move(info), t, init_stream_key(seed, t.layer, t.id));
}

}  // namespace supra
