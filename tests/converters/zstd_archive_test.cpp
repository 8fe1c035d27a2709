// The .stz archive: bit-exact for every dtype, empty and scalar tensors and
// multi-block tensors; output independent of the thread count; the byte
// planes beat plain zstd on bf16 weights; and every kind of corruption gets
// its own error id. Corrupt archives are built here with libzstd directly.
#include <gtest/gtest.h>
#include <zstd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "converters/format.hpp"
#include "converters/zstd/byte_planes.hpp"
#include "converters/zstd/stz_reader.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using test::make_tensor;
using test::TempDir;

Checkpoint every_dtype() {
  Checkpoint c;
  c.format = "safetensors";
  uint32_t seed = 11;
  for (DType t : kAllDTypes) c.tensors.push_back(make_tensor(std::string(dtype_name(t)), t, {7, 3}, seed++));
  c.tensors.push_back(make_tensor("scalar", DType::BF16, {}, seed++));
  c.tensors.push_back(make_tensor("empty", DType::F32, {4, 0}, seed++));
  // 12 MB: three 4 MiB blocks, the last one partial.
  c.tensors.push_back(make_tensor("wide", DType::F32, {3, 1000003}, seed++));
  c.tensors.push_back(make_tensor("odd_bf16", DType::BF16, {2100001}, seed++));
  c.metadata = {{"format", "pt"}, {"arch", "llama"}};
  c.format_metadata["gguf"] = {{"k", 1}};
  return c;
}

void write(const Checkpoint& c, const test::fs::path& out, int threads = 2) {
  WriteOptions o;
  o.threads = threads;
  write_checkpoint(choose_output_format(out, ""), c, out, o);
}

TEST(StzArchive, EveryDtypeRoundTripsBitExact) {
  TempDir dir;
  const Checkpoint c = every_dtype();
  write(c, dir / "m.stz");
  EXPECT_EQ(detect_input_format(dir / "m.stz").name, "stz");
  const Checkpoint back = read_stz(dir / "m.stz");
  ASSERT_EQ(back.tensors.size(), c.tensors.size());
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    EXPECT_EQ(back.tensors[i]->name(), c.tensors[i]->name());
    EXPECT_EQ(back.tensors[i]->info().dtype, c.tensors[i]->info().dtype);
    EXPECT_EQ(back.tensors[i]->info().shape, c.tensors[i]->info().shape);
    EXPECT_EQ(back.tensors[i]->read_all(), c.tensors[i]->read_all()) << c.tensors[i]->name();
  }
  EXPECT_EQ(back.metadata, c.metadata);
  EXPECT_EQ(back.format_metadata, c.format_metadata);
  // Random access: a slice across a block boundary.
  const auto& wide = *back.find("wide");
  std::vector<std::byte> part(1000), expect(1000);
  wide.read((4u << 20) - 500, part);
  c.tensors[c.tensors.size() - 2]->read((4u << 20) - 500, expect);
  EXPECT_EQ(part, expect);
}

TEST(StzArchive, OutputDoesNotDependOnThreadCount) {
  TempDir dir;
  const Checkpoint c = every_dtype();
  write(c, dir / "a.stz", 1);
  write(c, dir / "b.stz", 3);
  EXPECT_EQ(test::read_file_bytes(dir / "a.stz"), test::read_file_bytes(dir / "b.stz"));
}

TEST(StzArchive, BytePlanesKnownLayout) {
  // Two little-endian u16 elements 0xA1B1, 0xA2B2 -> high plane A1 A2, low plane B1 B2.
  const std::byte in[4] = {std::byte{0xB1}, std::byte{0xA1}, std::byte{0xB2}, std::byte{0xA2}};
  std::byte planes[4], back[4];
  split_byte_planes(in, 2, planes);
  EXPECT_EQ(planes[0], std::byte{0xA1});
  EXPECT_EQ(planes[1], std::byte{0xA2});
  EXPECT_EQ(planes[2], std::byte{0xB1});
  EXPECT_EQ(planes[3], std::byte{0xB2});
  merge_byte_planes(planes, 2, back);
  EXPECT_EQ(std::memcmp(in, back, 4), 0);
}

TEST(StzArchive, BytePlanesBeatPlainZstdOnBf16Weights) {
  TempDir dir;
  Checkpoint c;
  c.tensors.push_back(make_tensor("w", DType::BF16, {1024, 1024}, 3));
  write(c, dir / "w.stz");
  const auto raw = c.tensors[0]->read_all();
  std::vector<char> plain(ZSTD_compressBound(raw.size()));
  const size_t plain_size = ZSTD_compress(plain.data(), plain.size(), raw.data(), raw.size(), 3);
  const auto archive = test::fs::file_size(dir / "w.stz");
  // Normal bf16 weights: plain zstd -3 keeps ~78% of the bytes, planes ~71%.
  EXPECT_LT(double(archive), 0.95 * double(plain_size)) << "archive " << archive << " vs plain zstd " << plain_size;
}

// --- corruption -------------------------------------------------------------

struct Archive {
  std::vector<std::byte> bytes;
  nlohmann::ordered_json index;
  uint64_t index_at = 0;
};

