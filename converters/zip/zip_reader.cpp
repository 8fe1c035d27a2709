#include "converters/zip/zip_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <thread>

#include "schema/error.hpp"

namespace supra::zip {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kEndSize = 22, kLocatorSize = 20, kZip64EndSize = 56;
constexpr uint64_t kCentralSize = 46, kLocalSize = 30;

uint16_t u16(const std::byte* p) { return uint16_t(uint16_t(p[0]) | uint16_t(p[1]) << 8); }
uint32_t u32(const std::byte* p) { return uint32_t(u16(p)) | uint32_t(u16(p + 2)) << 16; }
uint64_t u64(const std::byte* p) { return uint64_t(u32(p)) | uint64_t(u32(p + 4)) << 32; }

std::vector<std::byte> read_bytes(const MappedFile& f, uint64_t offset, uint64_t size) {
  std::vector<std::byte> out(size);
  f.read_at(offset, out);
  return out;
}

}  // namespace

uint32_t crc32_update(uint32_t crc, std::span<const std::byte> bytes) {
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  size_t left = bytes.size();
  while (left > 0) {
    const uInt n = uInt(std::min<size_t>(left, 1u << 30));
    crc = uint32_t(::crc32(crc, p, n));
    p += n;
    left -= n;
  }
  return crc;
}

namespace {
// CRC-32 of `size` bytes of `f` at `offset`, read in 4 MiB chunks.
uint32_t crc32_of_range(const MappedFile& f, uint64_t offset, uint64_t size) {
  constexpr uint64_t kChunk = 4ull << 20;
  std::vector<std::byte> buf(size_t(std::min(kChunk, size)));
  uint32_t crc = 0;
  for (uint64_t done = 0; done < size;) {
    const uint64_t n = std::min(kChunk, size - done);
    std::span<std::byte> part(buf.data(), size_t(n));
    f.read_at(offset + done, part);
    crc = crc32_update(crc, part);
    done += n;
  }
  return crc;
}
}  // namespace

bool looks_like_zip(std::span<const std::byte> head) {
  if (head.size() < 4) return false;
  const uint32_t sig = u32(head.data());
  return sig == kLocalSig || sig == kEndSig;
}

namespace {

// Where the central directory is, from the end record (zip64 when present).
struct CentralDirectory {
  uint64_t offset = 0, size = 0, count = 0;
  uint64_t end_record = 0;  // offset of the end-of-central-directory record
};

// The end-of-central-directory record is in the last 22 + 65535 bytes.
uint64_t find_end_record(const MappedFile& file) {
  const uint64_t size = file.size();
  if (size < kEndSize)
    throw bad_input("zip.101", {file.path(), {}, 0},
                    "file is " + std::to_string(size) + " bytes, too small for a zip archive (truncated?)");
  const uint64_t tail_size = std::min<uint64_t>(size, kEndSize + 0xFFFF);
  const uint64_t tail_start = size - tail_size;
  const std::vector<std::byte> tail = read_bytes(file, tail_start, tail_size);
  for (uint64_t i = tail_size - kEndSize + 1; i-- > 0;) {
    if (u32(tail.data() + i) != kEndSig) continue;
    const uint64_t comment = u16(tail.data() + i + 20);
    if (i + kEndSize + comment == tail_size) return tail_start + i;
  }
  throw bad_input("zip.101", {file.path(), {}, size}, "no end-of-central-directory record: not a zip archive, or truncated");
}

CentralDirectory read_central_directory_location(const MappedFile& file) {
  const std::string& path = file.path();
  const uint64_t eocd = find_end_record(file);
  std::byte e[kEndSize];
  file.read_at(eocd, e);
  uint64_t disk = u16(e + 4), cd_disk = u16(e + 6);
  uint64_t count_disk = u16(e + 8), count = u16(e + 10);
  uint64_t cd_size = u32(e + 12), cd_offset = u32(e + 16);
  uint64_t cd_limit = eocd;  // the central directory ends before this

  // zip64: a locator right before the EOCD points at the zip64 end record.
  if (eocd >= kLocatorSize) {
    std::byte loc[kLocatorSize];
    file.read_at(eocd - kLocatorSize, loc);
    if (u32(loc) == kZip64LocatorSig) {
      const uint64_t rec = u64(loc + 8);
      if (u32(loc + 4) != 0 || u32(loc + 16) > 1 || rec > eocd - kLocatorSize ||
          eocd - kLocatorSize - rec < kZip64EndSize)
        throw bad_input("zip.103", {path, {}, eocd - kLocatorSize}, "zip64 locator points outside the file");
      std::byte r[kZip64EndSize];
      file.read_at(rec, r);
      if (u32(r) != kZip64EndSig)
        throw bad_input("zip.103", {path, {}, rec}, "zip64 end-of-central-directory record has a bad signature");
      disk = u32(r + 16);
      cd_disk = u32(r + 20);
      count_disk = u64(r + 24);
      count = u64(r + 32);
      cd_size = u64(r + 40);
      cd_offset = u64(r + 48);
      cd_limit = rec;
    } else if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
      throw bad_input("zip.103", {path, {}, eocd}, "zip64 sizes are flagged but there is no zip64 locator");
    }
  }
  if (disk != 0 || cd_disk != 0 || count_disk != count)
    throw bad_input("zip.102", {path, {}, eocd}, "multi-disk zip archives are not supported");
  if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset)
    throw bad_input("zip.104", {path, {}, eocd},
                    "central directory (offset " + std::to_string(cd_offset) + ", " + std::to_string(cd_size) +
                        " bytes) runs past its end record (truncated or corrupt archive)");
  if (count > cd_size / kCentralSize)
    throw bad_input("zip.102", {path, {}, eocd},
                    std::to_string(count) + " entries cannot fit in a " + std::to_string(cd_size) +
                        "-byte central directory");
  return {cd_offset, cd_size, count, eocd};
}

