#pragma once
// Lays out a zip archive of stored (uncompressed) members as a FileBytePlan for
// the streaming layout writer: local headers and small members are byte
// blocks, tensor data is streamed into place, the central directory is the
// trailer. Like torch's writer (caffe2 inline_container), each member's data
// starts on a 64-byte boundary, padded with an extra field "FB" of 'Z's, so
// readers can map tensors in place. zip64 records are added when a size or
// offset needs them (or always, on request).
//
// CRC-32: the central directory needs every member's CRC before the layout
// writer runs, so zip_member_crcs() computes them in a first streaming pass
// (chunked reads, one worker per member). That reads each input twice but
// keeps the layout writer generic and its kernel-side copies intact.
#include <cstdint>
#include <string>
#include <vector>

#include "converters/byte_plan_writer.hpp"
#include "schema/tensor_source.hpp"

namespace supra::zip {

struct ZipMemberSpec {
  std::string name;
  std::vector<std::byte> prefix;  // bytes held in memory (the whole member if no tensor)
  TensorPtr tensor;               // streamed after the prefix; may be null
};

struct ZipLayoutOptions {
  uint64_t alignment = 64;   // member data start; 1 = no padding
  bool force_zip64 = false;  // zip64 records even when nothing needs them (tests)
};

// CRC-32 of each member (prefix then tensor bytes), `threads` members at a time.
std::vector<uint32_t> zip_member_crcs(const std::vector<ZipMemberSpec>& members, int threads);

// The archive as a layout. `crcs` may be empty for a dry-run plan (sizes and
// offsets do not depend on them).
FileBytePlan layout_zip(const std::string& file_name, const std::vector<ZipMemberSpec>& members,
                      const std::vector<uint32_t>& crcs, const ZipLayoutOptions& options = {});

}  // namespace supra::zip
