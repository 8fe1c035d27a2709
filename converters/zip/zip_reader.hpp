#pragma once
// A small, strict zip reader for the containers checkpoints come in
// (torch.save's .pt, numpy's .npz). It parses the central directory (zip64
// included), checks every member's local header against it, and exposes the
// byte offset of each member's data so stored members can be read in place
// (zero copy). Deflated members are inflated into memory with zlib. CRC-32 is
// checked on every member read or verified. Error ids: zip.1xx (docs/pytorch.md).
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "schema/mapped_file.hpp"

namespace supra::zip {

inline constexpr uint16_t kStored = 0;
inline constexpr uint16_t kDeflated = 8;
// Deflate cannot expand data by more than ~1032:1; a larger claim is a lie.
inline constexpr uint64_t kMaxDeflateRatio = 1032;

struct ZipEntry {
  std::string name;
  uint16_t method = kStored;
  uint16_t flags = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;                // uncompressed
  uint64_t local_header_offset = 0;
  uint64_t data_offset = 0;         // first byte of the (compressed) data in the file
};

class ZipArchive {
 public:
  // Parses and validates the directory; throws supra::Error (zip.1xx).
  explicit ZipArchive(std::shared_ptr<const MappedFile> file);

  const std::vector<ZipEntry>& entries() const { return entries_; }  // central directory order
  const ZipEntry* find(const std::string& name) const;
  const std::shared_ptr<const MappedFile>& file() const { return file_; }
  const std::string& path() const { return file_->path(); }

  // The member's uncompressed bytes (inflated if deflated), CRC checked.
  // Refuses members larger than `max_size` (zip.112).
  std::vector<std::byte> read(const ZipEntry& entry, uint64_t max_size) const;
  // Streams a stored member through CRC-32 in chunks and compares (zip.110).
  void verify_crc(const ZipEntry& entry) const;

 private:
  std::shared_ptr<const MappedFile> file_;
  std::vector<ZipEntry> entries_;
  std::map<std::string, size_t> by_name_;
};

// True if the file starts like a zip archive (local header or empty-archive EOCD).
bool looks_like_zip(std::span<const std::byte> head);

// zlib's CRC-32 over a span of any length.
uint32_t crc32_update(uint32_t crc, std::span<const std::byte> bytes);

}  // namespace supra::zip