// zip64 extra field: the 64-bit values of the fields that are all ones, in order.
void apply_zip64_extra(ZipEntry& entry, const std::byte* x, uint64_t extra_len, bool need_disk,
                       const ErrorContext& at) {
  const bool need_size = entry.size == 0xFFFFFFFF, need_csize = entry.compressed_size == 0xFFFFFFFF;
  const bool need_offset = entry.local_header_offset == 0xFFFFFFFF;
  bool found64 = false;
  for (uint64_t xp = 0; xp + 4 <= extra_len;) {
    const uint16_t id = u16(x + xp), len = u16(x + xp + 2);
    if (xp + 4 + len > extra_len) throw bad_input("zip.105", at, "extra field runs past its entry");
    if (id == 0x0001) {
      const std::byte* v = x + xp + 4;
      uint64_t left = len;
      auto take = [&](uint64_t& field) {
        if (left < 8) throw bad_input("zip.103", at, "zip64 extra field is too short");
        field = u64(v);
        v += 8;
        left -= 8;
      };
      if (need_size) take(entry.size);
      if (need_csize) take(entry.compressed_size);
      if (need_offset) take(entry.local_header_offset);
      found64 = true;
    }
    xp += 4 + len;
  }
  if ((need_size || need_csize || need_offset) && !found64)
    throw bad_input("zip.103", at, "sizes flagged as zip64 but no zip64 extra field");
  if (need_disk && !found64) throw bad_input("zip.102", at, "member on another disk");
}

