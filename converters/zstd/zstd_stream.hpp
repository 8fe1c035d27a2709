#pragma once
// Streaming zstd decompression of a whole file into another, with bounded
// memory (libzstd's recommended stream buffers, ~256 KiB): how a
// `model.safetensors.zst` becomes a plain file that every reader can mmap.
// It can stop after the first bytes (to see what format they are before
// going on) and refuses to write more than a budget (a decompression bomb).
#include <zstd.h>

#include <filesystem>
#include <memory>
#include <span>
#include <vector>

namespace supra {

// True when `head` starts with a zstd frame (magic 28 B5 2F FD).
bool has_zstd_magic(std::span<const std::byte> head);

// Errors: zstd.101 not zstd, zstd.102 truncated, zstd.103 corrupt, zstd.104
// checksum mismatch, zstd.105 needs too much memory, zstd.107 output over the
// budget; io.* when reading or writing fails.
class ZstdFileDecompressor {
 public:
  // `max_output`: decompressed bytes allowed in all (zstd.107 beyond).
  ZstdFileDecompressor(const std::filesystem::path& in, uint64_t max_output);
  ~ZstdFileDecompressor();
  ZstdFileDecompressor(const ZstdFileDecompressor&) = delete;
  ZstdFileDecompressor& operator=(const ZstdFileDecompressor&) = delete;

  // Writes decompressed bytes to `out_fd` until `until` bytes have been
  // written in all or the input ends (then every frame must be complete).
  // Returns the bytes written in all.
  uint64_t run(int out_fd, uint64_t until = UINT64_MAX);
  bool finished() const { return finished_; }
  uint64_t input_size() const { return input_size_; }

 private:
  bool fill();  // reads the next input buffer; false at the end of the file
  void drain(int out_fd, uint64_t until);
  void emit(int out_fd, const char* data, size_t n);

  std::string file_;
  int fd_ = -1;
  uint64_t input_size_ = 0, max_output_;
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> stream_;
  std::vector<char> in_buf_, out_buf_;
  ZSTD_inBuffer src_{nullptr, 0, 0};
  uint64_t consumed_ = 0, produced_ = 0;
  size_t last_ = 0;  // 0 when the last frame ended cleanly
  bool any_ = false, eof_ = false, finished_ = false;
};

// The whole file at once, with no budget. Returns the decompressed size.
uint64_t decompress_zstd_file(const std::filesystem::path& in, int out_fd);

}  // namespace supra
