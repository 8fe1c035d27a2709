#include "converters/zstd/stz_reader.hpp"

#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <set>

#include "converters/json_strict.hpp"
#include "converters/zstd/byte_planes.hpp"
#include "converters/zstd/stz_layout.hpp"
#include "schema/error.hpp"
#include "schema/mapped_file.hpp"

namespace supra {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using namespace stz;

constexpr uint64_t kMaxJsonInt = 1ull << 53;
constexpr uint64_t kMaxBlockBytes = 1ull << 30;
// A zstd block holds at most 128 KiB and takes at least 4 bytes (an RLE
// block: 3-byte header + the byte), so no frame decodes to more than 32768x
// its size.
constexpr uint64_t kMaxZstdRatio = 32768;

struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx(ZSTD_createDCtx());
  if (!dctx) throw std::bad_alloc();
  return dctx.get();
}

uint64_t get_u64(const std::byte* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Decompresses exactly one frame of `src` into exactly `dst.size()` bytes.
// `what` names the frame in messages.
void decompress_frame(std::span<const std::byte> src, std::span<std::byte> dst, const ErrorContext& where,
                      const char* corrupt_id, const char* checksum_id, const char* size_id) {
  const unsigned long long content = ZSTD_getFrameContentSize(src.data(), src.size());
  if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN)
    throw bad_input(corrupt_id, where, "not a zstd frame with a recorded size");
  if (content != dst.size())
    throw bad_input(size_id, where, "frame holds " + std::to_string(content) + " bytes, the index says " +
                                        std::to_string(dst.size()));
  if (ZSTD_findFrameCompressedSize(src.data(), src.size()) != src.size())
    throw bad_input(corrupt_id, where, "frame does not end where the index says");
  const size_t n = ZSTD_decompressDCtx(thread_dctx(), dst.data(), dst.size(), src.data(), src.size());
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_checksum_wrong)
      throw bad_input(checksum_id, where, "checksum mismatch: the data is corrupt");
    throw bad_input(corrupt_id, where, std::string("corrupt zstd frame: ") + ZSTD_getErrorName(n));
  }
  if (n != dst.size()) throw bad_input(size_id, where, "frame decompressed to the wrong size");
}

class StzTensorSource final : public TensorSource {
 public:
  StzTensorSource(TensorInfo info, std::shared_ptr<const MappedFile> file, std::vector<Block> blocks,
                  uint64_t block_bytes, bool planes)
      : TensorSource(std::move(info)), file_(std::move(file)), blocks_(std::move(blocks)),
        block_bytes_(block_bytes), planes_(planes) {}

 private:
  void read_range(uint64_t offset, std::span<std::byte> out, CastStats*) const override {
    const uint64_t total = info().nbytes();
    uint64_t at = offset;
    const uint64_t end = offset + out.size();
    while (at < end) {
      const uint64_t b = at / block_bytes_;
      const uint64_t begin = b * block_bytes_;
      const uint64_t raw = std::min(block_bytes_, total - begin);
      const uint64_t take = std::min(end, begin + raw) - at;
      std::byte* dst = out.data() + (at - offset);
      if (at == begin && take == raw && !planes_) {
        decode(b, std::span(dst, size_t(raw)));  // whole block straight into the caller's buffer
      } else {
        std::memcpy(dst, cached_block(b, raw).data() + (at - begin), size_t(take));
      }
      at += take;
    }
  }

  // Block `b` decoded, from this thread's one-block cache. Writers and
  // --stats read a tensor in chunks much smaller than a block (256 KiB vs
  // 4 MiB), in order, one tensor per thread: without the cache every block
  // was decompressed once per chunk, 16 or more times (bench/RESULTS.md).
  std::span<const std::byte> cached_block(uint64_t b, uint64_t raw) const {
    struct Cache {
      uint64_t source_id = 0, block = 0;
      std::vector<std::byte> bytes;
    };
    thread_local Cache cache;
    if (cache.source_id != id_ || cache.block != b || cache.bytes.size() != raw) {
      cache.source_id = 0;  // invalid until decode succeeds
      cache.bytes.resize(size_t(raw));
      decode(b, cache.bytes);
      cache.source_id = id_;
      cache.block = b;
    }
    return cache.bytes;
  }

  // Block `b` as raw tensor bytes (byte planes merged back).
  void decode(uint64_t b, std::span<std::byte> raw) const {
    thread_local std::vector<std::byte> compressed, planes;
    const Block& blk = blocks_[size_t(b)];
    compressed.resize(size_t(blk.size));
    file_->read_at(blk.offset, compressed);
    const ErrorContext where{file_->path(), info().name, blk.offset};
    if (!planes_) return decompress_frame(compressed, raw, where, "stz.109", "stz.110", "stz.111");
    planes.resize(raw.size());
    decompress_frame(compressed, planes, where, "stz.109", "stz.110", "stz.111");
    merge_byte_planes(planes, dtype_size(info().dtype), raw);
  }