// The local header must agree with the directory; its lengths give the data offset.
void check_local_header(const MappedFile& file, ZipEntry& entry, uint64_t cd_offset) {
  const std::string& path = file.path();
  const uint64_t lh = entry.local_header_offset;
  if (lh > cd_offset || cd_offset - lh < kLocalSize)
    throw bad_input("zip.107", {path, entry.name, lh}, "local header lies outside the member area");
  std::byte l[kLocalSize];
  file.read_at(lh, l);
  if (u32(l) != kLocalSig) throw bad_input("zip.107", {path, entry.name, lh}, "local header has a bad signature");
  const uint64_t l_name = u16(l + 26), l_extra = u16(l + 28);
  if (l_name != entry.name.size())
    throw bad_input("zip.107", {path, entry.name, lh}, "local header names a different member");
  if (cd_offset - lh - kLocalSize < l_name + l_extra)
    throw bad_input("zip.107", {path, entry.name, lh}, "local header runs into the central directory");
  const std::vector<std::byte> local_name = read_bytes(file, lh + kLocalSize, l_name);
  if (std::memcmp(local_name.data(), entry.name.data(), l_name) != 0)
    throw bad_input("zip.107", {path, entry.name, lh}, "local header names a different member");
  entry.data_offset = lh + kLocalSize + l_name + l_extra;
  if (entry.compressed_size > cd_offset - entry.data_offset)
    throw bad_input("zip.108", {path, entry.name, entry.data_offset},
                    "member data (" + std::to_string(entry.compressed_size) +
                        " bytes) runs past the end of the member area (truncated archive?)");
}

// Central directory entry `i`, at `pos` in the directory bytes `cd`; advances `pos`.
ZipEntry parse_central_entry(const MappedFile& file, const std::vector<std::byte>& cd, const CentralDirectory& dir,
                             uint64_t i, uint64_t& pos) {
  const std::string& path = file.path();
  const uint64_t at = dir.offset + pos;
  if (dir.size - pos < kCentralSize || u32(cd.data() + pos) != kCentralSig)
    throw bad_input("zip.105", {path, {}, at}, "central directory entry " + std::to_string(i) + " is malformed");
  const std::byte* c = cd.data() + pos;
  ZipEntry entry;
  entry.flags = u16(c + 8);
  entry.method = u16(c + 10);
  entry.crc32 = u32(c + 16);
  entry.compressed_size = u32(c + 20);
  entry.size = u32(c + 24);
  const uint64_t name_len = u16(c + 28), extra_len = u16(c + 30), comment_len = u16(c + 32);
  const uint64_t start_disk = u16(c + 34);
  entry.local_header_offset = u32(c + 42);
  if (dir.size - pos - kCentralSize < name_len + extra_len + comment_len)
    throw bad_input("zip.105", {path, {}, at}, "central directory entry " + std::to_string(i) + " runs past the directory");
  entry.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_len);
  const ErrorContext where{path, entry.name, at};
  apply_zip64_extra(entry, c + kCentralSize + name_len, extra_len, start_disk == 0xFFFF, where);
  pos += kCentralSize + name_len + extra_len + comment_len;

  if (entry.flags & 0x1) throw bad_input("zip.106", where, "encrypted zip members are not supported");
  if (entry.method != kStored && entry.method != kDeflated)
    throw bad_input("zip.106", where,
                    "compression method " + std::to_string(entry.method) + " is not supported (only stored and deflate)");
  if (entry.method == kStored && entry.compressed_size != entry.size)
    throw bad_input("zip.105", where, "stored member with different compressed and uncompressed sizes");
  check_local_header(file, entry, dir.offset);
  return entry;
}

}  // namespace

