// The zip writer and reader together, with Python's zipfile as the outside
// check in tests/interop: aligned stored members, zip64 records, CRCs, and
// the reader's refusals on damaged directories.
#include <gtest/gtest.h>

#include "converters/output_transaction.hpp"
#include "converters/zip/zip_reader.hpp"
#include "converters/zip/zip_writer.hpp"
#include "schema/error.hpp"
#include "schema/mapped_file.hpp"
#include "tests/test_util.hpp"

namespace supra::zip {
namespace {

std::vector<std::byte> text(const std::string& s) {
  std::vector<std::byte> b;
  for (char c : s) b.push_back(std::byte(c));
  return b;
}

fs::path write_zip(const test::TempDir& dir, const std::vector<ZipMemberSpec>& members, ZipLayoutOptions o) {
  OutputTransaction tx(dir.path(), false);
  WriteReport report;
  write_byte_plans(tx, {layout_zip("t.zip", members, zip_member_crcs(members, 2), o)}, {}, report);
  tx.commit();
  return dir / "t.zip";
}

class ZipRoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(ZipRoundTrip, MembersComeBackAlignedWithCrcs) {
  test::TempDir dir;
  auto t = test::make_tensor("w", DType::F32, {100});
  ZipLayoutOptions o;
  o.force_zip64 = GetParam();
  const auto path = write_zip(dir, {{"a/x.txt", text("hello"), nullptr}, {"a/data/0", text("head"), t}, {"a/e", {}, nullptr}}, o);
  ZipArchive z(MappedFile::open(path.string()));
  ASSERT_EQ(z.entries().size(), 3u);
  EXPECT_EQ(z.read(*z.find("a/x.txt"), 100), text("hello"));
  const ZipEntry& d = *z.find("a/data/0");
  EXPECT_EQ(d.data_offset % 64, 0u);
  EXPECT_EQ(d.size, 4u + 400u);
  auto all = z.read(d, 1000);
  auto want = text("head");
  auto tb = t->read_all();
  want.insert(want.end(), tb.begin(), tb.end());
  EXPECT_EQ(all, want);
  z.verify_crc(d);
  EXPECT_EQ(z.read(*z.find("a/e"), 10).size(), 0u);
}
INSTANTIATE_TEST_SUITE_P(Zip64, ZipRoundTrip, ::testing::Bool());

std::string open_error(const std::vector<std::byte>& bytes) {
  test::TempDir dir;
  test::write_file_bytes(dir / "z.zip", bytes);
  try {
    ZipArchive z(MappedFile::open((dir / "z.zip").string()));
    for (const auto& e : z.entries()) z.verify_crc(e);
  } catch (const Error& e) {
    return e.id();
  }
  return "";
}

TEST(ZipReader, DamagedArchivesHaveDistinctIds) {
  test::TempDir dir;
  const auto path = write_zip(dir, {{"a/x", text("hello world"), nullptr}}, {});
  const auto good = test::read_file_bytes(path);
  EXPECT_EQ(open_error(good), "");
  EXPECT_EQ(open_error(std::vector<std::byte>(good.begin(), good.begin() + 10)), "zip.101");
  auto cut = std::vector<std::byte>(good.begin() + 64, good.end());  // offsets now wrong
  EXPECT_EQ(open_error(cut), "zip.104");
  auto crc = good;
  crc[64] ^= std::byte{1};  // first data byte (aligned to 64)
  EXPECT_EQ(open_error(crc), "zip.110");
  auto sig = good;
  sig[0] = std::byte{'X'};  // local header signature
  EXPECT_EQ(open_error(sig), "zip.107");
  auto method = good;
  // Central directory method field = 99 (the directory starts right after the data).
  const size_t cd = 64 + 11;
  method[cd + 10] = std::byte{99};
  EXPECT_EQ(open_error(method), "zip.106");
}

}  // namespace
}  // namespace supra::zip