  std::shared_ptr<const MappedFile> file_;
  std::vector<Block> blocks_;
  uint64_t block_bytes_;
  bool planes_;
  // Names this source in the per-thread block cache (an address could be
  // reused by a later source; an id from a counter is not).
  const uint64_t id_ = next_source_id();

  static uint64_t next_source_id() {
    static std::atomic<uint64_t> next{1};
    return next++;
  }
};

uint64_t json_uint(const json& j, const ErrorContext& where, const std::string& what) {
  if (!j.is_number_unsigned() || j.get<uint64_t>() >= kMaxJsonInt)
    throw bad_input("stz.105", where, what + " is not a non-negative integer");
  return j.get<uint64_t>();
}

const json& field(const json& obj, const char* key, const ErrorContext& where) {
  if (!obj.is_object() || !obj.contains(key)) throw bad_input("stz.105", where, std::string("index lacks '") + key + "'");
  return obj.at(key);
}

}  // namespace

bool has_stz_magic(std::span<const std::byte> head) {
  return head.size() >= 8 && std::memcmp(head.data(), kMagic, 8) == 0;
}

namespace {

struct StzIndex {
  json index;
  uint64_t index_at = 0;  // where the compressed index starts (the end of the data area)
};

// The header, the footer and the zstd-compressed JSON index they point at.
StzIndex read_index(const MappedFile& file, const std::string& name) {
  const uint64_t size = file.size();
  if (size < kHeaderBytes + kFooterBytes)
    throw bad_input("stz.101", {name, {}, 0}, "file is " + std::to_string(size) + " bytes, too small for an archive");
  std::byte header[kHeaderBytes], footer[kFooterBytes];
  file.read_at(0, header);
  if (!has_stz_magic(header)) throw bad_input("stz.101", {name, {}, 0}, "not a supra .stz archive (bad magic)");
  uint32_t version;
  std::memcpy(&version, header + 8, 4);
  if (version != kVersion)
    throw bad_input("stz.112", {name, {}, 8}, "archive version " + std::to_string(version) + " is not supported (1)");
  const uint64_t footer_at = size - kFooterBytes;
  file.read_at(footer_at, footer);
  if (std::memcmp(footer + 24, kFooterMagic, 8) != 0)
    throw bad_input("stz.102", {name, {}, footer_at}, "no index footer at the end (truncated or unfinished archive?)");
  const uint64_t index_at = get_u64(footer), index_size = get_u64(footer + 8), index_raw = get_u64(footer + 16);
  if (index_at < kHeaderBytes || index_at > footer_at || index_size != footer_at - index_at || index_raw > kMaxIndexBytes)
    throw bad_input("stz.103", {name, {}, footer_at}, "index location or size is out of bounds");

  std::vector<std::byte> frame(static_cast<size_t>(index_size));
  file.read_at(index_at, frame);
  std::string text(size_t(index_raw), '\0');
  decompress_frame(frame, std::as_writable_bytes(std::span(text)), {name, {}, index_at}, "stz.104", "stz.104",
                   "stz.104");
  try {
    return {parse_json_rejecting_duplicates(text), index_at};
  } catch (const std::exception& e) {
    throw bad_input("stz.105", {name, {}, index_at}, std::string("index is not valid JSON: ") + e.what());
  }
}

// Name, dtype and shape of one tensor entry; its byte size must fit 64 bits.
TensorInfo tensor_info_of(const json& t, const ErrorContext& at_index) {
  const json& name_j = field(t, "name", at_index);
  if (!name_j.is_string()) throw bad_input("stz.105", at_index, "a tensor name is not a string");
  TensorInfo info;
  info.name = name_j.get<std::string>();
  const ErrorContext where{at_index.file, info.name, at_index.offset};
  const json& dtype_j = field(t, "dtype", where);
  const auto dtype = dtype_j.is_string() ? dtype_from_safetensors(dtype_j.get<std::string>()) : std::nullopt;
  if (!dtype) throw bad_input("stz.106", where, "unknown dtype " + dtype_j.dump());
  info.dtype = *dtype;
  const json& shape_j = field(t, "shape", where);
  if (!shape_j.is_array() || shape_j.size() > 64) throw bad_input("stz.107", where, "shape is not an array of dims");
  for (const json& d : shape_j) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() >= kMaxJsonInt)
      throw bad_input("stz.107", where, "shape holds " + d.dump());
    info.shape.push_back(d.get<uint64_t>());
  }
  uint64_t nbytes = dtype_size(info.dtype);
  for (uint64_t d : info.shape)
    if (__builtin_mul_overflow(nbytes, d, &nbytes)) throw bad_input("stz.107", where, "shape overflows 64 bits");
  return info;
}

