// The zstd input decompressor stops where asked (the format is detected on
// the first 4 KiB) and at its budget (issue 12 #7: a 67 KB .zst wrote 2 GiB to
// $TMPDIR). The frame is made with libzstd.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zstd.h>

#include <cstring>
#include <functional>

#include "converters/zstd/zstd_stream.hpp"
#include "schema/error.hpp"
#include "tests/test_util.hpp"

namespace supra {
namespace {

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

std::string error_id_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.id();
  }
  return "";
}

TEST(ZstdDecompressor, StopsAtItsBudgetAndWhereAsked) {
  test::TempDir dir;
  const std::vector<char> zeros(8 << 20, 0);
  std::vector<char> frame(ZSTD_compressBound(zeros.size()));
  frame.resize(ZSTD_compress(frame.data(), frame.size(), zeros.data(), zeros.size(), 3));
  const auto in = dir / "z.zst";
  test::write_file_bytes(in, bytes_of(std::string(frame.begin(), frame.end())));
  const int fd = ::open((dir / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ZstdFileDecompressor first(in, 1 << 20);
  EXPECT_EQ(first.run(fd, 4096), 4096u);  // stops where asked
  EXPECT_FALSE(first.finished());
  EXPECT_EQ(error_id_of([&] { first.run(fd); }), "zstd.107");
  EXPECT_LE(std::filesystem::file_size(dir / "out"), (1u << 20));  // nothing past the budget was written
  ::close(fd);
  const int fd2 = ::open((dir / "out2").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ZstdFileDecompressor all(in, 8 << 20);
  EXPECT_EQ(all.run(fd2), uint64_t(8 << 20));
  EXPECT_TRUE(all.finished());
  ::close(fd2);
}

}  // namespace
}  // namespace supra
