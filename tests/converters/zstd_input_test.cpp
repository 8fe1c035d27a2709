// Transparent zstd input: a compressed safetensors / HDF5 file reads like the
// plain one (multi-frame streams included), leaves no temporary behind, and
// truncated or corrupt streams fail with their own ids. Compressed with
// libzstd directly (an independent producer of the stream).
#include <gtest/gtest.h>
#include <zstd.h>

#include "converters/format.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

std::vector<std::byte> zstd_frames(const std::vector<std::byte>& raw, size_t frames, bool checksum) {
  std::vector<std::byte> out;
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  const size_t step = (raw.size() + frames - 1) / frames;
  for (size_t at = 0; at < raw.size(); at += step) {
    const size_t n = std::min(step, raw.size() - at);
    std::vector<std::byte> f(ZSTD_compressBound(n));
    f.resize(ZSTD_compress2(c, f.data(), f.size(), raw.data() + at, n));
    out.insert(out.end(), f.begin(), f.end());
  }
  ZSTD_freeCCtx(c);
  return out;
}

size_t leftover_temps() {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path(), ec))
    if (e.path().filename().string().starts_with("supra-zst-")) ++n;
  return n;
}

Checkpoint sample() {
  Checkpoint c;
  c.format = "test";
  c.tensors = {test::make_tensor("w", DType::BF16, {300, 70}, 1), test::make_tensor("b", DType::I32, {9}, 2)};
  return c;
}

void expect_same_tensors(const Checkpoint& a, const Checkpoint& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& t : a.tensors) {  // by name: the safetensors writer reorders
    const TensorSource* other = b.find(t->name());
    ASSERT_NE(other, nullptr) << t->name();
    EXPECT_EQ(t->read_all(), other->read_all()) << t->name();
  }
}

TEST(ZstdInput, CompressedSafetensorsAndHdf5ReadTransparently) {
  TempDir dir;
  const size_t before = leftover_temps();
  for (const std::string name : {"m.safetensors", "m.h5"}) {
    const Checkpoint c = sample();
    write_checkpoint(choose_output_format(dir / name, ""), c, dir / name, WriteOptions{});
    test::write_file_bytes(dir / (name + ".zst"), zstd_frames(test::read_file_bytes(dir / name), 3, true));
    const Format& f = detect_input_format(dir / (name + ".zst"));
    EXPECT_EQ(f.name, "zstd");
    const Checkpoint back = f.read(dir / (name + ".zst"), ReadOptions{});
    expect_same_tensors(c, back);
    EXPECT_EQ(back.files, std::vector<std::string>{(dir / (name + ".zst")).string()});
  }
  EXPECT_EQ(leftover_temps(), before) << "decompressed temporaries must not outlive the read";
}

std::string read_error(const fs::path& p) {
  try {
    detect_input_format(p).read(p, ReadOptions{});
  } catch (const Error& e) {
    return e.id();
  }
  return "no error";
}

TEST(ZstdInput, TruncatedCorruptAndUnknownContent) {
  TempDir dir;
  const Checkpoint c = sample();
  write_checkpoint(*find_format("safetensors"), c, dir / "m.safetensors", WriteOptions{});
  const auto raw = test::read_file_bytes(dir / "m.safetensors");
  auto z = zstd_frames(raw, 1, true);
  auto truncated = z;
  truncated.resize(z.size() / 2);
  test::write_file_bytes(dir / "t.zst", truncated);
  EXPECT_EQ(read_error(dir / "t.zst"), "zstd.102");
  auto bad_sum = z;
  bad_sum.back() ^= std::byte{1};
  test::write_file_bytes(dir / "c.zst", bad_sum);
  EXPECT_EQ(read_error(dir / "c.zst"), "zstd.104");
  test::write_file_bytes(dir / "g.zst", zstd_frames(std::vector<std::byte>(1000, std::byte{'x'}), 1, false));
  EXPECT_EQ(read_error(dir / "g.zst"), "format.unknown");
}

}  // namespace
}  // namespace supra
