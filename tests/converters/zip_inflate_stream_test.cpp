// Deflated zip members read as streams (issue 12 #7: an .npz deflate bomb
// was inflated whole when the file opened): any range in any order, and a
// corrupt member is an error when read. The member is made with zlib.
#include "converters/zip/zip_inflate_stream.hpp"

#include "converters/zip/deflated_member_source.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <functional>

#include "schema/error.hpp"
#include "schema/mapped_file.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

std::string error_id_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.id();
  }
  return "";
}

// Raw deflate data made with zlib (an independent producer) in a file of its
// own, described by a hand-made directory entry.
struct DeflatedMember {
  test::TempDir dir;
  std::vector<std::byte> raw;
  std::shared_ptr<const MappedFile> file;
  zip::ZipEntry entry;
};

std::unique_ptr<DeflatedMember> deflated_member(size_t n) {
  auto m = std::make_unique<DeflatedMember>();
  m->raw.resize(n);
  for (size_t i = 0; i < n; ++i) m->raw[i] = std::byte(uint8_t(i * 7 + i / 1000));
  std::vector<std::byte> packed(compressBound(uLong(n)) + 64);
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(m->raw.data());
  zs.avail_in = uInt(n);
  zs.next_out = reinterpret_cast<Bytef*>(packed.data());
  zs.avail_out = uInt(packed.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  packed.resize(zs.total_out);
  deflateEnd(&zs);
  test::write_file_bytes(m->dir / "member.bin", packed);
  m->file = MappedFile::open((m->dir / "member.bin").string());
  m->entry.name = "x.npy";
  m->entry.method = zip::kDeflated;
  m->entry.crc32 = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(m->raw.data()), uInt(n)));
  m->entry.compressed_size = packed.size();
  m->entry.size = n;
  return m;
}

TEST(InflateStream, ReadsAnyRangeInAnyOrder) {
  auto m = deflated_member(3 << 20);
  zip::InflateStream s(m->file, m->entry);
  std::vector<std::byte> got(100000);
  for (uint64_t at : {uint64_t(2500000), uint64_t(0), uint64_t(1234567), uint64_t(1334567), uint64_t(3145728 - 100000)}) {
    s.read(at, got);
    ASSERT_EQ(std::memcmp(got.data(), m->raw.data() + at, got.size()), 0) << "at " << at;
  }
}

TEST(InflateStream, ACorruptMemberFailsWhenRead) {
  auto m = deflated_member(1 << 20);
  m->entry.crc32 ^= 1;
  zip::InflateStream s(m->file, m->entry);
  std::vector<std::byte> all(m->raw.size());
  EXPECT_EQ(error_id_of([&] { s.read(0, all); }), "zip.110");
  m->entry.crc32 ^= 1;
  m->entry.size += 1;  // declared longer than the deflate stream
  zip::InflateStream longer(m->file, m->entry);
  std::vector<std::byte> more(m->entry.size);
  EXPECT_EQ(error_id_of([&] { longer.read(0, more); }), "zip.111");
}

// Neighbouring chunks taken out of order (as several threads do) come from
// the window; a read behind it restarts the stream; a large read streams.
TEST(DeflatedMemberTensorSource, ServesChunksInAnyOrder) {
  auto m = deflated_member(3 << 20);
  const zip::DeflatedMemberTensorSource t(TensorInfo{"x", DType::U8, {3 << 20}}, m->file, m->entry, 0);
  std::vector<std::byte> got(256 << 10);
  for (uint64_t at : {uint64_t(1) << 20, uint64_t(0), uint64_t(3) << 19, uint64_t(512) << 10, uint64_t(11) << 18}) {
    t.read(at, got, nullptr);
    ASSERT_EQ(std::memcmp(got.data(), m->raw.data() + at, got.size()), 0) << "at " << at;
  }
  const auto all = t.read_all();
  EXPECT_EQ(std::memcmp(all.data(), m->raw.data(), all.size()), 0);
}

}  // namespace
}  // namespace supra
