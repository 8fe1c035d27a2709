#pragma once
// Reads a deflated zip member in order without inflating it whole: zlib's
// 32 KiB window and a 64 KiB input buffer, whatever the member's size. A
// read at an earlier offset than the last one restarts from the member's
// start. The CRC-32 and the end of the deflate stream are checked when a
// read reaches the member's last byte (zip.110 / zip.111).
#include <zlib.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "converters/zip/zip_reader.hpp"

namespace supra::zip {

class InflateStream {
 public:
  InflateStream(std::shared_ptr<const MappedFile> file, ZipEntry entry);
  ~InflateStream();
  InflateStream(const InflateStream&) = delete;
  InflateStream& operator=(const InflateStream&) = delete;

  const ZipEntry& entry() const { return entry_; }
  // Bytes [at, at + out.size()) of the uncompressed member. Not thread-safe.
  void read(uint64_t at, std::span<std::byte> out);
  // The next out.size() bytes, from position() on.
  void next(std::span<std::byte> out);
  uint64_t position() const { return started_ ? out_pos_ : 0; }
  void restart();  // back to the member's first byte

 private:
  void refill();  // the next compressed bytes, when zlib has used the last
  void inflate_to(std::byte* dst, uint64_t n);  // the next n bytes; dst null = discard
  void finish();                                // at the end: stream end and CRC
  [[noreturn]] void corrupt(const std::string& why) const;

  std::shared_ptr<const MappedFile> file_;
  ZipEntry entry_;
  z_stream zs_{};
  bool started_ = false;
  uint64_t out_pos_ = 0, in_pos_ = 0;  // uncompressed bytes made, compressed bytes fed
  uint32_t crc_ = 0;
  std::vector<std::byte> in_buf_;
};

}  // namespace supra::zip
