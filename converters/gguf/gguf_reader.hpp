#pragma once
// GGUF reader (versions 2 and 3). parse_gguf() validates the whole header
// the way ggml's gguf_init_from_reader does (plus bounds of every tensor's
// data), each violation with its own error id (docs/gguf.md), and returns a
// view of the file; read_gguf() turns it into a Checkpoint whose tensors are
// lazy: plain types are mmap'd views, quantized types are dequantized to F32
// chunk by chunk as they are read.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "converters/gguf/gguf_metadata.hpp"
#include "schema/checkpoint.hpp"
#include "schema/mapped_file.hpp"

namespace supra {

inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr size_t kGgufMaxNameBytes = 63;  // GGML_MAX_NAME - 1 (room for the NUL)
inline constexpr size_t kGgufMaxDims = 4;

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> ne;  // GGUF order: ne[0] is the contiguous dimension
  uint32_t ggml_type = 0;
  uint64_t offset = 0;       // relative to the data section
  uint64_t nbytes = 0;
  uint64_t info_offset = 0;  // where this tensor info starts in the file (for messages)

  // Row-major shape: ne reversed.
  std::vector<uint64_t> shape() const { return {ne.rbegin(), ne.rend()}; }
};

struct GgufFile {
  std::shared_ptr<const MappedFile> file;
  uint32_t version = 3;
  std::vector<GgufKV> kvs;  // in file order
  std::vector<GgufTensorInfo> tensors;  // in file order
  uint64_t alignment = kGgufDefaultAlignment;
  uint64_t data_offset = 0;  // absolute offset of the data section

  const GgufKV* find(std::string_view key) const { return find_gguf_kv(kvs, key); }
};

GgufFile parse_gguf(std::shared_ptr<const MappedFile> file);
GgufFile parse_gguf(const std::filesystem::path& path);

// Checkpoint with format "gguf": tensors named as in the file, row-major
// shapes; metadata["gguf.<key>"] = a one-line summary of each KV (a
// "supra.meta.<key>" string KV, which supra writes for metadata of non-GGUF
// sources, comes back as metadata["<key>"]); format_metadata["gguf"] = every
// KV with its type (gguf_metadata.hpp).
Checkpoint checkpoint_from_gguf(const GgufFile& gguf);
Checkpoint read_gguf(const std::filesystem::path& path);

}  // namespace supra
