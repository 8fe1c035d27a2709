// The paths bench/format_bench.sh made faster keep their answers: the .stz
// reader's per-thread block cache (writers read 256 KiB chunks of 4 MiB
// blocks, interleaving tensors across threads), the zip reader's CRC-32
// split over the cores (a corrupt byte in any piece is still caught), and
// Q8_0's rounding without libm (still C roundf: halves away from zero).
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "converters/format.hpp"
#include "converters/gguf/quantize.hpp"
#include "converters/output_transaction.hpp"
#include "converters/zip/zip_reader.hpp"
#include "converters/zip/zip_writer.hpp"
#include "converters/zstd/stz_reader.hpp"
#include "schema/error.hpp"
#include "schema/mapped_file.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

using test::make_tensor;
using test::TempDir;

// Reads every tensor in `chunk`-byte pieces, the tensors taking turns, and
// each turn also reads the mirror piece from the other end of the tensor, so
// consecutive reads on this thread switch tensors and blocks all the time.
std::vector<std::vector<std::byte>> read_interleaved(const Checkpoint& c, uint64_t chunk) {
  std::vector<std::vector<std::byte>> out;
  uint64_t longest = 0;
  for (const auto& t : c.tensors) longest = std::max(longest, out.emplace_back(t->info().nbytes()).size());
  for (uint64_t at = 0; at < longest; at += chunk)
    for (size_t i = 0; i < c.tensors.size(); ++i) {
      std::span<std::byte> o(out[i]);
      if (at >= o.size()) continue;
      const uint64_t n = std::min<uint64_t>(chunk, o.size() - at);
      c.tensors[i]->read(at, o.subspan(size_t(at), size_t(n)));
      const uint64_t mirror = o.size() - at - n;
      c.tensors[i]->read(mirror, o.subspan(size_t(mirror), size_t(n)));
    }
  return out;
}

TEST(StzChunkedReads, SmallInterleavedChunksMatchTheSource) {
  TempDir dir;
  Checkpoint c;
  c.format = "safetensors";
  // 12 MB and 10 MB: several 4 MiB blocks each, last ones partial; bf16 and
  // f32 go through byte planes, i32 does not.
  c.tensors.push_back(make_tensor("a", DType::F32, {3, 1000003}, 5));
  c.tensors.push_back(make_tensor("b", DType::BF16, {5000002}, 6));
  c.tensors.push_back(make_tensor("c", DType::I32, {2, 1000001}, 7));
  write_checkpoint(choose_output_format(dir / "m.stz", ""), c, dir / "m.stz", WriteOptions{});
  const Checkpoint back = read_stz(dir / "m.stz");
  for (uint64_t chunk : {uint64_t(256) << 10, (uint64_t(1) << 20) + 4, uint64_t(5) << 20}) {
    const auto got = read_interleaved(back, chunk);
    for (size_t i = 0; i < c.tensors.size(); ++i)
      EXPECT_EQ(got[i], c.tensors[i]->read_all()) << c.tensors[i]->name() << ", chunk " << chunk;
  }
  // Two threads reading the same tensor each keep their own cached block.
  std::vector<std::byte> whole(back.tensors[0]->info().nbytes());
  auto half = [&](uint64_t from, uint64_t to) {
    for (uint64_t at = from; at < to; at += 65536)
      back.tensors[0]->read(at, std::span(whole).subspan(size_t(at), size_t(std::min<uint64_t>(65536, to - at))));
  };
  const uint64_t mid = whole.size() / 2 / 65536 * 65536;
  std::thread other(half, mid, whole.size());
  half(0, mid);
  other.join();
  EXPECT_EQ(whole, c.tensors[0]->read_all());
}

// A stored member of 48 MiB: split into pieces on a machine with 2+ cores.
TEST(ZipCrcPieces, CorruptByteInAnyPieceIsCaught) {
  TempDir dir;
  auto t = make_tensor("w", DType::F32, {12u << 20}, 3);
  {
    OutputTransaction tx(dir.path(), false);
    WriteReport report;
    const std::vector<zip::ZipMemberSpec> members{{"a/data/0", {}, t}};
    write_byte_plans(tx, {zip::layout_zip("t.zip", members, zip::zip_member_crcs(members, 2), {})}, {}, report);
    tx.commit();
  }
  const auto good = test::read_file_bytes(dir / "t.zip");
  auto check = [&](const std::vector<std::byte>& bytes) -> std::string {
    test::write_file_bytes(dir / "c.zip", bytes);
    try {
      zip::ZipArchive z(MappedFile::open((dir / "c.zip").string()));
      z.verify_crc(*z.find("a/data/0"));
    } catch (const Error& e) {
      return e.id();
    }
    return "";
  };
  EXPECT_EQ(check(good), "");
  zip::ZipArchive z(MappedFile::open((dir / "t.zip").string()));
  const zip::ZipEntry& e = *z.find("a/data/0");
  ASSERT_EQ(e.size, 48u << 20);
  for (uint64_t at : {uint64_t(0), e.size / 2 - 1, e.size / 2, e.size - 1}) {
    auto bad = good;
    bad[size_t(e.data_offset + at)] ^= std::byte{0x40};
    EXPECT_EQ(check(bad), "zip.110") << "byte " << at << " of the member";
  }
}

// d = 127 / 127 = 1 exactly (amax 127), so each q is roundf(x) clamped.
TEST(Q8_0Rounding, HalvesGoAwayFromZero) {
  const float below_half = std::nextafter(0.5f, 0.0f);
  float x[32] = {127.0f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, below_half, -below_half, 126.5f, -126.5f, 3.49f, -3.51f};
  const int8_t want[32] = {127, 1, -1, 2, 3, -3, 0, 0, 127, -127, 3, -4};
  std::byte block[34];
  quantize_q8_0(x, 1, block);
  EXPECT_EQ(uint16_t(uint8_t(block[0])) | uint16_t(uint8_t(block[1])) << 8, 0x3C00);  // f16 1.0
  for (int j = 0; j < 32; ++j) EXPECT_EQ(int8_t(uint8_t(block[2 + j])), want[j]) << "element " << j;
}

// ggml's MAX keeps a NaN only when it comes last: then d is NaN and every q is 0.
TEST(Q8_0Rounding, NaNScaleGivesZeros) {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = float(j) - 10.0f;
  x[31] = std::nanf("");
  std::byte block[34];
  quantize_q8_0(x, 1, block);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(int8_t(uint8_t(block[2 + j])), 0) << "element " << j;
}

}  // namespace
}  // namespace supra