Archive load(const test::fs::path& p) {
  Archive a;
  a.bytes = test::read_file_bytes(p);
  uint64_t footer[3];
  std::memcpy(footer, a.bytes.data() + a.bytes.size() - 32, 24);
  a.index_at = footer[0];
  std::string text(footer[2], '\0');
  ZSTD_decompress(text.data(), text.size(), a.bytes.data() + footer[0], footer[1]);
  a.index = nlohmann::ordered_json::parse(text);
  return a;
}

// Rewrites the archive with a new index (a valid frame holding bad content).
void save_with_index(const Archive& a, const nlohmann::ordered_json& index, const test::fs::path& p) {
  const std::string text = index.dump();
  std::vector<std::byte> frame(ZSTD_compressBound(text.size()));
  frame.resize(ZSTD_compress(frame.data(), frame.size(), text.data(), text.size(), 3));
  std::vector<std::byte> out(a.bytes.begin(), a.bytes.begin() + long(a.index_at));
  out.insert(out.end(), frame.begin(), frame.end());
  const uint64_t footer[3] = {a.index_at, frame.size(), text.size()};
  const auto* f = reinterpret_cast<const std::byte*>(footer);
  out.insert(out.end(), f, f + 24);
  out.insert(out.end(), a.bytes.end() - 8, a.bytes.end());
  test::write_file_bytes(p, out);
}

std::string error_id_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.id();
  }
  return "no error";
}

class StzCorrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    Checkpoint c;
    c.tensors.push_back(make_tensor("a", DType::F32, {64, 64}, 1));
    c.tensors.push_back(make_tensor("b", DType::I64, {100}, 2));
    write(c, dir / "good.stz");
    good = load(dir / "good.stz");
  }
  std::string read_everything(const test::fs::path& p) {
    return error_id_of([&] {
      for (const auto& t : read_stz(p).tensors) t->read_all();
    });
  }
  TempDir dir;
  Archive good;
};

TEST_F(StzCorrupt, Truncated) {
  auto bytes = good.bytes;
  bytes.resize(bytes.size() - 5);
  test::write_file_bytes(dir / "x.stz", bytes);
  EXPECT_EQ(read_everything(dir / "x.stz"), "stz.102");
  bytes.resize(20);
  test::write_file_bytes(dir / "y.stz", bytes);
  EXPECT_EQ(read_everything(dir / "y.stz"), "stz.101");
}

TEST_F(StzCorrupt, BadBlockChecksum) {
  auto bytes = good.bytes;
  const auto block = good.index["tensors"][0]["blocks"][0];
  bytes[block[0].get<uint64_t>() + block[1].get<uint64_t>() - 1] ^= std::byte{0x5a};  // last byte = checksum
  test::write_file_bytes(dir / "x.stz", bytes);
  EXPECT_EQ(read_everything(dir / "x.stz"), "stz.110");
}

TEST_F(StzCorrupt, CorruptIndexFrame) {
  auto bytes = good.bytes;
  bytes[good.index_at + 8] ^= std::byte{0xff};
  test::write_file_bytes(dir / "x.stz", bytes);
  EXPECT_EQ(read_everything(dir / "x.stz"), "stz.104");
}

TEST_F(StzCorrupt, BadIndexContents) {
  auto index = good.index;
  index["tensors"][0]["blocks"][0][0] = good.index_at + 100;  // past the data area
  save_with_index(good, index, dir / "out.stz");
  EXPECT_EQ(read_everything(dir / "out.stz"), "stz.108");

  index = good.index;
  index["tensors"][1]["blocks"][0] = index["tensors"][0]["blocks"][0];  // two tensors share a frame
  save_with_index(good, index, dir / "overlap.stz");
  EXPECT_EQ(read_everything(dir / "overlap.stz"), "stz.108");

  index = good.index;
  index["tensors"][0]["dtype"] = "F128";
  save_with_index(good, index, dir / "dtype.stz");
  EXPECT_EQ(read_everything(dir / "dtype.stz"), "stz.106");

  index = good.index;
  index["tensors"][0]["shape"] = {1ull << 40, 1ull << 40};
  save_with_index(good, index, dir / "shape.stz");
  EXPECT_EQ(read_everything(dir / "shape.stz"), "stz.107");

  index = good.index;
  index["tensors"][0]["shape"] = {64, 63};  // frame content size no longer matches
  save_with_index(good, index, dir / "size.stz");
  EXPECT_EQ(read_everything(dir / "size.stz"), "stz.111");

  index = good.index;
  index["tensors"][1]["name"] = "a";
  save_with_index(good, index, dir / "dup.stz");
  EXPECT_EQ(read_everything(dir / "dup.stz"), "stz.113");

  index = good.index;
  index.erase("tensors");
  save_with_index(good, index, dir / "fields.stz");
  EXPECT_EQ(read_everything(dir / "fields.stz"), "stz.105");
}

TEST_F(StzCorrupt, CliFailsCleanly) {
  auto bytes = good.bytes;
  bytes.resize(bytes.size() / 2);
  test::write_file_bytes(dir / "half.stz", bytes);
  TempDir out;
  const auto r = test::run_supra({"convert", (dir / "half.stz").string(), (out / "x.safetensors").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("[stz.102]"), std::string::npos) << r.err;
  EXPECT_TRUE(test::list_dir(out.path()).empty());
}

}  // namespace
}  // namespace supra
