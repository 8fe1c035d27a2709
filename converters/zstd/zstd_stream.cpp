#include "converters/zstd/zstd_stream.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "schema/error.hpp"

namespace supra {
namespace {

struct DStreamDeleter {
  void operator()(ZSTD_DStream* s) const { ZSTD_freeDStream(s); }
};

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, const char* data, size_t size, const std::string& what) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw io_error("io.write", {what, {}, {}}, std::strerror(errno));
    data += n;
    size -= size_t(n);
  }
}

[[noreturn]] void throw_zstd(size_t code, const std::string& file, uint64_t offset) {
  const ZSTD_ErrorCode e = ZSTD_getErrorCode(code);
  const std::string name = ZSTD_getErrorName(code);
  if (e == ZSTD_error_checksum_wrong)
    throw bad_input("zstd.104", {file, {}, offset}, "checksum mismatch: the compressed file is corrupt (" + name + ")");
  if (e == ZSTD_error_frameParameter_windowTooLarge)
    throw bad_input("zstd.105", {file, {}, offset},
                    "the frame needs a window over 128 MiB (zstd --long?): " + name);
  if (e == ZSTD_error_prefix_unknown)
    throw bad_input("zstd.101", {file, {}, offset}, "not a zstd frame");
  throw bad_input("zstd.103", {file, {}, offset}, "corrupt zstd data: " + name);
}

}  // namespace

bool has_zstd_magic(std::span<const std::byte> head) {
  return head.size() >= 4 && head[0] == std::byte{0x28} && head[1] == std::byte{0xB5} &&
         head[2] == std::byte{0x2F} && head[3] == std::byte{0xFD};
}

uint64_t decompress_zstd_file(const std::filesystem::path& in, int out_fd) {
  const std::string file = in.string();
  Fd input{::open(in.c_str(), O_RDONLY | O_CLOEXEC)};
  if (input.fd < 0) throw io_error("io.open", {file, {}, {}}, std::strerror(errno));
  std::unique_ptr<ZSTD_DStream, DStreamDeleter> stream(ZSTD_createDStream());
  if (!stream) throw std::bad_alloc();
  std::vector<char> in_buf(ZSTD_DStreamInSize()), out_buf(ZSTD_DStreamOutSize());
  uint64_t consumed = 0, produced = 0;
  size_t last = 0;  // 0 when the last frame ended cleanly
  bool any = false;
  while (true) {
    const ssize_t n = ::read(input.fd, in_buf.data(), in_buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw io_error("io.read", {file, {}, consumed}, std::strerror(errno));
    if (n == 0) break;
    any = true;
    ZSTD_inBuffer src{in_buf.data(), size_t(n), 0};
    while (src.pos < src.size) {
      ZSTD_outBuffer dst{out_buf.data(), out_buf.size(), 0};
      last = ZSTD_decompressStream(stream.get(), &dst, &src);
      if (ZSTD_isError(last)) throw_zstd(last, file, consumed + src.pos);
      write_all(out_fd, out_buf.data(), dst.pos, "decompressed " + file);
      produced += dst.pos;
    }
    consumed += uint64_t(n);
  }
  // Flush what the decoder still holds for a frame whose input all arrived.
  while (any && last != 0) {
    ZSTD_inBuffer src{nullptr, 0, 0};
    ZSTD_outBuffer dst{out_buf.data(), out_buf.size(), 0};
    last = ZSTD_decompressStream(stream.get(), &dst, &src);
    if (ZSTD_isError(last)) throw_zstd(last, file, consumed);
    write_all(out_fd, out_buf.data(), dst.pos, "decompressed " + file);
    produced += dst.pos;
    if (dst.pos == 0 && last != 0)
      throw bad_input("zstd.102", {file, {}, consumed}, "the file ends in the middle of a zstd frame (truncated?)");
  }
  if (!any) throw bad_input("zstd.102", {file, {}, 0}, "empty file");
  return produced;
}

}  // namespace supra
