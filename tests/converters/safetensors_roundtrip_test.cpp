// Round trips through convert_checkpoint: safetensors -> safetensors with and
// without sharding, sharded -> single, and cast round trips over every 16-bit
// pattern. Every tensor's bytes and the metadata are compared.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "converters/convert.hpp"
#include "converters/safetensors/safetensors_reader.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;

void expect_same_checkpoint(const Checkpoint& want, const Checkpoint& got, const std::string& what) {
  ASSERT_EQ(got.tensors.size(), want.tensors.size()) << what;
  for (const auto& t : want.tensors) {
    const TensorSource* g = got.find(t->name());
    ASSERT_NE(g, nullptr) << what << ": " << t->name() << " missing";
    EXPECT_EQ(g->info().dtype, t->info().dtype) << what << ": " << t->name();
    EXPECT_EQ(g->info().shape, t->info().shape) << what << ": " << t->name();
    EXPECT_EQ(g->read_all(), t->read_all()) << what << ": " << t->name() << " bytes differ";
  }
  EXPECT_EQ(got.metadata, want.metadata) << what;
}

// A checkpoint with every dtype, a scalar, an empty tensor, and tensors
// bigger than the stream chunk, written by our writer as the starting file.
fs::path write_source(const test::TempDir& dir) {
  Checkpoint ckpt;
  ckpt.tensors = {test::make_tensor("model.embed.weight", DType::BF16, {4100, 1024}, 1),  // > 8 MiB
                  test::make_tensor("model.layers.0.w", DType::F32, {256, 96}, 2),
                  test::make_tensor("model.layers.0.b", DType::F16, {96}, 3),
                  test::make_tensor("model.layers.1.w", DType::F64, {7, 3}, 4),
                  test::make_tensor("scalar", DType::F32, {}, 5),
                  test::make_tensor("empty", DType::F16, {0, 8}, 6),
                  test::make_tensor("pos", DType::I64, {33}, 7),
                  test::make_tensor("i32", DType::I32, {5}, 8),
                  test::make_tensor("i16", DType::I16, {5}, 9),
                  test::make_tensor("i8", DType::I8, {5}, 10),
                  test::make_tensor("u8", DType::U8, {9}, 11),
                  test::make_tensor("mask", DType::BOOL, {3, 3}, 12),
                  test::make_tensor("fp8a", DType::F8_E4M3, {6}, 13),
                  test::make_tensor("fp8b", DType::F8_E5M2, {6}, 14)};
  ckpt.metadata = {{"format", "pt"}, {"producer", "round trip \"test\" \xc3\xa9"}, {"step", "1000"}};
  const fs::path src = dir / "src.safetensors";
  write_checkpoint(*find_format("safetensors"), ckpt, src, {});
  return src;
}

ConvertResult convert(const fs::path& in, const fs::path& out, uint64_t max_shard = 0, int threads = 2,
                      std::optional<DType> dtype = std::nullopt) {
  ConvertOptions options;
  options.write.max_shard_size = max_shard;
  options.write.threads = threads;
  options.dtype = dtype;
  return convert_checkpoint(in, out, options);
}

TEST(SafetensorsRoundTrip, SingleToSingleIsByteIdentical) {
  test::TempDir dir;
  const fs::path src = write_source(dir);
  const Checkpoint original = read_safetensors(src);
  convert(src, dir / "copy.safetensors");
  expect_same_checkpoint(original, read_safetensors(dir / "copy.safetensors"), "single -> single");
  // Canonical input: the file itself is reproduced byte for byte.
  EXPECT_EQ(test::read_file_bytes(dir / "copy.safetensors"), test::read_file_bytes(src));
}

TEST(SafetensorsRoundTrip, ShardedAndBack) {
  test::TempDir dir;
  const fs::path src = write_source(dir);
  const Checkpoint original = read_safetensors(src);
  // 1 MB shards: the 8 MiB embedding gets a shard of its own.
  const ConvertResult r = convert(src, dir / "sharded", 1'000'000);
  EXPECT_GE(r.plan.files.size(), 3u);
  const auto files = test::list_dir(dir / "sharded");
  EXPECT_EQ(files.back(), "model.safetensors.index.json");
  expect_same_checkpoint(original, read_safetensors(dir / "sharded"), "single -> sharded");
  // sharded -> sharded with another limit, and sharded -> single.
  convert(dir / "sharded", dir / "resharded", 20'000'000);
  expect_same_checkpoint(original, read_safetensors(dir / "resharded"), "sharded -> sharded");
  convert(dir / "sharded" / "model.safetensors.index.json", dir / "single.safetensors");
  expect_same_checkpoint(original, read_safetensors(dir / "single.safetensors"), "sharded -> single");
  EXPECT_EQ(test::read_file_bytes(dir / "single.safetensors"), test::read_file_bytes(src));
}

