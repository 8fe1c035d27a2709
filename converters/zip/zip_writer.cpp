#include "converters/zip/zip_writer.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "converters/zip/zip_reader.hpp"
#include "schema/error.hpp"

namespace supra::zip {
namespace {

constexpr uint64_t kMax32 = 0xFFFFFFFF;
constexpr uint16_t kVersion20 = 20, kVersion45 = 45;  // 4.5 = zip64
constexpr uint16_t kUtf8Names = 1 << 11;
constexpr uint16_t kDosDate1980 = 0x21;  // 1980-01-01, the zip epoch

class Bytes {
 public:
  void u16(uint64_t v) { for (int i = 0; i < 2; ++i) out_.push_back(std::byte(v >> (8 * i))); }
  void u32(uint64_t v) { for (int i = 0; i < 4; ++i) out_.push_back(std::byte(v >> (8 * i))); }
  void u64(uint64_t v) { for (int i = 0; i < 8; ++i) out_.push_back(std::byte(v >> (8 * i))); }
  void str(const std::string& s) { for (char c : s) out_.push_back(std::byte(c)); }
  void fill(size_t n, char c) { out_.insert(out_.end(), n, std::byte(c)); }
  void append(const std::vector<std::byte>& b) { out_.insert(out_.end(), b.begin(), b.end()); }
  std::vector<std::byte>& data() { return out_; }
  size_t size() const { return out_.size(); }