// The frames of one tensor of `nbytes`: inside the data area (before
// `index_at`), as many as its size needs, none claiming to expand more than
// zstd can. Every frame also goes to `spans`, to check overlaps across tensors.
std::vector<Block> block_table(const json& blocks_j, uint64_t nbytes, uint64_t block_bytes, uint64_t index_at,
                               const ErrorContext& where, std::vector<std::pair<uint64_t, uint64_t>>& spans) {
  // Rounded up without nbytes + block_bytes - 1, which wraps for sizes near 2^64.
  const uint64_t n_blocks = nbytes / block_bytes + (nbytes % block_bytes != 0);
  if (!blocks_j.is_array() || blocks_j.size() != n_blocks)
    throw bad_input("stz.108", where, "block table has the wrong number of entries (expected " +
                                          std::to_string(n_blocks) + ")");
  std::vector<Block> blocks;
  for (const json& b : blocks_j) {
    if (!b.is_array() || b.size() != 2) throw bad_input("stz.108", where, "a block entry is not [offset, size]");
    Block blk{json_uint(b[0], where, "block offset"), json_uint(b[1], where, "block size")};
    const ErrorContext at_block{where.file, where.tensor, blk.offset};
    if (blk.offset < kHeaderBytes || blk.offset > index_at || blk.size == 0 || blk.size > index_at - blk.offset)
      throw bad_input("stz.108", at_block, "block lies outside the data area");
    // No zstd frame expands more than kMaxZstdRatio: a block claiming more
    // is refused here, before a reader allocates its decoded size.
    const uint64_t raw = std::min(block_bytes, nbytes - uint64_t(blocks.size()) * block_bytes);
    if (raw / kMaxZstdRatio > blk.size)
      throw bad_input("stz.111", at_block,
                      "a " + std::to_string(blk.size) + "-byte frame cannot hold a " + std::to_string(raw) +
                          "-byte block (zstd expands at most " + std::to_string(kMaxZstdRatio) + "x)");
    blocks.push_back(blk);
    spans.emplace_back(blk.offset, blk.offset + blk.size);
  }
  return blocks;
}

}  // namespace

Checkpoint read_stz(const fs::path& path) {
  auto file = MappedFile::open(path.string());
  const std::string name = path.string();
  const auto [index, index_at] = read_index(*file, name);
  const ErrorContext at_index{name, {}, index_at};
  const uint64_t block_bytes = json_uint(field(index, "block_bytes", at_index), at_index, "block_bytes");
  if (block_bytes == 0 || block_bytes % 8 || block_bytes > kMaxBlockBytes)
    throw bad_input("stz.105", at_index, "block_bytes must be a multiple of 8 up to 1 GiB");

  Checkpoint ckpt;
  ckpt.format = "stz";
  ckpt.files.push_back(name);
  try {
    if (index.contains("metadata")) ckpt.metadata = index.at("metadata").get<std::map<std::string, std::string>>();
    if (index.contains("format_metadata")) ckpt.format_metadata = index.at("format_metadata");
  } catch (const json::exception&) {
    throw bad_input("stz.105", at_index, "metadata is not a map of strings");
  }
  const json& tensors = field(index, "tensors", at_index);
  if (!tensors.is_array()) throw bad_input("stz.105", at_index, "'tensors' is not an array");

  std::set<std::string> names;
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // every frame, to check overlaps
  for (const json& t : tensors) {
    TensorInfo info = tensor_info_of(t, at_index);
    const ErrorContext where{name, info.name, index_at};
    if (!names.insert(info.name).second) throw bad_input("stz.113", where, "two tensors have this name");
    const std::string expected_transform = uses_byte_planes(info.dtype) ? "byte_planes" : "none";
    const json& transform = field(t, "transform", where);
    if (transform != expected_transform)
      throw bad_input("stz.114", where, "transform " + transform.dump() + " is not '" + expected_transform + "'");
    std::vector<Block> blocks =
        block_table(field(t, "blocks", where), info.nbytes(), block_bytes, index_at, where, spans);
    ckpt.tensors.push_back(std::make_shared<StzTensorSource>(std::move(info), file, std::move(blocks), block_bytes,
                                                             expected_transform == "byte_planes"));
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second)
      throw bad_input("stz.108", {name, {}, spans[i].first}, "two blocks overlap");
  return ckpt;
}

}  // namespace supra
