#include "converters/zstd/zstd_stream.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "schema/error.hpp"

namespace supra {
namespace {

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

ZstdFileDecompressor::ZstdFileDecompressor(const std::filesystem::path& in, uint64_t max_output)
    : file_(in.string()), max_output_(max_output), stream_(ZSTD_createDStream(), ZSTD_freeDStream) {
  fd_ = ::open(in.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw io_error("io.open", {file_, {}, {}}, std::strerror(errno));
  struct stat st{};
  if (::fstat(fd_, &st) == 0) input_size_ = uint64_t(st.st_size);
  if (!stream_) throw std::bad_alloc();
  in_buf_.resize(ZSTD_DStreamInSize());
  out_buf_.resize(ZSTD_DStreamOutSize());
}

ZstdFileDecompressor::~ZstdFileDecompressor() {
  if (fd_ >= 0) ::close(fd_);
}

bool ZstdFileDecompressor::fill() {
  for (;;) {
    const ssize_t n = ::read(fd_, in_buf_.data(), in_buf_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw io_error("io.read", {file_, {}, consumed_}, std::strerror(errno));
    consumed_ += uint64_t(src_.size);
    src_ = ZSTD_inBuffer{in_buf_.data(), size_t(n), 0};
    if (n > 0) any_ = true;
    return n > 0;
  }
}

void ZstdFileDecompressor::emit(int out_fd, const char* data, size_t n) {
  if (n > max_output_ - produced_)
    throw bad_input("zstd.107", {file_, {}, {}},
                    "decompresses to more than " + std::to_string(max_output_) + " bytes from " +
                        std::to_string(input_size_) + ": refused as a decompression bomb");
  write_all(out_fd, data, n, "decompressed " + file_);
  produced_ += n;
}

// Decompresses what the input buffer holds, stopping at `until`.
void ZstdFileDecompressor::drain(int out_fd, uint64_t until) {
  while (src_.pos < src_.size && produced_ < until) {
    // One byte over the budget is enough to know it is exceeded.
    const uint64_t room = std::min(until, max_output_ == UINT64_MAX ? UINT64_MAX : max_output_ + 1) - produced_;
    ZSTD_outBuffer dst{out_buf_.data(), size_t(std::min<uint64_t>(out_buf_.size(), room)), 0};
    last_ = ZSTD_decompressStream(stream_.get(), &dst, &src_);
    if (ZSTD_isError(last_)) throw_zstd(last_, file_, consumed_ + src_.pos);
    emit(out_fd, out_buf_.data(), dst.pos);
  }
}

uint64_t ZstdFileDecompressor::run(int out_fd, uint64_t until) {
  while (!eof_ && produced_ < until) {
    drain(out_fd, until);
    if (produced_ >= until) return produced_;
    if (!fill()) eof_ = true;
  }
  if (!eof_) return produced_;
  // Flush what the decoder still holds for a frame whose input all arrived.
  while (any_ && last_ != 0 && produced_ < until) {
    ZSTD_inBuffer none{nullptr, 0, 0};
    const uint64_t room = std::min(until, max_output_ == UINT64_MAX ? UINT64_MAX : max_output_ + 1) - produced_;
    ZSTD_outBuffer dst{out_buf_.data(), size_t(std::min<uint64_t>(out_buf_.size(), room)), 0};
    last_ = ZSTD_decompressStream(stream_.get(), &dst, &none);
    if (ZSTD_isError(last_)) throw_zstd(last_, file_, consumed_);
    emit(out_fd, out_buf_.data(), dst.pos);
    if (dst.pos == 0 && last_ != 0)
      throw bad_input("zstd.102", {file_, {}, consumed_}, "the file ends in the middle of a zstd frame (truncated?)");
  }
  if (produced_ >= until && last_ != 0) return produced_;
  if (!any_) throw bad_input("zstd.102", {file_, {}, 0}, "empty file");
  finished_ = true;
  return produced_;
}

uint64_t decompress_zstd_file(const std::filesystem::path& in, int out_fd) {
  ZstdFileDecompressor d(in, UINT64_MAX);
  return d.run(out_fd);
}

}  // namespace supra