ZipArchive::ZipArchive(std::shared_ptr<const MappedFile> file) : file_(std::move(file)) {
  const CentralDirectory dir = read_central_directory_location(*file_);
  const std::vector<std::byte> cd = read_bytes(*file_, dir.offset, dir.size);
  uint64_t pos = 0;
  entries_.reserve(dir.count);
  for (uint64_t i = 0; i < dir.count; ++i) {
    const uint64_t at = dir.offset + pos;
    ZipEntry entry = parse_central_entry(*file_, cd, dir, i, pos);
    if (by_name_.count(entry.name))
      throw bad_input("zip.109", {file_->path(), entry.name, at}, "two members have this name");
    by_name_[entry.name] = entries_.size();
    entries_.push_back(std::move(entry));
  }
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

void ZipArchive::verify_crc(const ZipEntry& entry) const {
  if (entry.method != kStored) {
    (void)read(entry, UINT64_MAX);  // inflating checks the CRC
    return;
  }
  // This pass reads every byte of a checkpoint when it opens (as slow as the
  // convert itself on one core), so large members are split over the cores
  // and the pieces joined with crc32_combine.
  constexpr uint64_t kMinPiece = 16ull << 20;
  const uint64_t cores = std::clamp<uint64_t>(std::thread::hardware_concurrency(), 1, 16);
  const uint64_t n_pieces = std::clamp<uint64_t>(entry.size / kMinPiece, 1, cores);
  const uint64_t piece = (entry.size + n_pieces - 1) / n_pieces;
  std::vector<uint32_t> crcs(size_t(n_pieces), 0);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n_pieces));
  auto run = [&](uint64_t i) {
    try {
      const uint64_t begin = i * piece, end = std::min(entry.size, begin + piece);
      crcs[size_t(i)] = crc32_of_range(*file_, entry.data_offset + begin, end - begin);
    } catch (...) {
      errors[size_t(i)] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (uint64_t i = 1; i < n_pieces; ++i) pool.emplace_back(run, i);
  run(0);
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  uint32_t crc = crcs[0];
  for (uint64_t i = 1; i < n_pieces; ++i) {
    const uint64_t len = std::min(entry.size, (i + 1) * piece) - i * piece;
    crc = uint32_t(::crc32_combine(crc, crcs[size_t(i)], z_off_t(len)));
  }
  if (crc != entry.crc32)
    throw bad_input("zip.110", {path(), entry.name, entry.data_offset},
                    "CRC-32 mismatch (stored " + std::to_string(entry.crc32) + ", computed " + std::to_string(crc) +
                        "): the member is corrupt");
}

std::vector<std::byte> ZipArchive::read(const ZipEntry& entry, uint64_t max_size) const {
  if (entry.size > max_size)
    throw bad_input("zip.112", {path(), entry.name, entry.data_offset},
                    "member of " + std::to_string(entry.size) + " bytes is larger than the " +
                        std::to_string(max_size) + " bytes allowed here");
  if (entry.method == kStored) {
    std::vector<std::byte> out = read_bytes(*file_, entry.data_offset, entry.size);
    if (crc32_update(0, out) != entry.crc32)
      throw bad_input("zip.110", {path(), entry.name, entry.data_offset}, "CRC-32 mismatch: the member is corrupt");
    return out;
  }
  if (entry.size / kMaxDeflateRatio > entry.compressed_size + 1)
    throw bad_input("zip.111", {path(), entry.name, entry.data_offset},
                    "claims " + std::to_string(entry.size) + " bytes from " + std::to_string(entry.compressed_size) +
                        " compressed, beyond what deflate can encode");
  const std::vector<std::byte> packed = read_bytes(*file_, entry.data_offset, entry.compressed_size);
  std::vector<std::byte> out(entry.size);
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
    throw bad_input("zip.111", {path(), entry.name, entry.data_offset}, "zlib failed to start");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(packed.data()));
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  uint64_t in_left = packed.size(), out_left = out.size();
  int rc = Z_OK;
  while (rc == Z_OK) {
    const uInt in_step = uInt(std::min<uint64_t>(in_left, 1u << 30));
    const uInt out_step = uInt(std::min<uint64_t>(out_left, 1u << 30));
    zs.avail_in = in_step;
    zs.avail_out = out_step;
    // One spare byte of output lets zlib report data beyond the declared size.
    std::byte spare;
    if (out_step == 0) {
      zs.next_out = reinterpret_cast<Bytef*>(&spare);
      zs.avail_out = 1;
    }
    rc = inflate(&zs, Z_NO_FLUSH);
    if (out_step == 0 && zs.avail_out == 0) rc = Z_DATA_ERROR;
    in_left -= in_step - zs.avail_in;
    if (out_step) out_left -= out_step - zs.avail_out;
    if (rc == Z_BUF_ERROR && in_left > 0 && out_left > 0) rc = Z_OK;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || out_left != 0)
    throw bad_input("zip.111", {path(), entry.name, entry.data_offset},
                    "deflate data is corrupt or does not match the declared size");
  if (crc32_update(0, out) != entry.crc32)
    throw bad_input("zip.110", {path(), entry.name, entry.data_offset}, "CRC-32 mismatch: the member is corrupt");
  return out;
}

}  // namespace supra::zip