 private:
  std::vector<std::byte> out_;
};

uint64_t member_size(const ZipMemberSpec& m) {
  uint64_t n = m.prefix.size();
  if (m.tensor && __builtin_add_overflow(n, m.tensor->info().nbytes(), &n))
    throw bad_input("zip.201", {{}, m.name, {}}, "member size overflows 64 bits");
  return n;
}

uint32_t member_crc(const ZipMemberSpec& m) {
  uint32_t crc = crc32_update(0, m.prefix);
  if (!m.tensor) return crc;
  const uint64_t total = m.tensor->info().nbytes();
  const uint64_t elem = dtype_size(m.tensor->info().dtype);
  const uint64_t chunk = std::max<uint64_t>(elem, kStreamChunkBytes / elem * elem);
  std::vector<std::byte> buf(std::min(chunk, total));
  for (uint64_t done = 0; done < total;) {
    const uint64_t n = std::min(chunk, total - done);
    std::span<std::byte> part(buf.data(), n);
    m.tensor->read(done, part);
    crc = crc32_update(crc, part);
    done += n;
  }
  return crc;
}

}  // namespace

std::vector<uint32_t> zip_member_crcs(const std::vector<ZipMemberSpec>& members, int threads) {
  std::vector<uint32_t> crcs(members.size());
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex mutex;
  auto worker = [&] {
    for (size_t i = next++; i < members.size(); i = next++) {
      try {
        crcs[i] = member_crc(members[i]);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
        next = members.size();
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::clamp(threads, 1, 64); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return crcs;
}

FileBytePlan layout_zip(const std::string& file_name, const std::vector<ZipMemberSpec>& members,
                      const std::vector<uint32_t>& crcs, const ZipLayoutOptions& options) {
  const uint64_t align = std::max<uint64_t>(options.alignment, 1);
  FileBytePlan layout;
  layout.name = file_name;
  Bytes central;
  uint64_t pos = 0;
  for (size_t i = 0; i < members.size(); ++i) {
    const ZipMemberSpec& m = members[i];
    if (m.name.size() > 0xFFFF) throw bad_input("zip.202", {{}, m.name, {}}, "member name longer than 65535 bytes");
    const uint64_t size = member_size(m);
    const uint32_t crc = crcs.empty() ? 0 : crcs[i];
    const uint64_t header_at = pos;
    const bool big_size = options.force_zip64 || size >= kMax32;
    const bool big_offset = options.force_zip64 || header_at >= kMax32;
    const uint16_t version = big_size || big_offset ? kVersion45 : kVersion20;

    Bytes local;
    local.u32(0x04034b50);
    local.u16(version);
    local.u16(kUtf8Names);
    local.u16(0);  // stored
    local.u16(0);  // time
    local.u16(kDosDate1980);
    local.u32(crc);
    local.u32(big_size ? kMax32 : size);
    local.u32(big_size ? kMax32 : size);
    local.u16(m.name.size());
    const uint64_t zip64_extra = big_size ? 20 : 0;
    const uint64_t unpadded = header_at + 30 + m.name.size() + zip64_extra;
    // "FB" extra field of 'Z's so that the data starts on an `align` boundary.
    uint64_t pad = 0;
    if (align > 1 && unpadded % align != 0) pad = (align - (unpadded + 4) % align) % align + 4;
    local.u16(zip64_extra + pad);
    local.str(m.name);
    if (big_size) {
      local.u16(0x0001);
      local.u16(16);
      local.u64(size);
      local.u64(size);
    }
    if (pad) {
      local.u16(0x4246);  // "FB"
      local.u16(pad - 4);
      local.fill(pad - 4, 'Z');
    }
    const uint64_t data_at = header_at + local.size();
    local.append(m.prefix);
    if (header_at == 0)
      layout.header = std::move(local.data());
    else
      layout.blocks.push_back({header_at, std::move(local.data())});
    if (m.tensor && m.tensor->info().nbytes() > 0)
      layout.tensors.push_back({m.tensor, data_at + m.prefix.size()});
    pos = data_at + size;

    central.u32(0x02014b50);
    central.u16(0x0300 | version);  // made by: Unix
    central.u16(version);
    central.u16(kUtf8Names);
    central.u16(0);
    central.u16(0);
    central.u16(kDosDate1980);
    central.u32(crc);
    central.u32(big_size ? kMax32 : size);
    central.u32(big_size ? kMax32 : size);
    central.u16(m.name.size());
    const uint64_t extra_len = (big_size ? 16 : 0) + (big_offset ? 8 : 0);
    central.u16(extra_len ? extra_len + 4 : 0);
    central.u16(0);  // comment
    central.u16(0);  // disk
    central.u16(0);  // internal attributes
    central.u32(0);  // external attributes
    central.u32(big_offset ? kMax32 : header_at);
    central.str(m.name);
    if (extra_len) {
      central.u16(0x0001);
      central.u16(extra_len);
      if (big_size) {
        central.u64(size);
        central.u64(size);
      }
      if (big_offset) central.u64(header_at);
    }
  }

  const uint64_t cd_offset = pos, cd_size = central.size(), count = members.size();
  const bool zip64_end = options.force_zip64 || count >= 0xFFFF || cd_offset >= kMax32 || cd_size >= kMax32;
  Bytes& t = central;
  if (zip64_end) {
    const uint64_t record_at = cd_offset + cd_size;
    t.u32(0x06064b50);
    t.u64(44);  // size of the rest of the record
    t.u16(0x0300 | kVersion45);
    t.u16(kVersion45);
    t.u32(0);
    t.u32(0);
    t.u64(count);
    t.u64(count);
    t.u64(cd_size);
    t.u64(cd_offset);
    t.u32(0x07064b50);
    t.u32(0);
    t.u64(record_at);
    t.u32(1);
  }
  t.u32(0x06054b50);
  t.u16(0);
  t.u16(0);
  t.u16(zip64_end ? 0xFFFF : count);
  t.u16(zip64_end ? 0xFFFF : count);
  t.u32(zip64_end ? kMax32 : cd_size);
  t.u32(zip64_end ? kMax32 : cd_offset);
  t.u16(0);
  layout.trailer_offset = cd_offset;
  layout.size = cd_offset + t.size();
  layout.trailer = std::move(t.data());
  return layout;
}

}  // namespace supra::zip
