#include "converters/zip/zip_inflate_stream.hpp"

#include <algorithm>
#include <stdexcept>

#include "schema/error.hpp"
#include "schema/mapped_file.hpp"

namespace supra::zip {
namespace {
constexpr size_t kInBufferBytes = 64 << 10;
constexpr size_t kDiscardBytes = 64 << 10;
}  // namespace

InflateStream::InflateStream(std::shared_ptr<const MappedFile> file, ZipEntry entry)
    : file_(std::move(file)), entry_(std::move(entry)) {
  if (entry_.method != kDeflated) throw std::logic_error("InflateStream: member is not deflated");
  if (entry_.size / kMaxDeflateRatio > entry_.compressed_size + 1)
    corrupt("claims " + std::to_string(entry_.size) + " bytes from " + std::to_string(entry_.compressed_size) +
            " compressed, beyond what deflate can encode");
}

InflateStream::~InflateStream() {
  if (started_) inflateEnd(&zs_);
}

void InflateStream::corrupt(const std::string& why) const {
  throw bad_input("zip.111", {file_->path(), entry_.name, entry_.data_offset + in_pos_}, why);
}

void InflateStream::restart() {
  if (started_) inflateEnd(&zs_);
  zs_ = z_stream{};
  started_ = false;
  if (inflateInit2(&zs_, -MAX_WBITS) != Z_OK) corrupt("zlib failed to start");
  started_ = true;
  out_pos_ = in_pos_ = 0;
  crc_ = 0;
  in_buf_.resize(kInBufferBytes);
}

void InflateStream::read(uint64_t at, std::span<std::byte> out) {
  if (at > entry_.size || out.size() > entry_.size - at)
    throw std::out_of_range("read past the end of zip member '" + entry_.name + "'");
  if (!started_ || at < out_pos_) restart();
  std::vector<std::byte> discard;
  while (out_pos_ < at) {
    if (discard.empty()) discard.resize(kDiscardBytes);
    inflate_to(discard.data(), std::min<uint64_t>(at - out_pos_, discard.size()));
  }
  next(out);
}

void InflateStream::next(std::span<std::byte> out) {
  if (!started_) restart();
  if (out.size() > entry_.size - out_pos_)
    throw std::out_of_range("read past the end of zip member '" + entry_.name + "'");
  inflate_to(out.data(), out.size());
  if (out_pos_ == entry_.size && !out.empty()) finish();
}

void InflateStream::refill() {
  if (zs_.avail_in != 0 || in_pos_ >= entry_.compressed_size) return;
  const size_t take = size_t(std::min<uint64_t>(in_buf_.size(), entry_.compressed_size - in_pos_));
  file_->read_at(entry_.data_offset + in_pos_, std::span(in_buf_.data(), take));
  in_pos_ += take;
  zs_.next_in = reinterpret_cast<Bytef*>(in_buf_.data());
  zs_.avail_in = uInt(take);
}

void InflateStream::inflate_to(std::byte* dst, uint64_t n) {
  uint64_t done = 0;
  while (done < n) {
    refill();
    const uInt step = uInt(std::min<uint64_t>(n - done, 1u << 30));
    zs_.next_out = reinterpret_cast<Bytef*>(dst + done);
    zs_.avail_out = step;
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    const uInt made = step - zs_.avail_out;
    crc_ = uint32_t(::crc32(crc_, reinterpret_cast<const Bytef*>(dst + done), made));
    done += made;
    out_pos_ += made;
    if (rc == Z_STREAM_END && done < n) corrupt("deflate data ends before the member's declared size");
    if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && made > 0))
      corrupt("deflate data is corrupt or ends early");
  }
}

void InflateStream::finish() {
  // One spare byte of output lets zlib report data beyond the declared size.
  std::byte spare;
  for (;;) {
    refill();
    zs_.next_out = reinterpret_cast<Bytef*>(&spare);
    zs_.avail_out = 1;
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    if (zs_.avail_out == 0) corrupt("deflate data is longer than the member's declared size");
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK || (zs_.avail_in == 0 && in_pos_ >= entry_.compressed_size))
      corrupt("deflate data does not end where the member's declared size says");
  }
  if (crc_ != entry_.crc32)
    throw bad_input("zip.110", {file_->path(), entry_.name, entry_.data_offset},
                    "CRC-32 mismatch: the member is corrupt");
}

}  // namespace supra::zip