TEST(SafetensorsRoundTrip, ThreadCountDoesNotChangeBytes) {
  test::TempDir dir;
  const fs::path src = write_source(dir);
  convert(src, dir / "t1.safetensors", 0, 1, DType::F16);
  convert(src, dir / "t2.safetensors", 0, 2, DType::F16);
  EXPECT_EQ(test::read_file_bytes(dir / "t1.safetensors"), test::read_file_bytes(dir / "t2.safetensors"));
}

// A file holding one tensor with every 16-bit pattern.
fs::path write_all_patterns(const test::TempDir& dir, DType dtype, const std::string& name) {
  std::vector<std::byte> bytes(65536 * 2);
  for (uint32_t i = 0; i < 65536; ++i) {
    bytes[2 * i] = std::byte(i & 0xff);
    bytes[2 * i + 1] = std::byte(i >> 8);
  }
  Checkpoint ckpt;
  ckpt.tensors = {std::make_shared<MemoryTensorSource>(TensorInfo{"all", dtype, {256, 256}}, bytes),
                  test::make_tensor("ids", DType::I64, {4}, 3)};
  const fs::path p = dir / name;
  write_checkpoint(*find_format("safetensors"), ckpt, p, {});
  return p;
}

uint16_t pattern_at(const std::vector<std::byte>& b, size_t i) {
  return uint16_t(uint16_t(b[2 * i]) | uint16_t(uint16_t(b[2 * i + 1]) << 8));
}

bool is_nan_pattern(DType t, uint16_t v) {
  const uint16_t exp_mask = t == DType::F16 ? 0x7c00 : 0x7f80;
  const uint16_t man_mask = t == DType::F16 ? 0x03ff : 0x007f;
  return (v & exp_mask) == exp_mask && (v & man_mask) != 0;
}

void expect_cast_round_trip(DType narrow) {
  test::TempDir dir;
  const fs::path src = write_all_patterns(dir, narrow, "src.safetensors");
  const ConvertResult up = convert(src, dir / "wide.safetensors", 0, 2, DType::F32);
  EXPECT_TRUE(up.report.cast_stats.empty()) << "widening must not overflow or underflow";
  const ConvertResult down = convert(dir / "wide.safetensors", dir / "back.safetensors", 0, 2, narrow);
  EXPECT_TRUE(down.report.cast_stats.empty()) << "values that came from the narrow type fit back";
  const Checkpoint a = read_safetensors(src), b = read_safetensors(dir / "back.safetensors");
  const Checkpoint wide = read_safetensors(dir / "wide.safetensors");
  EXPECT_EQ(wide.find("all")->info().dtype, DType::F32);
  EXPECT_EQ(wide.find("ids")->info().dtype, DType::I64);  // integers are never cast
  EXPECT_EQ(b.find("ids")->read_all(), a.find("ids")->read_all());
  const auto in = a.find("all")->read_all(), out = b.find("all")->read_all();
  ASSERT_EQ(in.size(), out.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < 65536; ++i) {
    const uint16_t x = pattern_at(in, i), y = pattern_at(out, i);
    if (is_nan_pattern(narrow, x)) {
      // NaN stays NaN with its sign (payloads are quieted, as PyTorch does).
      EXPECT_TRUE(is_nan_pattern(narrow, y)) << std::hex << x << " -> " << y;
      EXPECT_EQ(x & 0x8000, y & 0x8000) << std::hex << x;
    } else if (x != y && ++mismatches < 10) {
      ADD_FAILURE() << dtype_name(narrow) << " pattern 0x" << std::hex << x << " came back as 0x" << y;
    }
  }
  EXPECT_EQ(mismatches, 0u);
  // The f32 values are the exact widening: check a few by hand.
  const auto w = wide.find("all")->read_all();
  auto f32_at = [&](size_t i) {
    float f;
    std::memcpy(&f, w.data() + 4 * i, 4);
    return f;
  };
  if (narrow == DType::BF16) {
    EXPECT_EQ(f32_at(0x3f80), 1.0f);
    EXPECT_EQ(f32_at(0xc049), -3.140625f);
    EXPECT_EQ(f32_at(0x0001), std::ldexp(1.0f, -133));  // smallest bf16 subnormal
  } else {
    EXPECT_EQ(f32_at(0x3c00), 1.0f);
    EXPECT_EQ(f32_at(0x7bff), 65504.0f);
    EXPECT_EQ(f32_at(0x0001), std::ldexp(1.0f, -24));  // smallest f16 subnormal
    EXPECT_EQ(f32_at(0x8001), -std::ldexp(1.0f, -24));
  }
  EXPECT_TRUE(std::isinf(f32_at(narrow == DType::BF16 ? 0x7f80 : 0x7c00)));
}

TEST(SafetensorsRoundTrip, Bf16ToF32ToBf16IsExact) { expect_cast_round_trip(DType::BF16); }
TEST(SafetensorsRoundTrip, F16ToF32ToF16IsExact) { expect_cast_round_trip(DType::F16); }

}  // namespace
}  // namespace supra
